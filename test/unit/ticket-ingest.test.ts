// The contract's ticket rules (CONTRACT.md §3), one test per rule, through the ingest use case on an in-memory store
// with DynamoDB's conditional-write semantics.
import { beforeEach, describe, expect, it } from 'vitest';
import { attachmentFrom } from '../../shared/tickets/rules';
import { ingestItem, type IngestDeps } from '../../shared/tickets/ingest';
import type { TicketStore } from '../../shared/tickets/ticket-store';
import type { InboundDelete, CompleteDm as InboundDm, CompletePost as InboundPost } from '../../shared/x/inbound-event';
import { memoryTicketStore, type MemoryTicketStore } from '../support/memory-ticket-store';

const BOT = { xUserId: '1602999888777666555', username: 'AcmeSupport', name: 'Acme Support' };
const JANE = { xUserId: '1357924680', username: 'jane_doe_dev', name: 'Jane Doe' };
const BOB = { xUserId: '2468013579', username: 'bob', name: 'Bob' };
const HOUR = 3600_000;
const T0 = Date.parse('2026-11-16T14:00:00.000Z');
const at = (hours: number) => new Date(T0 + hours * HOUR).toISOString();

let nextId = 1990000000000000000n;
const xid = () => String(++nextId);

function post(overrides: Partial<InboundPost> = {}): InboundPost {
  return {
    kind: 'post',
    format: 'xaa',
    xId: xid(),
    author: JANE,
    text: '@AcmeSupport my order is late',
    createdAt: at(0),
    mentionsBot: true,
    via: 'post.mention.create',
    receivedAt: at(0),
    links: [],
    media: [],
    ...overrides,
  };
}
function dm(overrides: Partial<InboundDm> = {}): InboundDm {
  return {
    kind: 'dm',
    format: 'xaa',
    xId: xid(),
    sender: JANE,
    recipientXUserId: BOT.xUserId,
    text: 'Order #A-1234',
    createdAt: at(0),
    via: 'dm.received',
    receivedAt: at(0),
    links: [],
    media: [],
    ...overrides,
  };
}
function del(xId: string, author = JANE.xUserId): InboundDelete {
  return { kind: 'delete', format: 'aaa', xId, authorXUserId: author, deletedAt: at(1), via: 'tweet_delete_events', receivedAt: at(1) };
}

let store: MemoryTicketStore;
let clock: number;
let deps: IngestDeps;

beforeEach(() => {
  store = memoryTicketStore();
  clock = T0;
  deps = {
    store,
    brand: 'acme',
    botUserId: BOT.xUserId,
    botUsername: BOT.username,
    windows: { mentionMergeHours: 24, reopenHours: 168 },
    now: () => new Date(clock),
  };
});

/** Ingests at the item's own time, as a prompt worker would. */
async function ingest(item: InboundPost | InboundDm | InboundDelete) {
  clock = Date.parse(item.kind === 'delete' ? item.deletedAt : item.createdAt);
  return ingestItem(item, deps);
}

async function solve(ticketId: string, hours: number) {
  const ticket = store.tickets.get(ticketId)!;
  const next = { ...ticket, status: 'solved' as const, solvedAt: at(hours), updatedAt: at(hours), sequence: ticket.sequence + 1 };
  expect(await store.updateTicket(next, ticket.sequence)).toBe('ok');
}

describe('rule 1: one message per X id', () => {
  it('a redelivered post is a duplicate: no second message, ticket or change', async () => {
    const mention = post();
    const first = await ingest(mention);
    const again = await ingest(mention);
    expect(first).toMatchObject({ outcome: 'created', ticketId: 'mn-1357924680-1', sequence: 1 });
    expect(again).toMatchObject({ outcome: 'duplicate', ticketId: 'mn-1357924680-1' });
    expect(store.tickets.size).toBe(1);
    expect(store.changes).toHaveLength(1);
  });

  it('the same post in both formats is stored once', async () => {
    const xaa = post();
    await ingest(xaa);
    expect(await ingest({ ...xaa, format: 'aaa', via: 'tweet_create_events' })).toMatchObject({ outcome: 'duplicate' });
    expect(store.xItems.size).toBe(1);
  });

  it('concurrent deliveries of one post make one ticket and one change', async () => {
    const mention = post();
    const results = await Promise.all(Array.from({ length: 6 }, () => ingestItem(mention, deps)));
    expect(results.filter((r) => r.outcome === 'created')).toHaveLength(1);
    expect(results.filter((r) => r.outcome === 'duplicate')).toHaveLength(5);
    expect(store.changes).toHaveLength(1);
  });

  it('two deliveries deciding differently (a status changed between their reads) still make one message, no empty ticket', async () => {
    const first = post();
    await ingest(first);
    const second = post({ createdAt: at(1) });
    clock = Date.parse(second.createdAt);
    // The late delivery read the X id before the early one stored it; by the time it reads the customer's tickets,
    // the early one has joined the ticket and an agent has solved it, so the late one decides to open a new ticket.
    const late: TicketStore = {
      ...store,
      customerTickets: async (...args) => {
        expect(await ingestItem(second, deps)).toMatchObject({ outcome: 'added', ticketId: 'mn-1357924680-1' });
        await solve('mn-1357924680-1', 1);
        return store.customerTickets(...args);
      },
    };
    expect(await ingestItem(second, { ...deps, store: late }, { stored: undefined })).toMatchObject({ outcome: 'duplicate' });
    expect([...store.tickets.keys()]).toEqual(['mn-1357924680-1']);
    expect(store.changes.map((t) => [t.id, t.sequence, t.status])).toEqual([
      ['mn-1357924680-1', 1, 'open'],
      ['mn-1357924680-1', 2, 'open'],
      ['mn-1357924680-1', 3, 'solved'],
    ]);
  });
});

describe('rule 1 under racing deliveries of a reply whose parent arrives meanwhile', () => {
  it('the delivery that missed the parent cannot open an empty ticket for the replier', async () => {
    const parent = post();
    const reply = post({ author: BOB, inReplyToXId: parent.xId, text: '@jane_doe_dev @AcmeSupport same here', createdAt: at(0.1) });
    clock = Date.parse(reply.createdAt);
    // The late delivery looks the parent up before it is stored; then the parent and an early delivery of the reply
    // are ingested, the reply joining the parent's ticket; the late one, which saw no parent, decides to open one.
    const late: TicketStore = {
      ...store,
      getXItem: async (xId) => {
        const found = await store.getXItem(xId);
        if (xId === parent.xId) {
          await ingestItem(parent, deps);
          expect(await ingestItem(reply, deps)).toMatchObject({ outcome: 'added', ticketId: 'mn-1357924680-1' });
        }
        return found;
      },
    };
    expect(await ingestItem(reply, { ...deps, store: late }, { stored: undefined })).toMatchObject({ outcome: 'duplicate' });
    expect([...store.tickets.keys()]).toEqual(['mn-1357924680-1']);
    expect(store.changes).toHaveLength(2);
  });
});

describe('rule 2: threads', () => {
  it('a reply to a post in a ticket joins that ticket, even from another author', async () => {
    const first = post();
    await ingest(first);
    const reply = post({ author: BOB, inReplyToXId: first.xId, createdAt: at(30), mentionsBot: false });
    expect(await ingest(reply)).toMatchObject({ outcome: 'added', ticketId: 'mn-1357924680-1', sequence: 2 });
  });

  it('a follow-up to a solved ticket within the reopen window reopens it', async () => {
    const first = post();
    await ingest(first);
    await solve('mn-1357924680-1', 1);
    const followUp = post({ inReplyToXId: first.xId, createdAt: at(100) });
    expect(await ingest(followUp)).toMatchObject({ outcome: 'reopened', ticketId: 'mn-1357924680-1' });
    const ticket = store.tickets.get('mn-1357924680-1')!;
    expect(ticket.status).toBe('open');
    expect(ticket.lastChange).toMatchObject({ type: 'ticket.reopened', previousStatus: 'solved', messageXId: followUp.xId });
    expect(ticket.solvedAt).toBeUndefined();
  });

  it('after the reopen window a follow-up opens a new ticket linked to the solved one', async () => {
    const first = post();
    await ingest(first);
    await solve('mn-1357924680-1', 1);
    const late = post({ inReplyToXId: first.xId, createdAt: at(1 + 169) });
    expect(await ingest(late)).toMatchObject({ outcome: 'created', ticketId: 'mn-1357924680-2' });
    expect(store.tickets.get('mn-1357924680-2')).toMatchObject({ followUpOf: 'mn-1357924680-1', status: 'open' });
  });
});

describe('rule 3: mentions merge per author within the window', () => {
  it('a second mention within the window joins the open mention ticket', async () => {
    await ingest(post());
    expect(await ingest(post({ createdAt: at(23) }))).toMatchObject({ outcome: 'added', ticketId: 'mn-1357924680-1' });
  });

  it('a mention after the window opens a new ticket', async () => {
    await ingest(post());
    expect(await ingest(post({ createdAt: at(25) }))).toMatchObject({ outcome: 'created', ticketId: 'mn-1357924680-2' });
  });

  it('a mention never merges into a solved ticket', async () => {
    await ingest(post());
    await solve('mn-1357924680-1', 1);
    expect(await ingest(post({ createdAt: at(2) }))).toMatchObject({ outcome: 'created', ticketId: 'mn-1357924680-2' });
  });

  it('a window of 0 never merges', async () => {
    deps.windows.mentionMergeHours = 0;
    await ingest(post());
    expect(await ingest(post({ createdAt: at(0.1) }))).toMatchObject({ outcome: 'created' });
  });

  it('other authors get their own tickets', async () => {
    await ingest(post());
    expect(await ingest(post({ author: BOB }))).toMatchObject({ outcome: 'created', ticketId: 'mn-2468013579-1' });
  });

  it('two racing first mentions of one author end in one ticket', async () => {
    const results = await Promise.all([ingestItem(post(), deps), ingestItem(post(), deps), ingestItem(post(), deps)]);
    expect(results.map((r) => r.outcome).sort()).toEqual(['added', 'added', 'created']);
    expect(store.tickets.size).toBe(1);
    expect(store.tickets.get('mn-1357924680-1')!.sequence).toBe(3);
  });
});

describe('rule 4: DMs', () => {
  it('one DM ticket per customer while it is not solved, whatever the gap', async () => {
    await ingest(dm());
    expect(await ingest(dm({ createdAt: at(500) }))).toMatchObject({ outcome: 'added', ticketId: 'dm-1357924680-1' });
  });

  it('after solved: reopened within the window, a linked new ticket after it', async () => {
    await ingest(dm());
    await solve('dm-1357924680-1', 1);
    expect(await ingest(dm({ createdAt: at(2) }))).toMatchObject({ outcome: 'reopened' });
    await solve('dm-1357924680-1', 3);
    expect(await ingest(dm({ createdAt: at(3 + 200) }))).toMatchObject({ outcome: 'created', ticketId: 'dm-1357924680-2' });
    expect(store.tickets.get('dm-1357924680-2')!.followUpOf).toBe('dm-1357924680-1');
  });

  it('DMs and mentions are separate tickets', async () => {
    await ingest(post());
    expect(await ingest(dm())).toMatchObject({ outcome: 'created', ticketId: 'dm-1357924680-1' });
  });
});

describe("rule 5: the bot's own items are never tickets", () => {
  it('a bot post outside any ticket is ignored', async () => {
    expect(await ingest(post({ author: BOT }))).toMatchObject({ outcome: 'ignored', reason: 'self' });
    expect(store.tickets.size).toBe(0);
  });

  it("a bot post by hand inside a ticket's thread is recorded as outbound, status unchanged", async () => {
    const first = post();
    await ingest(first);
    const byHand = post({ author: BOT, inReplyToXId: first.xId, text: '@jane_doe_dev on it!', createdAt: at(1) });
    expect(await ingest(byHand)).toMatchObject({ outcome: 'outbound', ticketId: 'mn-1357924680-1' });
    const stored = store.xItems.get(byHand.xId);
    expect(stored).toMatchObject({ kind: 'message', message: { direction: 'outbound', ticketId: 'mn-1357924680-1' } });
    expect(store.tickets.get('mn-1357924680-1')!.status).toBe('open');
  });

  it("the bot's DM to a customer with an open DM ticket is recorded there; otherwise ignored", async () => {
    expect(await ingest(dm({ sender: BOT, recipientXUserId: JANE.xUserId }))).toMatchObject({ outcome: 'ignored' });
    await ingest(dm());
    expect(await ingest(dm({ sender: BOT, recipientXUserId: JANE.xUserId, createdAt: at(1) }))).toMatchObject({
      outcome: 'outbound',
      ticketId: 'dm-1357924680-1',
    });
  });
});

describe('a customer writing on a pending ticket', () => {
  it('puts it back to open', async () => {
    await ingest(post());
    const ticket = store.tickets.get('mn-1357924680-1')!;
    await store.updateTicket({ ...ticket, status: 'pending', sequence: 2 }, 1);
    await ingest(post({ createdAt: at(1) }));
    expect(store.tickets.get('mn-1357924680-1')).toMatchObject({
      status: 'open',
      lastChange: { type: 'ticket.message_added', previousStatus: 'pending' },
    });
  });
});

describe('rule 7: deletes redact', () => {
  it('a delete redacts the text, keeps ids and times, and records one change', async () => {
    const first = post();
    await ingest(first);
    expect(await ingest(del(first.xId))).toMatchObject({ outcome: 'redacted', ticketId: 'mn-1357924680-1', sequence: 2 });
    expect(store.xItems.get(first.xId)).toMatchObject({
      kind: 'message',
      message: { text: '', redacted: true, xId: first.xId, createdAt: first.createdAt },
    });
    expect(await ingest(del(first.xId))).toMatchObject({ outcome: 'duplicate' });
    expect(store.changes.at(-1)!.lastChange.type).toBe('ticket.message_redacted');
    expect(store.changes).toHaveLength(2);
  });

  it('a delete that overtakes its post keeps the post from ever being stored', async () => {
    const late = post();
    expect(await ingest(del(late.xId))).toMatchObject({ outcome: 'tombstoned' });
    expect(await ingest(late)).toMatchObject({ outcome: 'ignored', reason: 'deleted' });
    expect(store.tickets.size).toBe(0);
  });
});

describe('decisions use the item time, not the processing time', () => {
  it('a mention redelivered days later still decides as when it was written', async () => {
    await ingest(post());
    const second = post({ createdAt: at(2) });
    clock = T0 + 500 * HOUR; // processed very late
    expect(await ingestItem(second, deps)).toMatchObject({ outcome: 'added' });
  });
});

// A new ticket is two puts, the ticket first: these are the states a worker dying between them leaves behind.
describe('a worker that died after opening a ticket and before storing its message', () => {
  /** Ingests `item` with a store that fails every putMessage, as if the worker died right after opening the ticket. */
  async function openOnly(item: InboundPost | InboundDm) {
    clock = Date.parse(item.createdAt);
    const dying = { ...store, putMessage: () => Promise.reject(new Error('worker died')) };
    await expect(ingestItem(item, { ...deps, store: dying })).rejects.toThrow('worker died');
    expect(store.xItems.has(item.xId)).toBe(false);
  }

  it('its redelivery stores just the message: one ticket, one change', async () => {
    const first = post();
    await openOnly(first);
    expect(store.changes.map((t) => [t.id, t.lastChange.type, t.openingXId])).toEqual([['mn-1357924680-1', 'ticket.created', first.xId]]);
    expect(await ingest(first)).toMatchObject({ outcome: 'duplicate', ticketId: 'mn-1357924680-1' });
    expect(store.xItems.get(first.xId)).toMatchObject({ kind: 'message', message: { ticketId: 'mn-1357924680-1', text: first.text } });
    expect(store.changes).toHaveLength(1);
    expect(await ingest(first)).toMatchObject({ outcome: 'duplicate' });
    expect(store.changes).toHaveLength(1);
  });

  it('a DM ticket is finished the same way', async () => {
    const first = dm();
    await openOnly(first);
    expect(await ingest(first)).toMatchObject({ outcome: 'duplicate', ticketId: 'dm-1357924680-1' });
    expect(store.tickets.size).toBe(1);
    expect(store.changes).toHaveLength(1);
  });

  it('a follow-up landing in between does not stop the redelivery from finishing: no second ticket, no extra change', async () => {
    const first = post();
    await openOnly(first);
    expect(await ingest(post({ createdAt: at(1) }))).toMatchObject({ outcome: 'added', ticketId: 'mn-1357924680-1', sequence: 2 });
    expect(await ingest(first)).toMatchObject({ outcome: 'duplicate', ticketId: 'mn-1357924680-1' });
    expect(store.tickets.size).toBe(1);
    expect(store.changes.map((t) => t.sequence)).toEqual([1, 2]);
    expect(store.xItems.get(first.xId)).toMatchObject({ kind: 'message', message: { ticketId: 'mn-1357924680-1' } });
  });

  it('a concurrent delivery of the same post finishes it and is the duplicate', async () => {
    const first = post();
    await openOnly(first);
    const results = await Promise.all([ingest(first), ingest(first)]);
    expect(results.map((r) => r.outcome)).toEqual(['duplicate', 'duplicate']);
    expect(store.changes).toHaveLength(1);
  });

  /** The store as the post's worker sees it when the post's delete runs to the end just before its ticket opens. */
  function deleteJustBeforeOpening(xId: string): TicketStore {
    return {
      ...store,
      openTicket: async (ticket, opening) => {
        // It finds no ticket yet, so it tombstones.
        expect(await ingestItem(del(xId), deps)).toMatchObject({ outcome: 'tombstoned' });
        return store.openTicket(ticket, opening);
      },
    };
  }

  it('a delete that tombstoned the post just before its ticket opened: the post worker redacts what it opened', async () => {
    const first = post();
    clock = Date.parse(first.createdAt);
    expect(await ingestItem(first, { ...deps, store: deleteJustBeforeOpening(first.xId) })).toMatchObject({ outcome: 'redacted', ticketId: 'mn-1357924680-1', sequence: 2 });
    expect(store.xItems.get(first.xId)).toMatchObject({ kind: 'message', message: { text: '', redacted: true } });
    expect(store.changes.map((t) => t.lastChange.type)).toEqual(['ticket.created', 'ticket.message_redacted']);
    expect(await ingest(first)).toMatchObject({ outcome: 'duplicate' });
    expect(await ingest(del(first.xId))).toMatchObject({ outcome: 'duplicate' });
    expect(store.changes).toHaveLength(2);
  });

  it('the same, with the post worker dying after opening the ticket: its redelivery redacts', async () => {
    const first = post();
    clock = Date.parse(first.createdAt);
    const crossingThenDying = { ...deleteJustBeforeOpening(first.xId), putMessage: () => Promise.reject(new Error('worker died')) };
    await expect(ingestItem(first, { ...deps, store: crossingThenDying })).rejects.toThrow('worker died');
    expect(store.xItems.get(first.xId)).toMatchObject({ kind: 'tombstone' });
    expect(await ingest(first)).toMatchObject({ outcome: 'redacted', sequence: 2 });
    expect(store.xItems.get(first.xId)).toMatchObject({ kind: 'message', message: { text: '', redacted: true } });
    expect(store.changes.map((t) => t.lastChange.type)).toEqual(['ticket.created', 'ticket.message_redacted']);
  });

  it('a delete landing in between redacts: the helpdesk, which saw the text, hears of it, and the post is never stored with text', async () => {
    const first = post();
    await openOnly(first);
    expect(await ingest(del(first.xId))).toMatchObject({ outcome: 'redacted', ticketId: 'mn-1357924680-1', sequence: 2 });
    expect(store.xItems.get(first.xId)).toMatchObject({ kind: 'message', message: { text: '', redacted: true, ticketId: 'mn-1357924680-1' } });
    expect(store.changes.map((t) => t.lastChange.type)).toEqual(['ticket.created', 'ticket.message_redacted']);
    // The redelivery of the post now finds it stored.
    expect(await ingest(first)).toMatchObject({ outcome: 'duplicate' });
    expect(store.xItems.get(first.xId)).toMatchObject({ message: { text: '', redacted: true } });
    expect(store.changes).toHaveLength(2);
  });
});

describe('rule 8: a message is complete', () => {
  it('carries attachments, links, the quoted post and the author\'s name; the customer carries their profile', async () => {
    const item = post({
      text: '@AcmeSupport the page https://acme.example/orders/A-1234 says',
      author: { ...JANE, profile: { profileImageUrl: 'https://pbs.twimg.com/p/jane.jpg', verifiedType: 'blue', followersCount: 312, protected: false } },
      links: [{ url: 'https://t.co/abc', expandedUrl: 'https://acme.example/orders/A-1234', displayUrl: 'acme.example/orders/A…' }],
      media: [
        { mediaKey: '3_1', type: 'photo', url: 'https://pbs.twimg.com/media/a.jpg', altText: 'error page', width: 800, height: 600, requiresAuth: false },
        { mediaKey: '7_2', type: 'video', previewUrl: 'https://pbs.twimg.com/v/still.jpg', durationMs: 4000, requiresAuth: false },
      ],
      quoted: { xId: '1899999999999999000', text: 'Big sale!', author: { xUserId: BOT.xUserId, username: BOT.username, name: BOT.name } },
      via: 'post.quote.create',
    });
    await ingest(item);
    const stored = store.xItems.get(item.xId);
    expect(stored).toMatchObject({
      kind: 'message',
      message: {
        author: { xUserId: JANE.xUserId, username: JANE.username, name: JANE.name },
        links: item.links,
        attachments: [
          { id: 'att-3_1', type: 'photo', url: 'https://pbs.twimg.com/media/a.jpg', altText: 'error page', width: 800, height: 600 },
          // No file address: the still stands in, so an agent sees something.
          { id: 'att-7_2', type: 'video', url: 'https://pbs.twimg.com/v/still.jpg', previewUrl: 'https://pbs.twimg.com/v/still.jpg', durationMs: 4000 },
        ],
        quoted: { xId: '1899999999999999000', text: 'Big sale!', author: { xUserId: BOT.xUserId, username: BOT.username, name: BOT.name } },
      },
    });
    expect(store.tickets.get('mn-1357924680-1')!.customer).toEqual({
      ...JANE,
      profileImageUrl: 'https://pbs.twimg.com/p/jane.jpg',
      verifiedType: 'blue',
      followersCount: 312,
      protected: false,
    });
  });

  it('an unresolved customer is completed by the write that adds their next named item, with no extra write', async () => {
    const placeholder = { xUserId: JANE.xUserId, username: '', name: `X user ${JANE.xUserId}`, unresolved: true };
    await ingest(dm({ sender: placeholder }));
    expect(store.tickets.get('dm-1357924680-1')!.customer).toMatchObject({ unresolved: true, username: '' });
    await ingest(dm({ createdAt: at(1), sender: { ...JANE, profile: { followersCount: 3 } } }));
    expect(store.changes).toHaveLength(2);
    expect(store.tickets.get('dm-1357924680-1')!.customer).toEqual({ ...JANE, followersCount: 3 });
    expect(store.changes.at(-1)!.lastChange.type).toBe('ticket.message_added');
  });
});

describe('rule 9: an edit updates its message', () => {
  /** A post and `n` edits of it: each version a new post whose history lists every version so far, oldest first. */
  function chain(n: number, overrides: Partial<InboundPost> = {}): InboundPost[] {
    const first = post({ text: '@AcmeSupport my order is lat', ...overrides });
    const versions = [first];
    for (let k = 1; k <= n; k++) {
      const xId = xid();
      const editHistory = [...versions.map((v) => v.xId), xId];
      versions.push({ ...first, xId, editHistory, text: `@AcmeSupport my order is late (edit ${k})`, createdAt: at(k * 0.1) });
    }
    return versions;
  }
  const messages = () => [...store.xItems.values()].flatMap((i) => (i.kind === 'message' ? [i.message] : []));
  const changeTypes = () => store.changes.map((t) => t.lastChange.type);

  it('in order: one message with the newest text, every version\'s id oldest first, one event per edit', async () => {
    const [v0, v1, v2] = chain(2);
    expect(await ingest(v0!)).toMatchObject({ outcome: 'created' });
    expect(await ingest(v1!)).toMatchObject({ outcome: 'edited', ticketId: 'mn-1357924680-1', sequence: 2 });
    expect(await ingest(v2!)).toMatchObject({ outcome: 'edited', sequence: 3 });
    expect(messages()).toEqual([
      expect.objectContaining({ id: `msg-${v0!.xId}`, xId: v0!.xId, text: v2!.text, editHistory: [v0!.xId, v1!.xId, v2!.xId], createdAt: v0!.createdAt }),
    ]);
    expect(changeTypes()).toEqual(['ticket.created', 'ticket.message_edited', 'ticket.message_edited']);
    expect(store.changes.at(-1)!.lastChange.messageXId).toBe(v0!.xId);
  });

  it('reversed: the newest first, then older versions, which change nothing and announce nothing', async () => {
    const [v0, v1, v2] = chain(2);
    expect(await ingest(v2!)).toMatchObject({ outcome: 'created' });
    expect(await ingest(v1!)).toMatchObject({ outcome: 'duplicate' });
    expect(await ingest(v0!)).toMatchObject({ outcome: 'duplicate' });
    expect(messages()).toEqual([expect.objectContaining({ xId: v0!.xId, text: v2!.text, editHistory: [v0!.xId, v1!.xId, v2!.xId] })]);
    expect(changeTypes()).toEqual(['ticket.created']);
  });

  it('duplicated in both formats: every version\'s redelivery changes nothing more', async () => {
    const [v0, v1, v2] = chain(2);
    for (const item of [v0, v1, v1, v0, v2, { ...v1!, format: 'aaa' as const }, v2, v0]) await ingest(item!);
    expect(messages()).toHaveLength(1);
    expect(messages()[0]).toMatchObject({ text: v2!.text, editHistory: [v0!.xId, v1!.xId, v2!.xId] });
    expect(changeTypes()).toEqual(['ticket.created', 'ticket.message_edited', 'ticket.message_edited']);
    // Every version's id finds the one message.
    for (const v of [v0, v1, v2]) expect(await store.getXItem(v!.xId)).toMatchObject({ kind: 'message', message: { xId: v0!.xId } });
  });

  it('concurrent: all versions at once, several copies each, end in one message with the newest text', async () => {
    const versions = chain(3);
    const copies = [...versions, ...versions.reverse(), ...versions];
    clock = Date.parse(at(1));
    await Promise.all(copies.map((v) => ingestItem(v, deps)));
    const newest = versions.reduce((a, b) => (BigInt(a.xId) > BigInt(b.xId) ? a : b));
    expect(messages()).toEqual([expect.objectContaining({ text: newest.text, editHistory: newest.editHistory })]);
    const edits = changeTypes().filter((t) => t === 'ticket.message_edited').length;
    expect(edits).toBeLessThanOrEqual(3);
    expect(changeTypes().filter((t) => t !== 'ticket.message_edited')).toEqual(['ticket.created']);
  });

  it('an older version arriving late never overwrites newer text, even with a history that lacks the newer id', async () => {
    const [v0, v1, v2] = chain(2);
    await ingest(v0!);
    // v1.1 objects name only the first version: v2 as the Account Activity API would carry it.
    await ingest({ ...v2!, format: 'aaa', editHistory: [v0!.xId, v2!.xId] });
    expect(messages()[0]).toMatchObject({ text: v2!.text, editHistory: [v0!.xId, v2!.xId] });
    expect(await ingest({ ...v1!, format: 'aaa', editHistory: [v0!.xId, v1!.xId] })).toMatchObject({ outcome: 'duplicate' });
    expect(messages()[0]).toMatchObject({ text: v2!.text, editHistory: [v0!.xId, v1!.xId, v2!.xId] });
    expect(changeTypes()).toEqual(['ticket.created', 'ticket.message_edited']);
    // The late version's id was learnt too: its delete finds the message.
    expect(await ingest(del(v1!.xId))).toMatchObject({ outcome: 'redacted' });
  });

  it('an edit that changes nothing the helpdesk shows is recorded in the history without an event', async () => {
    const [v0, v1] = chain(1);
    await ingest(v0!);
    await ingest({ ...v1!, text: v0!.text });
    expect(messages()[0]).toMatchObject({ text: v0!.text, editHistory: [v0!.xId, v1!.xId] });
    expect(changeTypes()).toEqual(['ticket.created']);
  });

  it('an edit whose original never arrived is stored recording its history; the original arriving later adds nothing', async () => {
    const [v0, v1] = chain(1);
    expect(await ingest(v1!)).toMatchObject({ outcome: 'created', ticketId: 'mn-1357924680-1' });
    expect(messages()).toEqual([expect.objectContaining({ id: `msg-${v0!.xId}`, xId: v0!.xId, text: v1!.text, editHistory: [v0!.xId, v1!.xId] })]);
    expect(await ingest(v0!)).toMatchObject({ outcome: 'duplicate' });
    expect(messages()).toEqual([expect.objectContaining({ text: v1!.text })]);
    expect(changeTypes()).toEqual(['ticket.created']);
  });

  it('an edit then a delete of the first version redacts the message; a late version brings nothing back', async () => {
    const [v0, v1] = chain(1);
    await ingest(v0!);
    await ingest(v1!);
    expect(await ingest(del(v0!.xId))).toMatchObject({ outcome: 'redacted', sequence: 3 });
    expect(messages()).toEqual([expect.objectContaining({ xId: v0!.xId, text: '', redacted: true })]);
    expect(await ingest(v1!)).toMatchObject({ outcome: 'ignored', reason: 'deleted' });
    expect(await ingest(del(v1!.xId))).toMatchObject({ outcome: 'duplicate' });
    expect(messages()[0]).toMatchObject({ text: '', redacted: true });
    expect(changeTypes()).toEqual(['ticket.created', 'ticket.message_edited', 'ticket.message_redacted']);
  });

  it('a delete of a later version redacts the message, announced under the message\'s own id', async () => {
    const [v0, v1, v2] = chain(2);
    for (const v of [v0, v1, v2]) await ingest(v!);
    expect(await ingest(del(v2!.xId))).toMatchObject({ outcome: 'redacted' });
    expect(messages()).toEqual([expect.objectContaining({ xId: v0!.xId, text: '', redacted: true })]);
    expect(store.changes.at(-1)!.lastChange).toMatchObject({ type: 'ticket.message_redacted', messageXId: v0!.xId });
  });

  it('a delete of any version that came before the message is remembered: that version redacts what is stored', async () => {
    const [v0, v1, v2] = chain(2);
    expect(await ingest(del(v1!.xId))).toMatchObject({ outcome: 'tombstoned' });
    // The first version cannot know of the delete (it names no later version): it is stored.
    expect(await ingest(v0!)).toMatchObject({ outcome: 'created' });
    // Any version naming the deleted one redacts the chain.
    expect(await ingest(v2!)).toMatchObject({ outcome: 'redacted' });
    expect(messages()).toEqual([expect.objectContaining({ xId: v0!.xId, text: '', redacted: true })]);
    expect(await ingest(v1!)).toMatchObject({ outcome: 'ignored', reason: 'deleted' });
    expect(changeTypes()).toEqual(['ticket.created', 'ticket.message_redacted']);
  });

  it('an edit whose chain was deleted before anything arrived is never stored', async () => {
    const [v0, v1] = chain(1);
    await ingest(del(v0!.xId));
    expect(await ingest(v1!)).toMatchObject({ outcome: 'ignored', reason: 'deleted' });
    expect(await ingest(v0!)).toMatchObject({ outcome: 'ignored', reason: 'deleted' });
    expect(store.tickets.size).toBe(0);
  });

  it('a later version that finds its own delete carries it to the versions before it, the first included', async () => {
    const [v0, v1, v2] = chain(2);
    await ingest(del(v2!.xId));
    expect(await ingest(v2!)).toMatchObject({ outcome: 'ignored', reason: 'deleted' });
    // v0 and v1 name no later version: only the tombstones v2 left under their ids keep them out.
    expect(await ingest(v0!)).toMatchObject({ outcome: 'ignored', reason: 'deleted' });
    expect(await ingest(v1!)).toMatchObject({ outcome: 'ignored', reason: 'deleted' });
    expect(store.tickets.size).toBe(0);
  });

  it('a reply to a later version joins the edited message\'s ticket', async () => {
    const [v0, v1] = chain(1);
    await ingest(v0!);
    await ingest(v1!);
    const reply = post({ author: BOB, inReplyToXId: v1!.xId, createdAt: at(1), text: '@jane_doe_dev same' });
    expect(await ingest(reply)).toMatchObject({ outcome: 'added', ticketId: 'mn-1357924680-1' });
  });

  it('an edit of a post whose first version opened the ticket but was never stored stores it edited, announced', async () => {
    const [v0, v1] = chain(1);
    clock = Date.parse(v0!.createdAt);
    const dying = { ...store, putMessage: () => Promise.reject(new Error('worker died')) };
    await expect(ingestItem(v0!, { ...deps, store: dying })).rejects.toThrow('worker died');
    expect(await ingest(v1!)).toMatchObject({ outcome: 'edited', ticketId: 'mn-1357924680-1', sequence: 2 });
    expect(await ingest(v0!)).toMatchObject({ outcome: 'duplicate' });
    expect(messages()).toEqual([expect.objectContaining({ xId: v0!.xId, text: v1!.text, editHistory: [v0!.xId, v1!.xId] })]);
    expect(changeTypes()).toEqual(['ticket.created', 'ticket.message_edited']);
  });
});

describe('rule 7: the files the bridge stored go with a redaction', () => {
  const stored = { key: 'acme/dm-1357924680-1/att-9_1', contentType: 'image/jpeg', bytes: 1000 };
  const withFile = () => post({ media: [{ mediaKey: '9_1', type: 'photo', url: 'https://ton.twitter.com/x.jpg', requiresAuth: true, stored }] });

  it('removes them before the redaction is written; a failed removal leaves the message for the redelivery', async () => {
    const item = withFile();
    await ingest(item);
    const removed: string[][] = [];
    let failing = true;
    deps.media = {
      remove: async (files) => {
        removed.push(files);
        // Nothing is redacted yet when the files go: a crash here is redone by the redelivery.
        expect(store.xItems.get(item.xId)).toMatchObject({ message: { redacted: false } });
        if (failing) throw new Error('bucket unavailable');
      },
    };
    await expect(ingest(del(item.xId))).rejects.toThrow('bucket unavailable');
    expect(store.xItems.get(item.xId)).toMatchObject({ message: { redacted: false } });
    failing = false;
    expect(await ingest(del(item.xId))).toMatchObject({ outcome: 'redacted' });
    expect(removed).toEqual([[stored.key], [stored.key]]);
    const message = (store.xItems.get(item.xId) as { message: Record<string, unknown> }).message;
    expect(message).toMatchObject({ text: '', redacted: true });
    for (const gone of ['attachments', 'links', 'quoted']) expect(message).not.toHaveProperty(gone);
  });
});

describe('attachments from X media', () => {
  it('a media key X sent no entry for becomes an attachment that says so, never a blank link alone', () => {
    const attachment = attachmentFrom({ mediaKey: '3_1990000000000000777', type: 'photo', requiresAuth: false });
    expect(attachment).toMatchObject({ id: 'att-3_1990000000000000777', type: 'photo', url: '', error: { code: 'not_included' } });
  });

  it('media X described keep their address and carry no error', () => {
    const attachment = attachmentFrom({
      mediaKey: '3_1990000000000000778',
      type: 'photo',
      url: 'https://pbs.twimg.com/media/abc.jpg',
      altText: 'the serial number sticker',
      requiresAuth: false,
    });
    expect(attachment).toEqual({
      id: 'att-3_1990000000000000778',
      type: 'photo',
      url: 'https://pbs.twimg.com/media/abc.jpg',
      altText: 'the serial number sticker',
    });
  });
});
