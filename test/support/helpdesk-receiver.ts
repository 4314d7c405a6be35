// A helpdesk on loopback for tests: verifies every request with the reference `standardwebhooks` package (so our
// signing is checked by someone else's code), records what it verified, and answers as the test scripts it.
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

/** One verified request, whatever the receiver answered. */
export type ReceivedEvent = {
  webhookId: string;
  type: string;
  /** The raw body, exactly as received. */
  body: string;
  /** The body parsed. */
  json: { type: string; timestamp: string; data: Record<string, unknown> & { ticket?: { id: string; sequence: number } } };
  headers: Record<string, string>;
  /** 1 for the first request with this webhook-id, 2 for the second, ... */
  attempt: number;
  /** What the receiver answered (0 when the client went away before the answer). */
  status: number;
  receivedAt: Date;
};

/** How to answer one request: a status, optionally after a pause, optionally with headers (Location for 3xx). */
export type ScriptedResponse = number | { status: number; delayMs?: number; headers?: Record<string, string> };

export type HelpdeskReceiver = {
  /** Starts listening on 127.0.0.1 on a free port. */
  start(): Promise<{ url: string }>;
  /** Closes the server and any connection still open. */
  stop(): Promise<void>;
  /** The endpoint URL (after start). */
  readonly url: string;
  /** Every verified request, in arrival order. */
  readonly events: ReceivedEvent[];
  /** Verified requests that were answered 2xx. */
  readonly delivered: ReceivedEvent[];
  /** Requests answered 400 because their signature did not verify. */
  readonly rejected: { headers: Record<string, string>; body: string; error: string }[];
  /** How many verified requests carried this webhook-id. */
  attempts(webhookId: string): number;
  /** Answers the next requests with these, in order, then goes back to the default. */
  respondWith(responses: ScriptedResponse[]): void;
  /** The next `times` requests wait `ms` before answering 204 (for timeouts). */
  hang(ms: number, times?: number): void;
  /** What requests get once the script runs out: 204 unless changed (503 makes the helpdesk "down"). */
  setDefault(response: ScriptedResponse): void;
  /** Forgets recorded requests and the script. */
  reset(): void;
  /** Resolves with the events once `predicate` holds; rejects after `timeoutMs` with what was received. */
  waitFor(predicate: (events: ReceivedEvent[]) => boolean, timeoutMs?: number): Promise<ReceivedEvent[]>;
};

/** A scripted helpdesk that accepts events signed with `secret` (`whsec_…`). */
export function createHelpdeskReceiver(secret: string): HelpdeskReceiver {
  const webhook = new Webhook(secret);
  const events: ReceivedEvent[] = [];
  const rejected: HelpdeskReceiver['rejected'] = [];
  const counts = new Map<string, number>();
  let script: ScriptedResponse[] = [];
  let fallback: ScriptedResponse = 204;
  let server: Server | undefined;
  let url = '';
  const timers = new Set<NodeJS.Timeout>();

  async function readBody(req: IncomingMessage): Promise<string> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  }

  function flatHeaders(req: IncomingMessage): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) out[k] = Array.isArray(v) ? v.join(', ') : v;
    return out;
  }

  return {
    async start() {
      server = createServer((req, res) => {
        void (async () => {
          const body = await readBody(req);
          const headers = flatHeaders(req);
          try {
            webhook.verify(body, headers);
          } catch (error) {
            rejected.push({ headers, body, error: (error as Error).message });
            res.writeHead(400, { 'content-type': 'application/json' }).end('{"error":"bad signature"}');
            return;
          }
          const webhookId = headers['webhook-id']!;
          const attempt = (counts.get(webhookId) ?? 0) + 1;
          counts.set(webhookId, attempt);
          const json = JSON.parse(body) as ReceivedEvent['json'];
          const scripted = script.shift() ?? fallback;
          const step = typeof scripted === 'number' ? { status: scripted } : scripted;
          const record: ReceivedEvent = {
            webhookId,
            type: json.type,
            body,
            json,
            headers,
            attempt,
            status: 0,
            receivedAt: new Date(),
          };
          events.push(record);
          const answer = () => {
            if (res.destroyed || req.socket.destroyed) return;
            record.status = step.status;
            res.writeHead(step.status, step.headers).end();
          };
          if (step.delayMs) {
            const timer = setTimeout(() => {
              timers.delete(timer);
              answer();
            }, step.delayMs);
            timers.add(timer);
          } else {
            answer();
          }
        })();
      });
      server.listen(0, '127.0.0.1');
      await once(server, 'listening');
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/tickets`;
      return { url };
    },
    async stop() {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      if (!server) return;
      const closing = server;
      server = undefined;
      closing.closeAllConnections();
      await new Promise<void>((resolve) => closing.close(() => resolve()));
    },
    get url() {
      return url;
    },
    events,
    get delivered() {
      return events.filter((e) => e.status >= 200 && e.status < 300);
    },
    rejected,
    attempts: (webhookId) => counts.get(webhookId) ?? 0,
    respondWith(responses) {
      script.push(...responses);
    },
    hang(ms, times = 1) {
      for (let i = 0; i < times; i++) script.push({ status: 204, delayMs: ms });
    },
    setDefault(response) {
      fallback = response;
    },
    reset() {
      events.length = 0;
      rejected.length = 0;
      counts.clear();
      script = [];
      fallback = 204;
    },
    async waitFor(predicate, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (!predicate(events)) {
        if (Date.now() > deadline) {
          const seen = events.map((e) => `${e.webhookId} ${e.type} #${e.attempt} → ${e.status}`).join('; ') || 'nothing';
          throw new Error(`helpdesk receiver: condition not met within ${timeoutMs} ms; received: ${seen}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      return events;
    },
  };
}
