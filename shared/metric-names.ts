// The bridge's custom CloudWatch metrics, named once: the functions emit them (Powertools Metrics, EMF) and the
// stack's alarms and dashboard read them. A metric's identity in CloudWatch is namespace + name + the full set of
// dimensions, so an alarm only sees what a function emits when all three agree; that is why they live here.

/** The CloudWatch namespace every custom metric is emitted in. */
export const METRIC_NAMESPACE = 'SupportBridge';

/**
 * The Powertools `service` dimension every function emits with (Powertools always adds it). One value for all
 * functions, so an alarm can name the metric without knowing which function emitted it; the function name goes in
 * the log keys instead.
 */
export const METRIC_SERVICE = 'support-bridge';

/** Every custom metric the functions emit (unit Count). */
export const METRIC_NAMES = {
  /** x-webhook: one per X event received in a correctly signed webhook call. Silence means the channel is down. */
  WebhookEventsIn: 'WebhookEventsIn',
  /** x-webhook / ingest: events acknowledged but not turned into messages (likes, follows, the bot's own posts…). */
  WebhookEventsIgnored: 'WebhookEventsIgnored',
  /** ingest: a new ticket opened. */
  TicketsCreated: 'TicketsCreated',
  /** ingest: a message joined an existing ticket. */
  MessagesAdded: 'MessagesAdded',
  /** ingest: a redelivered or replayed X item that was already stored. */
  DuplicatesDropped: 'DuplicatesDropped',
  /** ingest: a solved ticket reopened by a follow-up. */
  TicketsReopened: 'TicketsReopened',
  /** reply: a reply posted on X. */
  RepliesPosted: 'RepliesPosted',
  /** reply: a reply X refused for good (`ticket.reply_failed`). Alarmed. */
  RepliesFailed: 'RepliesFailed',
  /** reply: a reply put back to wait (429 reset, 5xx, network). */
  ReplyRetries: 'ReplyRetries',
  /** notify: a ticket event the helpdesk accepted. */
  EventsDelivered: 'EventsDelivered',
  /** notify: a ticket event whose delivery failed and was scheduled again. */
  DeliveriesRetried: 'DeliveriesRetried',
  /** notify: a ticket event given up on after its last retry (parked in the dead-letter queue). Alarmed. */
  DeliveryFailed: 'DeliveryFailed',
} as const;

/** The name of one custom metric. */
export type MetricName = (typeof METRIC_NAMES)[keyof typeof METRIC_NAMES];
