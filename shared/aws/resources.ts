// The stack's shape in one place, read by both homes: the CDK stack builds these on AWS, and the local runner builds
// the same table, queues and event-source wiring on DynamoDB Local and the SQS emulator.
import type { SecretName } from '../config';

/** The single table. Keys and indexes are described in the README's data model section. */
export const TABLE = {
  partitionKey: 'pk',
  sortKey: 'sk',
  /** Tickets by status, newest first: gsi1pk = STATUS#<status>, gsi1sk = <createdAt>#<ticketId>. Keys only. */
  byStatusIndex: { name: 'byStatus', partitionKey: 'gsi1pk', sortKey: 'gsi1sk' },
  /** A ticket's messages and replies in time order: gsi2pk = TICKET#<ticketId>. All attributes. */
  byTicketIndex: { name: 'byTicket', partitionKey: 'gsi2pk', sortKey: 'gsi2sk' },
  ttlAttribute: 'expiresAt',
} as const;

export type QueueSpec = {
  /** Appended to the stack's prefix to name the queue. */
  suffix: string;
  /** Seconds a received message stays hidden; six times the consumer's timeout, as AWS advises. */
  visibilityTimeoutSeconds: number;
  /** Receives before SQS moves a message to the queue's dead-letter queue. */
  maxReceiveCount: number;
  /** Messages handed to one invocation of the consumer. */
  batchSize: number;
  /** How long the event source may wait to fill a batch. */
  maxBatchingWindowSeconds: number;
  /** The consumer's timeout. */
  consumerTimeoutSeconds: number;
};

export const QUEUES = {
  /** Normalised X items from the webhook to the ingest worker. */
  inbound: {
    suffix: 'inbound',
    visibilityTimeoutSeconds: 180,
    // An item whose author X cannot name waits out shared/x/lookup-backoff.ts between receives (30 s doubling, at
    // most 15 min): 30 + 60 + 120 + 240 + 480 + 24 × 900 = 22,530 s, about 6 h 15 min of X failing or refusing before
    // the DLQ. That outlasts X's rate-limit windows and an outage of some hours, and gives a person time to top up
    // spent credits (the channel goes `down` at once) before anything needs a redrive. Other failures (the table)
    // come back after the 180 s visibility: 30 receives are 1.5 h of those, and a malformed item is parked as late.
    maxReceiveCount: 30,
    batchSize: 10,
    maxBatchingWindowSeconds: 0,
    consumerTimeoutSeconds: 30,
  },
  /** Ticket events whose first delivery failed, waiting out their backoff. */
  notifyRetry: {
    suffix: 'notify-retry',
    // Six times the notify function's timeout, which is set by its other source, the stream (30 s).
    visibilityTimeoutSeconds: 180,
    // The backoff schedule (shared/helpdesk/backoff.ts) fits in these receives: about a day in all.
    maxReceiveCount: 12,
    batchSize: 10,
    maxBatchingWindowSeconds: 0,
    consumerTimeoutSeconds: 20,
  },
  /** Replies the helpdesk asked for, waiting to be posted on X. */
  reply: {
    suffix: 'reply',
    visibilityTimeoutSeconds: 180,
    maxReceiveCount: 10,
    batchSize: 5,
    maxBatchingWindowSeconds: 0,
    consumerTimeoutSeconds: 30,
  },
} as const satisfies Record<string, QueueSpec>;

export type QueueName = keyof typeof QUEUES;

/** The table stream feeds the notify function: the first delivery attempt of every ticket event. */
export const TICKET_STREAM = {
  batchSize: 50,
  maxBatchingWindowSeconds: 0,
  consumerTimeoutSeconds: 30,
} as const;

/** The scheduled reconciler (functions/reconcile): one run per brand at a time. */
export const RECONCILE = {
  /**
   * The function's timeout, and so how long a run may hold the brand's lease: Lambda stops a run by then, so a run
   * that died frees the lease for the next tick.
   */
  timeoutSeconds: 300,
} as const;

/**
 * The secrets each function reads from the brand's secret. The stack grants the secret only to functions that need
 * one, and each function refuses to start without its own.
 */
export const FUNCTION_SECRETS = {
  'x-webhook': ['X_API_SECRET'],
  // Ingest looks up the users (and quoted posts) X's bodies leave unnamed, as the bot account: X's users and posts
  // look-ups take OAuth 1.0a user context or an app-only Bearer token, and the secret holds the account's token.
  // …and opens XChat messages with the brand's XChat keys (X_CHAT_KEYS, once `chat-setup` wrote them).
  ingest: ['X_API_KEY', 'X_API_SECRET', 'X_ACCESS_TOKEN', 'X_ACCESS_TOKEN_SECRET', 'X_CHAT_KEYS'],
  notify: ['HELPDESK_WEBHOOK_SECRET'],
  'helpdesk-api': ['HELPDESK_API_TOKEN'],
  // On AWS the bot's token is required: a Lambda never falls back to the local dry-run sink.
  // …and answers XChat conversations by XChat with the brand's XChat keys (X_CHAT_KEYS).
  reply: ['X_API_KEY', 'X_API_SECRET', 'X_ACCESS_TOKEN', 'X_ACCESS_TOKEN_SECRET', 'X_CHAT_KEYS'],
  // The account's mentions timeline and recent search are read as the bot account (OAuth 1.0a user context).
  reconcile: ['X_API_KEY', 'X_API_SECRET', 'X_ACCESS_TOKEN', 'X_ACCESS_TOKEN_SECRET'],
} as const satisfies Record<string, readonly SecretName[]>;

/** The most bytes a webhook body may have; X's own bodies are far smaller. */
export const MAX_WEBHOOK_BODY_BYTES = 1024 * 1024;
