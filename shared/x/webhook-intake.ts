// Use case: X's webhook transport. CRC challenges are answered with the consumer secret; deliveries are checked
// against their signature on the raw bytes before anything parses them, normalised, and queued durably before
// X is told 200. X drops deliveries it does not see acknowledged, so the only slow thing here is the queue write.
import { SignatureError, ValidationError } from '../errors';
import { MAX_WEBHOOK_BODY_BYTES } from '../aws/resources';
import { toSqsBody, type Queue } from '../aws/sqs-queue';
import type { IgnoreReason, InboundEvent } from './inbound-event';
import { normaliseWebhookBody } from './normalise';
import { crcResponseToken, isValidCrcToken, verifyWebhookSignature } from './signature';
import { sliceCodePoints } from './text';

export type IntakeDeps = {
  consumerSecret: string;
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
  if (!verifyWebhookSignature(deps.consumerSecret, raw, signature)) {
    throw new SignatureError('x-twitter-webhooks-signature is missing or does not match the body');
  }
  let body: unknown;
  try {
    body = JSON.parse(raw.toString('utf8'));
  } catch {
    throw new ValidationError('body is not JSON', 'body');
  }
  const { events, ignored } = normaliseWebhookBody(body, {
    botUserId: deps.botUserId,
    botUsername: deps.botUsername,
    receivedAt: deps.now().toISOString(),
  });
  if (events.length > 0) {
    await deps.inboundQueue.sendAll(events.map((event, i) => ({ id: String(i), body: toSqsBody(withinLimits(event)) })));
  }
  return { queued: events.length, ignored, xIds: events.map((e) => e.xId) };
}

// X's longest text is a long post (25,000 characters; a DM takes 10,000), its longest display name 50 characters and
// handle 15. A signed body of up to 1 MiB can carry far longer strings; queued whole, such an item would fit neither
// an SQS message (256 KiB by default) nor a DynamoDB item (400 KB), and the webhook would answer 5xx for ever or ingest would
// fail on it until the DLQ. Nothing X sends is touched: only what cannot be X's is cut, keeping its head.
const MAX_TEXT_CODE_POINTS = 25_000;
const MAX_NAME_CODE_POINTS = 100;

function cut(text: string, maxCodePoints: number): string {
  // The UTF-16 length bounds the code point count from above: X-sized strings are never counted.
  return text.length <= maxCodePoints ? text : sliceCodePoints(text, 0, maxCodePoints);
}

/** The event with its text and names cut to what X can send at most. */
function withinLimits(event: InboundEvent): InboundEvent {
  if (event.kind === 'delete') return event;
  const person = event.kind === 'post' ? event.author : event.sender;
  const bounded = {
    ...person,
    ...(person.username === undefined ? {} : { username: cut(person.username, MAX_NAME_CODE_POINTS) }),
    ...(person.name === undefined ? {} : { name: cut(person.name, MAX_NAME_CODE_POINTS) }),
  };
  const text = cut(event.text, MAX_TEXT_CODE_POINTS);
  return event.kind === 'post' ? { ...event, author: bounded, text } : { ...event, sender: bounded, text };
}
