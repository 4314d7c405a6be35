// The helpdesk contract as files (contract/): an OpenAPI document for the API and one JSON Schema per event type,
// generated from the zod schemas the code validates with, so the published contract cannot drift from the code.
// test/unit/contract-files.test.ts fails when the committed files differ from what this builds.
import * as z from 'zod/mini';
import './schema-order';
import { channelHealthEventSchema, ticketEventBodySchema, ticketEventSchemas } from '../../shared/helpdesk/events';
import { replyRequestSchema } from '../../shared/replies/request-reply';
import {
  apiErrorSchema,
  attachmentLinkSchema,
  buildApiSchemas,
  listTicketsQuerySchema,
  replyAcceptedSchema,
  statusChangeSchema,
  ticketPageSchema,
  ticketResultSchema,
  ticketViewSchema,
} from '../../shared/tickets/ticket-api';

type Json = Record<string, unknown>;
// The API's schemas are built on first use: build them now, after the events' and the reply request's (see
// schema-order.ts), which is the order the registry lists them in the OpenAPI document's components.
buildApiSchemas();

const ref = (id: string) => ({ $ref: `#/components/schemas/${id}` });
const idOf = (schema: z.ZodMiniType) => {
  const id = z.globalRegistry.get(schema)?.id;
  if (!id) throw new Error('schema has no id');
  return id;
};
const content = (schema: z.ZodMiniType) => ({ 'application/json': { schema: ref(idOf(schema)) } });
const error = (description: string) => ({ description, content: content(apiErrorSchema) });

const webhookHeader = (name: string, description: string) => ({ name, in: 'header', required: true, description, schema: { type: 'string' } });

/** An event the bridge sends: the helpdesk answers 2xx within 10 s, anything else is retried with the same id. */
const webhook = (operationId: string, summary: string, schema: z.ZodMiniType) => ({
  post: {
    operationId,
    summary,
    security: [],
    parameters: [
      webhookHeader('webhook-id', 'The same on every retry of this event: deduplicate on it.'),
      webhookHeader('webhook-timestamp', 'When this attempt was sent, in Unix seconds.'),
      webhookHeader('webhook-signature', 'v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">, space-separated during a secret rotation.'),
    ],
    requestBody: { required: true, content: content(schema) },
    responses: {
      '2XX': { description: 'Received: the event is not sent again.' },
      '4XX': { description: 'Refused: retried with backoff for about a day, then kept in the dead-letter queue.' },
    },
  },
});

/** The OpenAPI 3.1 document of the helpdesk API. */
export function buildOpenApi(): Json {
  const components = z.toJSONSchema(z.globalRegistry, {
    uri: (id) => `#/components/schemas/${id}`,
    io: 'output',
  }).schemas as Record<string, Json>;
  for (const schema of Object.values(components)) {
    delete schema.$schema;
    delete schema.$id;
  }
  const query = z.toJSONSchema(listTicketsQuerySchema, { io: 'input' }) as { properties: Record<string, Json> };
  const ticketId = {
    name: 'ticketId',
    in: 'path',
    required: true,
    schema: { type: 'string', pattern: '^(mn|dm)-\\d{1,20}-[1-9]\\d{0,8}$' },
  };
  // API Gateway answers 429 `{"message":"Too Many Requests"}` itself when a route's throttle is spent (on AWS only).
  const throttled = { 429: { description: 'Throttled by the HTTP API (on AWS): try again after a pause.' } };
  const auth = { 401: error('Missing or wrong bearer token.'), ...throttled };
  return {
    openapi: '3.1.0',
    info: {
      title: 'Support Bridge helpdesk API',
      version: '1',
      description:
        'Read tickets, set their status and reply through the brand account on X. Every call needs ' +
        '`Authorization: Bearer <HELPDESK_API_TOKEN>`. Ticket events are POSTed to your webhook; see the event schemas.',
      // The package is private: the document is published to the brand's helpdesk, not licensed for reuse.
      license: { name: 'Proprietary', identifier: 'LicenseRef-Proprietary' },
    },
    servers: [
      { url: 'http://127.0.0.1:3000', description: 'The local bridge (`npm start`)' },
      {
        url: 'https://{apiId}.execute-api.{region}.amazonaws.com',
        description: "A brand's stack: the HttpApiUrl output of its deployment",
        variables: { apiId: { default: 'abc123defg' }, region: { default: 'eu-west-1' } },
      },
    ],
    security: [{ bearer: [] }],
    paths: {
      '/healthz': {
        get: {
          summary: 'Whether the bridge can take traffic',
          operationId: 'getHealth',
          security: [],
          responses: { 200: { description: 'Ready.' }, ...throttled },
        },
      },
      '/tickets': {
        get: {
          summary: 'List tickets, newest first',
          operationId: 'listTickets',
          parameters: Object.entries(query.properties).map(([name, schema]) => ({ name, in: 'query', required: false, schema })),
          responses: { 200: { description: 'A page of tickets.', content: content(ticketPageSchema) }, 400: error('Bad query parameter.'), ...auth },
        },
      },
      '/tickets/{ticketId}': {
        parameters: [ticketId],
        get: {
          summary: 'A ticket with its messages and replies',
          operationId: 'getTicket',
          responses: { 200: { description: 'The ticket.', content: content(ticketViewSchema) }, 404: error('No such ticket.'), ...auth },
        },
        patch: {
          summary: "Set a ticket's status",
          operationId: 'setTicketStatus',
          requestBody: { required: true, content: content(statusChangeSchema) },
          responses: {
            200: { description: 'The ticket after the change (unchanged when it already had that status).', content: content(ticketResultSchema) },
            400: error('Bad body; `field` names the field.'),
            404: error('No such ticket.'),
            ...auth,
          },
        },
      },
      '/tickets/{ticketId}/attachments/{attachmentId}': {
        parameters: [
          ticketId,
          {
            name: 'attachmentId',
            in: 'path',
            required: true,
            description: 'An attachment\'s `id` (`att-<X media key>`), as in a message\'s `attachments`.',
            schema: { type: 'string', maxLength: 80 },
          },
        ],
        get: {
          summary: 'A stored attachment (a DM\'s media): a redirect to a fresh short-lived link',
          operationId: 'getAttachmentLink',
          description:
            'For media the bridge keeps a copy of (a DM\'s, which X serves only to the brand account). Answers 302 to a ' +
            'link signed now that works for at most an hour without any credentials (on AWS a presigned S3 URL; locally ' +
            'the runner serves the file itself). Do not send your bearer token to that link: HTTP clients drop ' +
            '`Authorization` on a redirect to another host, and the link needs none.',
          responses: {
            302: {
              description: 'The `Location` header is the link; the body repeats it with its expiry.',
              headers: { Location: { description: 'A short-lived link to the file.', schema: { type: 'string' } } },
              content: content(attachmentLinkSchema),
            },
            404: error('No such ticket or attachment, the message was deleted on X (its copies with it), or the bridge holds no copy (see the attachment\'s `error`, or open its `url`).'),
            ...auth,
            // The answer is a redirect, never a 2xx: everything else is an error in the usual shape.
            default: error('The bridge failed (5xx, `internal`).'),
          },
        },
      },
      '/tickets/{ticketId}/replies': {
        parameters: [ticketId],
        post: {
          summary: 'Reply through the brand account',
          operationId: 'createReply',
          parameters: [
            {
              name: 'Idempotency-Key',
              in: 'header',
              required: false,
              description: 'The same key again returns the same reply and posts nothing new. Strongly recommended.',
              schema: { type: 'string', maxLength: 255 },
            },
          ],
          requestBody: { required: true, content: content(replyRequestSchema) },
          responses: {
            202: { description: 'Recorded and queued; the outcome arrives as ticket.reply_posted or ticket.reply_failed.', content: content(replyAcceptedSchema) },
            400: error('Bad body; `field` names the field.'),
            404: error('No such ticket.'),
            409: error('The Idempotency-Key was used for a different reply.'),
            413: error('Body over 64 KiB.'),
            422: error('Text too long for X; `weightedLength` (posts) or `length` (DMs) is the measured length.'),
            ...auth,
          },
        },
      },
    },
    // What the bridge POSTs to HELPDESK_WEBHOOK_URL, signed per Standard Webhooks (README, "The events").
    webhooks: {
      ticketEvent: webhook('ticketEvent', 'A ticket changed', ticketEventBodySchema),
      channelHealthChanged: webhook('channelHealthChanged', "The brand's X channel changed status", channelHealthEventSchema),
    },
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      schemas: components,
    },
  };
}

/** One standalone JSON Schema per event type, plus the union of all of them. */
export function buildEventSchemas(): Record<string, Json> {
  const files: Record<string, Json> = {};
  for (const [type, schema] of Object.entries(ticketEventSchemas)) {
    files[`${type}.schema.json`] = z.toJSONSchema(schema, { io: 'output' }) as Json;
  }
  files['ticket-event.schema.json'] = z.toJSONSchema(ticketEventBodySchema, { io: 'output' }) as Json;
  files['channel.health_changed.schema.json'] = z.toJSONSchema(channelHealthEventSchema, { io: 'output' }) as Json;
  return files;
}

/**
 * The TypeScript types of the API, as an integrator generates them from the document (`npx openapi-typescript
 * contract/openapi.json`): the local console's client (openapi-fetch) is typed by them, so a drift between the
 * document and the code that calls the API fails the type-check.
 */
export async function buildApiTypes(openapiText: string): Promise<string> {
  const { default: openapiTS, astToString } = await import('openapi-typescript');
  const ast = await openapiTS(JSON.parse(openapiText) as Parameters<typeof openapiTS>[0]);
  return `// Generated from contract/openapi.json by \`npm run contract\` (openapi-typescript). Do not edit.\n${astToString(ast)}`;
}

/** Every contract file, by path under contract/, as the text to commit. */
export function buildContractFiles(): Record<string, string> {
  const text = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;
  const files: Record<string, string> = { 'openapi.json': text(buildOpenApi()) };
  for (const [name, schema] of Object.entries(buildEventSchemas())) files[`events/${name}`] = text(schema);
  return files;
}
