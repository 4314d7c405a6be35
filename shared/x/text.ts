// X text helpers: undoing X's HTML escaping and working in the Unicode code points X counts offsets in.
// Pure functions, no dependencies: they run in the webhook Lambda, whose bundle must stay small.

const NAMED_ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

// One alternation, applied in a single pass, so `&amp;lt;` (a customer who typed "&lt;") becomes `&lt;`, never `<`.
const ENTITY = /&(?:(amp|lt|gt|quot|apos)|#(\d{1,7})|#[xX]([0-9a-fA-F]{1,6}));/g;

/**
 * Undoes X's HTML escaping of post and DM text in one pass. X escapes only `&`, `<` and `>` (v1.1 and v2 alike), but
 * `&quot;`, `&apos;` and decimal or hex numeric references (`&#39;`, `&#x1F600;`) are decoded too. A numeric reference
 * that names no character (0, a surrogate, above U+10FFFF) and anything unknown are left as written.
 */
export function unescapeXText(text: string): string {
  if (!text.includes('&')) return text;
  return text.replace(ENTITY, (whole, name: string | undefined, dec: string | undefined, hex: string | undefined) => {
    if (name !== undefined) return NAMED_ENTITIES[name] ?? whole;
    const codePoint = dec !== undefined ? Number.parseInt(dec, 10) : Number.parseInt(hex ?? '', 16);
    const isCharacter =
      Number.isInteger(codePoint) && codePoint > 0 && codePoint <= 0x10ffff && (codePoint < 0xd800 || codePoint > 0xdfff);
    return isCharacter ? String.fromCodePoint(codePoint) : whole;
  });
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * Replaces each lone UTF-16 surrogate with U+FFFD. JSON may carry `\ud800` escapes that no UTF-8 store or HTTP
 * client can encode; everything else is returned unchanged (same string when it is already well formed).
 */
export function toWellFormed(text: string): string {
  return text.replace(LONE_SURROGATE, '\uFFFD');
}

/**
 * Converts an offset counted in Unicode code points (how X counts `display_text_range` and entity indices) into a
 * UTF-16 index into `text`. Offsets past the end clamp to `text.length`; negative or non-integer offsets clamp to 0.
 */
export function codePointToIndex(text: string, codePointOffset: number): number {
  if (!(codePointOffset > 0)) return 0;
  let index = 0;
  let seen = 0;
  while (index < text.length && seen < codePointOffset) {
    const unit = text.charCodeAt(index);
    const isPair =
      unit >= 0xd800 && unit <= 0xdbff && index + 1 < text.length && (text.charCodeAt(index + 1) & 0xfc00) === 0xdc00;
    index += isPair ? 2 : 1;
    seen += 1;
  }
  return index;
}

/** The number of Unicode code points in `text` (a lone surrogate counts as one). */
export function codePointLength(text: string): number {
  let count = 0;
  for (let index = 0; index < text.length; index += 1) {
    const unit = text.charCodeAt(index);
    if (unit >= 0xd800 && unit <= 0xdbff && index + 1 < text.length && (text.charCodeAt(index + 1) & 0xfc00) === 0xdc00) {
      index += 1;
    }
    count += 1;
  }
  return count;
}

/**
 * `text.slice` with start and end counted in code points, as X's offsets are: an emoji before a mention shifts
 * UTF-16 indices but not X's. `end` defaults to the end of the text; out-of-range offsets clamp like `slice`.
 */
export function sliceCodePoints(text: string, start: number, end?: number): string {
  const from = codePointToIndex(text, start);
  const to = end === undefined ? text.length : codePointToIndex(text, end);
  return text.slice(from, Math.max(from, to));
}

/**
 * Text as the bridge stores it: HTML entities undone, lone surrogates repaired. Not NFC-normalised, on purpose: the
 * bridge keeps the code points the author sent (X already stores posts NFC); counting for X's 280 limit normalises
 * on its own.
 */
export function storedText(rawXText: string): string {
  return toWellFormed(unescapeXText(rawXText));
}

/**
 * Many code point offsets into `text` converted to UTF-16 indices in one pass over the text (entity offsets come
 * in dozens; converting each from the start would be quadratic in a long post). The result is keyed by offset;
 * offsets past the end map to `text.length`.
 */
export function codePointIndices(text: string, codePointOffsets: readonly number[]): Map<number, number> {
  const wanted = [...new Set(codePointOffsets)].filter((n) => Number.isSafeInteger(n) && n >= 0).sort((a, b) => a - b);
  const result = new Map<number, number>();
  let index = 0;
  let seen = 0;
  for (const target of wanted) {
    while (index < text.length && seen < target) {
      const unit = text.charCodeAt(index);
      const isPair =
        unit >= 0xd800 && unit <= 0xdbff && index + 1 < text.length && (text.charCodeAt(index + 1) & 0xfc00) === 0xdc00;
      index += isPair ? 2 : 1;
      seen += 1;
    }
    result.set(target, index);
  }
  return result;
}
