// Standard Webhooks signing (https://www.standardwebhooks.com) with node:crypto only, so the Lambda bundle carries no
// webhook library. Interop with the reference `standardwebhooks` package is proven in test/unit/helpdesk-signing.test.ts.
import { createHmac } from 'node:crypto';

const SECRET_PREFIX = 'whsec_';

/** The three headers every event request carries. */
export type WebhookHeaders = {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
};

/** The HMAC key behind a `whsec_<base64>` secret: the decoded bytes, not the text (that is what the spec signs with). */
function secretKey(secret: string): Buffer {
  const encoded = secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret;
  const key = Buffer.from(encoded, 'base64');
  if (key.length === 0) throw new Error('helpdesk webhook secret is empty');
  return key;
}

/**
 * The `webhook-signature` value for one attempt: `v1,` + base64 HMAC-SHA256 of `{id}.{timestamp}.{body}`, keyed
 * with the secret's decoded bytes. `body` must be the exact string sent: any re-serialisation breaks the signature.
 */
export function signEvent(secret: string, webhookId: string, timestampSeconds: number, body: string): string {
  const mac = createHmac('sha256', secretKey(secret)).update(`${webhookId}.${timestampSeconds}.${body}`, 'utf8');
  return `v1,${mac.digest('base64')}`;
}

/**
 * The headers for one delivery attempt. The timestamp is the attempt's time, not the event's: receivers (the
 * reference library included) reject timestamps more than five minutes off their clock, so each retry signs afresh
 * while `webhook-id` stays the same.
 *
 * `secret` may list several secrets, current first: during a rotation the event carries one signature per secret,
 * space-separated (`v1,<new> v1,<old>`), as the spec allows, and a receiver holding either secret accepts it.
 */
export function webhookHeaders(secret: string | readonly string[], webhookId: string, body: string, now: Date): WebhookHeaders {
  const timestampSeconds = Math.floor(now.getTime() / 1000);
  const secrets = typeof secret === 'string' ? [secret] : secret;
  if (secrets.length === 0) throw new Error('no helpdesk webhook secret to sign with');
  return {
    'webhook-id': webhookId,
    'webhook-timestamp': String(timestampSeconds),
    'webhook-signature': secrets.map((key) => signEvent(key, webhookId, timestampSeconds, body)).join(' '),
  };
}
