// The helpdesk event format (contract §4): what integrators receive, as zod schemas that double as the source of the
// published JSON Schema files (zod 4 `z.toJSONSchema`), and the pure mappings from a changed ticket, or a changed
// channel (`channel.health_changed`, no ticket), to its event.
// No I/O here: the notify use case fetches the message or reply an event names and hands it in.
import * as z from 'zod/mini';
import type { Attachment, Message, Reply, Ticket, TicketChange, TicketEventType } from '../tickets/model';
import { channelSchema, replyStatusSchema, ticketStatusSchema } from '../tickets/model';
import { channelStatusSchema, type ChannelHealth } from '../channel/channel-health';
import { lazySchema } from '../lazy-schema';

// Timestamps are ISO 8601 strings as the bridge stores them. Documented as `format: date-time` rather than checked
// with z.iso.datetime(), whose long regex would clutter the published schema and add nothing integrators need.
const timestamp = (description: string) => z.string().register(z.globalRegistry, { format: 'date-time', description });

/**
 * A schema shared across the contract (a status enum, say) with this use's description. `register` labels the very
 * instance it is called on, so describe a copy: labelling the shared one would give every use the last description.
 */
export function described<T extends z.ZodMiniType>(schema: T, description: string): T {
  const copy = schema.clone();
  z.globalRegistry.add(copy, { description });
  return copy;
}

// Integrator-facing objects are loose: the contract promises "more fields are welcome", so the published JSON Schema
// must not say `additionalProperties: false`, or a consumer validating strictly would break when a field is added.

/** A ticket as the helpdesk sees it: the stored ticket without the bridge's bookkeeping (`lastChange`). */
export const helpdeskTicketSchema = lazySchema(() =>
  z
  .looseObject({
    id: z.string().register(z.globalRegistry, {
      description: 'Stable ticket id: `mn-<customer X user id>-<n>` for mention tickets, `dm-<customer X user id>-<n>` for DMs.',
    }),
    brand: z.string().register(z.globalRegistry, { description: 'The brand slug of the bridge that sent the event.' }),
    status: described(ticketStatusSchema, 'open, pending (waiting for the customer) or solved.'),
    channel: described(channelSchema, 'mention: public posts naming the brand account; dm: direct messages.'),
    customer: z
      .looseObject({
        xUserId: z.string().register(z.globalRegistry, { description: 'The customer\'s numeric X user id, as a string.' }),
        username: z.string().register(z.globalRegistry, { description: 'The customer\'s X handle, without @.' }),
        name: z.string().register(z.globalRegistry, {
          description:
            'The customer\'s display name on X. A placeholder naming their X id when `unresolved` or `notFound`.',
        }),
        profileImageUrl: z.optional(z.string()).register(z.globalRegistry, {
          description: 'The customer\'s profile picture on X (an https URL), when X gave it.',
        }),
        verifiedType: z.optional(z.string()).register(z.globalRegistry, {
          description: 'X\'s `verified_type`: "blue", "business", "government" or "none", when X gave it.',
        }),
        followersCount: z.optional(z.number()).register(z.globalRegistry, {
          description: 'How many accounts follow the customer, as X counted when the bridge last looked them up.',
        }),
        protected: z.optional(z.boolean()).register(z.globalRegistry, {
          description: 'True when the customer\'s posts are protected (visible to their followers only).',
        }),
        unresolved: z.optional(z.boolean()).register(z.globalRegistry, {
          description:
            'True while the bridge could not look the customer up yet (X\'s body did not name them and the read budget ' +
            'was spent): `username` may be empty and `name` names their X id. A later event of this ticket completes them.',
        }),
        notFound: z.optional(z.boolean()).register(z.globalRegistry, {
          description: 'True when X says the account does not exist (deleted or suspended): `name` is a placeholder for good.',
        }),
      })
      .register(z.globalRegistry, { description: 'The X account the ticket is with, with what X says of their profile.' }),
    createdAt: timestamp('When the ticket was opened.'),
    updatedAt: timestamp('When the ticket last changed.'),
    sequence: z.number().check(z.int(), z.positive()).register(z.globalRegistry, {
      description:
        'Grows with every change to this ticket. Retries can deliver events out of order: apply an event only when ' +
        'its sequence is higher than the last one you applied for this ticket.',
    }),
    followUpOf: z.optional(z.string()).register(z.globalRegistry, {
      description: 'The solved ticket this one follows up, when the customer wrote again after the reopen window.',
    }),
    solvedAt: z.optional(timestamp('When the ticket was last solved.')),
    source: z.optional(z.enum(['listening'])).register(z.globalRegistry, {
      description:
        '`listening` when one of the brand\'s listening queries found the post that opened the ticket: the customer did ' +
        'not write to the account. Under `X_REPLY_POLICY=summoned` X lets the account answer them publicly only if ' +
        'they mention it; answer by DM where they accept DMs, or ask them to mention the account. Absent when the ' +
        'customer wrote to the account (a mention, a reply or a DM).',
    }),
    listeningQuery: z.optional(z.string()).register(z.globalRegistry, {
      description: 'The listening query that found the opening post, as the brand wrote it.',
    }),
    tags: z.optional(z.array(z.string())).register(z.globalRegistry, {
      description: 'The tags the brand\'s tag rules gave the message that opened the ticket, in rule order.',
    }),
    priority: z.optional(z.enum(['low', 'normal', 'high', 'urgent'])).register(z.globalRegistry, {
      description: 'What the brand\'s first matching priority rule said of the opening message. Absent: no rule matched (normal).',
    }),
  })
  .register(z.globalRegistry, { id: 'Ticket', title: 'Ticket', description: 'A support ticket: one conversation with one customer on X.' }));
export type HelpdeskTicket = z.infer<typeof helpdeskTicketSchema>;

/** A photo, video, GIF or file on a message, as the helpdesk sees it. */
export const helpdeskAttachmentSchema = lazySchema(() =>
  z
  .looseObject({
    id: z.string().register(z.globalRegistry, {
      description: 'Stable attachment id (`att-<X media key>`), the same in every event and API answer.',
    }),
    type: z.enum(['photo', 'video', 'animated_gif', 'file']).register(z.globalRegistry, {
      description: 'photo, video, animated_gif (X plays GIFs as short videos) or file.',
    }),
    url: z.string().register(z.globalRegistry, {
      description:
        'Where to get the file. For a post\'s media, X\'s public address (for a video, its best mp4). For media the ' +
        'bridge keeps a copy of (a DM\'s, which X serves only to the brand account): a short-lived link when `expiresAt` ' +
        'is set, else the path `/tickets/{ticketId}/attachments/{attachmentId}` of this API, which answers (with the ' +
        'bearer token) with the file or a fresh link. Empty when X gave no address.',
    }),
    previewUrl: z.optional(z.string()).register(z.globalRegistry, {
      description: 'A still image of a video or GIF, when X gave one.',
    }),
    altText: z.optional(z.string()).register(z.globalRegistry, {
      description: 'The description the author wrote for the media, for people who cannot see it.',
    }),
    width: z.optional(z.number()).register(z.globalRegistry, { description: 'Width in pixels, when X gave it.' }),
    height: z.optional(z.number()).register(z.globalRegistry, { description: 'Height in pixels, when X gave it.' }),
    durationMs: z.optional(z.number()).register(z.globalRegistry, {
      description: 'Length of a video in milliseconds, when X gave it.',
    }),
    contentType: z.optional(z.string()).register(z.globalRegistry, {
      description: 'The file\'s media type (for example `image/jpeg` or `video/mp4`), when known.',
    }),
    expiresAt: z.optional(timestamp('When the short-lived link in `url` stops working; ask the API for a fresh one.')),
    error: z
      .optional(
        z.looseObject({
          code: z.string().register(z.globalRegistry, {
            description: 'A stable machine-readable reason, for example `too_large` or `fetch_failed`.',
          }),
          message: z.string().register(z.globalRegistry, { description: 'What went wrong, in plain words.' }),
        }),
      )
      .register(z.globalRegistry, {
        description: 'Set when the bridge could not keep a copy of media X serves only to the brand account.',
      }),
  })
  .register(z.globalRegistry, { id: 'Attachment', title: 'Attachment', description: 'A photo, video, GIF or file on a message.' }));
export type HelpdeskAttachment = z.infer<typeof helpdeskAttachmentSchema>;

/** A link in a message's text, as the customer typed it. */
export const helpdeskLinkSchema = lazySchema(() =>
  z
  .looseObject({
    url: z.string().register(z.globalRegistry, { description: 'X\'s t.co wrapper of the link.' }),
    expandedUrl: z.string().register(z.globalRegistry, {
      description: 'The URL the customer typed; it is what `text` shows in the link\'s place.',
    }),
    displayUrl: z.string().register(z.globalRegistry, { description: 'The shortened form X displays.' }),
  })
  .register(z.globalRegistry, { id: 'Link', title: 'Link', description: 'A link in a message, as the customer typed it.' }));

/** The post a quote quotes. */
export const helpdeskQuotedSchema = lazySchema(() =>
  z
  .looseObject({
    xId: z.string().register(z.globalRegistry, { description: 'The quoted post\'s id on X.' }),
    text: z.optional(z.string()).register(z.globalRegistry, {
      description: 'The quoted post\'s text, when X included it or the bridge had it. Absent once the quote is redacted.',
    }),
    author: z
      .optional(
        z.looseObject({
          xUserId: z.string().register(z.globalRegistry, { description: 'The quoted author\'s numeric X user id.' }),
          username: z.string().register(z.globalRegistry, { description: 'The quoted author\'s X handle, without @.' }),
          name: z.optional(z.string()).register(z.globalRegistry, { description: 'The quoted author\'s display name.' }),
        }),
      )
      .register(z.globalRegistry, { description: 'Who wrote the quoted post, when known.' }),
  })
  .register(z.globalRegistry, { id: 'QuotedPost', title: 'Quoted post', description: 'The post a quote post quotes.' }));

/** A message (an X post or DM) as the helpdesk sees it. */
export const helpdeskMessageSchema = lazySchema(() =>
  z
  .looseObject({
    id: z.string().register(z.globalRegistry, {
      description: 'Stable message id (`msg-<X id>`); use it as `inReplyToMessageId` when replying.',
    }),
    ticketId: z.string().register(z.globalRegistry, { description: 'The ticket the message belongs to.' }),
    xId: z.string().register(z.globalRegistry, { description: 'The post or DM event id on X, as a string.' }),
    direction: z.enum(['inbound', 'outbound']).register(z.globalRegistry, {
      description: 'inbound: written by the customer; outbound: written by the brand account.',
    }),
    channel: described(channelSchema, 'mention: a public post; dm: a direct message.'),
    text: z.string().register(z.globalRegistry, {
      description:
        'The text as the author wrote it, links as they typed them (see `links`) and without the link X adds for ' +
        'media (see `attachments`); for an edited post, the newest version\'s. Empty once the author deleted it ' +
        '(see `redacted`).',
    }),
    author: z
      .looseObject({
        xUserId: z.string().register(z.globalRegistry, { description: 'The author\'s numeric X user id, as a string.' }),
        username: z.string().register(z.globalRegistry, { description: 'The author\'s X handle, without @.' }),
        name: z.optional(z.string()).register(z.globalRegistry, {
          description:
            'The author\'s display name on X (absent on messages stored before names were kept). A placeholder naming ' +
            'their X id while `unresolved`.',
        }),
        unresolved: z.optional(z.boolean()).register(z.globalRegistry, {
          description: 'True when the bridge could not look the author up yet: see the ticket customer\'s `unresolved`.',
        }),
        notFound: z.optional(z.boolean()).register(z.globalRegistry, {
          description: 'True when X says the author\'s account does not exist (deleted or suspended): `name` is a placeholder for good.',
        }),
      })
      .register(z.globalRegistry, { description: 'Who wrote the message.' }),
    attachments: z.array(helpdeskAttachmentSchema).register(z.globalRegistry, {
      description: 'The photos, videos and GIFs on the message, in the order the author added them; empty when none or redacted.',
    }),
    links: z.array(helpdeskLinkSchema).register(z.globalRegistry, {
      description: 'The links in the text, in order; empty when none or redacted.',
    }),
    quoted: z.optional(helpdeskQuotedSchema).register(z.globalRegistry, {
      description: 'For a quote post: the post it quotes (only its `xId` once the message is redacted).',
    }),
    editHistory: z.optional(z.array(z.string())).register(z.globalRegistry, {
      description:
        'For a post the author edited on X: every version\'s X id, oldest first (`xId` is the first). `text`, ' +
        '`links` and `attachments` are the newest version\'s.',
    }),
    createdAt: timestamp('When the message was written on X.'),
    inReplyToXId: z.optional(z.string()).register(z.globalRegistry, {
      description: 'The X post this post replies to, when it is a reply.',
    }),
    redacted: z.boolean().register(z.globalRegistry, {
      description: 'True once the author deleted it on X: the text is gone, ids and times stay.',
    }),
    replyId: z.optional(z.string()).register(z.globalRegistry, {
      description: 'For an outbound message the bridge posted: the reply it was posted for.',
    }),
    transport: z.optional(z.enum(['xchat'])).register(z.globalRegistry, {
      description:
        'How a `dm` message came: `xchat` for an XChat message (X\'s end-to-end encrypted DMs; its `xId` is the ' +
        'message\'s UUID). Absent for posts and for DMs of X\'s DM API.',
    }),
    encrypted: z.optional(z.boolean()).register(z.globalRegistry, {
      description:
        'True when an XChat message arrived that the bridge could not decrypt (XChat not set up, keys unavailable, ' +
        'unknown key version or a signature that did not verify): `text` is empty, `notice` says what happened and ' +
        'what to do. Absent otherwise.',
    }),
    notice: z.optional(z.string()).register(z.globalRegistry, {
      description: 'For an `encrypted` message: a sentence for the agent saying an encrypted message arrived and what to do.',
    }),
  })
  .register(z.globalRegistry, { id: 'Message', title: 'Message', description: 'One X post or direct message in a ticket.' }));
export type HelpdeskMessage = z.infer<typeof helpdeskMessageSchema>;

/** Why X refused a reply, worded for the agent who has to decide what to do next. */
export const replyErrorSchema = lazySchema(() =>
  z
  .looseObject({
    code: z.string().register(z.globalRegistry, {
      description: 'A stable machine-readable reason, for example `duplicate_content` or `not_summoned`.',
    }),
    message: z.string().register(z.globalRegistry, {
      description: 'What happened and what the agent can do about it, in plain words.',
    }),
  })
  .register(z.globalRegistry, { id: 'ReplyError', title: 'Reply error', description: 'Why a reply could not be posted.' }));

/** A reply the helpdesk asked the bridge to post, as the helpdesk sees it. */
export const helpdeskReplySchema = lazySchema(() =>
  z
  .looseObject({
    id: z.string().register(z.globalRegistry, { description: 'The reply id the bridge returned when the reply was requested.' }),
    ticketId: z.string().register(z.globalRegistry, { description: 'The ticket the reply belongs to.' }),
    status: described(replyStatusSchema, 'queued, posting, posted (on X, see `xId`) or failed (see `error`).'),
    text: z.string().register(z.globalRegistry, { description: 'The reply text as requested.' }),
    xId: z.optional(z.string()).register(z.globalRegistry, {
      description: 'The post or DM event id on X once posted; for a thread, its first part\'s.',
    }),
    parts: z.optional(z.array(z.string())).register(z.globalRegistry, {
      description: 'A thread (`split: true`): the posts in order, each numbered `i/n` and at most 280 weighted characters.',
    }),
    xIds: z.optional(z.array(z.string())).register(z.globalRegistry, {
      description:
        'A thread: the X ids of its parts posted, in order (every part once `posted`; those X took before refusing one ' +
        'when `failed`).',
    }),
    cost: z.optional(z.number()).register(z.globalRegistry, {
      description:
        'What X bills for the reply, in US dollars, estimated at X\'s published prices when it was requested: counted ' +
        'toward the month\'s X_MONTHLY_SPEND_CAP_USD when it is posted.',
    }),
    error: z.optional(replyErrorSchema),
    inReplyToMessageId: z.optional(z.string()).register(z.globalRegistry, {
      description: 'The message the reply answers, when the helpdesk named one.',
    }),
    createdAt: timestamp('When the helpdesk requested the reply.'),
    updatedAt: timestamp('When the reply last changed status.'),
  })
  .register(z.globalRegistry, {
    id: 'Reply',
    title: 'Reply',
    description: 'A reply posted (or to be posted) through the brand account.',
  }));
export type HelpdeskReply = z.infer<typeof helpdeskReplySchema>;

const eventTimestamp = lazySchema(() => timestamp(
  'When the change happened. Stays the same on every retry; the `webhook-timestamp` header is the time of the attempt.',
));

function eventSchema<T extends TicketEventType, D extends z.core.$ZodLooseShape>(
  type: T,
  id: string,
  description: string,
  data: D,
) {
  return z
    .looseObject({
      type: z.literal(type),
      timestamp: eventTimestamp,
      data: z.looseObject({ ticket: helpdeskTicketSchema, ...data }),
    })
    .register(z.globalRegistry, { id, title: type, description });
}

/** One schema per event type, keyed by type: the published JSON Schema files are generated from these. */
export const ticketEventSchemas = lazySchema(() => ({
  'ticket.created': eventSchema(
    'ticket.created',
    'TicketCreatedEvent',
    'A customer wrote and a new ticket was opened. `data.message` is the first message.',
    { message: helpdeskMessageSchema },
  ),
  'ticket.message_added': eventSchema(
    'ticket.message_added',
    'TicketMessageAddedEvent',
    'A message joined an existing ticket: from the customer, or posted by hand from the brand account in its thread.',
    {
      message: helpdeskMessageSchema,
      previousStatus: z.optional(ticketStatusSchema).register(z.globalRegistry, {
        description: 'Set when the message changed the ticket\'s status (a customer answering a pending ticket reopens it).',
      }),
    },
  ),
  'ticket.reopened': eventSchema(
    'ticket.reopened',
    'TicketReopenedEvent',
    'The customer followed up on a solved ticket within the reopen window; `data.message` is the follow-up.',
    {
      message: helpdeskMessageSchema,
      previousStatus: z.optional(ticketStatusSchema).register(z.globalRegistry, {
        description: 'The status before the follow-up (solved).',
      }),
    },
  ),
  'ticket.status_changed': eventSchema(
    'ticket.status_changed',
    'TicketStatusChangedEvent',
    'The ticket\'s status was set (through the helpdesk API); `data.ticket.status` is the new one.',
    { previousStatus: described(ticketStatusSchema, 'The status before this change.') },
  ),
  'ticket.reply_posted': eventSchema(
    'ticket.reply_posted',
    'TicketReplyPostedEvent',
    'A reply was posted on X; `data.reply.xId` is its id there.',
    { reply: helpdeskReplySchema },
  ),
  'ticket.reply_failed': eventSchema(
    'ticket.reply_failed',
    'TicketReplyFailedEvent',
    'X refused a reply for good; `data.reply.error` says why and what an agent can do. The bridge will not retry it.',
    {
      reply: z.extend(helpdeskReplySchema, { error: replyErrorSchema }).register(z.globalRegistry, {
        description: 'The refused reply; `error` is always set.',
      }),
    },
  ),
  'ticket.message_redacted': eventSchema(
    'ticket.message_redacted',
    'TicketMessageRedactedEvent',
    'The author deleted a message on X; its text is gone from the bridge. Remove it from your copy too.',
    { message: helpdeskMessageSchema },
  ),
  'ticket.message_edited': eventSchema(
    'ticket.message_edited',
    'TicketMessageEditedEvent',
    'The author edited a post on X: `data.message.text` is the newest version and `data.message.editHistory` lists ' +
      'every version\'s X id, oldest first. `data.message.id` stays the first version\'s: replace your copy\'s text.',
    { message: helpdeskMessageSchema },
  ),
}) as const satisfies Record<TicketEventType, z.ZodMiniType>);

/** The body of every ticket event POSTed to the helpdesk, told apart by `type`. */
export const ticketEventBodySchema = lazySchema(() =>
  z
  .discriminatedUnion('type', [
    ticketEventSchemas['ticket.created'],
    ticketEventSchemas['ticket.message_added'],
    ticketEventSchemas['ticket.reopened'],
    ticketEventSchemas['ticket.status_changed'],
    ticketEventSchemas['ticket.reply_posted'],
    ticketEventSchemas['ticket.reply_failed'],
    ticketEventSchemas['ticket.message_redacted'],
    ticketEventSchemas['ticket.message_edited'],
  ])
  .register(z.globalRegistry, {
    id: 'TicketEvent',
    title: 'Ticket event',
    description:
      'A change to a ticket, POSTed to HELPDESK_WEBHOOK_URL and signed per Standard Webhooks. Delivery is at least ' +
      'once: the `webhook-id` header is the same on every retry, so dedupe on it, and order by `data.ticket.sequence`.',
  }));
export type TicketEventBody = z.infer<typeof ticketEventBodySchema>;

/** An event ready to send: the body plus the id that names it on every attempt. */
export type TicketEvent = { webhookId: string; body: TicketEventBody };

/**
 * Short-lived links to the bridge's copies of media, by attachment id: `url` replaces the attachment's address and
 * `expiresAt` says until when it works.
 */
export type StoredLinks = ReadonlyMap<string, { url: string; expiresAt: string }>;

/**
 * What an event carries besides the ticket: the message or reply named by the ticket's last change, and links to the
 * message's stored media (see toHelpdeskMessage).
 */
export type TicketEventContext = { message?: Message; reply?: Reply; storedLinks?: StoredLinks };

/**
 * The webhook id of the change that brought a ticket to `sequence`. Derived from the data, never random, so a retry,
 * a DLQ redrive or a second read of the same stream record sends the same id and the helpdesk can dedupe on it.
 */
export function webhookIdFor(ticketId: string, sequence: number): string {
  return `evt_${ticketId}_${sequence}`;
}

/** The stored ticket as the helpdesk sees it; also what the helpdesk API returns. */
export function toHelpdeskTicket(ticket: Ticket): HelpdeskTicket {
  return {
    id: ticket.id,
    brand: ticket.brand,
    status: ticket.status,
    channel: ticket.channel,
    customer: {
      xUserId: ticket.customer.xUserId,
      username: ticket.customer.username,
      name: ticket.customer.name,
      ...defined({
        profileImageUrl: ticket.customer.profileImageUrl,
        verifiedType: ticket.customer.verifiedType,
        followersCount: ticket.customer.followersCount,
        protected: ticket.customer.protected,
        unresolved: ticket.customer.unresolved,
        notFound: ticket.customer.notFound,
      }),
    },
    createdAt: ticket.createdAt,
    updatedAt: ticket.updatedAt,
    sequence: ticket.sequence,
    ...(ticket.followUpOf === undefined ? {} : { followUpOf: ticket.followUpOf }),
    ...(ticket.solvedAt === undefined ? {} : { solvedAt: ticket.solvedAt }),
    ...defined({ source: ticket.source, listeningQuery: ticket.listeningQuery, tags: ticket.tags, priority: ticket.priority }),
  };
}

/** The fields of `values` that are set: the published shapes leave an unknown optional field out, never null. */
function defined<T extends Record<string, unknown>>(values: T): Partial<T> {
  return Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/**
 * The stored message as the helpdesk sees it (without the bridge's reply-targeting flags). `attachments` and `links`
 * are always arrays (empty for messages stored before they were kept). An attachment the bridge keeps a copy of
 * (`stored`) gets its link from `storedLinks` (with `expiresAt`), or else the API path that hands out a fresh one; the
 * copy's storage key is never shown. A redacted message shows no text, links, attachments or quoted text.
 */
export function toHelpdeskMessage(message: Message, storedLinks?: StoredLinks): HelpdeskMessage {
  const redacted = message.redacted;
  const author = message.author;
  return {
    id: message.id,
    ticketId: message.ticketId,
    xId: message.xId,
    direction: message.direction,
    channel: message.channel,
    // A redacted message never shows text, even if a stale copy still had some.
    text: redacted ? '' : message.text,
    author: {
      xUserId: author.xUserId,
      username: author.username,
      ...defined({ name: author.name, unresolved: author.unresolved, notFound: author.notFound }),
    },
    createdAt: message.createdAt,
    ...(message.inReplyToXId === undefined ? {} : { inReplyToXId: message.inReplyToXId }),
    redacted,
    ...(message.replyId === undefined ? {} : { replyId: message.replyId }),
    ...defined({ transport: message.transport, encrypted: message.encrypted, notice: message.notice }),
    attachments: redacted ? [] : (message.attachments ?? []).map((a) => toHelpdeskAttachment(message.ticketId, a, storedLinks)),
    links: redacted ? [] : (message.links ?? []).map((l) => ({ url: l.url, expandedUrl: l.expandedUrl, displayUrl: l.displayUrl })),
    ...(message.quoted === undefined
      ? {}
      : {
          quoted: redacted
            ? { xId: message.quoted.xId }
            : {
                xId: message.quoted.xId,
                ...defined({ text: message.quoted.text }),
                ...(message.quoted.author
                  ? {
                      author: {
                        xUserId: message.quoted.author.xUserId,
                        username: message.quoted.author.username,
                        ...defined({ name: message.quoted.author.name }),
                      },
                    }
                  : {}),
              },
        }),
    ...(message.editHistory === undefined ? {} : { editHistory: [...message.editHistory] }),
  };
}

/** The API path that answers with a stored attachment (or a fresh link to it). */
export function attachmentPath(ticketId: string, attachmentId: string): string {
  return `/tickets/${encodeURIComponent(ticketId)}/attachments/${encodeURIComponent(attachmentId)}`;
}

function toHelpdeskAttachment(ticketId: string, attachment: Attachment, storedLinks?: StoredLinks): HelpdeskAttachment {
  const link = attachment.stored ? storedLinks?.get(attachment.id) : undefined;
  const url = attachment.stored ? (link?.url ?? attachmentPath(ticketId, attachment.id)) : attachment.url;
  return {
    id: attachment.id,
    type: attachment.type,
    url,
    ...defined({
      previewUrl: attachment.previewUrl,
      altText: attachment.altText,
      width: attachment.width,
      height: attachment.height,
      durationMs: attachment.durationMs,
      contentType: attachment.contentType,
      expiresAt: link?.expiresAt,
    }),
    ...(attachment.error ? { error: { code: attachment.error.code, message: attachment.error.message } } : {}),
  };
}

/** The stored reply as the helpdesk sees it. */
export function toHelpdeskReply(reply: Reply): HelpdeskReply {
  return {
    id: reply.id,
    ticketId: reply.ticketId,
    status: reply.status,
    text: reply.text,
    ...(reply.xId === undefined ? {} : { xId: reply.xId }),
    ...(reply.parts === undefined ? {} : { parts: reply.parts }),
    ...(reply.xIds === undefined ? {} : { xIds: reply.xIds }),
    ...(reply.cost === undefined ? {} : { cost: reply.cost }),
    ...(reply.error === undefined ? {} : { error: { code: reply.error.code, message: reply.error.message } }),
    ...(reply.inReplyToMessageId === undefined ? {} : { inReplyToMessageId: reply.inReplyToMessageId }),
    createdAt: reply.createdAt,
    updatedAt: reply.updatedAt,
  };
}

/**
 * What must be read before a change can become an event: the message or reply it names. Throws when the change
 * does not name what its type needs, because that is a bug in the writer, not something a retry fixes silently.
 */
export function contextNeededFor(change: TicketChange): { messageXId?: string; replyId?: string } {
  switch (change.type) {
    case 'ticket.created':
    case 'ticket.message_added':
    case 'ticket.reopened':
    case 'ticket.message_redacted':
    case 'ticket.message_edited':
      if (!change.messageXId) throw new Error(`${change.type} names no messageXId`);
      return { messageXId: change.messageXId };
    case 'ticket.reply_posted':
    case 'ticket.reply_failed':
      if (!change.replyId) throw new Error(`${change.type} names no replyId`);
      return { replyId: change.replyId };
    case 'ticket.status_changed':
      return {};
  }
}

// X does not always say why; the agent still needs a next step.
const UNKNOWN_REPLY_ERROR = {
  code: 'unknown',
  message: 'X refused the reply without giving a reason. Check the ticket on X and post again, or answer another way.',
};

/**
 * The event for a ticket's last change. `webhookId` is `evt_<ticketId>_<sequence>`, `timestamp` is when the change
 * happened, and `type` is the change's type. Throws when `ctx` lacks the message or reply the type carries.
 */
export function toTicketEvent(ticket: Ticket, ctx: TicketEventContext = {}): TicketEvent {
  const change = ticket.lastChange;
  const webhookId = webhookIdFor(ticket.id, ticket.sequence);
  const head = { timestamp: change.at };
  const data = { ticket: toHelpdeskTicket(ticket) };
  const message = (): HelpdeskMessage => {
    if (!ctx.message) throw new Error(`${change.type} for ${ticket.id}#${ticket.sequence} needs its message`);
    return toHelpdeskMessage(ctx.message, ctx.storedLinks);
  };
  const reply = (): HelpdeskReply => {
    if (!ctx.reply) throw new Error(`${change.type} for ${ticket.id}#${ticket.sequence} needs its reply`);
    return toHelpdeskReply(ctx.reply);
  };
  switch (change.type) {
    case 'ticket.created':
    case 'ticket.message_redacted':
    case 'ticket.message_edited':
      return { webhookId, body: { type: change.type, ...head, data: { ...data, message: message() } } };
    case 'ticket.message_added':
    case 'ticket.reopened': {
      // A message can move the status too (pending → open); say so, so the helpdesk need not diff tickets.
      const previous = change.previousStatus === undefined ? {} : { previousStatus: change.previousStatus };
      return { webhookId, body: { type: change.type, ...head, data: { ...data, message: message(), ...previous } } };
    }
    case 'ticket.status_changed':
      if (!change.previousStatus) throw new Error(`ticket.status_changed for ${ticket.id}#${ticket.sequence} names no previousStatus`);
      return { webhookId, body: { type: change.type, ...head, data: { ...data, previousStatus: change.previousStatus } } };
    case 'ticket.reply_posted':
      return { webhookId, body: { type: change.type, ...head, data: { ...data, reply: reply() } } };
    case 'ticket.reply_failed': {
      const failed = reply();
      return {
        webhookId,
        body: { type: change.type, ...head, data: { ...data, reply: { ...failed, error: failed.error ?? UNKNOWN_REPLY_ERROR } } },
      };
    }
  }
}

/** The brand's X channel as the helpdesk sees it in `channel.health_changed`. */
export const helpdeskChannelSchema = lazySchema(() =>
  z
  .looseObject({
    brand: z.string().register(z.globalRegistry, { description: 'The brand slug of the bridge that sent the event.' }),
    status: described(
      channelStatusSchema,
      'ok: customers\' posts and DMs arrive and replies go out. degraded: they do, but something is limited (see ' +
        '`reason`). down: nothing arrives from X and no reply can be posted until a person acts (see `detail`).',
    ),
    // A string, not an enum: codes will be added as more causes are watched, and a strict validator must not break.
    reason: z.string().register(z.globalRegistry, {
      description:
        'A stable code for the cause: `app_revoked` (the brand account withdrew the app\'s access on X; down), ' +
        '`credentials_refused` (X refuses the account\'s token; down), `credits_depleted` (the app\'s X credits are ' +
        'spent; down), `usage_capped` (the app reached its monthly X usage cap; down), `read_budget_spent` (the ' +
        'day\'s X read budget is spent: new customers show unresolved until the next UTC day; degraded), ' +
        '`webhook_missing_items` (X\'s webhook missed mentions that reconciliation then read late; degraded), ' +
        '`xchat_unreadable` (XChat messages arrive that the bridge cannot decrypt: their messages are `encrypted`; ' +
        'degraded), `recovered` (back to ok). More codes may be added: treat an unknown one by its `status`.',
    }),
    detail: z.string().register(z.globalRegistry, {
      description: 'What happened and what a person can do about it, in plain words.',
    }),
    previousStatus: z.optional(channelStatusSchema).register(z.globalRegistry, {
      description: 'The status before this change (absent on the channel\'s first change, which was from ok).',
    }),
    sequence: z.number().check(z.int(), z.positive()).register(z.globalRegistry, {
      description:
        'Grows with every change to the channel. Retries can deliver events out of order: apply an event only when ' +
        'its sequence is higher than the last channel event you applied.',
    }),
  })
  .register(z.globalRegistry, {
    id: 'Channel',
    title: 'Channel',
    description: 'The health of the brand\'s X channel: whether customers\' messages arrive and replies go out.',
  }));
export type HelpdeskChannel = z.infer<typeof helpdeskChannelSchema>;

/** `channel.health_changed`: no ticket, the channel's new state. */
export const channelHealthEventSchema = lazySchema(() =>
  z
  .looseObject({
    type: z.literal('channel.health_changed'),
    timestamp: eventTimestamp,
    data: z.looseObject({ channel: helpdeskChannelSchema }),
  })
  .register(z.globalRegistry, {
    id: 'ChannelHealthChangedEvent',
    title: 'channel.health_changed',
    description:
      'The brand\'s X channel changed status: `data.channel.status` is the new one, `reason` a stable code and ' +
      '`detail` what to do. Sent once per change (the same status is never announced twice in a row), and again with ' +
      'status ok when the condition clears. Signed and retried like ticket events; order by `data.channel.sequence`.',
  }));
export type ChannelHealthEventBody = z.infer<typeof channelHealthEventSchema>;

/** Every event the helpdesk receives: a ticket event or a channel event, told apart by `type`. */
export type HelpdeskEventBody = TicketEventBody | ChannelHealthEventBody;
/** An event ready to send, of either kind. */
export type HelpdeskEvent = { webhookId: string; body: HelpdeskEventBody };

/** The webhook id of the channel change that brought it to `sequence`: derived from the data, like a ticket's. */
export function channelWebhookIdFor(sequence: number): string {
  return `evt_channel_${sequence}`;
}

/** The event for the channel's last change. `timestamp` is when the change happened, the same on every retry. */
export function toChannelEvent(channel: ChannelHealth): { webhookId: string; body: ChannelHealthEventBody } {
  return {
    webhookId: channelWebhookIdFor(channel.sequence),
    body: {
      type: 'channel.health_changed',
      timestamp: channel.lastChange.at,
      data: {
        channel: {
          brand: channel.brand,
          status: channel.status,
          reason: channel.reason,
          detail: channel.detail,
          // The first change of a channel never written before is from ok; it is said only when it is news.
          ...(channel.lastChange.previousStatus === undefined ? {} : { previousStatus: channel.lastChange.previousStatus }),
          sequence: channel.sequence,
        },
      },
    },
  };
}

/**
 * Builds every schema of this file in the order it declares them. Each is built on first use (lazySchema), and the
 * contract generator lists the registry's named schemas in the order they were built: this keeps that order the
 * file's.
 */
export function buildHelpdeskEventSchemas(): void {
  for (const schema of [
    helpdeskTicketSchema,
    helpdeskAttachmentSchema,
    helpdeskLinkSchema,
    helpdeskQuotedSchema,
    helpdeskMessageSchema,
    replyErrorSchema,
    helpdeskReplySchema,
    ticketEventBodySchema,
    helpdeskChannelSchema,
    channelHealthEventSchema,
  ]) {
    void schema._zod;
  }
}
