// X's weighted length (contract §2: a reply over 280 weighted characters is refused with 422 before X ever sees it).
import fc from 'fast-check';
// The package root, as X's docs reference it: the oracle for the lighter module file weighted-length.ts imports.
import twitterText from 'twitter-text';
import { describe, expect, it } from 'vitest';
import { MAX_WEIGHTED_LENGTH, weightedLength } from '../../shared/x/weighted-length';

const measure = (text: string) => weightedLength(text).weightedLength;

describe('weightedLength: ASCII', () => {
  it('accepts 280 ASCII characters and refuses 281', () => {
    expect(weightedLength('a'.repeat(280))).toEqual({ weightedLength: 280, valid: true, max: 280 });
    expect(weightedLength('a'.repeat(281))).toEqual({ weightedLength: 281, valid: false, max: 280 });
  });

  it('refuses empty text (X refuses an empty post) while reporting length 0', () => {
    expect(weightedLength('')).toEqual({ weightedLength: 0, valid: false, max: MAX_WEIGHTED_LENGTH });
  });
});

describe('weightedLength: emoji count 2, whatever their code-point length', () => {
  it('accepts 140 emoji and refuses 141', () => {
    expect(weightedLength('😀'.repeat(140))).toMatchObject({ weightedLength: 280, valid: true });
    expect(weightedLength('😀'.repeat(141))).toMatchObject({ weightedLength: 282, valid: false });
  });

  it('counts a ZWJ family, a flag, a keycap and a skin-toned emoji as one emoji each', () => {
    expect(measure('👨‍👩‍👧‍👦')).toBe(2); // 7 code points, 11 UTF-16 units
    expect(measure('🇫🇷')).toBe(2);
    expect(measure('1️⃣')).toBe(2);
    expect(measure('👍🏽')).toBe(2);
    expect(measure('❤️')).toBe(2);
  });

  it('keeps 139 emoji plus one ASCII character valid, and 140 emoji plus one invalid', () => {
    expect(weightedLength('😀'.repeat(139) + 'a')).toMatchObject({ weightedLength: 279, valid: true });
    expect(weightedLength('😀'.repeat(140) + 'a')).toMatchObject({ weightedLength: 281, valid: false });
  });
});

describe('weightedLength: CJK and other scripts', () => {
  it('counts Chinese, Japanese and Korean characters 2 each: 140 fit, 141 do not', () => {
    expect(measure('你好')).toBe(4);
    expect(measure('こんにちは')).toBe(10);
    expect(measure('한국어')).toBe(6);
    expect(weightedLength('字'.repeat(140)).valid).toBe(true);
    expect(weightedLength('字'.repeat(141))).toMatchObject({ weightedLength: 282, valid: false });
  });

  it('counts Latin, Cyrillic, Thai and common punctuation 1, but the ellipsis and ™ 2 (outside X weight-1 ranges)', () => {
    expect(measure('Привет')).toBe(6);
    expect(measure('ก')).toBe(1);
    expect(measure('’—©')).toBe(3);
    // A trap for helpdesk text macros that turn "..." into "…": it costs 2.
    expect(measure('…')).toBe(2);
    expect(measure('™')).toBe(2);
  });
});

describe('weightedLength: URLs count 23', () => {
  it('counts a long URL 23, however long it is', () => {
    expect(measure('https://example.com/' + 'a'.repeat(500))).toBe(23);
    expect(measure('https://t.co/x')).toBe(23);
  });

  it('counts a scheme-less domain as a URL too, as X does', () => {
    expect(measure('example.com')).toBe(23);
  });

  it('adds each URL and the text around it', () => {
    expect(measure('http://a.co and http://b.co')).toBe(23 + 5 + 23);
  });

  it('puts the 280 boundary in the right place around a URL', () => {
    const url = 'https://example.com/' + 'path/'.repeat(40);
    expect(weightedLength('a'.repeat(256) + ' ' + url)).toMatchObject({ weightedLength: 280, valid: true });
    expect(weightedLength('a'.repeat(257) + ' ' + url)).toMatchObject({ weightedLength: 281, valid: false });
  });
});

describe('weightedLength: NFC normalisation', () => {
  it("counts 'e' + combining acute as one character, like the precomposed é", () => {
    expect(measure('e\u0301')).toBe(1);
    expect(measure('é')).toBe(1);
    // 560 UTF-16 units, but 280 characters after NFC: X accepts it.
    expect(weightedLength('e\u0301'.repeat(280))).toMatchObject({ weightedLength: 280, valid: true });
  });

  it('counts decomposed Hangul jamo as the one syllable NFC makes of them', () => {
    expect(measure('\u1100\u1161')).toBe(2); // ᄀ + ᅡ → 가
    expect(measure('\uAC00')).toBe(2);
  });
});

describe('weightedLength: mixed text and invalid characters', () => {
  it('adds ASCII, an emoji, a URL and CJK', () => {
    // "Hi @jane " 9 + 😀 2 + " see " 5 + URL 23 + " " 1 + 你好 4
    expect(weightedLength('Hi @jane 😀 see https://example.com/very/long/path 你好')).toMatchObject({
      weightedLength: 44,
      valid: true,
    });
  });

  it('refuses text with a character X never accepts (U+FEFF), whatever its length', () => {
    expect(weightedLength('hello\uFEFF').valid).toBe(false);
    expect(weightedLength('hello\uFFFF').valid).toBe(false);
  });
});

// Fragments chosen to hit the places counters disagree: URL edges, emoji sequences, the weight-range borders,
// combining marks and surrogates.
const fragment = fc.oneof(
  fc.constantFrom(
    'https://example.com/',
    'http://t.co/abc',
    'example.com',
    'www.example.org/path?q=1#x',
    'https://例え.jp/パス',
    'foo.bar',
    'a.co',
    '.com',
    'https://',
    '@jane_doe',
    '#support',
    '$TSLA',
    '😀',
    '👨‍👩‍👧‍👦',
    '🇫🇷',
    '1️⃣',
    '👍🏽',
    '❤️',
    '\u200d',
    '\ufe0f',
    '你好',
    'こんにちは',
    '\u1100\u1161',
    'e\u0301',
    '\u0301',
    '…',
    '™',
    '’',
    '\u10ff',
    '\u1100',
    '\u2000',
    '\u200e',
    '\u2010',
    '\u2030',
    '\u2032',
    '\u2037',
    '\u2038',
    '\ufeff',
    '\ud83d',
    ' ',
    '\n',
    '.',
    '/',
    ':',
  ),
  fc.string({ maxLength: 12 }),
  fc.string({ unit: 'grapheme', maxLength: 6 }),
  fc.string({ unit: 'binary', maxLength: 6 }),
  fc.stringMatching(/^[a-z0-9-]{1,12}\.(com|org|jp|co|io|xyz|museum)(\/[a-z0-9]{0,8})?$/),
);
const generatedText = fc.array(fragment, { maxLength: 40 }).map((parts) => parts.join(''));

describe('weightedLength: agrees with twitter-text on a generated corpus', () => {
  it('matches the package root parseTweet on weightedLength and valid (the module-file import is the same counter)', () => {
    fc.assert(
      fc.property(generatedText, (text) => {
        const reference = twitterText.parseTweet(text);
        const ours = weightedLength(text);
        expect(ours.weightedLength).toBe(reference.weightedLength);
        expect(ours.valid).toBe(reference.valid);
      }),
      { numRuns: 5_000 },
    );
  });

  it('gives the same answer for a text and its NFD and NFC forms', () => {
    fc.assert(
      fc.property(generatedText, (text) => {
        const length = measure(text);
        expect(measure(text.normalize('NFD'))).toBe(length);
        expect(measure(text.normalize('NFC'))).toBe(length);
      }),
      { numRuns: 2_000 },
    );
  });
});
