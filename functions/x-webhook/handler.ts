// Primary adapter: API Gateway → X's webhook transport (CRC on GET, signed deliveries on POST).
// Answers 200 only after the items are on the queue; never a 3xx, which would make X mark the webhook invalid.
import type { AwsClients } from '../../shared/aws/clients';
import { lazyHandler } from '../../shared/aws/lambda-config';
import { configWithSecrets } from '../../shared/aws/lambda-secrets';
import { FUNCTION_SECRETS } from '../../shared/aws/resources';
import { sqsClient } from '../../shared/aws/sqs-client';
import { sqsQueue } from '../../shared/aws/sqs-queue';
import type { Config } from '../../shared/config';
import { required } from '../../shared/config';
import { errorBody, errorResponse, header, json, rawBody, type HttpEvent, type HttpResult } from '../../shared/http';
import { count, countBy, instrumented, logger } from '../../shared/logger';
import { METRIC_NAMES } from '../../shared/metric-names';
import { answerCrc, receiveDelivery, type IntakeDeps } from '../../shared/x/webhook-intake';

/** The webhook function for this config (the same one Lambda, the local runner and the tests run). */
export function createWebhookHandler(config: Config, clients: Pick<AwsClients, 'sqs'> = { sqs: sqsClient(config) }) {
  const deps: IntakeDeps = {
    consumerSecret: config.x.apiSecret,
    botUserId: config.x.botUserId,
    botUsername: config.x.botUsername,
    inboundQueue: sqsQueue(clients.sqs, required(config.aws.inboundQueueUrl, 'INBOUND_QUEUE_URL')),
    now: () => new Date(),
  };
  return (event: HttpEvent): Promise<HttpResult> => instrumented('x-webhook', config.brand, () => route(event, deps));
}

async function route(event: HttpEvent, deps: IntakeDeps): Promise<HttpResult> {
  const method = event.requestContext.http.method;
  try {
    if (method === 'GET') {
      const answer = answerCrc(crcToken(event), deps.consumerSecret);
      logger.info('answered CRC challenge');
      return json(200, answer);
    }
    if (method === 'POST') {
      const result = await receiveDelivery(rawBody(event), header(event, 'x-twitter-webhooks-signature'), deps);
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

export const handler = lazyHandler(createWebhookHandler, configWithSecrets(FUNCTION_SECRETS['x-webhook']));
