// Use case: one normalised X item becomes (at most) one stored message and one ticket change.
// Reads first, decides with the pure rules, then conditional writes: one transaction for a change to an existing
// ticket, or two puts for a new one (the ticket, then its message). A lost race or a stale read only ever costs
// another round; a redelivered item finds its X id stored, or the ticket it opened, and changes nothing more.
// Edits (rule 9): every version of an edited post is one message, stored under the chain's first X id (which every
// version names first in its edit history) with an alias under each later version's id, written in the same write, so
// any version's id finds the message. A version newer than the stored content replaces it (one `ticket.message_edited`
// per version that changed what the helpdesk shows); an older or repeated one changes nothing it shows.
import type { CompleteDm as InboundDm, CompleteEvent as InboundEvent, CompletePost as InboundPost, InboundDelete } from '../x/inbound-event';
import { RetryableError } from '../errors';
import { logger } from '../logger';
import { contentXIdOf, messageIdFor, type Channel, type Message, type Ticket } from './model';
import {
  compareXIds,
  customerFrom,
  editVersions,
  mergeVersions,
  messageFromItem,
  newTicket,
  placeInboundDm,
  placeInboundPost,
  placeOwnItem,
  ticketWithEdit,
  ticketWithMessage,
  ticketWithRedaction,
  type Placement,
  type Surroundings,
  type Windows,
} from './rules';
import { formatTicketId, parseTicketId } from './ticket-id';
import type { StoredReply, StoredXItem, TicketStore, WriteOutcome } from './ticket-store';
import { settlePosted } from '../replies/post-reply';
import { appRevoked, type ChannelHealthStore } from '../channel/channel-health';
import { sameReplyText } from '../replies/reply-target';
import { applyRules, ruleItemOf, type BrandRules, type RulesVerdict } from '../rules/brand-rules';
import { countBy } from '../logger';
import { METRIC_NAMES } from '../metric-names';

export type IngestDeps = {
  store: TicketStore;
  brand: string;
  botUserId: string;
  botUsername: string;
  windows: Windows;
  now: () => Date;
  /** The bridge's own copies of media (DM files); a redaction removes the message's before it writes. */
  media?: StoredMedia;
  /** The channel's health, which a revoke sets `down`. Required for revokes; other items never touch it. */
  channel?: ChannelHealthStore;
  /**
   * The brand's rules (shared/rules/brand-rules.ts), applied to a customer's post or DM not stored yet, before it is
   * placed: a drop is recorded under its X id, tags and priority go on the ticket it opens.
   */
  rules?: BrandRules;
  /** Told the name of each rule that decided something (a drop, a tag or priority on a new ticket): its metric. */
  ruleMatched?: (rule: string) => void;
};

/** Each rule's decisions, by rule name (RuleMatches, dimension `rule`). */
export const cloudWatchRuleMatched = (rule: string): void => countBy(METRIC_NAMES.RuleMatches, 'rule', rule);

/** Where the bridge keeps its copies of media X serves only with the account's credentials. */
export type StoredMedia = {
  /** Removes the files under `keys`; removing a file that is already gone is not an error. */
  remove(keys: string[]): Promise<void>;
};

export type IngestOutcome =
  | { outcome: 'created' | 'added' | 'reopened' | 'outbound'; xId: string; ticketId: string; sequence: number }
  | { outcome: 'reply_matched'; xId: string; ticketId: string; replyId: string }
  | { outcome: 'redacted'; xId: string; ticketId: string; sequence: number }
  | { outcome: 'edited'; xId: string; ticketId: string; sequence: number }
  | { outcome: 'duplicate'; xId: string; ticketId?: string }
  | { outcome: 'tombstoned'; xId: string }
  | { outcome: 'ignored'; xId: string; reason: 'self' | 'deleted' }
  /** A brand rule dropped it (`rule`): recorded, so its redeliveries are duplicates. */
  | { outcome: 'ignored'; xId: string; reason: 'dropped'; rule: string }
  /** The account revoked the app: `changed` when this set the channel down, `unchanged` when it already was. */
  | { outcome: 'revoked'; xId: string; channel: 'changed' | 'unchanged' };

/** Rounds of read-decide-write before giving the item back to the queue: only contention gets here. */
const MAX_ROUNDS = 6;
/** How many of a customer's latest tickets on a channel the rules look at. */
const CUSTOMER_TICKETS = 5;

/**
 * Applies one inbound item to the tickets. Idempotent: the same item any number of times leaves the same tickets, and
 * items interleaved in any order that keeps a reply after its parent leave the tickets of one in-order pass (in any
 * order at all, nothing is lost or doubled). Throws RetryableError when contention outlasts its rounds.
 */
export async function ingestItem(item: InboundEvent, deps: IngestDeps, prefetched?: Prefetched): Promise<IngestOutcome> {
  if (item.kind === 'revoke') {
    // No ticket: the channel's health. Its write is conditional on the status it changes, so a redelivery is free.
    if (!deps.channel) throw new Error('a revoke needs the channel health store');
    return { outcome: 'revoked', xId: item.xId, channel: await appRevoked({ store: deps.channel, now: deps.now }) };
  }
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const known = round === 0 ? prefetched : undefined;
    const result = item.kind === 'delete' ? await applyDelete(item, deps, known) : await applyMessage(item, deps, known);
    if (result !== 'again') return result;
  }
  throw new RetryableError(`ticket for X item ${item.xId} kept changing; giving it back to the queue`);
}

type Round = IngestOutcome | 'again';

/**
 * What a read of a whole batch found under the item's X id (ingest reads a batch's X ids in one request), used instead
 * of the item's own first read. It may be stale by the item's turn, which is safe: every write is conditional on what
 * it assumes, and a refused write means another round, which reads afresh.
 */
export type Prefetched = { stored: StoredXItem | undefined };

/**
 * A batch's findings: called with an X id, hands that id's finding out once; `isStored` only looks, telling whether the
 * batch read found anything under the id (a message or a tombstone), so work a redelivery does not need can be skipped.
 */
export type PrefetchedItems = ((xId: string) => Prefetched | undefined) & { isStored(xId: string): boolean };

/**
 * Reads a batch's X ids in one request and hands each id's finding out once: for a repeat of an id within the batch,
 * the first one's write has made the snapshot stale, so it reads its own. If the read fails, every item reads its own.
 */
export async function prefetchXItems(store: TicketStore, xIds: string[]): Promise<PrefetchedItems> {
  let known: Map<string, StoredXItem> | undefined;
  try {
    known = await store.getXItems(xIds);
  } catch (error) {
    logger.warn('batch read of X ids failed; each item reads its own', { error: error as Error });
  }
  const handedOut = new Set<string>();
  const take = (xId: string): Prefetched | undefined => {
    if (!known || handedOut.has(xId)) return undefined;
    handedOut.add(xId);
    return { stored: known.get(xId) };
  };
  return Object.assign(take, { isStored: (xId: string) => known?.has(xId) ?? false });
}

function customerOf(item: InboundPost | InboundDm, botUserId: string): { xUserId: string; channel: Channel } {
  if (item.kind === 'post') return { xUserId: item.author.xUserId, channel: 'mention' };
  // The bot's own DMs belong to the conversation with their recipient.
  const customer = item.sender.xUserId === botUserId ? item.recipientXUserId : item.sender.xUserId;
  return { xUserId: customer, channel: 'dm' };
}

async function surroundings(item: InboundPost | InboundDm, deps: IngestDeps): Promise<Surroundings> {
  const customer = customerOf(item, deps.botUserId);
  const parentXId = item.kind === 'post' ? item.inReplyToXId : undefined;
  const [parent, customerTickets] = await Promise.all([
    parentXId ? deps.store.getXItem(parentXId) : undefined,
    deps.store.customerTickets(customer.xUserId, customer.channel, CUSTOMER_TICKETS),
  ]);
  const parentTicket =
    parent?.kind === 'message'
      ? (customerTickets.find((t) => t.id === parent.message.ticketId) ??
        (await deps.store.getTicket(parent.message.ticketId)))
      : undefined;
  return { parentTicket, customerTickets };
}

function place(item: InboundPost | InboundDm, around: Surroundings, deps: IngestDeps): Placement {
  const author = item.kind === 'post' ? item.author : item.sender;
  if (author.xUserId === deps.botUserId) return placeOwnItem(around);
  return item.kind === 'post' ? placeInboundPost(item, around, deps.windows) : placeInboundDm(item, around, deps.windows);
}

async function applyMessage(item: InboundPost | InboundDm, deps: IngestDeps, known?: Prefetched): Promise<Round> {
  const versions = versionsOf(item);
  const edit = versions.length > 1;
  // An edit is stored under its chain's first id: a read of every version's id finds the message (directly or by an
  // alias) and any version's delete that came first (its tombstone).
  const root = versions[0]!;
  let stored: StoredXItem | undefined;
  if (edit) {
    const found = await deps.store.getXItems(versions);
    // A chain a rule dropped stays dropped, whatever a later version says.
    if ([...found.values()].some((s) => s.kind === 'tombstone' && s.droppedBy !== undefined)) return { outcome: 'duplicate', xId: item.xId };
    if (versions.some((id) => found.get(id)?.kind === 'tombstone')) return deletedChain(item, root, found, deps);
    stored = [...found.values()].find((s) => s.kind === 'message');
  } else {
    // The cheap path for redeliveries: one consistent read, no write.
    stored = known ? known.stored : await deps.store.getXItem(item.xId);
  }
  if (stored?.kind === 'message') {
    return edit ? applyEdit(item, stored.message, versions, deps) : { outcome: 'duplicate', xId: item.xId, ticketId: stored.message.ticketId };
  }
  // Dropped by a rule: the drop was the decision, a redelivery changes nothing (even under changed rules).
  if (stored?.kind === 'tombstone' && stored.droppedBy !== undefined) return { outcome: 'duplicate', xId: item.xId };
  if (stored?.kind === 'tombstone') {
    // Deleted before it was stored. Unless its delete crossed the opening of its ticket (see redactOpened), that is all.
    const customer = customerOf(item, deps.botUserId);
    const opened = await ticketOpenedBy(item.xId, customer.xUserId, customer.channel, deps);
    return opened ? redactOpened(item.xId, opened, deps) : { outcome: 'ignored', xId: item.xId, reason: 'deleted' };
  }

  const around = await surroundings(item, deps);
  // This item (or its chain's first version) opened a ticket and its worker died before storing it.
  const opened = around.customerTickets.find((t) => t.openingXId === root);
  if (opened && edit) return storeEditOfOpening(item, opened, versions, deps);
  if (opened) {
    // Store the message, nothing else changes.
    const written = await deps.store.putMessage(messageFromItem(item, opened.id, deps.botUserId));
    // Taken meanwhile: by a concurrent delivery (the next round sees a duplicate) or by a delete's tombstone.
    return written === 'ok' ? { outcome: 'duplicate', xId: item.xId, ticketId: opened.id } : 'again';
  }
  const verdict = judge(item, deps);
  if (verdict?.drop !== undefined) return drop(item, verdict.drop, deps);
  const placement = place(item, around, deps);
  const now = deps.now().toISOString();

  switch (placement.action) {
    case 'ignore':
      return { outcome: 'ignored', xId: item.xId, reason: placement.reason };
    case 'create':
      return create(item, placement.channel, placement.followUpOf, around.customerTickets, deps, now, verdict);
    case 'record_outbound': {
      const echo = await matchEcho(item, placement.ticket, deps);
      if (echo) {
        // The webhook's echo of a reply the bridge posted: it settles that reply, it is not a new message.
        const settled = await settlePosted(echo, item.xId, true, {
          store: deps.store,
          bot: { xUserId: deps.botUserId, username: deps.botUsername },
          now: deps.now,
        });
        return settled.outcome === 'posted'
          ? { outcome: 'reply_matched', xId: item.xId, ticketId: placement.ticket.id, replyId: echo.reply.id }
          : { outcome: 'duplicate', xId: item.xId, ticketId: placement.ticket.id };
      }
      return join(item, placement.ticket, false, 'outbound', deps, now);
    }
    case 'join':
      return join(item, placement.ticket, placement.reopen, placement.reopen ? 'reopened' : 'added', deps, now);
  }
}

/** The brand's rules on a customer's item; undefined for the account's own items, or with no rules. */
function judge(item: InboundPost | InboundDm, deps: IngestDeps): RulesVerdict | undefined {
  const author = item.kind === 'post' ? item.author : item.sender;
  if (!deps.rules || author.xUserId === deps.botUserId) return undefined;
  return applyRules(deps.rules, ruleItemOf(item));
}

/**
 * Records that `rule` dropped the item, under each of its X ids (an edit's every version), so any redelivery finds it
 * and is a duplicate. A refused record means the id was taken meanwhile (a concurrent delivery, a delete): decide again.
 */
async function drop(item: InboundPost | InboundDm, rule: string, deps: IngestDeps): Promise<Round> {
  const author = item.kind === 'post' ? item.author : item.sender;
  const at = deps.now().toISOString();
  for (const id of versionsOf(item)) {
    if ((await deps.store.putTombstone(id, author.xUserId, at, rule)) !== 'ok') return 'again';
  }
  (deps.ruleMatched ?? cloudWatchRuleMatched)(rule);
  logger.info('inbound item dropped by a brand rule', { xId: item.xId, rule, kind: item.kind, authorXUserId: author.xUserId });
  return { outcome: 'ignored', xId: item.xId, reason: 'dropped', rule };
}

async function join(
  item: InboundPost | InboundDm,
  ticket: Ticket,
  reopen: boolean,
  outcome: 'added' | 'reopened' | 'outbound',
  deps: IngestDeps,
  now: string,
): Promise<Round> {
  const message = messageFromItem(item, ticket.id, deps.botUserId);
  const next = ticketWithMessage(ticket, message, reopen, now, item.kind === 'post' ? item.author : item.sender);
  const written = await deps.store.addMessage(next, ticket.sequence, message, aliasesOf(message));
  // For an edit, the message's key is its chain's: another version may have taken it. Decide again from what is there.
  if (written === 'message_exists' && message.editHistory) return 'again';
  return settle(written, item.xId, next, outcome);
}

/** The X ids under which an alias of `message` points at it: every version but the first, which is its own key. */
function aliasesOf(message: Message): string[] {
  return (message.editHistory ?? []).filter((id) => id !== message.xId);
}

/**
 * A reply of ours still waiting to be settled (`posting`, or `queued` after an attempt) that this post or DM of
 * the bot's is the echo of: same target, same text as X shows it.
 */
async function matchEcho(item: InboundPost | InboundDm, ticket: Ticket, deps: IngestDeps): Promise<StoredReply | undefined> {
  const view = await deps.store.getTicketView(ticket.id);
  const open = (view?.replies ?? []).filter((r) => r.status === 'posting' || r.status === 'queued');
  for (const candidate of open) {
    const stored = await deps.store.getReply(candidate.id);
    if (!stored || (stored.reply.status !== 'posting' && stored.attempts === 0)) continue;
    const sameTarget =
      item.kind === 'post'
        ? stored.target.kind === 'post' && stored.target.inReplyToXId === item.inReplyToXId
        : stored.target.kind === 'dm' && stored.target.participantXUserId === item.recipientXUserId;
    if (sameTarget && sameReplyText(stored.reply.text, item.text)) return stored;
  }
  return undefined;
}

async function create(
  item: InboundPost | InboundDm,
  channel: Channel,
  followUpOf: string | undefined,
  customerTickets: Ticket[],
  deps: IngestDeps,
  now: string,
  verdict?: RulesVerdict,
): Promise<Round> {
  const author = item.kind === 'post' ? item.author : item.sender;
  const latest = customerTickets.find((t) => t.channel === channel);
  const generation = (latest ? (parseTicketId(latest.id)?.generation ?? 0) : 0) + 1;
  const ticketId = formatTicketId({ customerXUserId: author.xUserId, channel, generation });
  const message: Message = messageFromItem(item, ticketId, deps.botUserId);
  const ticket = newTicket({
    id: ticketId,
    brand: deps.brand,
    channel,
    customer: customerFrom(author),
    message,
    now,
    ...(followUpOf ? { followUpOf } : {}),
  });
  if (item.kind === 'post' && item.listeningQuery !== undefined) {
    ticket.source = 'listening';
    ticket.listeningQuery = item.listeningQuery;
  }
  if (verdict && verdict.tags.length > 0) ticket.tags = verdict.tags;
  if (verdict?.priority) ticket.priority = verdict.priority;
  const decided = (round: Round): Round => {
    if (round !== 'again' && round.outcome === 'created') for (const rule of verdict?.matched ?? []) (deps.ruleMatched ?? cloudWatchRuleMatched)(rule);
    return round;
  };
  if (!isFirstContact(item, customerTickets)) {
    const written = await deps.store.createTicket(ticket, message, aliasesOf(message));
    if (written === 'ticket_exists' || (written === 'message_exists' && message.editHistory)) return 'again';
    return decided(settle(written, item.xId, ticket, 'created'));
  }
  const opened = await deps.store.openTicket(ticket, message);
  if (opened === 'ticket_exists') return 'again';
  // Stored after its ticket: a worker dying in between leaves the ticket, whose openingXId its redelivery finds.
  const written = await deps.store.putMessage(message);
  if (written === 'message_exists' && (await deps.store.getXItem(item.xId))?.kind !== 'message') {
    // A delete overtook it and left a tombstone: the next round finds it with this ticket, and redacts.
    return 'again';
  }
  // `already_open`: a concurrent delivery of this item opened the ticket; that one reports it created.
  return opened === 'ok'
    ? decided({ outcome: 'created', xId: item.xId, ticketId, sequence: ticket.sequence })
    : { outcome: 'duplicate', xId: item.xId, ticketId };
}

/**
 * Whether a new ticket may be opened with two puts (ticket, then message) instead of one transaction: only when every
 * delivery of the item, whenever it is read, must decide to open this very ticket. That holds for a customer's first
 * ticket on a channel from an item that replies to nothing: any delivery that decides otherwise found a ticket that
 * opened meanwhile, under the same key, so the ticket put refuses it. Where a decision rests on a ticket's status (a
 * returning customer) or on a parent post that may arrive later, two deliveries read at different moments can decide
 * differently, one joining a ticket and the other opening a new one; only the transaction's condition on the message
 * stops the second from opening an empty ticket.
 */
function isFirstContact(item: InboundPost | InboundDm, customerTickets: Ticket[]): boolean {
  // An edit's versions are deliveries of one message that need not decide alike (each carries its own text), and
  // its aliases must be written with it: always the transaction.
  if (item.kind === 'post' && editVersions(item).length > 1) return false;
  return customerTickets.length === 0 && !(item.kind === 'post' && item.inReplyToXId !== undefined);
}

function settle(
  written: WriteOutcome,
  xId: string,
  ticket: Ticket,
  outcome: 'created' | 'added' | 'reopened' | 'outbound',
): Round {
  switch (written) {
    case 'ok':
      return { outcome, xId, ticketId: ticket.id, sequence: ticket.sequence };
    case 'message_exists':
      // A concurrent delivery of the same item won the race.
      return { outcome: 'duplicate', xId };
    case 'ticket_changed':
      return 'again';
  }
}

async function applyDelete(item: InboundDelete, deps: IngestDeps, known?: Prefetched): Promise<Round> {
  // Any version's id finds an edited post's message (its own, or an alias): deleting any version deletes the chain.
  const stored = known ? known.stored : await deps.store.getXItem(item.xId);
  const now = deps.now().toISOString();
  if (!stored) {
    const opened = await ticketOpenedBy(item.xId, item.authorXUserId, 'mention', deps);
    if (opened) return redactOpened(item.xId, opened, deps);
    // Deleted before we stored it (deliveries can cross): remember, so a late delivery is never stored.
    const written = await deps.store.putTombstone(item.xId, item.authorXUserId, now);
    return written === 'ok' ? { outcome: 'tombstoned', xId: item.xId } : 'again';
  }
  if (stored.kind === 'tombstone' || stored.message.redacted) return { outcome: 'duplicate', xId: item.xId };
  return redact(stored.message, item.xId, deps);
}

/**
 * Redacts a stored message (rule 7) and announces it. The bridge's copies of its files go first: a crash after they
 * are removed and before the write leaves the message unredacted, and the redelivery removes (again) and writes.
 */
async function redact(message: Message, xId: string, deps: IngestDeps): Promise<Round> {
  const ticket = await deps.store.getTicket(message.ticketId);
  if (!ticket) throw new RetryableError(`ticket ${message.ticketId} of message ${message.xId} not found`);
  const files = (message.attachments ?? []).flatMap((a) => (a.stored ? [a.stored.key] : []));
  if (files.length > 0 && deps.media) await deps.media.remove(files);
  const now = deps.now().toISOString();
  // The change names the message's own X id (an edit's first version): that is where the event's reader finds it.
  const next = ticketWithRedaction(ticket, message.xId, now);
  const written = await deps.store.redactMessage(next, ticket.sequence, message.xId, now);
  if (written === 'ok') return { outcome: 'redacted', xId, ticketId: ticket.id, sequence: next.sequence };
  if (written === 'message_exists') return { outcome: 'duplicate', xId };
  return 'again';
}

/**
 * A version of an edited post whose chain X says was deleted (a tombstone under one of its versions' ids): the
 * message is redacted if it is stored, or if its first version opened a ticket without it (see redactOpened).
 */
async function deletedChain(item: InboundPost | InboundDm, root: string, found: Map<string, StoredXItem>, deps: IngestDeps): Promise<Round> {
  const stored = [...found.values()].find((s) => s.kind === 'message');
  if (stored?.kind === 'message') {
    return stored.message.redacted ? { outcome: 'ignored', xId: item.xId, reason: 'deleted' } : redact(stored.message, item.xId, deps);
  }
  const customer = customerOf(item, deps.botUserId);
  const opened = await ticketOpenedBy(root, customer.xUserId, customer.channel, deps);
  if (opened) return redactOpened(root, opened, deps);
  // Nothing stored yet: the delete's tombstone is under one version's id, which an earlier version (the first one
  // above all, which names no other) cannot see. Tombstones under every id this version names carry the delete to
  // them; one refused means a version was stored meanwhile, which the next round redacts.
  const at = deps.now().toISOString();
  const author = item.kind === 'post' ? item.author : item.sender;
  for (const id of versionsOf(item).filter((id) => found.get(id)?.kind !== 'tombstone')) {
    if ((await deps.store.putTombstone(id, author.xUserId, at)) !== 'ok') return 'again';
  }
  return { outcome: 'ignored', xId: item.xId, reason: 'deleted' };
}

function versionsOf(item: InboundPost | InboundDm): string[] {
  return item.kind === 'post' ? editVersions(item) : [item.xId];
}

/**
 * A version of an edited post whose message is stored. Newer than the version the message shows (X ids grow with
 * time): its content replaces the stored one, and the ticket announces it when what the helpdesk shows changed.
 * Older: only the history learns its id (an older version's text never overwrites a newer one's). Seen already:
 * nothing. Every write is conditional on the version the message showed when read and on its not being redacted; the
 * aliases of the ids it adds go in the same write. A refused write reads again.
 */
async function applyEdit(item: InboundPost | InboundDm, message: Message, versions: string[], deps: IngestDeps): Promise<Round> {
  // Deleted on X (any version's delete): an edit's late delivery brings nothing back.
  if (message.redacted) return { outcome: 'ignored', xId: item.xId, reason: 'deleted' };
  const known = message.editHistory ?? [message.xId];
  const history = mergeVersions(known, versions);
  const shown = contentXIdOf(message);
  const newer = compareXIds(item.xId, shown) > 0;
  const aliases = history.filter((id) => id !== message.xId && !known.includes(id));
  if (!newer && aliases.length === 0) return { outcome: 'duplicate', xId: item.xId, ticketId: message.ticketId };

  const version = messageFromItem(item, message.ticketId, deps.botUserId);
  const next: Message = { ...message, editHistory: history };
  if (newer) {
    next.text = version.text;
    next.links = version.links ?? [];
    next.attachments = version.attachments ?? [];
    if (version.quoted) next.quoted = version.quoted;
    if (message.author.unresolved && !version.author.unresolved) next.author = version.author;
  }
  const changed =
    newer &&
    (message.text !== next.text ||
      JSON.stringify(message.links ?? []) !== JSON.stringify(next.links) ||
      JSON.stringify(message.attachments ?? []) !== JSON.stringify(next.attachments));
  if (!changed) {
    const written = await deps.store.editMessage({ message: next, expectedContentXId: shown, aliases });
    return written === 'ok' ? { outcome: 'duplicate', xId: item.xId, ticketId: message.ticketId } : 'again';
  }
  const ticket = await deps.store.getTicket(message.ticketId);
  if (!ticket) throw new RetryableError(`ticket ${message.ticketId} of message ${message.xId} not found`);
  const author = item.kind === 'post' ? item.author : item.sender;
  const nextTicket = ticketWithEdit(ticket, message.xId, deps.now().toISOString(), author);
  const written = await deps.store.editMessage({
    message: next,
    expectedContentXId: shown,
    aliases,
    ticket: nextTicket,
    expectedSequence: ticket.sequence,
  });
  return written === 'ok' ? { outcome: 'edited', xId: item.xId, ticketId: ticket.id, sequence: nextTicket.sequence } : 'again';
}

/**
 * A later version of a post whose first version opened `ticket` (two puts) and was never stored: its worker died
 * between the puts. The helpdesk holds the first version's text from `ticket.created`, so the message is stored with
 * this version's content and the ticket announces the edit, in one write conditional on the message's key being free.
 */
async function storeEditOfOpening(item: InboundPost | InboundDm, ticket: Ticket, versions: string[], deps: IngestDeps): Promise<Round> {
  const message = messageFromItem(item, ticket.id, deps.botUserId);
  const author = item.kind === 'post' ? item.author : item.sender;
  const next = ticketWithEdit(ticket, message.xId, deps.now().toISOString(), author);
  const written = await deps.store.editMessage({
    message,
    aliases: versions.filter((id) => id !== message.xId),
    ticket: next,
    expectedSequence: ticket.sequence,
  });
  return written === 'ok' ? { outcome: 'edited', xId: item.xId, ticketId: ticket.id, sequence: next.sequence } : 'again';
}

/** The customer's ticket that the item `xId` opened with two puts (see isFirstContact), if any. */
async function ticketOpenedBy(xId: string, customerXUserId: string, channel: Channel, deps: IngestDeps) {
  const tickets = await deps.store.customerTickets(customerXUserId, channel, CUSTOMER_TICKETS);
  return tickets.find((t) => t.openingXId === xId);
}

/**
 * A post deleted after it opened a ticket but before its message was stored: its worker died between the two puts, or
 * its delete ran between them and left a tombstone. The helpdesk already holds its text from `ticket.created`, so it
 * must hear of the deletion: the message is stored already redacted (in place of the tombstone, if any), with what the
 * ticket knows of it, and the ticket announces the redaction. Whoever processes the post or its delete next does this.
 */
async function redactOpened(xId: string, ticket: Ticket, deps: IngestDeps): Promise<Round> {
  const now = deps.now().toISOString();
  const message: Message = {
    id: messageIdFor(xId),
    ticketId: ticket.id,
    xId,
    direction: 'inbound',
    channel: ticket.channel,
    text: '',
    author: { xUserId: ticket.customer.xUserId, username: ticket.customer.username, name: ticket.customer.name },
    createdAt: ticket.createdAt,
    redacted: true,
  };
  const next = ticketWithRedaction(ticket, xId, now);
  const written = await deps.store.redactMessage(next, ticket.sequence, xId, now, message);
  if (written === 'ok') return { outcome: 'redacted', xId, ticketId: ticket.id, sequence: next.sequence };
  // The message was stored meanwhile, or the ticket changed: decide again from what is there now.
  return 'again';
}
