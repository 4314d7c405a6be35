// What X refuses in a post's text, measured as X measures it (twitter-text behind shared/x/weighted-length.ts).
import { MAX_CASHTAGS, cashtags, weightedLength } from '../x/weighted-length';
import type { Refusal } from './preflight';

/** A post's text: at most 280 weighted characters as X counts them, at most one cashtag. */
export function postTextRefusal(text: string): Refusal | undefined {
  const measured = weightedLength(text);
  if (measured.weightedLength > measured.max) {
    return {
      code: 'too_long',
      field: 'text',
      message: `text is ${measured.weightedLength} weighted characters; X takes at most ${measured.max}`,
      details: { weightedLength: measured.weightedLength, max: measured.max },
    };
  }
  const tags = cashtags(text);
  if (tags.length > MAX_CASHTAGS) {
    return {
      code: 'too_many_cashtags',
      field: 'text',
      message: `text has ${tags.length} cashtags (${tags.map((t) => `$${t}`).join(', ')}); X takes at most ${MAX_CASHTAGS} in a post`,
      details: { cashtags: tags.length, max: MAX_CASHTAGS },
    };
  }
  return undefined;
}
