// The local console's server part (`npm start` only, never in the stack): the page at /console, a one-time login link,
// and a local event feed (server-sent events) of every delivery notify made or tried. The page itself reads and
// changes tickets only through the helpdesk API, with the client generated from contract/openapi.json.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { build } from 'esbuild';
import { Webhook } from 'standardwebhooks';
import { signWebhookBody } from '../../../shared/x/signature';
import { memoryOutput } from '../../ops/cli-support';
import { peekCommand, redriveCommand } from '../../ops/dlq-commands';
import { nextXId, xaaDelete, xaaDm, xaaMention, xaaReply, type XUserRef } from '../../../test/support/x-payloads';
import type { LocalRoute } from '../http-server';

export const CONSOLE_PATH = '/console';
/**
 * Where notify sends events when HELPDESK_WEBHOOK_URL is not set and the console runs: a name under `.localhost`
 * (never resolved off this machine) that the console's fetch answers in process, as a helpdesk would.
 */
export const CONSOLE_HELPDESK_URL = 'http://helpdesk.console.localhost/events';

/** One POST notify made (or tried) for an event, as the helpdesk saw it. */
export type ConsoleAttempt = {
  at: string;
  url: string;
  headers: Record<string, string>;
  body: string;
  /** The helpdesk's HTTP status; 0 when no answer came (network error, timeout). */
  status: number;
  error?: string;
};

/** An event notify delivered or tried to deliver, with each attempt. */
export type ConsoleDelivery = { webhookId: string; type: string; ticketId?: string; sequence?: number; attempts: ConsoleAttempt[] };

export type LocalConsoleOptions = {
  brand: string;
  bot: { id: string; username: string };
  apiToken: string;
  /** The Standard Webhooks secrets the page verifies signatures with (new first during a rotation). */
  webhookSecrets: string[];
  /** X's consumer secret: simulated webhooks are signed with it as X signs them. */
  xApiSecret: string;
  /** The runner's own URL, known once HTTP listens. */
  baseUrl: () => string;
  sqs: SQSClient;
  fetch?: typeof globalThis.fetch;
  print?: (text: string) => void;
};

export type LocalConsole = {
  route: LocalRoute;
  /** The link that opens the console signed in (printed at start); its token works for this run only. */
  loginUrl(): string;
  /** The fetch notify delivers with: it records each attempt and answers for the console's own helpdesk. */
  fetch: typeof globalThis.fetch;
  /** Closes the open feeds (their connections would keep the HTTP server from stopping). */
  stop(): void;
};

const MAX_DELIVERIES = 500;
const COOKIE = 'sb_console';

/** Answers the console's paths: the page, its script, the session, the feed, simulate and the notify DLQ. */
export function createLocalConsole(options: LocalConsoleOptions): LocalConsole {
  const realFetch = options.fetch ?? globalThis.fetch;
  const print = options.print ?? ((text: string) => console.log(text));
  const loginToken = randomBytes(24).toString('base64url');
  const sessions = new Set<string>();
  const deliveries = new Map<string, ConsoleDelivery>();
  const feeds = new Set<ServerResponse>();
  let helpdeskAnswers = 204;
  let script: Promise<string> | undefined;

  const publish = (delivery: ConsoleDelivery) => {
    const frame = `event: delivery\ndata: ${JSON.stringify(delivery)}\n\n`;
    for (const feed of feeds) feed.write(frame);
  };

  const record = (attempt: ConsoleAttempt) => {
    const webhookId = attempt.headers['webhook-id'] ?? 'unknown';
    let delivery = deliveries.get(webhookId);
    if (!delivery) {
      let parsed: { type?: string; data?: { ticket?: { id?: string; sequence?: number }; channel?: { sequence?: number } } } = {};
      try {
        parsed = JSON.parse(attempt.body) as typeof parsed;
      } catch {
        // a body that is not JSON is still shown as sent
      }
      delivery = {
        webhookId,
        type: parsed.type ?? 'unknown',
        ...(parsed.data?.ticket?.id ? { ticketId: parsed.data.ticket.id } : {}),
        ...(parsed.data?.ticket?.sequence ?? parsed.data?.channel?.sequence) !== undefined
          ? { sequence: parsed.data?.ticket?.sequence ?? parsed.data?.channel?.sequence }
          : {},
        attempts: [],
      };
      deliveries.set(webhookId, delivery);
      if (deliveries.size > MAX_DELIVERIES) deliveries.delete(deliveries.keys().next().value as string);
    }
    delivery.attempts.push(attempt);
    publish(delivery);
  };

  /** The console's own helpdesk: checks the signature with the Standard Webhooks library, prints, answers. */
  const builtInHelpdesk = (headers: Record<string, string>, body: string): Response => {
    let verdict = 'signature verified';
    try {
      new Webhook(options.webhookSecrets[0] ?? '').verify(body, headers);
    } catch (error) {
      verdict = `signature REFUSED: ${(error as Error).message}`;
    }
    let type = 'unknown';
    try {
      type = (JSON.parse(body) as { type?: string }).type ?? type;
    } catch {
      // printed as received
    }
    print(`helpdesk event ${type} webhook-id=${headers['webhook-id']} (${verdict}; the console's helpdesk answered ${helpdeskAnswers})\n${body}`);
    return new Response(null, { status: helpdeskAnswers });
  };

  const notifyFetch: typeof globalThis.fetch = async (input, init) => {
    const url = input instanceof Request ? input.url : String(input);
    const headers: Record<string, string> = {};
    new Headers(init?.headers).forEach((value, name) => (headers[name] = value));
    const body = typeof init?.body === 'string' ? init.body : '';
    const at = new Date().toISOString();
    try {
      const response = url === CONSOLE_HELPDESK_URL ? builtInHelpdesk(headers, body) : await realFetch(input, init);
      record({ at, url, headers, body, status: response.status });
      return response;
    } catch (error) {
      const cause = (error as Error).cause as { code?: string } | undefined;
      record({ at, url, headers, body, status: 0, error: cause?.code ?? (error as Error).name ?? String(error) });
      throw error;
    }
  };

  const signedIn = (req: IncomingMessage) => {
    const cookies = (req.headers.cookie ?? '').split(';').map((c) => c.trim());
    const value = cookies.find((c) => c.startsWith(`${COOKIE}=`))?.slice(COOKIE.length + 1);
    return value !== undefined && sessions.has(value);
  };

  const json = (res: ServerResponse, status: number, body: unknown) =>
    res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(body));

  const readJson = async (req: IncomingMessage): Promise<Record<string, unknown>> => {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size > 64 * 1024) throw new Error('body too large');
      chunks.push(chunk as Buffer);
    }
    const value = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as unknown;
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
  };

  const bundle = () =>
    (script ??= build({
      entryPoints: [join(import.meta.dirname, 'client', 'main.ts')],
      bundle: true,
      write: false,
      format: 'esm',
      platform: 'browser',
      target: 'es2022',
      minify: true,
      legalComments: 'none',
    }).then((result) => result.outputFiles[0]?.text ?? ''));

  const simulate = async (input: Record<string, unknown>) => {
    const bot: XUserRef = { id: options.bot.id, username: options.bot.username, name: 'Support' };
    const text = typeof input.text === 'string' ? input.text.slice(0, 1000) : '';
    const target = typeof input.xId === 'string' && /^\d{1,20}$/.test(input.xId) ? input.xId : undefined;
    const common = { forUserId: bot.id, knownUsers: [bot], createdAt: new Date() };
    const id = nextXId();
    let body: Record<string, unknown>;
    switch (input.kind) {
      case 'mention': {
        const typed = new RegExp(`@${bot.username}\\b`, 'i').test(text) ? text : `@${bot.username} ${text || 'my order is late'}`;
        body = xaaMention({ ...common, id, text: typed, media: input.photo === true ? [{ type: 'photo', altText: 'a photo from the console' }] : [] });
        break;
      }
      case 'dm':
        body = xaaDm({ text: text || 'hi, I need help with my order', recipient: bot, forUserId: bot.id, createdAt: new Date() });
        break;
      case 'reply':
        if (!target) return { status: 400, error: 'reply needs xId, the post it answers' };
        body = xaaReply({ ...common, id, text: text || 'still waiting, any news?', inReplyTo: { id: target, user: bot } });
        break;
      case 'edit':
        if (!target) return { status: 400, error: 'edit needs xId, the post edited' };
        // X sends an edit as a new post whose edit history lists the earlier versions (x-payloads' editOf).
        body = xaaMention({ ...common, id, text: new RegExp(`@${bot.username}\\b`, 'i').test(text) ? text : `@${bot.username} ${text}`, editOf: [target] });
        break;
      case 'delete':
        if (!target) return { status: 400, error: 'delete needs xId, the post deleted' };
        body = xaaDelete({ id: target, forUserId: bot.id });
        break;
      default:
        return { status: 400, error: 'kind must be mention, dm, reply, edit or delete' };
    }
    const raw = Buffer.from(JSON.stringify(body), 'utf8');
    const response = await realFetch(`${options.baseUrl()}/x/webhook`, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8', 'x-twitter-webhooks-signature': signWebhookBody(options.xApiSecret, raw) },
      body: raw,
    });
    await response.arrayBuffer();
    return { status: response.status, xId: input.kind === 'delete' ? target : id };
  };

  const dlqContext = () => {
    const out = memoryOutput();
    return { out, ctx: { sqs: options.sqs, out, brand: options.brand, where: 'the local SQS emulator', local: true } };
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname.replace(/\/+$/, '') || '/';
    const method = req.method ?? 'GET';

    if (path === `${CONSOLE_PATH}/login`) {
      const given = Buffer.from(url.searchParams.get('token') ?? '');
      const expected = Buffer.from(loginToken);
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
        res.writeHead(403, { 'content-type': 'text/plain' }).end('This login link is not the one `npm start` printed for this run.\n');
        return;
      }
      const session = randomBytes(24).toString('base64url');
      sessions.add(session);
      res
        .writeHead(303, { location: `${CONSOLE_PATH}/`, 'set-cookie': `${COOKIE}=${session}; Path=${CONSOLE_PATH}; HttpOnly; SameSite=Strict` })
        .end();
      return;
    }
    if (!signedIn(req)) {
      res
        .writeHead(401, { 'content-type': 'text/plain; charset=utf-8' })
        .end('Open the console with the login link `npm start` printed (http://127.0.0.1:<port>/console/login?token=...).\n');
      return;
    }
    // Changes come only from the page (SameSite=Strict cookie) and as JSON, which a form on another site cannot send.
    if (method === 'POST' && !(req.headers['content-type'] ?? '').startsWith('application/json')) {
      json(res, 415, { error: 'JSON only' });
      return;
    }

    if (path === CONSOLE_PATH && method === 'GET') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(PAGE);
      return;
    }
    if (path === `${CONSOLE_PATH}/app.js` && method === 'GET') {
      res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'no-store' }).end(await bundle());
      return;
    }
    if (path === `${CONSOLE_PATH}/session` && method === 'GET') {
      json(res, 200, { brand: options.brand, bot: options.bot, apiToken: options.apiToken, webhookSecrets: options.webhookSecrets, helpdeskAnswers });
      return;
    }
    if (path === `${CONSOLE_PATH}/feed` && method === 'GET') {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
      for (const delivery of deliveries.values()) res.write(`event: delivery\ndata: ${JSON.stringify(delivery)}\n\n`);
      res.write(': ready\n\n');
      feeds.add(res);
      req.on('close', () => feeds.delete(res));
      return;
    }
    if (path === `${CONSOLE_PATH}/simulate` && method === 'POST') {
      const result = await simulate(await readJson(req));
      json(res, 'error' in result ? 400 : 200, result);
      return;
    }
    if (path === `${CONSOLE_PATH}/helpdesk` && method === 'POST') {
      const status = Number((await readJson(req)).status);
      if (!Number.isInteger(status) || status < 200 || status > 599) {
        json(res, 400, { error: 'status must be an HTTP status' });
        return;
      }
      helpdeskAnswers = status;
      json(res, 200, { helpdeskAnswers });
      return;
    }
    if (path === `${CONSOLE_PATH}/dlq` && method === 'GET') {
      const { out, ctx } = dlqContext();
      const count = await peekCommand(ctx, 'notify-retry', { max: 20 });
      json(res, 200, { count, lines: out.lines, errors: out.errors });
      return;
    }
    if (path === `${CONSOLE_PATH}/dlq/redrive` && method === 'POST') {
      const { out, ctx } = dlqContext();
      const report = await redriveCommand(ctx, 'notify-retry');
      json(res, 200, { ...report, lines: out.lines, errors: out.errors });
      return;
    }
    json(res, 404, { error: 'not found' });
  }

  return {
    route: {
      pathPrefix: CONSOLE_PATH,
      handle: (req, res) =>
        handle(req, res).catch((error: unknown) => {
          if (!res.headersSent) json(res, 500, { error: (error as Error).message });
          else res.end();
        }),
    },
    loginUrl: () => `${options.baseUrl()}${CONSOLE_PATH}/login?token=${loginToken}`,
    fetch: notifyFetch,
    stop() {
      for (const feed of feeds) feed.end();
      feeds.clear();
    },
  };
}

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Support Bridge console</title>
<style>
:root { color-scheme: light; --fg: #1a1a1a; --muted: #4a4a4a; --line: #c8c8c8; --accent: #0b57d0; --bad: #a50e0e; --ok: #146c2e; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, sans-serif; color: var(--fg); background: #fff; }
header { display: flex; gap: 1rem; align-items: center; padding: .5rem 1rem; border-bottom: 1px solid var(--line); flex-wrap: wrap; }
header h1 { font-size: 1.1rem; margin: 0 1rem 0 0; }
nav a { margin-right: .75rem; color: var(--accent); }
nav a[aria-current="page"] { font-weight: 700; color: var(--fg); }
main { display: grid; grid-template-columns: minmax(16rem, 24rem) 1fr; gap: 1rem; padding: 1rem; }
section { min-width: 0; }
h2 { font-size: 1rem; margin: .25rem 0 .5rem; }
ul.plain { list-style: none; margin: 0; padding: 0; }
.ticket { display: block; width: 100%; text-align: left; padding: .5rem; border: 1px solid var(--line); border-radius: 4px; background: #fff; margin-bottom: .4rem; font: inherit; color: inherit; cursor: pointer; }
.ticket[aria-current="true"] { border-color: var(--accent); outline: 2px solid var(--accent); }
.meta { color: var(--muted); font-size: .85rem; }
.tag { display: inline-block; border: 1px solid var(--line); border-radius: 3px; padding: 0 .3rem; margin-right: .2rem; font-size: .8rem; }
.msg { border-left: 3px solid var(--line); padding: .3rem .6rem; margin: .5rem 0; }
.msg.outbound { border-color: var(--accent); }
.redacted { font-style: italic; color: var(--muted); }
.bad { color: var(--bad); } .ok { color: var(--ok); }
img.thumb { max-width: 120px; max-height: 120px; margin: .25rem .25rem 0 0; border: 1px solid var(--line); }
form { margin: .75rem 0; }
textarea { width: 100%; min-height: 5rem; font: inherit; }
label { display: block; margin: .4rem 0 .1rem; font-weight: 600; }
button { font: inherit; padding: .3rem .7rem; margin: .2rem .2rem .2rem 0; border: 1px solid #555; border-radius: 4px; background: #f3f3f3; color: var(--fg); cursor: pointer; }
button.primary { background: var(--accent); color: #fff; border-color: var(--accent); }
:focus-visible { outline: 3px solid #f9ab00; outline-offset: 2px; }
pre { white-space: pre-wrap; word-break: break-all; background: #f6f6f6; padding: .5rem; font-size: .8rem; max-height: 20rem; overflow: auto; }
table { border-collapse: collapse; width: 100%; font-size: .9rem; }
th, td { border-bottom: 1px solid var(--line); padding: .25rem .4rem; text-align: left; vertical-align: top; }
details { margin: .4rem 0; border: 1px solid var(--line); border-radius: 4px; padding: .3rem .6rem; }
.split { border: 1px dashed var(--line); padding: .3rem .5rem; margin: .3rem 0; }
.sr-only { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }
</style>
</head>
<body>
<div id="app"><p>Loading the console…</p></div>
<script type="module" src="${CONSOLE_PATH}/app.js"></script>
</body>
</html>
`;
