// A text over 280 weighted characters as a thread of numbered posts (`split: true`). Pure; measures with X's counter.
//
// Parts are cut between words (runs of non-space, so a URL, an emoji sequence or any grapheme cluster stays whole) and
// each keeps the spacing the agent wrote inside it. Each part ends with ` i/n`, and X's weighted length of the part
// with its number is at most 280. Only a single word longer than a whole post is cut inside, between grapheme clusters
// (a URL never is: X counts any URL as 23).
import { MAX_WEIGHTED_LENGTH, weightedLength } from '../x/weighted-length';

/** The most parts one reply may become: X allows 300 posts per 3 hours per account, shared by every agent. */
export const MAX_THREAD_PARTS = 25;

const fits = (text: string) => weightedLength(text).weightedLength <= MAX_WEIGHTED_LENGTH;
const numbering = (index: number, total: number) => ` ${index + 1}/${total}`;

/**
 * The parts of `text`, each with its number (`1/3`), each at most 280 weighted characters. A text that fits one post
 * is one part, unnumbered.
 */
export function splitThread(text: string): string[] {
  const trimmed = text.trim();
  if (fits(trimmed)) return [trimmed];
  // The numbering's width depends on how many parts there are: plan for up to 9, then up to 99. A plan made for a
  // wider total only gets shorter when the real total is narrower, so every part still fits.
  for (const assumed of [9, 99, 999]) {
    const bodies = cut(trimmed, assumed);
    if (String(bodies.length).length <= String(assumed).length) {
      return bodies.map((body, i) => body + numbering(i, bodies.length));
    }
  }
  throw new Error('a text of this size cannot be a thread');
}

/** The bodies of the parts when each carries a number as wide as ` i/assumed`. */
function cut(text: string, assumed: number): string[] {
  const words = text.match(/\S+\s*/g) ?? [];
  const bodies: string[] = [];
  let current = '';
  // The widest number a part can carry under this plan; digits weigh 1 each, so any real ` i/n` is no wider.
  const widest = ` ${assumed}/${assumed}`;
  const suffix = () => widest;
  for (const word of words) {
    const candidate = current + word;
    if (fits(candidate.trimEnd() + suffix())) {
      current = candidate;
      continue;
    }
    if (current !== '') {
      bodies.push(current.trimEnd());
      current = '';
    }
    if (fits(word.trimEnd() + suffix())) {
      current = word;
      continue;
    }
    // One word longer than a post: cut between grapheme clusters.
    for (const grapheme of graphemes(word.trimEnd())) {
      if (!fits(current + grapheme + suffix())) {
        bodies.push(current);
        current = '';
      }
      current += grapheme;
    }
    current += word.slice(word.trimEnd().length);
  }
  if (current.trim() !== '') bodies.push(current.trimEnd());
  return bodies;
}

function graphemes(word: string): string[] {
  return [...new Intl.Segmenter('en', { granularity: 'grapheme' }).segment(word)].map((s) => s.segment);
}
