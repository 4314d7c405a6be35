// Primary adapter: SQS batch of requested replies → the post-reply use case → partial batch failures.
// Replies are posted one at a time, in the order they were queued: X's rate limits are per account, and a
// conversation should read in the order the agent wrote it. Waiting (rate limits, backoff) is done by the queue,
// never by sleeping in the function.
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import * as z from 'zod/mini';
import { lazySchema } from '../../shared/lazy-schema';
import { createAwsClients, type AwsClients } from '../../shared/aws/clients';
import { dynamoSpendCounter } from '../../shared/aws/dynamo-spend-counter';
import { dynamoTicketStore } from '../../shared/aws/dynamo-ticket-store';
import { lazyHandler } from '../../shared/aws/lambda-config';
import { configWithSecrets } from '../../shared/aws/lambda-secrets';
import { FUNCTION_SECRETS } from '../../shared/aws/resources';
import { sqsQueue, type Queue } from '../../shared/aws/sqs-queue';
import type { Config } from '../../shared/config';
import { required } from '../../shared/config';
import { count, instrumented, logger } from '../../shared/logger';
import { METRIC_NAMES } from '../../shared/metric-names';
import { postReply, type PostReplyDeps, type ReplyPoster } from '../../shared/replies/post-reply';
import { nearCap, usd } from '../../shared/replies/spend';
import { createReplyPoster, createXChatClient } from '../../shared/x/x-client';
import { xchatReplier, type XChatReplier } from '../../shared/replies/xchat-reply';

const replyMessageSchema = lazySchema(() => z.object({ replyId: z.string().check(z.regex(/^rp_[\w-]{1,64}$/)) }));

/**
 * The reply function for this config. `options.poster` replaces the X client; `options.inFlightGraceMs` shortens
 * how long a reply left `posting` is given before X is asked about it (tests; the default suits Lambda's timeout).
 */
export function createReplyHandler(
  config: Config,
  clients: AwsClients = createAwsClients(config),
  options: { poster?: ReplyPoster; inFlightGraceMs?: number; xchatJuicebox?: unknown } = {},
) {
  const store = dynamoTicketStore(clients.dynamodb, required(config.aws.tableName, 'TABLE_NAME'));
  const xchat = xchatReplierFor(config, store, options.xchatJuicebox);
  const deps: PostReplyDeps = {
    store,
    x: options.poster ?? createReplyPoster(config.x),
    bot: { xUserId: config.x.botUserId, username: config.x.botUsername },
    now: () => new Date(),
    policy: config.x.replyPolicy,
    spend: {
      counter: dynamoSpendCounter(clients.dynamodb, required(config.aws.tableName, 'TABLE_NAME'), config.brand),
      counted: ({ costMicroUsd, monthMicroUsd, capMicroUsd }) => {
        count(METRIC_NAMES.ReplyCostUsd, usd(costMicroUsd));
        if (nearCap(monthMicroUsd, capMicroUsd)) {
          count(METRIC_NAMES.XSpendNearCap);
          logger.warn("this month's X spend is at 80 % of X_MONTHLY_SPEND_CAP_USD or more", { monthUsd: usd(monthMicroUsd), capUsd: usd(capMicroUsd ?? 0) });
        }
      },
      ...(config.x.monthlySpendCapUsd === undefined ? {} : { monthlyCapUsd: config.x.monthlySpendCapUsd }),
    },
    ...(options.inFlightGraceMs === undefined ? {} : { inFlightGraceMs: options.inFlightGraceMs }),
    ...(xchat ? { xchat } : {}),
    ...replyMediaFor(config),
  };
  const queue = sqsQueue(clients.sqs, required(config.aws.replyQueueUrl, 'REPLY_QUEUE_URL'));
  return (event: SQSEvent): Promise<SQSBatchResponse> =>
    instrumented('reply', config.brand, () => processBatch(event.Records, deps, queue));
}

/**
 * Replies by XChat to customers who wrote by XChat (shared/replies/xchat-reply.ts); none without the account's token.
 * `juiceboxModule` replaces juicebox-sdk (tests: a local realm).
 */
function xchatReplierFor(config: Config, store: PostReplyDeps['store'], juiceboxModule?: unknown): XChatReplier | undefined {
  const { accessToken, accessTokenSecret } = config.x;
  if (!accessToken || !accessTokenSecret) return undefined;
  return xchatReplier({
    store,
    botUserId: config.x.botUserId,
    settings: config.x.chat,
    client: async () => createXChatClient({ ...config.x, accessToken, accessTokenSecret }),
    ...(juiceboxModule ? { juiceboxModule } : {}),
  });
}

/**
 * Uploads a reply's attachments as the account. The fetch and upload code is imported by the first reply with
 * attachments, not at a cold start. None without the account's token (a dry run posts no media).
 */
function replyMediaFor(config: Config): Pick<PostReplyDeps, 'media'> {
  const { apiKey, apiSecret, accessToken, accessTokenSecret, apiBaseUrl } = config.x;
  if (!accessToken || !accessTokenSecret) return {};
  const deps = { baseUrl: apiBaseUrl, credentials: { apiKey, apiSecret, accessToken, accessTokenSecret }, allowLoopback: config.x.replyMediaAllowLoopback };
  const load = () => import('../../shared/replies/reply-attachments');
  return {
    media: {
      upload: async (attachments, channel) => (await load()).uploadAttachments(attachments, channel, deps),
      pending: async (mediaIds) => (await load()).pendingMedia(mediaIds, deps),
    },
  };
}

/** Posts each reply of the batch in order; replies that must wait go back to the queue with their wait. */
export async function processBatch(records: SQSRecord[], deps: PostReplyDeps, queue: Queue): Promise<SQSBatchResponse> {
  const failures: string[] = [];
  for (const record of records) {
    let replyId: string | undefined;
    try {
      replyId = replyMessageSchema.parse(JSON.parse(record.body)).replyId;
      const result = await postReply(replyId, deps);
      switch (result.outcome) {
        case 'posted':
          count(METRIC_NAMES.RepliesPosted);
          logger.info('reply posted', { ...result });
          break;
        case 'failed':
          count(METRIC_NAMES.RepliesFailed);
          logger.warn('X refused the reply for good', { ...result });
          break;
        case 'already_settled':
          logger.info('reply already settled', { ...result });
          break;
        case 'missing':
          logger.error('queued reply has no record; dropping it', { replyId });
          break;
        case 'retry':
          count(METRIC_NAMES.ReplyRetries);
          logger.info('reply waits', { ...result });
          // The wait is the message's visibility: SQS hands it back when the wait is over.
          await queue.delay(record.receiptHandle, result.afterSeconds);
          failures.push(record.messageId);
          break;
      }
    } catch (error) {
      failures.push(record.messageId);
      logger.error('reply attempt failed; SQS will redeliver it', { replyId, messageId: record.messageId, error: error as Error });
    }
  }
  return { batchItemFailures: failures.map((itemIdentifier) => ({ itemIdentifier })) };
}

export const handler = lazyHandler((config: Config) => createReplyHandler(config), configWithSecrets(FUNCTION_SECRETS['reply']));
