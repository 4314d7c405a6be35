// The thread splitter over generated texts: every part fits X's 280 with its number, the parts give back the words in
// order, and URLs, emoji and other grapheme clusters come through whole.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_THREAD_PARTS, splitThread } from '../../shared/replies/split';
import { weightedLength } from '../../shared/x/weighted-length';

const letters = fc.stringMatching(/^[a-zA-Z]{1,14}$/);
const emoji = fc.constantFrom('😀', '👍🏽', '👩‍👩‍👧', '🇫🇷', '🚚', '❤️');
const cjk = fc.stringMatching(/^[一-龥]{1,12}$/);
const accented = fc.constantFrom('café', 'naïve', 'e\u0301te\u0301', 'Ångström');
const url = fc.stringMatching(/^[a-z0-9]{1,60}$/).map((path) => `https://example.com/${path}`);
const word = fc.oneof({ arbitrary: letters, weight: 6 }, emoji, cjk, accented, url);
const space = fc.constantFrom(' ', ' ', ' ', '  ', '\n', '\n\n');
const text = fc
  // Mostly texts of several posts: fast-check's default size would keep arrays short.
  .array(fc.tuple(word, space), { minLength: 1, maxLength: 400, size: 'max' })
  .map((pairs) => pairs.map(([w, s]) => w + s).join('').trim().normalize('NFC'));

const wordsOf = (s: string) => s.split(/\s+/).filter((w) => w !== '');

describe('splitThread', () => {
  it('every part is at most 280 weighted characters with its number, and the words come back in order', () => {
    let multiPart = 0;
    fc.assert(
      fc.property(text, (input) => {
        const parts = splitThread(input);
        multiPart += parts.length > 1 ? 1 : 0;
        for (const part of parts) expect(weightedLength(part).weightedLength).toBeLessThanOrEqual(280);
        if (parts.length === 1) {
          expect(parts[0]).toBe(input);
          return;
        }
        const bodies = parts.map((part, i) => {
          const suffix = ` ${i + 1}/${parts.length}`;
          expect(part.endsWith(suffix)).toBe(true);
          return part.slice(0, -suffix.length);
        });
        // Each part is a stretch of the text as written; together they are its words, none cut.
        for (const body of bodies) expect(input.includes(body)).toBe(true);
        expect(wordsOf(bodies.join(' '))).toEqual(wordsOf(input));
      }),
      { numRuns: 300 },
    );
    expect(multiPart).toBeGreaterThan(200);
  });

  it('a text that fits is one unnumbered part; a long one makes as few parts as the numbering allows', () => {
    expect(splitThread('  Thanks, on it.  ')).toEqual(['Thanks, on it.']);
    const parts = splitThread(`${'word '.repeat(100)}end`);
    expect(parts.map((p) => p.slice(p.lastIndexOf(' ') + 1))).toEqual(['1/2', '2/2']);
    expect(parts.join(' ').length).toBeGreaterThan(500);
  });

  it('a URL longer than a post stays whole (X counts it 23); a single word longer than a post is cut between graphemes', () => {
    const longUrl = `https://example.com/${'a'.repeat(400)}`;
    const parts = splitThread(`${'see '.repeat(70)}${longUrl} done`);
    expect(parts.some((p) => p.includes(longUrl))).toBe(true);
    const family = '👩‍👩‍👧';
    const cut = splitThread(family.repeat(120));
    for (const part of cut) {
      expect(weightedLength(part).weightedLength).toBeLessThanOrEqual(280);
      expect(part.replace(/ \d+\/\d+$/, '').replaceAll(family, '')).toBe('');
    }
  });

  it('ten parts or more are numbered with the wider total and still fit', () => {
    const parts = splitThread('lorem ipsum dolor '.repeat(200).trim());
    expect(parts.length).toBeGreaterThanOrEqual(10);
    expect(parts.length).toBeLessThan(MAX_THREAD_PARTS);
    expect(parts.at(-1)).toMatch(new RegExp(` ${parts.length}/${parts.length}$`));
    for (const part of parts) expect(weightedLength(part).weightedLength).toBeLessThanOrEqual(280);
  });
});
