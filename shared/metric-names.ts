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
  /** x-webhook: X said an ops replay job ended, by `state` (complete | incomplete); the log has X's job id and words. */
  ReplayJobsEnded: 'ReplayJobsEnded',
  /** ingest: a new ticket opened. */
  TicketsCreated: 'TicketsCreated',
  /** ingest: a message joined an existing ticket. */
  MessagesAdded: 'MessagesAdded',
  /** ingest: a redelivered or replayed X item that was already stored. */
  DuplicatesDropped: 'DuplicatesDropped',
  /** ingest: a stored message replaced by a newer version of the customer's edited post. */
  MessagesEdited: 'MessagesEdited',
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
  /** x-webhook: a delivery refused for a missing or wrong signature (a misconfigured secret, or someone probing). */
  WebhookSignatureRejected: 'WebhookSignatureRejected',
  /** ingest: the bot's own post or DM recorded in a ticket's thread (posted by hand, not through the bridge). */
  OutboundRecorded: 'OutboundRecorded',
  /** ingest: the webhook's echo of a reply the bridge posted, matched to that reply. */
  ReplyEchoesMatched: 'ReplyEchoesMatched',
  /** ingest: a message whose author deleted it on X, redacted. */
  MessagesRedacted: 'MessagesRedacted',
  /** ingest: a delete that arrived before its post; the post will never be stored. */
  DeletesBeforeIngest: 'DeletesBeforeIngest',
  /**
   * ingest: a brand rule (shared/rules/brand-rules.ts) decided something, by `rule` (its name): an item dropped, or a
   * tag or priority put on the ticket an item opened. A drop is counted once per item, not per redelivery.
   */
  RuleMatches: 'RuleMatches',
  /** ingest: an item that never becomes a ticket (the bot's own post outside any thread, a post already deleted). */
  InboundIgnored: 'InboundIgnored',
  /** notify: stream records that could not be turned into an event yet (Lambda retries them). */
  NotifyRecordsFailed: 'NotifyRecordsFailed',
  /** notify: a notify-retry message that is not a queued ticket event (a bug, or a hand-edited redrive). */
  NotifyRetryMalformed: 'NotifyRetryMalformed',
  /** x-reads: users or posts X returned to a read (what X bills), by `kind` (user | post). */
  XReads: 'XReads',
  /** reconcile: posts the reconciler's reads of X returned (mentions timeline, conversation searches). */
  ReconcileItemsFound: 'ReconcileItemsFound',
  /** reconcile: of those, posts the table did not hold yet (the webhook had not delivered them): a webhook health signal. */
  ReconcileItemsMissed: 'ReconcileItemsMissed',
  /**
   * reconcile: of the missed posts, mentions X's webhook does deliver (explicit @mention, direct reply, quote), older
   * than a minute when read: deliveries the webhook missed. Alarmed; two runs in a row degrade the channel.
   */
  ReconcileWebhookMissed: 'ReconcileWebhookMissed',
  /** reconcile: posts the brand's listening queries found that the table did not hold yet, queued to become tickets. */
  ListeningItemsQueued: 'ListeningItemsQueued',
  /** reconcile: a run that stopped early (read budget, X's rate limit, X failing); the log says which. */
  ReconcileStopped: 'ReconcileStopped',
  /** x-reads: reads not made because the day's X_READ_BUDGET_PER_DAY was spent. Alarmed. */
  XReadsRefused: 'XReadsRefused',
  /** x-reads: the estimated X bill of the reads made, in US dollars at X's published prices (unit None). */
  XReadCostUsd: 'XReadCostUsd',
  /** reply: the estimated X bill of each reply counted toward the month, in US dollars at X's published prices. */
  ReplyCostUsd: 'ReplyCostUsd',
  /** reply: a reply counted with the month's X spend at 80 % of X_MONTHLY_SPEND_CAP_USD or more. Alarmed. */
  XSpendNearCap: 'XSpendNearCap',
  /** ingest: an author X says does not exist (deleted or suspended): shown with a placeholder name. */
  XUsersNotFound: 'XUsersNotFound',
  /** ingest: items given back to the queue because X failed or refused the look-up of their author. */
  XLookupsFailed: 'XLookupsFailed',
  /** ingest: the channel went down (the brand account revoked the app); the helpdesk got channel.health_changed. Alarmed. */
  ChannelDown: 'ChannelDown',
  /** ingest: the channel went degraded (the day's read budget is spent); the helpdesk got channel.health_changed. */
  ChannelDegraded: 'ChannelDegraded',
  /** ingest: an `oauth.revoke` / `user_event` revoke received (a redelivery counts again; ChannelDown does not). */
  AppRevocations: 'AppRevocations',
  /** ingest: an XChat message decrypted (its text is in the ticket). */
  XChatOpened: 'XChatOpened',
  /** ingest: an XChat message stored encrypted (XChat not set up, keys unavailable, undecryptable or unverified; the log says which). */
  XChatUnreadable: 'XChatUnreadable',
} as const;

/** The name of one custom metric. */
export type MetricName = (typeof METRIC_NAMES)[keyof typeof METRIC_NAMES];
