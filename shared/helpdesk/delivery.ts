// Helpdesk adapter: one signed POST of one ticket or channel event (contract §4). It decides only "delivered or try again";
// when to try again is the notify use case's business (shared/helpdesk/notify.ts, shared/helpdesk/backoff.ts).
import type { HelpdeskEvent } from './events';
import { webhookHeaders } from './signing';

/**
 * The outcome of one attempt. `reason` is safe to log: it never holds the body or the secret. `status` is the
 * helpdesk's HTTP status, or 0 when the event was printed to the console instead.
 */
export type DeliveryResult = { ok: true; status: number } | { ok: false; reason: string; status?: number };

export type DeliveryOptions = {
  /** HELPDESK_WEBHOOK_URL; without it events are printed to the console (the local default). */
  endpoint?: string;
  /** The Standard Webhooks secret, `whsec_` + base64; during a rotation the new one and the old one, new first. */
  secret: string | readonly string[];
  fetch: typeof globalThis.fetch;
  now: () => Date;
  /** How long the helpdesk has to answer, headers and body; the contract says 10 s. */
  timeoutMs?: number;
  /** Where the console sink writes; tests capture it. */
  print?: (text: string) => void;
};

/** The timeout the contract gives the helpdesk to answer. */
export const DELIVERY_TIMEOUT_MS = 10_000;

/**
 * POSTs the event as JSON with the Standard Webhooks headers. Only a 2xx answer within the timeout is delivered;
 * anything else (3xx included: redirects are never followed, since the signature was made for this endpoint), a
 * timeout or a network error is `ok: false` and worth retrying. Never throws for the helpdesk's sake.
 */
export async function deliver(event: HelpdeskEvent, options: DeliveryOptions): Promise<DeliveryResult> {
  const body = JSON.stringify(event.body);
  if (!options.endpoint) return printToConsole(event, options.print);
  const timeoutMs = options.timeoutMs ?? DELIVERY_TIMEOUT_MS;
  try {
    const response = await options.fetch(options.endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...webhookHeaders(options.secret, event.webhookId, body, options.now()) },
      body,
      redirect: 'manual',
      // One signal for the whole exchange, so a helpdesk that sends headers and then stalls still times out.
      signal: AbortSignal.timeout(timeoutMs),
    });
    // The answer's body means nothing to us; drain it so the connection can be reused, within the same timeout.
    await response.arrayBuffer().catch(() => undefined);
    if (response.status >= 200 && response.status < 300) return { ok: true, status: response.status };
    const reason =
      response.status >= 300 && response.status < 400
        ? `HTTP ${response.status} redirect not followed`
        : `HTTP ${response.status}`;
    return { ok: false, reason, status: response.status };
  } catch (error) {
    return { ok: false, reason: failureReason(error, timeoutMs) };
  }
}

function failureReason(error: unknown, timeoutMs: number): string {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
    return `timeout after ${timeoutMs} ms`;
  }
  // Node's fetch reports "fetch failed" and keeps the useful part (ECONNREFUSED, ENOTFOUND, ...) in `cause`.
  const cause = error instanceof Error ? (error.cause as { code?: unknown; message?: unknown } | undefined) : undefined;
  const detail = cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : String(error));
  return `network error: ${String(detail)}`;
}

function printToConsole(event: HelpdeskEvent, print?: (text: string) => void): DeliveryResult {
  const { body } = event;
  const subject =
    body.type === 'channel.health_changed'
      ? `channel=${body.data.channel.status} sequence=${body.data.channel.sequence}`
      : `ticket=${body.data.ticket.id} sequence=${body.data.ticket.sequence}`;
  const line = `helpdesk event ${body.type} ${subject} webhook-id=${event.webhookId} (HELPDESK_WEBHOOK_URL not set: printed, not sent)`;
  const text = `${line}\n${JSON.stringify(event.body, null, 2)}`;
  // eslint-disable-next-line no-console -- with no helpdesk configured (the local default) the console is the helpdesk
  (print ?? console.log)(text);
  return { ok: true, status: 0 };
}
