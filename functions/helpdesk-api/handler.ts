// Primary adapter: API Gateway → the helpdesk API (contract §2). Authenticates, parses, calls one use case and maps
// the outcome to a status; errors keep the contract's `{"error": {"code", "message"}}` shape.
import type { AttachmentStore } from '../../shared/attachments/attachment-store';
import { requireBearer, type PreviousToken } from '../../shared/auth';
import { createAwsClients, type AwsClients } from '../../shared/aws/clients';
import { dynamoSpendCounter } from '../../shared/aws/dynamo-spend-counter';
import { dynamoTicketStore } from '../../shared/aws/dynamo-ticket-store';
import { lazyHandler } from '../../shared/aws/lambda-config';
import { configWithSecrets } from '../../shared/aws/lambda-secrets';
import { FUNCTION_SECRETS } from '../../shared/aws/resources';
import { s3AttachmentStoreFor } from '../../shared/aws/s3-attachment-store';
import { sqsQueue, toSqsBody } from '../../shared/aws/sqs-queue';
import type { Config } from '../../shared/config';
import { required } from '../../shared/config';
import { NotFoundError, ValidationError } from '../../shared/errors';
import { toHelpdeskMessage, toHelpdeskReply, toHelpdeskTicket } from '../../shared/helpdesk/events';
import { errorBody, errorResponse, header, json, rawBody, type HttpEvent, type HttpResult } from '../../shared/http';
import { instrumented, logger } from '../../shared/logger';
import { idempotencyKeySchema, replyRequestSchema, requestReply, type RequestReplyDeps } from '../../shared/replies/request-reply';
import {
  attachmentLink,
  attachmentLinkSchema,
  changeStatus,
  getTicketView,
  listTickets,
  listTicketsQuerySchema,
  parseInput,
  replyAcceptedSchema,
  statusChangeSchema,
  ticketPageSchema,
  ticketResultSchema,
  ticketViewSchema,
} from '../../shared/tickets/ticket-api';
import type { TicketStore } from '../../shared/tickets/ticket-store';

/** Bodies the API accepts; a reply is at most a few KB of text. */
const MAX_API_BODY_BYTES = 64 * 1024;

type Deps = {
  store: TicketStore;
  apiToken: string;
  /** During a rotation: the token being replaced, accepted until its end (shared/auth.ts). */
  previousApiToken?: PreviousToken;
  replies: RequestReplyDeps;
  brand: string;
  now: () => Date;
  attachments?: Pick<AttachmentStore, 'link'>;
};

/** Wiring the local runner and the tests may change; Lambda uses the brand's attachments bucket. */
export type HelpdeskApiHandlerOptions = {
  /** Where stored attachments are (S3 on AWS, files locally); without one, stored attachments answer 404. */
  attachments?: Pick<AttachmentStore, 'link'>;
};

/** The helpdesk API function for this config (the same one Lambda, the local runner and the tests run). */
export function createHelpdeskApiHandler(
  config: Config,
  clients: AwsClients = createAwsClients(config),
  options: HelpdeskApiHandlerOptions = {},
) {
  const store = dynamoTicketStore(clients.dynamodb, required(config.aws.tableName, 'TABLE_NAME'));
  const replyQueue = sqsQueue(clients.sqs, required(config.aws.replyQueueUrl, 'REPLY_QUEUE_URL'));
  const now = () => new Date();
  const deps: Deps = {
    store,
    apiToken: config.helpdesk.apiToken,
    ...(config.helpdesk.previousApiToken ? { previousApiToken: config.helpdesk.previousApiToken } : {}),
    brand: config.brand,
    now,
    replies: {
      store,
      now,
      enqueue: (replyId) => replyQueue.send({ body: toSqsBody({ replyId }) }),
      posting: { policy: config.x.replyPolicy, account: { xUserId: config.x.botUserId, username: config.x.botUsername } },
      media: { allowLoopback: config.x.replyMediaAllowLoopback },
      spend: {
        counter: dynamoSpendCounter(clients.dynamodb, required(config.aws.tableName, 'TABLE_NAME'), config.brand),
        ...(config.x.monthlySpendCapUsd === undefined ? {} : { monthlyCapUsd: config.x.monthlySpendCapUsd }),
      },
    },
    ...(options.attachments ? { attachments: options.attachments } : {}),
  };
  return (event: HttpEvent): Promise<HttpResult> => instrumented('helpdesk-api', config.brand, () => route(event, deps));
}

async function route(event: HttpEvent, deps: Deps): Promise<HttpResult> {
  const method = event.requestContext.http.method;
  const path = event.rawPath.replace(/\/+$/, '') || '/';
  try {
    if (path === '/healthz' && method === 'GET') return json(200, { status: 'ok', brand: deps.brand });

    const attachmentMatch = /^\/tickets\/([^/]+)\/attachments\/([^/]+)$/.exec(path);
    if (attachmentMatch && method === 'GET') {
      requireBearer(header(event, 'authorization'), deps.apiToken, deps.previousApiToken, deps.now());
      const ticketId = decodePathSegment(attachmentMatch[1]!);
      const attachmentId = decodePathSegment(attachmentMatch[2]!, 'attachmentId');
      if (!deps.attachments) throw new NotFoundError('attachments are not kept by this bridge');
      const link = await attachmentLink(deps.store, deps.attachments, ticketId, attachmentId);
      logger.info('attachment link issued', { ticketId, attachmentId, expiresAt: link.expiresAt });
      // A redirect to a link signed now: the helpdesk's bearer token never travels to the bucket, and the link
      // itself lasts at most an hour. The body repeats it for clients that do not follow redirects.
      return json(302, attachmentLinkSchema.parse(link), { location: link.url });
    }
    if (attachmentMatch) return errorBody(405, 'method_not_allowed', `${method} is not supported on ${path}`);

    const ticketMatch = /^\/tickets(?:\/([^/]+))?(\/replies)?$/.exec(path);
    if (!ticketMatch) return errorBody(404, 'not_found', `no route for ${method} ${path}`);
    requireBearer(header(event, 'authorization'), deps.apiToken, deps.previousApiToken, deps.now());
    const ticketId = ticketMatch[1] === undefined ? undefined : decodePathSegment(ticketMatch[1]);
    const replies = ticketMatch[2] !== undefined;

    if (!ticketId && !replies && method === 'GET') {
      const query = parseInput(listTicketsQuerySchema, event.queryStringParameters ?? {}, 'query');
      const page = await listTickets(deps.store, query);
      return json(200, ticketPageSchema.parse({ tickets: page.tickets.map(toHelpdeskTicket), nextCursor: page.nextCursor ?? null }));
    }
    if (ticketId && !replies && method === 'GET') {
      const view = await getTicketView(deps.store, ticketId);
      return json(
        200,
        ticketViewSchema.parse({
          ticket: toHelpdeskTicket(view.ticket),
          // Stored attachments show the API path of this route, which signs a link when it is asked for.
          messages: view.messages.map((message) => toHelpdeskMessage(message)),
          replies: view.replies.map(toHelpdeskReply),
        }),
      );
    }
    if (ticketId && !replies && method === 'PATCH') {
      const { status } = parseInput(statusChangeSchema, jsonBody(event));
      const ticket = await changeStatus(deps.store, ticketId, status, deps.now);
      logger.info('ticket status set', { ticketId, status, sequence: ticket.sequence });
      return json(200, ticketResultSchema.parse({ ticket: toHelpdeskTicket(ticket) }));
    }
    if (ticketId && replies && method === 'POST') {
      const request = parseInput(replyRequestSchema, jsonBody(event));
      const keyHeader = header(event, 'idempotency-key');
      const key = keyHeader === undefined ? undefined : parseInput(idempotencyKeySchema, keyHeader, 'Idempotency-Key');
      const reply = await requestReply(ticketId, request, key, deps.replies);
      logger.info('reply requested', { ticketId, replyId: reply.id, status: reply.status, idempotent: key !== undefined });
      return json(202, replyAcceptedSchema.parse({ reply: toHelpdeskReply(reply) }));
    }
    return errorBody(405, 'method_not_allowed', `${method} is not supported on ${path}`);
  } catch (error) {
    return errorResponse(error);
  }
}

/** A %-encoded path segment; a malformed escape (`%E0%A4%A`) is the caller's mistake, answered 400, not a crash. */
function decodePathSegment(segment: string, name = 'ticketId'): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new ValidationError(`${name} is not a valid URL path segment`, name);
  }
}

function jsonBody(event: HttpEvent): unknown {
  const raw = rawBody(event);
  if (raw.length > MAX_API_BODY_BYTES) throw new ValidationError(`body is over ${MAX_API_BODY_BYTES} bytes`, 'body', 413);
  if (raw.length === 0) throw new ValidationError('a JSON body is required', 'body');
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch {
    throw new ValidationError('body is not JSON', 'body');
  }
}

export const handler = lazyHandler(
  (config: Config) => createHelpdeskApiHandler(config, undefined, { attachments: s3AttachmentStoreFor(config.aws) }),
  configWithSecrets(FUNCTION_SECRETS['helpdesk-api']),
);
