// X's two webhook formats → the bridge's inbound events. Pure: no I/O, no zod (this runs in the webhook Lambda,
// whose bundle must stay small), and it never throws: X's payloads, or anything that passed the signature check,
// become events plus a count of what was ignored and why.
//
// This file only tells the formats apart, by shape; each format has its own room:
// - X Activity API (XAA, xaa-format.ts): `{data: {event_uuid, event_type, filter: {user_id}, tag, payload, includes}}`,
//   v2 posts. X documents one envelope per delivery; an array of envelopes (or `data` as an array) is accepted as well.
// - Account Activity API (AAA, aaa-format.ts): `{for_user_id, tweet_create_events | direct_message_events | ...}`,
//   v1.1 objects.
// Both share the DM object (dm-format.ts), the entity, media and user readers (x-entities.ts, x-media.ts,
// x-users.ts) and the small readers (format-readers.ts).
import type { NormalisedBody } from './inbound-event';
import { isAaaBody, normaliseAaaBody } from './aaa-format';
import { botOf, count, isObject, type Env, type NormaliseContext } from './format-readers';
import { isXaaBody, normaliseXaaBody } from './xaa-format';

export type { NormaliseContext } from './format-readers';

/** `{replay_job_status: {webhook_id, job_id, job_state, job_state_description}}`: the end of an ops replay job. */
function replayJobStatus(status: Record<string, unknown>, env: Env): void {
  const text = (value: unknown) => (typeof value === 'string' || typeof value === 'number' ? String(value).slice(0, 200) : '');
  const jobId = text(status.job_id);
  const state = text(status.job_state);
  if (!jobId || !state) return count(env, 'malformed');
  const webhookId = text(status.webhook_id);
  (env.replayJobs ??= []).push({ jobId, state, description: text(status.job_state_description), ...(webhookId ? { webhookId } : {}) });
  count(env, 'replay_status');
}

/**
 * Turns one parsed webhook body (either X format) into the inbound events to queue, in the order X listed them, and
 * counts every item it does not queue by reason. Never throws, whatever the input: an item that cannot be read is
 * counted `malformed`, a body that is neither format `unsupported`, and the result always accounts for at least
 * one item. The bot's own posts and DMs are normalised too (the ingest worker matches them to its replies).
 */
export function normaliseWebhookBody(body: unknown, ctx: NormaliseContext): NormalisedBody {
  const env: Env = { bot: botOf(ctx), receivedAt: ctx.receivedAt, events: [], ignored: {} };
  try {
    if (Array.isArray(body)) {
      for (const element of body) normaliseOneBody(element, env);
    } else {
      normaliseOneBody(body, env);
    }
  } catch {
    // Only reachable through a bug here; a webhook must still be acknowledged, so the body is counted instead.
    count(env, 'malformed');
  }
  if (env.events.length === 0 && Object.keys(env.ignored).length === 0) count(env, 'unsupported');
  return { events: env.events, ignored: env.ignored, ...(env.replayJobs ? { replayJobs: env.replayJobs } : {}) };
}

function normaliseOneBody(body: unknown, env: Env): void {
  if (isObject(body) && isObject(body.replay_job_status)) replayJobStatus(body.replay_job_status, env);
  else if (isObject(body) && isXaaBody(body)) normaliseXaaBody(body, env);
  else if (isObject(body) && isAaaBody(body)) normaliseAaaBody(body, env);
  else count(env, 'unsupported');
}
