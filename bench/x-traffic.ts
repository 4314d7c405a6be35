// What X sends, at the rates the measurements need: one new customer's mention per delivery (single-event bodies,
// as X sends them), signed with the bridge's consumer secret, POSTed to the bridge's loopback HTTP API.
import { Agent, request } from 'node:http';
import { loadFunctionHandlers, startLocalBridge, type HandlerFactories, type LocalBridge } from '../infra/local/bridge';
import { signedDelivery, xaaMention, type XUserRef } from '../test/support/x-payloads';

/** A customer nobody has seen before in this measurement (X user ids are numeric strings of up to 20 digits). */
export function newCustomer(run: number, index: number): XUserRef {
  const id = String(7_000_000_000_000n + BigInt(run) * 1_000_000n + BigInt(index));
  return { id, username: `bench_${run}_${index}`, name: `Bench Customer ${index}` };
}

/** An X Activity API `post.mention.create` body: a new customer's first mention of the bot. */
export function mentionBody(customer: XUserRef): Record<string, unknown> {
  return xaaMention({ author: customer, createdAt: new Date(), text: '@AcmeSupport my order #A-1234 has not arrived' });
}

/**
 * A new customer's first mention `characters` long. Over 280 it is shaped as X sends a long post: `text` cut at 280
 * with an ellipsis, the whole post in `note_tweet.text` (test/fixtures/x/xaa-post-long-note-tweet.json).
 */
export function longMentionBody(customer: XUserRef, characters: number): Record<string, unknown> {
  const head = '@AcmeSupport my order #A-1234 has not arrived. ';
  const full = (head + 'The tracking page has said label created for days. '.repeat(Math.ceil(characters / 50))).slice(0, characters);
  const body = xaaMention({ author: customer, createdAt: new Date(), text: full }) as { data: { payload: Record<string, unknown> } };
  if (characters > 280) {
    const payload = body.data.payload;
    payload.note_tweet = { text: full };
    payload.text = `${full.slice(0, 279)}…`;
    payload.display_text_range = [0, 280];
  }
  return body;
}

/** The ticket id the bridge gives a customer's first mention ticket (shared/tickets/ticket-id.ts). */
export function firstTicketId(customer: XUserRef): string {
  return `mn-${customer.id}-1`;
}

// One keep-alive connection pool for every POST, sized so 32 concurrent deliveries never wait for a socket. node:http
// rather than fetch: its client costs less CPU per request, and the client shares this process with the server.
const agent = new Agent({ keepAlive: true, maxSockets: 64 });

/** POSTs `body` signed as X signs it; resolves with the status once the answer's body has been read. */
export function postSigned(bridge: LocalBridge, body: unknown): Promise<number> {
  const delivery = signedDelivery(body, bridge.config.x.apiSecret);
  return new Promise((resolveStatus, reject) => {
    const req = request(
      `${bridge.url}/x/webhook`,
      {
        method: 'POST',
        agent,
        headers: { ...delivery.headers, 'content-length': String(delivery.rawBody.length) },
        timeout: 30_000,
      },
      (res) => {
        res.resume();
        res.once('end', () => resolveStatus(res.statusCode ?? 0));
        res.once('error', reject);
      },
    );
    req.once('timeout', () => req.destroy(new Error('webhook POST timed out after 30 s')));
    req.once('error', reject);
    req.end(delivery.rawBody);
  });
}

/** Closes the POST connection pool (end of run). */
export function closeTraffic(): void {
  agent.destroy();
}

/**
 * Runs `total` tasks with at most `concurrency` in flight (a closed loop: each worker starts its next task when the
 * previous one settles). Bounded by `total`; a failing task fails the run.
 */
export async function closedLoop(total: number, concurrency: number, task: (index: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, total) }, async () => {
      while (next < total) await task(next++);
    }),
  );
}

export type BenchBridgeOptions = {
  endpoints: { dynamodbEndpoint: string; sqsEndpoint: string };
  prefix: string;
  handlers: HandlerFactories;
  env?: Record<string, string>;
  sqsConcurrency?: number;
};

/** A bridge on the run's shared services under its own names; "not wired" warnings are expected and not shown. */
export async function startBenchBridge(options: BenchBridgeOptions): Promise<LocalBridge> {
  return startLocalBridge({
    port: 0,
    inMemory: true,
    prefix: options.prefix,
    emulators: options.endpoints,
    handlers: options.handlers,
    env: options.env,
    ...(options.sqsConcurrency ? { sqsConcurrency: options.sqsConcurrency } : {}),
    log: (message, error) => {
      if (/is not wired/.test(message)) return;
      process.stderr.write(`[bridge ${options.prefix}] ${message} ${error ? String((error as Error).message ?? error) : ''}\n`);
    },
  });
}

/** The real functions' factories (loaded once). */
let loaded: Promise<HandlerFactories> | undefined;
export function realFunctions(): Promise<HandlerFactories> {
  loaded ??= loadFunctionHandlers((m) => process.stderr.write(`${m}\n`));
  return loaded;
}
