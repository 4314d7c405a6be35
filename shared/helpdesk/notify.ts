// Use case: turn ticket changes into delivered helpdesk events, at least once (contract §4).
// Primary adapter: functions/notify/handler.ts. Secondary adapters (ports below): the event context reader
// (DynamoDB), the notify-retry queue (SQS), the helpdesk (delivery.ts) and a clock.
//
// Two paths. The table stream hands over every ticket change once it is written: its event is built and tried right
// away. An event that fails goes to the notify-retry queue, frozen (same webhook-id, same body), and every receive of
// that message is one more try, spaced by backoff.ts, until SQS parks it in the dead-letter queue.
import * as z from 'zod/mini';
import type { Message, Reply, Ticket } from '../tickets/model';
import { ticketEventTypeSchema } from '../tickets/model';
import type { Queue } from '../aws/sqs-queue';
import { count, logger } from '../logger';
import { METRIC_NAMES } from '../metric-names';
import { RETRY_COUNT, retryDelaySeconds } from './backoff';
import type { DeliveryResult } from './delivery';
import { contextNeededFor, toTicketEvent, type TicketEvent, type TicketEventBody } from './events';

/** Reads what an event carries besides its ticket. Undefined when the item does not exist. */
export type TicketEventReader = {
  getMessage(xId: string): Promise<Message | undefined>;
  getReply(replyId: string): Promise<Reply | undefined>;
};

export type NotifyDeps = {
  reader: TicketEventReader;
  retryQueue: Pick<Queue, 'send' | 'delay'>;
  /** One attempt at the helpdesk; never throws (delivery.ts). */
  deliver: (event: TicketEvent) => Promise<DeliveryResult>;
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
  | { recordId: string; unreadable: string };

/** One receive of a notify-retry queue message. */
export type RetryReceive = { messageId: string; receiptHandle: string; receiveCount: number; body: string };

/** What the notify-retry queue holds: the event exactly as first built, so every retry sends the same bytes. */
export type RetryMessage = {
  webhookId: string;
  body: TicketEventBody;
  /** Attempts already made when the message was queued (1 after the stream's attempt, 0 if it had no time to try). */
  attempt: number;
  /** When the stream first handled the event; with the receive count it tells how long the helpdesk has been failing. */
  firstAttemptAt: string;
};

// Checks a queued message's shape without rebuilding it: zod's output would reorder keys, and the body must be sent
// byte for byte as first signed so helpdesks that hash bodies see one event.
const retryMessageSchema = z.object({
  webhookId: z.string().check(z.minLength(1)),
  body: z.looseObject({
    type: ticketEventTypeSchema,
    timestamp: z.string(),
    data: z.looseObject({ ticket: z.looseObject({ id: z.string(), sequence: z.number() }) }),
  }),
  attempt: z.number().check(z.int(), z.nonnegative()),
  firstAttemptAt: z.string(),
});

const DEFAULT_STREAM_BUDGET_MS = 15_000;

/** A stream record that could not become a queued or delivered event; the stream replays from it. */
const RECORDS_FAILED = METRIC_NAMES.NotifyRecordsFailed;
/** A notify-retry message that is not a queued event; SQS parks it in the DLQ. */
const RETRY_MALFORMED = METRIC_NAMES.NotifyRetryMalformed;

type Built = { change: Extract<StreamTicketChange, { ticket: Ticket }>; index: number; event: TicketEvent };

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
    const lane = lanes.get(b.change.ticket.id) ?? [];
    // The same change read twice in one batch is one event.
    if (!lane.some((other) => other.event.webhookId === b.event.webhookId)) lane.push(b);
    lanes.set(b.change.ticket.id, lane);
  }
  const enqueueFailures: number[] = [];
  await Promise.all(
    [...lanes.values()].map(async (lane) => {
      lane.sort((a, b) => a.change.ticket.sequence - b.change.ticket.sequence);
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
          const message: RetryMessage = {
            webhookId: event.webhookId,
            body: event.body,
            attempt: skipReason ? 0 : 1,
            firstAttemptAt: new Date(startedAt).toISOString(),
          };
          // SQS caps DelaySeconds at 15 minutes; the first retry is seconds away anyway.
          await deps.retryQueue.send({ body: JSON.stringify(message), delaySeconds: Math.min(900, Math.max(0, Math.round(delaySeconds))) });
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
  if ('unreadable' in change) {
    count(RECORDS_FAILED);
    logger.error('stream record is not a readable ticket; the stream will replay it', {
      recordId: change.recordId,
      reason: change.unreadable,
    });
    return 'failed';
  }
  const { ticket } = change;
  // A write that did not move the sequence is not a change the helpdesk has to hear about (and has no new id).
  if (change.previousSequence === ticket.sequence) return 'skipped';
  try {
    const needed = contextNeededFor(ticket.lastChange);
    const carried = change.opening && change.opening.xId === needed.messageXId ? change.opening : undefined;
    const [message, reply] = await Promise.all([
      carried ?? (needed.messageXId ? deps.reader.getMessage(needed.messageXId) : undefined),
      needed.replyId ? deps.reader.getReply(needed.replyId) : undefined,
    ]);
    if (needed.messageXId && !message) throw new Error(`message ${needed.messageXId} not found`);
    if (needed.replyId && !reply) throw new Error(`reply ${needed.replyId} not found`);
    return { change, index, event: toTicketEvent(ticket, { message, reply }) };
  } catch (error) {
    count(RECORDS_FAILED);
    logger.error('ticket event could not be built; the stream will replay it', {
      recordId: change.recordId,
      ticketId: ticket.id,
      sequence: ticket.sequence,
      type: ticket.lastChange.type,
      error: error as Error,
    });
    return 'failed';
  }
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
      const event: TicketEvent = { webhookId: message.webhookId, body: message.body };
      // One attempt from the stream (if it had time) plus one per receive of this message.
      const log = { ...eventLogKeys(event), attempt: message.attempt + receive.receiveCount, messageId: receive.messageId };
      const result = await deps.deliver(event);
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

/** What every log line about an event carries; never the body (it holds message text) nor the secret. */
function eventLogKeys(event: TicketEvent) {
  return {
    ticketId: event.body.data.ticket.id,
    webhookId: event.webhookId,
    type: event.body.type,
    sequence: event.body.data.ticket.sequence,
  };
}
