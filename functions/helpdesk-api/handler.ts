// Primary adapter: API Gateway → the helpdesk API (contract §2). Authenticates, parses, calls one use case and maps
// the outcome to a status; errors keep the contract's `{"error": {"code", "message"}}` shape.
import { requireBearer } from '../../shared/auth';
import { createAwsClients, type AwsClients } from '../../shared/aws/clients';
import { dynamoTicketStore } from '../../shared/aws/dynamo-ticket-store';
import { lazyHandler } from '../../shared/aws/lambda-config';
import { configWithSecrets } from '../../shared/aws/lambda-secrets';
import { FUNCTION_SECRETS } from '../../shared/aws/resources';
import { sqsQueue, toSqsBody } from '../../shared/aws/sqs-queue';
import type { Config } from '../../shared/config';
import { required } from '../../shared/config';
import { ValidationError } from '../../shared/errors';
import { toHelpdeskMessage, toHelpdeskReply, toHelpdeskTicket } from '../../shared/helpdesk/events';
import { errorBody, errorResponse, header, json, rawBody, type HttpEvent, type HttpResult } from '../../shared/http';
import { instrumented, logger } from '../../shared/logger';
import { idempotencyKeySchema, replyRequestSchema, requestReply, type RequestReplyDeps } from '../../shared/replies/request-reply';
import {
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

type Deps = { store: TicketStore; apiToken: string; replies: RequestReplyDeps; brand: string; now: () => Date };

/** The helpdesk API function for this config (the same one Lambda, the local runner and the tests run). */
export function createHelpdeskApiHandler(config: Config, clients: AwsClients = createAwsClients(config)) {
  const store = dynamoTicketStore(clients.dynamodb, required(config.aws.tableName, 'TABLE_NAME'));
  const replyQueue = sqsQueue(clients.sqs, required(config.aws.replyQueueUrl, 'REPLY_QUEUE_URL'));
  const now = () => new Date();
  const deps: Deps = {
    store,
    apiToken: config.helpdesk.apiToken,
    brand: config.brand,
    now,
    replies: { store, now, enqueue: (replyId) => replyQueue.send({ body: toSqsBody({ replyId }) }) },
  };
  return (event: HttpEvent): Promise<HttpResult> => instrumented('helpdesk-api', config.brand, () => route(event, deps));
}

async function route(event: HttpEvent, deps: Deps): Promise<HttpResult> {
  const method = event.requestContext.http.method;
  const path = event.rawPath.replace(/\/+$/, '') || '/';
  try {
    if (path === '/healthz' && method === 'GET') return json(200, { status: 'ok', brand: deps.brand });

    const ticketMatch = /^\/tickets(?:\/([^/]+))?(\/replies)?$/.exec(path);
    if (!ticketMatch) return errorBody(404, 'not_found', `no route for ${method} ${path}`);
    requireBearer(header(event, 'authorization'), deps.apiToken);
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
          messages: view.messages.map(toHelpdeskMessage),
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
function decodePathSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new ValidationError('ticketId is not a valid URL path segment', 'ticketId');
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

export const handler = lazyHandler(createHelpdeskApiHandler, configWithSecrets(FUNCTION_SECRETS['helpdesk-api']));
