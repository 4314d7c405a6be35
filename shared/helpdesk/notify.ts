// Use case: turn ticket changes, and changes of the channel's health, into delivered helpdesk events, at least once
// (contract §4). The channel's item is an outbox like a ticket's: its change is `channel.health_changed`.
// Primary adapter: functions/notify/handler.ts. Secondary adapters (ports below): the event context reader
// (DynamoDB), the notify-retry queue (SQS), the helpdesk (delivery.ts) and a clock.
//
// Two paths. The table stream hands over every ticket change once it is written: its event is built and tried right
// away. An event that fails goes to the notify-retry queue, frozen (same webhook-id, same body), and every receive of
// that message is one more try, spaced by backoff.ts, until SQS parks it in the dead-letter queue.
//
// Queued events carry no message text. A queued event can wait a day in the retry queue and 14 more in its DLQ, and
// X requires content deleted on X to be gone within 24 hours: so the queue holds the body with `data.message.text`
// emptied, and each attempt reads the message again and puts back its current text and `redacted` flag. An event
// whose message was deleted meanwhile goes out with empty text and `redacted: true`; an unchanged one goes out byte
// for byte as first signed (the body is parsed with its key order and only that value is put back).
import * as z from 'zod/mini';
import { lazySchema } from '../lazy-schema';
import type { AttachmentStore } from '../attachments/attachment-store';
import type { Message, Reply, Ticket } from '../tickets/model';
import type { ChannelHealth } from '../channel/channel-health';
import { ticketEventTypeSchema } from '../tickets/model';
import { toSqsBody, type Queue } from '../aws/sqs-queue';
import { count, logger } from '../logger';
import { METRIC_NAMES } from '../metric-names';
import { RETRY_COUNT, retryDelaySeconds } from './backoff';
import type { DeliveryResult } from './delivery';
import {
  contextNeededFor,
  toHelpdeskMessage,
  toChannelEvent,
  toTicketEvent,
  type HelpdeskEvent,
  type HelpdeskEventBody,
  type HelpdeskMessage,
  type StoredLinks,
} from './events';

/** Reads what an event carries besides its ticket. Undefined when the item does not exist. */
export type TicketEventReader = {
  getMessage(xId: string): Promise<Message | undefined>;
  getReply(replyId: string): Promise<Reply | undefined>;
  /**
   * The message as it stands now, for a queued event that carries no text: the stored message, redacted or not; or,
   * when no message item was ever written (the worker that opened a customer's first ticket died between its two
   * puts), the opening copy its ticket still carries. Undefined when X said it was deleted before it was stored (a
   * tombstone) or nothing is there: the event then counts it as redacted.
   */
  currentMessage(xId: string, ticketId: string): Promise<Message | undefined>;
};

export type NotifyDeps = {
  reader: TicketEventReader;
  retryQueue: Pick<Queue, 'send' | 'delay'>;
  /** One attempt at the helpdesk; never throws (delivery.ts). */
  deliver: (event: HelpdeskEvent) => Promise<DeliveryResult>;
  /**
   * Signs short-lived links to the bridge's copies of DM media (shared/attachments/attachment-store.ts). Without it,
   * or when signing fails, an event names the API path that hands out a fresh link instead.
   */
  attachments?: Pick<AttachmentStore, 'link'>;
  now: () => Date;
  /** Seconds before retry n (1-based); backoff.ts by default, a tiny schedule in integration tests. */
  retryDelaySeconds?: (attempt: number) => number;
  /** Retries before SQS parks the event: the notify-retry queue's maxReceiveCount. */
  maxRetries?: number;
  /**
   * How long a stream batch may spend on delivery attempts before it sends the rest of its events straight to the
   * retry queue. Keeps a slow helpdesk from running the function into its timeout, which would replay the whole batch.
   */
  streamBudgetMs?: number;
};

/**
 * One ticket item from the table stream, in stream order; `unreadable` when the item did not decode. A new ticket's
 * item carries its opening message (`opening`), written just before the message item itself.
 */
export type StreamTicketChange =
  | { recordId: string; ticket: Ticket; previousSequence?: number; opening?: Message }
  | { recordId: string; channel: ChannelHealth; previousSequence?: number }
  | { recordId: string; unreadable: string };

/** One receive of a notify-retry queue message. */
export type RetryReceive = { messageId: string; receiptHandle: string; receiveCount: number; body: string };

/**
 * What the notify-retry queue holds: the event as first built, with its message's text taken out, so every retry
 * sends the same id and, unless the message was deleted meanwhile, the same bytes.
 */
export type RetryMessage = {
  webhookId: string;
  /** The event's body, key order kept, with `data.message.text` emptied (see `textOf`). */
  body: HelpdeskEventBody;
  /** Attempts already made when the message was queued (1 after the stream's attempt, 0 if it had no time to try). */
  attempt: number;
  /** When the stream first handled the event; with the receive count it tells how long the helpdesk has been failing. */
  firstAttemptAt: string;
  /**
   * The X id of the message whose text was emptied: each attempt reads it (TicketEventReader.currentMessage) and puts
   * back its current text and `redacted` flag. Absent when the event carries no message, and in messages queued by
   * versions before text was taken out: those still hold their text and are replaced by a copy without it.
   */
  textOf?: string;
};

// Checks a queued message's shape without rebuilding it: zod's output would reorder keys, and the body must be sent
// byte for byte as first signed so helpdesks that hash bodies see one event.
const retryMessageSchema = lazySchema(() => z.object({
  webhookId: z.string().check(z.minLength(1)),
  body: z.union([
    z.looseObject({
      type: ticketEventTypeSchema,
      timestamp: z.string(),
      data: z.looseObject({ ticket: z.looseObject({ id: z.string(), sequence: z.number() }) }),
    }),
    z.looseObject({
      type: z.literal('channel.health_changed'),
      timestamp: z.string(),
      data: z.looseObject({ channel: z.looseObject({ status: z.string(), sequence: z.number() }) }),
    }),
  ]),
  attempt: z.number().check(z.int(), z.nonnegative()),
  firstAttemptAt: z.string(),
  textOf: z.optional(z.string().check(z.minLength(1))),
}));

const DEFAULT_STREAM_BUDGET_MS = 15_000;

/** A stream record that could not become a queued or delivered event; the stream replays from it. */
const RECORDS_FAILED = METRIC_NAMES.NotifyRecordsFailed;
/** A notify-retry message that is not a queued event; SQS parks it in the DLQ. */
const RETRY_MALFORMED = METRIC_NAMES.NotifyRetryMalformed;

type Built = { change: Exclude<StreamTicketChange, { unreadable: string }>; index: number; event: HelpdeskEvent };

/** The lane a change is delivered in (its ticket's, or the channel's) and its place in it. */
function laneOf(change: Built['change']): { lane: string; sequence: number } {
  return 'channel' in change
    ? { lane: 'channel', sequence: change.channel.sequence }
    : { lane: `ticket:${change.ticket.id}`, sequence: change.ticket.sequence };
}

/**
 * Handles a batch of stream records (one shard, in order). Returns the record ids Lambda must retry from: a record
 * whose event could not be built or queued for retry. Records after the first such failure are left untouched, since
 * Lambda replays everything from it; delivering them now would only send them twice.
 * Different tickets are delivered concurrently; one ticket's events go in sequence order.
 */
export async function notifyTicketChanges(
  changes: StreamTicketChange[],
  deps: NotifyDeps,
): Promise<{ failedRecordIds: string[] }> {
  const startedAt = deps.now().getTime();
  const budgetMs = deps.streamBudgetMs ?? DEFAULT_STREAM_BUDGET_MS;

  // Phase 1: build every event (reads only), so the first unbuildable record is known before anything is sent.
  const built = await Promise.all(changes.map((change, index) => buildEvent(change, index, deps)));
  let cut = built.findIndex((b) => b === 'failed');
  if (cut < 0) cut = changes.length;

  // Phase 2: deliver what comes before the cut, one lane per ticket.
  const lanes = new Map<string, Built[]>();
  for (const b of built.slice(0, cut)) {
    if (b === 'failed' || b === 'skipped') continue;
    const key = laneOf(b.change).lane;
    const lane = lanes.get(key) ?? [];
    // The same change read twice in one batch is one event.
    if (!lane.some((other) => other.event.webhookId === b.event.webhookId)) lane.push(b);
    lanes.set(key, lane);
  }
  const enqueueFailures: number[] = [];
  await Promise.all(
    [...lanes.values()].map(async (lane) => {
      lane.sort((a, b) => laneOf(a.change).sequence - laneOf(b.change).sequence);
      let helpdeskFailed = false;
      for (const { change, index, event } of lane) {
        const outOfTime = deps.now().getTime() - startedAt > budgetMs;
        // After one failure, this ticket's later events queue up behind it instead of each waiting out a timeout.
        const skipReason = helpdeskFailed ? 'an earlier event of this ticket failed' : outOfTime ? 'stream batch out of time' : undefined;
        const result: DeliveryResult = skipReason ? { ok: false, reason: skipReason } : await deps.deliver(event);
        const log = { ...eventLogKeys(event), attempt: skipReason ? 0 : 1, status: result.status };
        if (result.ok) {
          count(METRIC_NAMES.EventsDelivered);
          logger.info('ticket event delivered', log);
          continue;
        }
        helpdeskFailed = true;
        try {
          const delaySeconds = retryDelay(deps, 1);
          const message = toRetryMessage(event, skipReason ? 0 : 1, new Date(startedAt).toISOString());
          // SQS caps DelaySeconds at 15 minutes; the first retry is seconds away anyway.
          await deps.retryQueue.send({ body: toSqsBody(message), delaySeconds: Math.min(900, Math.max(0, Math.round(delaySeconds))) });
          count(METRIC_NAMES.DeliveriesRetried);
          logger.warn('ticket event not delivered; queued for retry', { ...log, reason: result.reason, retryInSeconds: delaySeconds });
        } catch (error) {
          enqueueFailures.push(index);
          count(RECORDS_FAILED);
          logger.error('ticket event could not be queued for retry; the stream will replay it', {
            ...log,
            recordId: change.recordId,
            error: error as Error,
          });
          // Later events of this ticket wait for the replay, so they cannot overtake this one for good.
          return;
        }
      }
    }),
  );

  const failedIndexes = [...(cut < changes.length ? [cut] : []), ...enqueueFailures].sort((a, b) => a - b);
  return { failedRecordIds: failedIndexes.map((i) => changes[i]!.recordId) };
}

async function buildEvent(change: StreamTicketChange, index: number, deps: NotifyDeps): Promise<Built | 'failed' | 'skipped'> {
  const outcome = await eventForChange(change, deps.reader, deps.attachments);
  if ('event' in outcome) return { change: change as Built['change'], index, event: outcome.event };
  if ('skipped' in outcome) return 'skipped';
  count(RECORDS_FAILED);
  if ('unreadable' in change) {
    logger.error('stream record is not a readable ticket; the stream will replay it', { recordId: change.recordId, reason: change.unreadable });
  } else if ('channel' in change) {
    logger.error('channel event could not be built; the stream will replay it', {
      recordId: change.recordId,
      sequence: change.channel.sequence,
      error: outcome.error,
    });
  } else {
    logger.error('ticket event could not be built; the stream will replay it', {
      recordId: change.recordId,
      ticketId: change.ticket.id,
      sequence: change.ticket.sequence,
      type: change.ticket.lastChange.type,
      error: outcome.error,
    });
  }
  return 'failed';
}

/** What one stream change becomes: its event, nothing (a write that moved no sequence), or why it cannot be built. */
type ChangeOutcome = { event: HelpdeskEvent } | { skipped: true } | { failed: string; error?: Error };

async function eventForChange(
  change: StreamTicketChange,
  reader: TicketEventReader,
  attachments?: NotifyDeps['attachments'],
): Promise<ChangeOutcome> {
  if ('unreadable' in change) return { failed: `not a readable ticket: ${change.unreadable}` };
  if ('channel' in change) {
    // As for a ticket: a write that did not move the sequence is no change.
    if (change.previousSequence === change.channel.sequence) return { skipped: true };
    return { event: toChannelEvent(change.channel) };
  }
  const { ticket } = change;
  // A write that did not move the sequence is not a change the helpdesk has to hear about (and has no new id).
  if (change.previousSequence === ticket.sequence) return { skipped: true };
  try {
    const needed = contextNeededFor(ticket.lastChange);
    const carried = change.opening && change.opening.xId === needed.messageXId ? change.opening : undefined;
    const [message, reply] = await Promise.all([
      carried ?? (needed.messageXId ? reader.getMessage(needed.messageXId) : undefined),
      needed.replyId ? reader.getReply(needed.replyId) : undefined,
    ]);
    if (needed.messageXId && !message) throw new Error(`message ${needed.messageXId} not found`);
    if (needed.replyId && !reply) throw new Error(`reply ${needed.replyId} not found`);
    const storedLinks = message ? await linksFor(message, attachments) : undefined;
    return { event: toTicketEvent(ticket, { message, reply, ...(storedLinks ? { storedLinks } : {}) }) };
  } catch (error) {
    const failure = error instanceof Error ? error : new Error(String(error));
    return { failed: failure.message, error: failure };
  }
}

/**
 * The retry messages (attempt 0) for stream changes that never had their first attempt, as the stream path builds
 * and queues them: one per change that moved a ticket's sequence, in stream order, the same change read twice being
 * one event. For rebuilding a stream batch Lambda gave up on (the `notify-stream-failures` redrive); the webhook-id
 * comes from the data, so it is the one the events would have had. `failed` lists the records that could not become
 * an event, with why.
 */
export async function retryMessagesForChanges(
  changes: StreamTicketChange[],
  deps: { reader: TicketEventReader; firstAttemptAt: string },
): Promise<{ messages: RetryMessage[]; failed: { recordId: string; reason: string }[] }> {
  // No links: each retry signs fresh ones (currentEvent), and a queued event waits longer than a link lives.
  const outcomes = await Promise.all(changes.map((change) => eventForChange(change, deps.reader)));
  const messages: RetryMessage[] = [];
  const failed: { recordId: string; reason: string }[] = [];
  outcomes.forEach((outcome, i) => {
    if ('failed' in outcome) failed.push({ recordId: changes[i]!.recordId, reason: outcome.failed });
    else if ('event' in outcome && !messages.some((m) => m.webhookId === outcome.event.webhookId)) {
      messages.push(toRetryMessage(outcome.event, 0, deps.firstAttemptAt));
    }
  });
  return { messages, failed };
}

/**
 * The queue's copy of an event: the body with the message's text, links, attachments and quoted words emptied and
 * the message's X id beside it, so nothing deleted on X waits in the queue. Key order is kept, so putting the same text back gives the same bytes.
 */
export function toRetryMessage(event: HelpdeskEvent, attempt: number, firstAttemptAt: string): RetryMessage {
  const body = structuredClone(event.body);
  const message = carriedMessage(body);
  if (message) {
    // Everything the customer wrote goes: the text, the links in it, and the quoted post's words. Assigning keys
    // the body already has keeps their place, so putting them back gives the same bytes.
    message.text = '';
    if (Array.isArray(message.links)) message.links = [];
    if (Array.isArray(message.attachments)) message.attachments = [];
    if (message.quoted) message.quoted = { xId: message.quoted.xId };
  }
  return { webhookId: event.webhookId, body, attempt, firstAttemptAt, ...(message ? { textOf: message.xId } : {}) };
}

/** The message an event body carries (created, message_added, reopened, message_redacted), if any. */
function carriedMessage(body: HelpdeskEventBody): HelpdeskMessage | undefined {
  if (body.type === 'channel.health_changed') return undefined;
  const data = body.data as { message?: HelpdeskMessage };
  return typeof data.message === 'object' && data.message !== null ? data.message : undefined;
}

/**
 * The event a queued message stands for, as of now: its message's current text and `redacted` flag put back in
 * place (empty and true when the message was deleted on X, or is not there). Throws when the table cannot be read:
 * the attempt then waits for the next retry rather than go out with text it could not check.
 */
async function currentEvent(
  message: RetryMessage,
  reader: TicketEventReader,
  attachments?: NotifyDeps['attachments'],
): Promise<HelpdeskEvent> {
  const body = message.body;
  const carried = carriedMessage(body);
  if (carried && body.type !== 'channel.health_changed') {
    const current = await reader.currentMessage(message.textOf ?? carried.xId, body.data.ticket.id);
    const shown = current ? toHelpdeskMessage(current, await linksFor(current, attachments)) : undefined;
    // Assigning keys the body already has keeps their place, so the bytes match the first attempt's.
    carried.text = shown?.text ?? '';
    carried.redacted = shown?.redacted ?? true;
    // Links to stored media are signed again for each attempt (the first attempt's have expired by the later ones),
    // and a message deleted meanwhile shows none. Events without stored media keep their bytes.
    if (Array.isArray(carried.attachments)) carried.attachments = shown?.attachments ?? [];
    if (Array.isArray(carried.links)) carried.links = shown?.links ?? [];
    if (carried.quoted) carried.quoted = shown?.quoted ?? { xId: carried.quoted.xId };
  }
  return { webhookId: message.webhookId, body };
}

/**
 * Handles a batch of notify-retry receives. Returns the message ids to leave on the queue: each failed one has been
 * hidden until its next retry is due, and after its last retry it is let go at once so SQS's redrive parks it in the
 * dead-letter queue. A message redriven from there is delivered again with its original webhook-id and body.
 */
export async function retryTicketEvents(
  receives: RetryReceive[],
  deps: NotifyDeps,
): Promise<{ failedMessageIds: string[] }> {
  const maxRetries = deps.maxRetries ?? RETRY_COUNT;
  const outcomes = await Promise.all(
    receives.map(async (receive): Promise<boolean> => {
      const message = parseRetryMessage(receive);
      if (!message) return false;
      const keys = eventLogKeys({ webhookId: message.webhookId, body: message.body });
      // One attempt from the stream (if it had time) plus one per receive of this message.
      const log = { ...keys, attempt: message.attempt + receive.receiveCount, messageId: receive.messageId };
      const heldText = message.textOf === undefined && (carriedMessage(message.body)?.text ?? '') !== '';
      if (heldText && (await replaceWithoutText(message, receive, deps, log))) return true;
      let result: DeliveryResult;
      try {
        result = await deps.deliver(await currentEvent(message, deps.reader, deps.attachments));
      } catch (error) {
        // Never sent with text that could not be checked against the table: this attempt counts as failed.
        result = { ok: false, reason: `could not read the event's message: ${(error as Error).message ?? String(error)}` };
      }
      if (result.ok) {
        count(METRIC_NAMES.EventsDelivered);
        logger.info('ticket event delivered on retry', { ...log, status: result.status });
        return true;
      }
      const lastTry = receive.receiveCount >= maxRetries;
      // Retry n + 1 follows receive n; after the last one, visible again now, so the next receive moves it to the DLQ.
      const delaySeconds = lastTry ? 0 : retryDelay(deps, receive.receiveCount + 1);
      if (lastTry) {
        count(METRIC_NAMES.DeliveryFailed);
        logger.error('ticket event not delivered after every retry; parking it in the dead-letter queue', {
          ...log,
          status: result.status,
          reason: result.reason,
          firstAttemptAt: message.firstAttemptAt,
        });
      } else {
        count(METRIC_NAMES.DeliveriesRetried);
        logger.warn('ticket event not delivered; retrying later', {
          ...log,
          status: result.status,
          reason: result.reason,
          retryInSeconds: delaySeconds,
        });
      }
      try {
        await deps.retryQueue.delay(receive.receiptHandle, delaySeconds);
      } catch (error) {
        // The queue's own visibility timeout still spaces the retry; only the schedule slips.
        logger.warn('could not set the retry delay; the queue visibility timeout applies', { ...log, error: error as Error });
      }
      return false;
    }),
  );
  return { failedMessageIds: receives.filter((_, i) => !outcomes[i]).map((r) => r.messageId) };
}

/**
 * A message queued before events were queued without text still holds its text: it is replaced by a copy without
 * it, due at once, and the receive reports success so that SQS deletes the old one. The copy keeps the attempts
 * made, but its retries start the schedule over (a message queued before the change may retry up to a day longer).
 * False when the copy could not be queued: the old message is then tried as it is, its text read from the table.
 */
async function replaceWithoutText(
  message: RetryMessage,
  receive: RetryReceive,
  deps: NotifyDeps,
  log: Record<string, unknown>,
): Promise<boolean> {
  const copy = toRetryMessage({ webhookId: message.webhookId, body: message.body }, message.attempt + receive.receiveCount - 1, message.firstAttemptAt);
  try {
    await deps.retryQueue.send({ body: toSqsBody(copy), delaySeconds: 0 });
  } catch (error) {
    logger.warn('could not replace a queued event that holds message text; trying it as it is', { ...log, error: error as Error });
    return false;
  }
  logger.info('queued event that held message text replaced by a copy without it', log);
  return true;
}

function parseRetryMessage(receive: RetryReceive): RetryMessage | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(receive.body);
  } catch {
    raw = undefined;
  }
  const check = retryMessageSchema.safeParse(raw);
  if (check.success) return raw as RetryMessage;
  // Only this function writes to the queue, so this is a bug: leave it for SQS to park in the DLQ for a person.
  count(RETRY_MALFORMED);
  logger.error('notify-retry message is not a queued ticket event', {
    messageId: receive.messageId,
    issue: check.error.issues[0]?.message,
    path: check.error.issues[0]?.path.join('.'),
  });
  return undefined;
}

function retryDelay(deps: NotifyDeps, attempt: number): number {
  return (deps.retryDelaySeconds ?? retryDelaySeconds)(attempt);
}

/** What every log line about an event carries; never the body (it may hold message text) nor the secret. */
function eventLogKeys(event: HelpdeskEvent) {
  if (event.body.type === 'channel.health_changed') {
    return { webhookId: event.webhookId, type: event.body.type, sequence: event.body.data.channel.sequence };
  }
  return {
    ticketId: event.body.data.ticket.id,
    webhookId: event.webhookId,
    type: event.body.type,
    sequence: event.body.data.ticket.sequence,
  };
}

/**
 * Fresh links to a message's stored media, by attachment id; undefined when it has none (or is redacted). A link that
 * cannot be signed is left out, so the event names the API path instead: delivery never waits on a link.
 */
async function linksFor(message: Message, attachments: NotifyDeps['attachments']): Promise<StoredLinks | undefined> {
  const stored = message.redacted ? [] : (message.attachments ?? []).filter((a) => a.stored);
  if (!attachments || stored.length === 0) return undefined;
  const links = new Map<string, { url: string; expiresAt: string }>();
  await Promise.all(
    stored.map(async (attachment) => {
      try {
        links.set(attachment.id, await attachments.link(attachment.stored!.key));
      } catch (error) {
        logger.warn('could not sign a link to a stored attachment; the event names the API path', {
          ticketId: message.ticketId,
          attachmentId: attachment.id,
          error: error as Error,
        });
      }
    }),
  );
  return links;
}
