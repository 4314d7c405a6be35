// The local console's page: an honest client of the helpdesk contract. Tickets are read and changed only through the
// API, with openapi-fetch typed by contract/openapi.d.ts (generated from contract/openapi.json), so a drift between
// the document and this code fails the type-check; events come from the runner's local feed and their signatures are
// checked here with the Standard Webhooks library, as a helpdesk checks them. No framework: a few DOM helpers.
import createClient from 'openapi-fetch';
import { Webhook } from 'standardwebhooks';
import type { components, paths } from '../../../../contract/openapi';
import { composeReplyText } from '../../../../shared/replies/handoff';
import { planPost } from '../../../../shared/replies/post-text';
import { splitThread } from '../../../../shared/replies/split';
import { weightedLength } from '../../../../shared/x/weighted-length';

type Ticket = components['schemas']['Ticket'];
type TicketView = components['schemas']['TicketView'];
type Message = components['schemas']['Message'];
type Reply = components['schemas']['Reply'];
type Status = Ticket['status'];
type Attempt = { at: string; url: string; headers: Record<string, string>; body: string; status: number; error?: string };
type Delivery = { webhookId: string; type: string; ticketId?: string; sequence?: number; attempts: Attempt[] };
type Session = { brand: string; bot: { id: string; username: string }; apiToken: string; webhookSecrets: string[]; helpdeskAnswers: number };

type Child = Node | string | null | undefined | false;
function h(tag: string, attrs: Record<string, string | boolean | ((event: Event) => void)> = {}, ...children: Child[]): HTMLElement {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (typeof value === 'function') element.addEventListener(name.slice(2), value);
    else if (value === true) element.setAttribute(name, '');
    else if (value !== false) element.setAttribute(name, value);
  }
  for (const child of children) if (child !== null && child !== undefined && child !== false) element.append(child);
  return element;
}
const time = (iso: string) => new Date(iso).toLocaleString();

const state = {
  view: 'inbox' as 'inbox' | 'events',
  status: 'open' as Status | 'all',
  tickets: [] as Ticket[],
  selected: undefined as string | undefined,
  ticket: undefined as TicketView | undefined,
  deliveries: new Map<string, Delivery>(),
  /** Each attempt's signature check, made when the attempt arrived (Standard Webhooks refuses old timestamps). */
  verified: new Map<string, string>(),
  notice: '',
  dlq: undefined as { count: number; lines: string[] } | undefined,
  /** The reply form's options, kept across renders like its draft. */
  replySplit: false,
  replyHandoff: false,
  replyAttachments: [{ url: '', altText: '' }],
};

const session = (await (await fetch('/console/session')).json()) as Session;
const api = createClient<paths>({ baseUrl: location.origin, headers: { authorization: `Bearer ${session.apiToken}` } });
const webhook = new Webhook(session.webhookSecrets[0] ?? '');
const app = document.getElementById('app') as HTMLElement;

async function loadTickets(): Promise<void> {
  const { data, error } = await api.GET('/tickets', { params: { query: { limit: 100, ...(state.status === 'all' ? {} : { status: state.status }) } } });
  if (error || !data) {
    state.notice = `GET /tickets: ${error?.error.message ?? 'no answer'}`;
    return;
  }
  state.tickets = [...data.tickets].sort((a, b) => b.updatedAt.localeCompare(a.updatedAt));
}

async function loadTicket(): Promise<void> {
  if (!state.selected) return;
  const { data, error } = await api.GET('/tickets/{ticketId}', { params: { path: { ticketId: state.selected } } });
  if (error) state.notice = `GET /tickets/${state.selected}: ${error.error.message}`;
  else state.ticket = data;
}

/** A 422's code and message as the API gave them, with what it measured (a too_long's `parts` as a thread). */
function refusalText(status: number, error: { code: string; message: string; [k: string]: unknown }): string {
  const parts = typeof error.parts === 'number' ? ` (as a thread: ${error.parts} parts)` : '';
  return `reply refused (${status} ${error.code}): ${error.message}${parts}`;
}

async function simulate(body: Record<string, unknown>): Promise<void> {
  const response = await fetch('/console/simulate', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const result = (await response.json()) as { status?: number; xId?: string; error?: string };
  state.notice = result.error ? `simulate: ${result.error}` : `simulated ${String(body.kind)}: X post ${result.xId ?? ''} (webhook answered ${result.status})`;
  render();
}

function renderMessage(message: Message, ticket: TicketView): HTMLElement {
  const outbound = message.direction === 'outbound';
  const body = message.redacted
    ? h('p', { class: 'redacted' }, 'Redacted: the author deleted this on X.')
    : h('p', {}, message.text || (message.notice ?? ''));
  const item = h(
    'li',
    { class: `msg ${message.direction}`, 'data-x-id': message.xId },
    h('div', { class: 'meta' }, `${outbound ? 'brand' : `@${message.author.username}`} · ${time(message.createdAt)} · X ${message.xId}`),
    body,
    message.attachments.length > 0 &&
      h(
        'div',
        {},
        ...message.attachments.map((a) =>
          a.type === 'photo' ? h('img', { class: 'thumb', src: a.previewUrl ?? a.url, alt: a.altText ?? 'photo' }) : h('a', { href: a.url }, `${a.type}`),
        ),
      ),
    message.links.length > 0 && h('ul', { class: 'meta' }, ...message.links.map((l) => h('li', {}, h('a', { href: l.expandedUrl }, l.displayUrl), ` (${l.url})`))),
    message.quoted && h('blockquote', { class: 'meta' }, `quoting ${message.quoted.author ? `@${message.quoted.author.username}` : ''}: ${message.quoted.text ?? message.quoted.xId}`),
    message.editHistory && h('p', { class: 'meta' }, `edited: versions ${message.editHistory.join(' → ')}`),
  );
  if (!outbound && !message.redacted) {
    item.append(
      h(
        'div',
        {},
        ticket.ticket.channel === 'mention' &&
          h('button', { type: 'button', onclick: () => void simulate({ kind: 'reply', xId: message.xId, text: 'still waiting, any news?' }) }, 'simulate a customer reply'),
        ticket.ticket.channel === 'mention' &&
          h('button', { type: 'button', onclick: () => void simulate({ kind: 'edit', xId: message.xId, text: `${message.text} (edited)` }) }, 'simulate an edit'),
        h('button', { type: 'button', onclick: () => void simulate({ kind: 'delete', xId: message.xId }) }, 'simulate a delete'),
      ),
    );
  }
  return item;
}

function renderReply(reply: Reply): HTMLElement {
  return h(
    'li',
    { class: 'msg outbound', 'data-reply-id': reply.id },
    h(
      'div',
      { class: 'meta' },
      'reply · ',
      h('span', { class: reply.status === 'failed' ? 'bad' : reply.status === 'posted' ? 'ok' : '', 'data-reply-status': reply.status }, reply.status),
      reply.xId ? ` · X ${reply.xId}` : '',
      reply.xIds && reply.xIds.length > 1 ? ` · X ${reply.xIds.join(', ')}` : '',
    ),
    reply.parts && reply.parts.length > 1
      ? h(
          'ol',
          { class: 'plain', 'aria-label': `Thread of ${reply.parts.length} posts` },
          ...reply.parts.map((part, i) =>
            h('li', { class: 'split', 'data-part': String(i + 1) }, h('span', { class: 'meta' }, reply.xIds?.[i] ? `X ${reply.xIds[i]} · ` : 'not posted · '), part),
          ),
        )
      : h('p', {}, reply.text),
    reply.error && h('p', { class: 'bad' }, `${reply.error.code}: ${reply.error.message}`),
  );
}

/** The request's `attachments`: files the bridge fetches by https URL and uploads with their alt text (X: 4 on a post, 1 on a DM). */
function renderAttachmentFields(max: number): HTMLElement {
  const rows = state.replyAttachments.slice(0, max);
  return h(
    'fieldset',
    {},
    h('legend', {}, 'Attachments by URL (optional)'),
    ...rows.map((row, i) =>
      h(
        'div',
        {},
        h('label', { for: `reply-att-url-${i}` }, `Attachment ${i + 1}: https URL`),
        h('input', { id: `reply-att-url-${i}`, type: 'url', value: row.url, oninput: (e: Event) => (row.url = (e.target as HTMLInputElement).value) }),
        h('label', { for: `reply-att-alt-${i}` }, `Attachment ${i + 1}: alt text`),
        h('input', { id: `reply-att-alt-${i}`, type: 'text', maxlength: '1000', value: row.altText, oninput: (e: Event) => (row.altText = (e.target as HTMLInputElement).value) }),
      ),
    ),
    rows.length < max &&
      h(
        'button',
        {
          type: 'button',
          onclick: () => {
            state.replyAttachments.push({ url: '', altText: '' });
            render();
            document.getElementById(`reply-att-url-${state.replyAttachments.length - 1}`)?.focus();
          },
        },
        'Add an attachment',
      ),
  );
}

function renderConversation(): HTMLElement {
  const view = state.ticket;
  if (!view) return h('section', { 'aria-label': 'Conversation' }, h('p', {}, 'Choose a ticket, or simulate a mention.'));
  const { ticket } = view;
  const counter = h('p', { id: 'reply-count', 'aria-live': 'polite' });
  const preview = h('div', { id: 'split-preview' });
  const textarea = h('textarea', { id: 'reply-text', name: 'text', required: true, 'aria-describedby': 'reply-count' }) as HTMLTextAreaElement;
  // Mention tickets: the request's `split` and `handoff` as contract/openapi.json has them.
  const split = h('input', { id: 'reply-split', type: 'checkbox', checked: state.replySplit, 'aria-describedby': 'split-preview' }) as HTMLInputElement;
  const handoff = h('input', { id: 'reply-handoff', type: 'checkbox', checked: state.replyHandoff, 'aria-describedby': 'reply-count' }) as HTMLInputElement;
  const update = () => {
    state.replySplit = split.checked;
    state.replyHandoff = handoff.checked;
    if (ticket.channel === 'dm') {
      counter.textContent = `${[...textarea.value.normalize('NFC')].length} / 10000 characters (a DM)`;
      return;
    }
    // The text the API will post (shared/replies/handoff.ts), measured and planned by the API's own code.
    const text = composeReplyText(textarea.value, handoff.checked ? 'dm' : undefined, { xUserId: session.bot.id });
    const measured = weightedLength(text);
    const over = measured.weightedLength > measured.max;
    const plan = text.trim() ? planPost(text, split.checked) : {};
    const refusal = 'refusal' in plan ? plan.refusal : undefined;
    counter.className = refusal ? 'bad' : '';
    counter.textContent =
      `${measured.weightedLength} / ${measured.max} as X counts` +
      (handoff.checked ? ' (with the DM hand-off link, 23)' : '') +
      (refusal ? `: the API would refuse this (422 ${refusal.code})` : over ? `: posted as a thread` : '');
    preview.replaceChildren();
    if (over) {
      // The parts the API posts with split (shared/replies/split.ts); without it, what split would make.
      const parts = 'parts' in plan && plan.parts ? plan.parts : splitThread(text);
      preview.append(
        h('p', { class: 'meta' }, split.checked ? `Thread: ${parts.length} posts` : `Split preview: ${parts.length} posts with "Post as a thread"`),
        ...parts.map((part, i) => h('div', { class: 'split' }, h('span', { class: 'meta' }, `${i + 1}/${parts.length} · ${weightedLength(part).weightedLength} `), part)),
      );
    }
  };
  for (const input of [textarea, split, handoff]) input.addEventListener(input === textarea ? 'input' : 'change', update);
  update();
  // The request's fields as contract/openapi.json has them: a mention's reply may name the post it goes under.
  const under = h(
    'select',
    { id: 'reply-under' },
    h('option', { value: '' }, 'the latest post that summoned the brand (default)'),
    ...view.messages.filter((m) => m.direction === 'inbound' && !m.redacted).map((m) => h('option', { value: m.id }, `${m.text.slice(0, 60)} (X ${m.xId})`)),
  ) as HTMLSelectElement;
  const form = h(
    'form',
    {
      onsubmit: (event: Event) => {
        event.preventDefault();
        const attachments = state.replyAttachments
          .filter((a) => a.url.trim())
          .map((a) => ({ url: a.url.trim(), ...(a.altText.trim() ? { altText: a.altText } : {}) }));
        void (async () => {
          const { error, response } = await api.POST('/tickets/{ticketId}/replies', {
            params: { path: { ticketId: ticket.id }, header: { 'Idempotency-Key': crypto.randomUUID() } },
            body: {
              text: textarea.value,
              ...(under.value ? { inReplyToMessageId: under.value } : {}),
              ...(ticket.channel === 'mention' && split.checked ? { split: true } : {}),
              ...(ticket.channel === 'mention' && handoff.checked ? { handoff: 'dm' as const } : {}),
              ...(attachments.length > 0 ? { attachments } : {}),
            },
          });
          state.notice = error ? refusalText(response.status, error.error) : 'reply queued';
          if (!error) {
            textarea.value = '';
            state.replySplit = false;
            state.replyHandoff = false;
            state.replyAttachments = [{ url: '', altText: '' }];
          }
          await loadTicket();
          render();
        })();
      },
    },
    ticket.channel === 'mention' && h('label', { for: 'reply-under' }, 'Reply under'),
    ticket.channel === 'mention' && under,
    h('label', { for: 'reply-text' }, ticket.channel === 'dm' ? 'Reply by DM' : 'Reply on X'),
    textarea,
    ticket.channel === 'mention' && h('div', {}, split, h('label', { for: 'reply-split', style: 'display:inline' }, ' Post as a thread (split)')),
    ticket.channel === 'mention' && h('div', {}, handoff, h('label', { for: 'reply-handoff', style: 'display:inline' }, ' Hand off to DM (adds the link that opens a DM)')),
    counter,
    preview,
    renderAttachmentFields(ticket.channel === 'dm' ? 1 : 4),
    h('button', { type: 'submit', class: 'primary' }, 'Send reply'),
  );
  const statusSelect = h(
    'select',
    {
      id: 'ticket-status',
      onchange: (event: Event) => {
        const status = (event.target as HTMLSelectElement).value as Status;
        void (async () => {
          const { error } = await api.PATCH('/tickets/{ticketId}', { params: { path: { ticketId: ticket.id } }, body: { status } });
          state.notice = error ? `status refused: ${error.error.message}` : `status set to ${status}`;
          await Promise.all([loadTicket(), loadTickets()]);
          render();
        })();
      },
    },
    ...(['open', 'pending', 'solved'] as const).map((s) => h('option', { value: s, selected: s === ticket.status }, s)),
  );
  return h(
    'section',
    { 'aria-label': 'Conversation' },
    h('h2', {}, `${ticket.customer.name} (@${ticket.customer.username}) · ${ticket.channel}`),
    h('p', { class: 'meta' }, `${ticket.id} · sequence ${ticket.sequence}`),
    h('label', { for: 'ticket-status' }, 'Status'),
    statusSelect,
    h('ol', { class: 'plain', 'aria-label': 'Messages and replies' }, ...view.messages.map((m) => renderMessage(m, view)), ...view.replies.map(renderReply)),
    form,
  );
}

function renderInbox(): HTMLElement[] {
  const filter = h(
    'select',
    {
      id: 'status-filter',
      onchange: (event: Event) => {
        state.status = (event.target as HTMLSelectElement).value as Status | 'all';
        void loadTickets().then(render);
      },
    },
    ...(['open', 'pending', 'solved', 'all'] as const).map((s) => h('option', { value: s, selected: s === state.status }, s)),
  );
  const mentionText = h('input', { id: 'sim-text', type: 'text', value: 'my order #A-1234 never arrived' }) as HTMLInputElement;
  const photo = h('input', { id: 'sim-photo', type: 'checkbox' }) as HTMLInputElement;
  const list = h(
    'section',
    { 'aria-label': 'Inbox' },
    h('h2', {}, 'Simulate a customer'),
    h('label', { for: 'sim-text' }, 'What they write'),
    mentionText,
    h('div', {}, photo, h('label', { for: 'sim-photo', style: 'display:inline' }, ' with a photo')),
    h('button', { type: 'button', onclick: () => void simulate({ kind: 'mention', text: mentionText.value, photo: photo.checked }) }, 'Simulate a mention'),
    h('button', { type: 'button', onclick: () => void simulate({ kind: 'dm', text: mentionText.value }) }, 'Simulate a DM'),
    h('h2', {}, 'Tickets'),
    h('label', { for: 'status-filter' }, 'Status'),
    filter,
    h(
      'ul',
      { class: 'plain', id: 'tickets', 'aria-label': 'Tickets, most recently updated first' },
      ...state.tickets.map((t) =>
        h(
          'li',
          {},
          h(
            'button',
            {
              type: 'button',
              class: 'ticket',
              'aria-current': t.id === state.selected ? 'true' : 'false',
              'data-ticket-id': t.id,
              onclick: () => {
                state.selected = t.id;
                void loadTicket().then(render);
              },
            },
            h('strong', {}, `${t.customer.name} `),
            h('span', { class: 'meta' }, `@${t.customer.username} · ${t.channel} · ${t.status}`),
            h(
              'div',
              { class: 'meta' },
              `updated ${time(t.updatedAt)}`,
              t.source ? ` · source ${t.source}` : '',
              t.priority ? ` · priority ${t.priority}` : '',
              ' ',
              ...(t.tags ?? []).map((tag) => h('span', { class: 'tag' }, tag)),
            ),
          ),
        ),
      ),
    ),
    state.tickets.length === 0 && h('p', {}, 'No tickets with this status yet.'),
  );
  return [list, renderConversation()];
}

function verdict(attempt: Attempt): string {
  const key = `${attempt.headers['webhook-id']} ${attempt.headers['webhook-timestamp']}`;
  let result = state.verified.get(key);
  if (!result) {
    try {
      webhook.verify(attempt.body, attempt.headers);
      result = 'verified (standardwebhooks)';
    } catch (error) {
      result = `not verified: ${(error as Error).message}`;
    }
    state.verified.set(key, result);
  }
  return result;
}

function renderEvents(): HTMLElement[] {
  const deliveries = [...state.deliveries.values()].reverse();
  const dlq = h(
    'section',
    { 'aria-label': 'Dead-letter queue' },
    h('h2', {}, 'Dead-letter queue (notify-retry)'),
    h(
      'button',
      {
        type: 'button',
        onclick: () =>
          void fetch('/console/dlq')
            .then((r) => r.json())
            .then((d: { count: number; lines: string[] }) => ((state.dlq = d), render())),
      },
      'Look at the DLQ',
    ),
    h(
      'button',
      {
        type: 'button',
        onclick: () =>
          void fetch('/console/dlq/redrive', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })
            .then((r) => r.json())
            .then((d: { moved: number }) => ((state.notice = `redrive: ${d.moved} event(s) sent again`), (state.dlq = undefined), render())),
      },
      'Redrive the DLQ',
    ),
    state.dlq && h('pre', {}, [`${state.dlq.count} event(s) parked`, ...state.dlq.lines].join('\n')),
    h('label', { for: 'helpdesk-answers' }, "The console's helpdesk answers"),
    h(
      'select',
      {
        id: 'helpdesk-answers',
        onchange: (event: Event) =>
          void fetch('/console/helpdesk', {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ status: Number((event.target as HTMLSelectElement).value) }),
          }).then(() => ((session.helpdeskAnswers = Number((event.target as HTMLSelectElement).value)), render())),
      },
      ...[204, 500, 410].map((s) => h('option', { value: String(s), selected: s === session.helpdeskAnswers }, String(s))),
    ),
  );
  const list = h(
    'section',
    { 'aria-label': 'Events' },
    h('h2', {}, `Events sent to the helpdesk (${deliveries.length})`),
    ...deliveries.map((d) =>
      h(
        'details',
        { 'data-webhook-id': d.webhookId },
        h(
          'summary',
          {},
          `${d.type} · ${d.webhookId}${d.sequence !== undefined ? ` · sequence ${d.sequence}` : ''} · `,
          h('span', { class: d.attempts.at(-1)?.status && d.attempts.at(-1)!.status < 300 ? 'ok' : 'bad' }, `${d.attempts.length} attempt(s), last ${d.attempts.at(-1)?.status || d.attempts.at(-1)?.error}`),
        ),
        h(
          'table',
          {},
          h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'sent'), h('th', { scope: 'col' }, 'helpdesk answered'), h('th', { scope: 'col' }, 'signature'))),
          h(
            'tbody',
            {},
            ...d.attempts.map((a) =>
              h('tr', {}, h('td', {}, time(a.at)), h('td', {}, a.status ? String(a.status) : (a.error ?? 'no answer')), h('td', { 'data-signature': '' }, verdict(a))),
            ),
          ),
        ),
        h('pre', { tabindex: '0', 'aria-label': 'Headers of the last attempt' }, ['webhook-id', 'webhook-timestamp', 'webhook-signature'].map((n) => `${n}: ${d.attempts.at(-1)?.headers[n] ?? ''}`).join('\n')),
        h('pre', { tabindex: '0', 'aria-label': 'Body' }, JSON.stringify(JSON.parse(d.attempts.at(-1)?.body ?? '{}'), null, 2)),
      ),
    ),
  );
  return [dlq, list];
}

function render(): void {
  const open = new Set([...document.querySelectorAll('details[open]')].map((d) => d.getAttribute('data-webhook-id')));
  const focusedId = document.activeElement?.id;
  const draft = (document.getElementById('reply-text') as HTMLTextAreaElement | null)?.value;
  const underDraft = (document.getElementById('reply-under') as HTMLSelectElement | null)?.value;
  const nav = h(
    'nav',
    { 'aria-label': 'Views' },
    ...(['inbox', 'events'] as const).map((v) =>
      h('a', { href: `#${v}`, 'aria-current': state.view === v ? 'page' : 'false' }, v === 'inbox' ? 'Inbox' : 'Events'),
    ),
  );
  app.replaceChildren(
    h('header', {}, h('h1', {}, `Support Bridge console · ${session.brand} · @${session.bot.username}`), nav, h('p', { role: 'status', id: 'notice' }, state.notice)),
    h('main', {}, ...(state.view === 'inbox' ? renderInbox() : renderEvents())),
  );
  for (const d of document.querySelectorAll('details')) if (open.has(d.getAttribute('data-webhook-id'))) d.setAttribute('open', '');
  const textarea = document.getElementById('reply-text') as HTMLTextAreaElement | null;
  if (textarea && draft !== undefined) {
    textarea.value = draft;
    textarea.dispatchEvent(new Event('input'));
  }
  const under = document.getElementById('reply-under') as HTMLSelectElement | null;
  if (under && underDraft && [...under.options].some((o) => o.value === underDraft)) under.value = underDraft;
  if (focusedId) document.getElementById(focusedId)?.focus();
}

let refresh: ReturnType<typeof setTimeout> | undefined;
const feed = new EventSource('/console/feed');
feed.addEventListener('delivery', (event) => {
  const delivery = JSON.parse((event as MessageEvent<string>).data) as Delivery;
  state.deliveries.set(delivery.webhookId, delivery);
  for (const attempt of delivery.attempts) verdict(attempt);
  // A ticket event means the API has something new: read it again, once per burst.
  clearTimeout(refresh);
  refresh = setTimeout(() => {
    void Promise.all([loadTickets(), delivery.ticketId === state.selected ? loadTicket() : undefined]).then(render);
  }, 50);
});

window.addEventListener('hashchange', () => {
  state.view = location.hash === '#events' ? 'events' : 'inbox';
  render();
});
state.view = location.hash === '#events' ? 'events' : 'inbox';
await loadTickets();
render();
