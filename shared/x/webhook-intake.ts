// Use case: X's webhook transport. CRC challenges are answered with the consumer secret; deliveries are checked
// against their signature on the raw bytes before anything parses them, normalised, and queued durably before
// X is told 200. X drops deliveries it does not see acknowledged, so the only slow thing here is the queue write.
import { SignatureError, ValidationError } from '../errors';
import { MAX_WEBHOOK_BODY_BYTES } from '../aws/resources';
import { toSqsBody, type Queue } from '../aws/sqs-queue';
import type { IgnoreReason, InboundEvent, InboundMedia, InboundPost, InboundUser, Link, ReplayJobNotice } from './inbound-event';
import { normaliseWebhookBody } from './normalise';
import { crcResponseToken, isValidCrcToken, verifyWebhookSignature } from './signature';
import { sliceCodePoints } from './text';

export type IntakeDeps = {
  consumerSecret: string;
  /** During a rotation: the consumer secret X used before, still accepted on deliveries while X switches over. */
  previousConsumerSecret?: string;
  botUserId: string;
  botUsername: string;
  inboundQueue: Queue;
  now: () => Date;
};

/** The CRC answer for a token, or ValidationError (400, no signature) when the token is missing or malformed. */
export function answerCrc(token: string | undefined, consumerSecret: string): { response_token: string } {
  if (!isValidCrcToken(token)) {
    throw new ValidationError('crc_token must be 1 to 256 printable ASCII characters', 'crc_token');
  }
  return { response_token: crcResponseToken(consumerSecret, token) };
}

export type IntakeResult = {
  queued: number;
  ignored: Partial<Record<IgnoreReason, number>>;
  xIds: string[];
  /** Replay jobs X says have ended (the ops `replay`'s outcome). */
  replayJobs?: ReplayJobNotice[];
};

/**
 * Verifies, normalises and queues one delivery. Throws ValidationError(413) for oversized bodies,
 * SignatureError for a missing or wrong signature, ValidationError(400) for a signed body that is not JSON.
 * Returns once every item is durably queued; a queue failure propagates (X then retries the delivery).
 */
export async function receiveDelivery(raw: Buffer, signature: string | undefined, deps: IntakeDeps): Promise<IntakeResult> {
  if (raw.length > MAX_WEBHOOK_BODY_BYTES) {
    throw new ValidationError(`body is over ${MAX_WEBHOOK_BODY_BYTES} bytes`, undefined, 413);
  }
  // Both secrets are always tried, so the time taken does not tell which one signed.
  const current = verifyWebhookSignature(deps.consumerSecret, raw, signature);
  const previous = deps.previousConsumerSecret !== undefined && verifyWebhookSignature(deps.previousConsumerSecret, raw, signature);
  if (!current && !previous) {
    throw new SignatureError('x-twitter-webhooks-signature is missing or does not match the body');
  }
  let body: unknown;
  try {
    body = JSON.parse(raw.toString('utf8'));
  } catch {
    throw new ValidationError('body is not JSON', 'body');
  }
  const { events, ignored, replayJobs } = normaliseWebhookBody(body, {
    botUserId: deps.botUserId,
    botUsername: deps.botUsername,
    receivedAt: deps.now().toISOString(),
  });
  if (events.length > 0) {
    await deps.inboundQueue.sendAll(events.map((event, i) => ({ id: String(i), body: toSqsBody(withinLimits(event)) })));
  }
  return { queued: events.length, ignored, xIds: events.map((e) => e.xId), ...(replayJobs ? { replayJobs } : {}) };
}

// X's longest text is a long post (25,000 characters; a DM takes 10,000), its longest display name 50 characters and
// handle 15. A signed body of up to 1 MiB can carry far longer strings and arrays; queued whole, such an item would fit
// neither an SQS message (256 KiB by default) nor a DynamoDB item (400 KB), and the webhook would answer 5xx for ever or
// ingest would fail on it until the DLQ. Nothing X sends is touched: only what cannot be X's is cut, keeping its head.
// Worst case, in UTF-8: text 100 KB + quoted text 40 KB + links 20 × 4 KB + media 4 × 10 KB, about 225 KiB in all.
const MAX_TEXT_CODE_POINTS = 25_000;
const MAX_NAME_CODE_POINTS = 100;
/** A quote is context for the agent, not the message: its head is enough when a body carries more. */
const MAX_QUOTED_TEXT_CODE_POINTS = 10_000;
/** X allows 4 media per post (photos, or videos and GIFs) and one attachment per DM. */
const MAX_POST_MEDIA = 4;
const MAX_DM_MEDIA = 1;
/** X draws no line for links in a long post; 20 is more than a support message carries, and keeps the item small. */
const MAX_LINKS = 20;
/** Browsers and X's own t.co stop well short of this; a longer URL is no link a customer typed. */
const MAX_URL_LENGTH = 2_048;
/** X's limit for alt text (x-api/fundamentals/data-dictionary.mdx, media alt_text). */
const MAX_ALT_TEXT_CODE_POINTS = 1_000;
/** X allows 5 edits, so 6 versions; the head and this version (last) are kept. */
const MAX_EDIT_VERSIONS = 6;
const MAX_KEY_LENGTH = 100;

function cut(text: string, maxCodePoints: number): string {
  // The UTF-16 length bounds the code point count from above: X-sized strings are never counted.
  return text.length <= maxCodePoints ? text : sliceCodePoints(text, 0, maxCodePoints);
}

function cutOptional<T extends Record<string, unknown>>(value: T, limits: Partial<Record<keyof T, number>>): T {
  const result: Record<string, unknown> = { ...value };
  for (const [key, max] of Object.entries(limits) as [string, number][]) {
    const field = result[key];
    if (typeof field === 'string') result[key] = cut(field, max);
  }
  return result as T;
}

function boundedUser(person: InboundUser): InboundUser {
  const bounded = cutOptional(person, { username: MAX_NAME_CODE_POINTS, name: MAX_NAME_CODE_POINTS });
  if (!person.profile) return bounded;
  return { ...bounded, profile: cutOptional(person.profile, { profileImageUrl: MAX_URL_LENGTH, verifiedType: MAX_NAME_CODE_POINTS }) };
}

function boundedLinks(links: Link[]): Link[] {
  return links
    .slice(0, MAX_LINKS)
    .map((link) => cutOptional(link, { url: MAX_URL_LENGTH, expandedUrl: MAX_URL_LENGTH, displayUrl: MAX_URL_LENGTH }));
}

function boundedMedia(media: InboundMedia[], max: number): InboundMedia[] {
  return media.slice(0, max).map((item) =>
    cutOptional(item, {
      mediaKey: MAX_KEY_LENGTH,
      url: MAX_URL_LENGTH,
      previewUrl: MAX_URL_LENGTH,
      altText: MAX_ALT_TEXT_CODE_POINTS,
      contentType: MAX_KEY_LENGTH,
    }),
  );
}

function boundedHistory(ids: string[]): string[] {
  return ids.length <= MAX_EDIT_VERSIONS ? ids : [...ids.slice(0, MAX_EDIT_VERSIONS - 1), ...ids.slice(-1)];
}

/**
 * The event with its strings and lists cut to what X can send at most: text, names and profile; links, media (4 per
 * post, 1 per DM) and their URLs and alt text; the quoted post's text and author; the edit history.
 */
export function withinLimits(event: InboundEvent): InboundEvent {
  if (event.kind === 'delete' || event.kind === 'revoke') return event;
  const text = cut(event.text, MAX_TEXT_CODE_POINTS);
  const links = boundedLinks(event.links);
  if (event.kind === 'dm') {
    return { ...event, sender: boundedUser(event.sender), text, links, media: boundedMedia(event.media, MAX_DM_MEDIA) };
  }
  const bounded: InboundPost = { ...event, author: boundedUser(event.author), text, links, media: boundedMedia(event.media, MAX_POST_MEDIA) };
  if (event.quoted) {
    const { text: quotedText, author } = event.quoted;
    bounded.quoted = {
      xId: event.quoted.xId,
      ...(quotedText === undefined ? {} : { text: cut(quotedText, MAX_QUOTED_TEXT_CODE_POINTS) }),
      ...(author === undefined ? {} : { author: boundedUser(author) }),
    };
  }
  if (event.editHistory) bounded.editHistory = boundedHistory(event.editHistory);
  return bounded;
}
