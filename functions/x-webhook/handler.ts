// Primary adapter: API Gateway → X's webhook transport (CRC on GET, signed deliveries on POST).
// Answers 200 only after the items are on the queue; never a 3xx, which would make X mark the webhook invalid.
import type { AwsClients } from '../../shared/aws/clients';
import { lazyHandler, type ConfigReload } from '../../shared/aws/lambda-config';
import { configWithSecrets } from '../../shared/aws/lambda-secrets';
import { FUNCTION_SECRETS } from '../../shared/aws/resources';
import { sqsClient } from '../../shared/aws/sqs-client';
import { sqsQueue } from '../../shared/aws/sqs-queue';
import type { Config } from '../../shared/config';
import { required } from '../../shared/config';
import { errorBody, errorResponse, header, json, rawBody, type HttpEvent, type HttpResult } from '../../shared/http';
import { count, countBy, instrumented, logger } from '../../shared/logger';
import { METRIC_NAMES } from '../../shared/metric-names';
import { SignatureError } from '../../shared/errors';
import { isValidCrcToken } from '../../shared/x/signature';
import { answerCrc, receiveDelivery, type IntakeDeps } from '../../shared/x/webhook-intake';

/** How stale the consumer secret may be when a delivery's signature matches neither secret in hand. */
const SIGNATURE_RELOAD_AGE_MS = 60_000;

/**
 * The webhook function for this config (the same one Lambda, the local runner and the tests run). With `reload` (on
 * Lambda, the brand's secret read again), a rotation of the consumer secret is seen before the 5-minute refresh: a CRC
 * challenge is answered with the secret as it is now, and a delivery whose signature matches neither secret in hand
 * is checked once more against the secret read again (at most once a minute per execution environment).
 */
export function createWebhookHandler(
  config: Config,
  clients: Pick<AwsClients, 'sqs'> = { sqs: sqsClient(config) },
  options: { reload?: ConfigReload } = {},
) {
  const deps: WebhookDeps = {
    consumerSecret: config.x.apiSecret,
    ...(config.x.previousApiSecret ? { previousConsumerSecret: config.x.previousApiSecret } : {}),
    botUserId: config.x.botUserId,
    botUsername: config.x.botUsername,
    inboundQueue: sqsQueue(clients.sqs, required(config.aws.inboundQueueUrl, 'INBOUND_QUEUE_URL')),
    now: () => new Date(),
    ...(options.reload ? { reload: options.reload } : {}),
  };
  return (event: HttpEvent): Promise<HttpResult> => instrumented('x-webhook', config.brand, () => route(event, deps));
}

type WebhookDeps = IntakeDeps & { reload?: ConfigReload };

/** The intake's secrets from a config read again; the one in hand when it cannot be read (the CRC must still answer). */
async function reloaded(deps: WebhookDeps, maxAgeMs: number): Promise<IntakeDeps> {
  if (!deps.reload) return deps;
  try {
    const { x } = await deps.reload(maxAgeMs);
    const { previousConsumerSecret: _, ...rest } = deps;
    return { ...rest, consumerSecret: x.apiSecret, ...(x.previousApiSecret ? { previousConsumerSecret: x.previousApiSecret } : {}) };
  } catch (error) {
    logger.warn('could not read the secret again; using the one in hand', { error: error as Error });
    return deps;
  }
}

async function route(event: HttpEvent, deps: WebhookDeps): Promise<HttpResult> {
  const method = event.requestContext.http.method;
  try {
    if (method === 'GET') {
      // X checks the answer against its consumer secret as it is now: right after a rotation that is the new one.
      const token = crcToken(event);
      const answer = answerCrc(token, isValidCrcToken(token) ? (await reloaded(deps, 0)).consumerSecret : deps.consumerSecret);
      logger.info('answered CRC challenge');
      return json(200, answer);
    }
    if (method === 'POST') {
      const raw = rawBody(event);
      const signature = header(event, 'x-twitter-webhooks-signature');
      const result = await receiveDelivery(raw, signature, deps).catch(async (error: unknown) => {
        if (!(error instanceof SignatureError) || !deps.reload) throw error;
        // X may have switched to a new consumer secret that this environment has not read yet.
        const fresh = await reloaded(deps, SIGNATURE_RELOAD_AGE_MS);
        if (fresh.consumerSecret === deps.consumerSecret && fresh.previousConsumerSecret === deps.previousConsumerSecret) throw error;
        return receiveDelivery(raw, signature, fresh);
      });
      const ignored = Object.values(result.ignored).reduce((sum, n) => sum + n, 0);
      // Every event X delivered counts as in, handled or not: silence is what the channel alarm looks for.
      count(METRIC_NAMES.WebhookEventsIn, result.queued + ignored);
      count(METRIC_NAMES.WebhookEventsIgnored, ignored);
      for (const [reason, n] of Object.entries(result.ignored)) countBy(METRIC_NAMES.WebhookEventsIgnored, 'reason', reason, n);
      logger.info('webhook delivery queued', { queued: result.queued, ignored: result.ignored, xIds: result.xIds });
      for (const job of result.replayJobs ?? []) {
        // X names a finished job `Complete`; anything else means the hours asked for did not all come back.
        const complete = job.state.toLowerCase() === 'complete';
        countBy(METRIC_NAMES.ReplayJobsEnded, 'state', complete ? 'complete' : 'incomplete');
        (complete ? logger.info : logger.warn).call(logger, 'X replay job ended', { ...job });
      }
      return json(200, { queued: result.queued });
    }
    return errorBody(405, 'method_not_allowed', `${method} is not supported on this path`);
  } catch (error) {
    const answer = errorResponse(error);
    if (answer.statusCode === 401) count(METRIC_NAMES.WebhookSignatureRejected);
    if (answer.statusCode !== undefined && answer.statusCode < 500) {
      logger.warn('webhook request refused', { status: answer.statusCode, reason: (error as Error).message });
    }
    return answer;
  }
}

/**
 * The crc_token X sent. API Gateway joins a repeated query parameter with commas (`a,b`), which would pass as one
 * printable token and be signed: a token given more than once is treated as missing (400).
 */
function crcToken(event: HttpEvent): string | undefined {
  const raw = event.rawQueryString;
  if (raw !== undefined && new URLSearchParams(raw).getAll('crc_token').length > 1) return undefined;
  return event.queryStringParameters?.crc_token;
}

export const handler = lazyHandler(
  (config, reload) => createWebhookHandler(config, undefined, { reload }),
  configWithSecrets(FUNCTION_SECRETS['x-webhook']),
);
