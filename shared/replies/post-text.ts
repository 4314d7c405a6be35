// What X refuses in a post's text, measured as X measures it (twitter-text behind shared/x/weighted-length.ts).
import { MAX_CASHTAGS, cashtags, hasLink, weightedLength } from '../x/weighted-length';
import type { Refusal } from './preflight';
import { MAX_THREAD_PARTS, splitThread } from './split';

/**
 * What a post's text becomes on X: one post, or with `split` a thread of numbered parts when it is over 280 (each part
 * checked like a post). Over 280 without `split`: too_long, saying how many parts it would take.
 */
export function planPost(text: string, split: boolean): { parts?: string[] } | { refusal: Refusal } {
  const measured = weightedLength(text);
  if (measured.weightedLength <= measured.max) {
    const refusal = postTextRefusal(text);
    return refusal ? { refusal } : {};
  }
  const parts = splitThread(text);
  if (!split || parts.length > MAX_THREAD_PARTS) {
    const refusal = postTextRefusal(text)!;
    const advice = split
      ? `; as a thread it would take ${parts.length} parts, and a reply is at most ${MAX_THREAD_PARTS}`
      : `; send split: true to post it as a thread of ${parts.length} parts`;
    return { refusal: { ...refusal, message: refusal.message + advice, details: { ...refusal.details, parts: parts.length } } };
  }
  for (const [i, part] of parts.entries()) {
    const refusal = postTextRefusal(part);
    if (refusal) return { refusal: { ...refusal, message: `part ${i + 1} of ${parts.length}: ${refusal.message}` } };
  }
  return { parts };
}

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

/** Which posts of a reply carry a link, as X finds them (X bills a post with a link at its own price). */
export function linksIn(posts: string[]): boolean[] {
  return posts.map(hasLink);
}
