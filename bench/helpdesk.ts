// The helpdesk side of a measurement: the test suite's Standard Webhooks-verifying receiver, with a secret of its own,
// and the environment that points the bridge's notify function at it.
import { createHelpdeskReceiver, type HelpdeskReceiver } from '../test/support/helpdesk-receiver';

export const HELPDESK_SECRET = `whsec_${Buffer.from('support-bridge-bench-secret-32b!').toString('base64')}`;

export type BenchHelpdesk = { receiver: HelpdeskReceiver; env: Record<string, string> };

/** A verifying receiver on 127.0.0.1 and the bridge env that delivers to it. */
export async function startHelpdesk(): Promise<BenchHelpdesk> {
  const receiver = createHelpdeskReceiver(HELPDESK_SECRET);
  const { url } = await receiver.start();
  return { receiver, env: { HELPDESK_WEBHOOK_URL: url, HELPDESK_WEBHOOK_SECRET: HELPDESK_SECRET } };
}

/** Resolves once the receiver holds a verified, accepted `ticket.created` for each of `ticketIds`. */
export async function waitForCreated(receiver: HelpdeskReceiver, ticketIds: string[], timeoutMs: number): Promise<void> {
  const wanted = new Set(ticketIds);
  await receiver.waitFor((events) => {
    for (const e of events) if (e.type === 'ticket.created' && e.status >= 200 && e.status < 300) wanted.delete(e.json.data.ticket?.id ?? '');
    return wanted.size === 0;
  }, timeoutMs);
}
