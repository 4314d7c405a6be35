// X's weighted length of a post: the one place that counts characters the way X does before a reply is accepted.
// X refuses a post over 280 weighted characters, where a URL counts 23, an emoji or a CJK character 2, after NFC.
// The reference counter X's docs point to is twitter-text; it lives behind this module and nowhere else.
//
// Why the deep import: the package root re-exports every autolink and extractor helper and bundles to ~107 KB minified;
// `dist/parseTweet.js` is the same function with only what it needs (URL extraction, the emoji parser, the v3 config)
// and bundles to ~53 KB. Our typings (@types/twitter-text) describe only the root, so the function's type is borrowed
// from there; test/unit/x-weighted-length.test.ts checks on a generated corpus that both entry points agree.
import type { parseTweet as ParseTweet } from 'twitter-text';
// @ts-expect-error -- untyped CommonJS module file of twitter-text; typed just below from the package root's typings.
import parseTweetModule from 'twitter-text/dist/parseTweet.js';
import type { extractCashtags as ExtractCashtags } from 'twitter-text';
// @ts-expect-error -- untyped CommonJS module file of twitter-text, as above (only the cashtag pattern comes with it).
import extractCashtagsModule from 'twitter-text/dist/extractCashtags.js';

const parseTweet = parseTweetModule as typeof ParseTweet;
const extractCashtags = extractCashtagsModule as typeof ExtractCashtags;
import type { extractUrls as ExtractUrls } from 'twitter-text';
// @ts-expect-error -- untyped CommonJS module file of twitter-text, as above.
import extractUrlsModule from 'twitter-text/dist/extractUrls.js';

const extractUrls = extractUrlsModule as typeof ExtractUrls;

/** The most weighted characters X accepts in one post. */
export const MAX_WEIGHTED_LENGTH = 280;

/** How X measures a post's text. */
export type WeightedLength = {
  /** X's count: URLs 23, emoji and characters outside Latin, punctuation and common symbols 2, everything else 1. */
  weightedLength: number;
  /** X would accept this text: 1 to 280 weighted characters and none of U+FFFE, U+FEFF, U+FFFF. */
  valid: boolean;
  max: typeof MAX_WEIGHTED_LENGTH;
};

/**
 * Measures `text` exactly as X does (twitter-text `parseTweet` with its default v3 configuration, NFC-normalised
 * first). Pure and synchronous. Note that empty text is not `valid` (X refuses an empty post), so callers that report
 * "too long" should compare `weightedLength` with `max` rather than read `valid`.
 */
export function weightedLength(text: string): WeightedLength {
  const parsed = parseTweet(text);
  return { weightedLength: parsed.weightedLength, valid: parsed.valid, max: MAX_WEIGHTED_LENGTH };
}

/** The most cashtags ($TSLA) X accepts in one post: a post with two or more is refused (NOTES.md, X's posting rules). */
export const MAX_CASHTAGS = 1;

/** The cashtags in `text` as X finds them (twitter-text's pattern: `$` and 1 to 6 letters, not inside a word). */
export function cashtags(text: string): string[] {
  return extractCashtags(text);
}

/** Whether X finds a link in `text` (twitter-text's URL rule, bare domains included): X bills such a post apart. */
export function hasLink(text: string): boolean {
  return extractUrls(text).length > 0;
}
