// The local stand-in for API Gateway's HTTP API: a node:http server on loopback that turns each request into a
// payload-format-2.0 event, calls the function behind the route, and maps its result back to an HTTP answer.
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2 } from 'aws-lambda';

/** An HTTP API function (payload format 2.0). */
export type HttpHandler = (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyResultV2>;

/**
 * A route as the HTTP API declares it (`GET /tickets/{ticketId}`, `ANY /x/{proxy+}`, or `$default` for the
 * catch-all) and the function behind it.
 */
export type HttpRoute = { routeKey: string; target: string };

export type HttpServerOptions = {
  port: number;
  /** Functions by target name, e.g. `{ webhook, helpdeskApi }`. A missing one answers 503. */
  handlers: Record<string, HttpHandler | undefined>;
  /**
   * The first match fills routeKey and pathParameters. A request no route matches gets API Gateway's own
   * `404 {"message":"Not Found"}` without reaching a function, unless there is a `$default` route.
   */
  routes: HttpRoute[];
  /** API Gateway's payload limit; larger requests are answered 413 without reading them. Default 10 MB. */
  maxBodyBytes?: number;
  /** API Gateway's integration timeout; a slower function gets 503. Default 30 s. */
  timeoutMs?: number;
  /**
   * Paths the local runner answers itself, not through a function: what another AWS service serves on AWS (the
   * attachments bucket's presigned links). Matched by prefix before the routes; the request body is not read.
   */
  localRoutes?: LocalRoute[];
  log?: (message: string, error?: unknown) => void;
};

/** A path prefix the runner serves itself, with the node:http handler that answers it. */
export type LocalRoute = { pathPrefix: string; handle(req: IncomingMessage, res: ServerResponse): Promise<void> };

export type HttpServer = {
  url: string;
  port: number;
  server: Server;
  /** Stops accepting, closes idle keep-alive sockets, waits for open requests. Idempotent. */
  stop(): Promise<void>;
};

const API_GATEWAY_MAX_BODY = 10 * 1024 * 1024;
const INTERNAL_ERROR = JSON.stringify({ error: { code: 'internal', message: 'internal error' } });

class TooLarge extends Error {}

/** The path and query of a request target, split by hand: `new URL` would read `//host/x` as a host. */
function splitTarget(target: string | undefined): { path: string; query: string } {
  const raw = target ?? '/';
  const at = raw.indexOf('?');
  return at < 0 ? { path: raw, query: '' } : { path: raw.slice(0, at), query: raw.slice(at + 1) };
}

type CompiledRoute = { method: string; pattern: RegExp; names: string[]; routeKey: string; target: string };

function compile(route: HttpRoute): CompiledRoute {
  const [method = 'ANY', path = '/'] = route.routeKey.split(' ');
  const names: string[] = [];
  const source = path
    .split('/')
    .map((segment) => {
      const param = /^\{(\w+)(\+?)\}$/.exec(segment);
      if (!param) return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      names.push(param[1] ?? '');
      return param[2] ? '(.+)' : '([^/]+)';
    })
    .join('/');
  return { method, pattern: new RegExp(`^${source}$`), names, routeKey: route.routeKey, target: route.target };
}

/** API Gateway's `requestContext.time` format: `12/Mar/2020:19:03:58 +0000`. */
function clfTime(date: Date): string {
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const pad = (n: number) => String(n).padStart(2, '0');
  return (
    `${pad(date.getUTCDate())}/${months[date.getUTCMonth()]}/${date.getUTCFullYear()}:` +
    `${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())} +0000`
  );
}

/** Reads the body, failing with TooLarge as soon as it passes `limit`, so a huge upload is never held in memory. */
async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) throw new TooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new TooLarge();
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/**
 * Builds the payload-format-2.0 event API Gateway would send for this request. Every non-empty body is passed as
 * base64 with isBase64Encoded, as API Gateway does for binary content types, so functions always see (and verify
 * signatures over) the raw bytes, and their decoding path is exercised locally.
 */
export function toApiGatewayEvent(
  req: IncomingMessage,
  body: Buffer,
  route: { routeKey: string; pathParameters?: Record<string, string> },
  now = new Date(),
): APIGatewayProxyEventV2 {
  const { path, query: rawQueryString } = splitTarget(req.url);
  const headers: Record<string, string> = {};
  const cookies: string[] = [];
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = (req.rawHeaders[i] ?? '').toLowerCase();
    const value = req.rawHeaders[i + 1] ?? '';
    // Format 2.0 moves cookies out of the headers into their own list.
    if (name === 'cookie') {
      cookies.push(...value.split(';').map((c) => c.trim()).filter(Boolean));
      continue;
    }
    // API Gateway joins repeated headers with commas.
    headers[name] = Object.hasOwn(headers, name) ? `${headers[name]},${value}` : value;
  }
  const query: Record<string, string> = {};
  for (const [key, value] of new URLSearchParams(rawQueryString)) query[key] = Object.hasOwn(query, key) ? `${query[key]},${value}` : value;
  const host = headers.host ?? 'localhost';
  const domainName = host.replace(/:\d+$/, '');
  const sourceIp = (req.socket.remoteAddress ?? '127.0.0.1').replace(/^::ffff:/, '');
  return {
    version: '2.0',
    routeKey: route.routeKey,
    rawPath: path,
    rawQueryString,
    ...(cookies.length ? { cookies } : {}),
    headers,
    ...(rawQueryString ? { queryStringParameters: query } : {}),
    ...(route.pathParameters && Object.keys(route.pathParameters).length ? { pathParameters: route.pathParameters } : {}),
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      domainName,
      domainPrefix: domainName.split('.')[0] ?? domainName,
      http: {
        method: req.method ?? 'GET',
        path,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp,
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: randomUUID(),
      routeKey: route.routeKey,
      stage: '$default',
      time: clfTime(now),
      timeEpoch: now.getTime(),
    },
    ...(body.length > 0 ? { body: body.toString('base64') } : {}),
    isBase64Encoded: body.length > 0,
  };
}

/** Writes a function's result as API Gateway would: structured results as given, anything else as a JSON 200. */
function writeResult(res: ServerResponse, result: APIGatewayProxyResultV2): void {
  if (typeof result !== 'object' || result === null || typeof (result as { statusCode?: unknown }).statusCode !== 'number') {
    // Format 2.0 lets a function return just a body; API Gateway then answers 200 application/json.
    const body = typeof result === 'string' ? result : JSON.stringify(result);
    res.writeHead(200, { 'content-type': 'application/json' }).end(body);
    return;
  }
  const structured = result as Exclude<APIGatewayProxyResultV2, string>;
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(structured.headers ?? {})) headers[name.toLowerCase()] = String(value);
  if (structured.cookies?.length) headers['set-cookie'] = structured.cookies;
  const body = structured.body === undefined ? undefined : Buffer.from(structured.body, structured.isBase64Encoded ? 'base64' : 'utf8');
  res.writeHead(structured.statusCode ?? 200, headers).end(body);
}

/** Starts the server on 127.0.0.1:`port` (0 = a free port). Never crashes on a function's exception. */
export async function startHttpServer(options: HttpServerOptions): Promise<HttpServer> {
  const log = options.log ?? ((message, error) => console.error(message, error ?? ''));
  const routes = options.routes.filter((r) => r.routeKey !== '$default').map(compile);
  const fallback = options.routes.find((r) => r.routeKey === '$default');
  const maxBody = options.maxBodyBytes ?? API_GATEWAY_MAX_BODY;
  const timeoutMs = options.timeoutMs ?? 30_000;

  const resolveRoute = (method: string, path: string) => {
    for (const route of routes) {
      if (route.method !== 'ANY' && route.method !== method) continue;
      const match = route.pattern.exec(path);
      if (!match) continue;
      const decode = (value: string) => {
        try {
          return decodeURIComponent(value);
        } catch {
          return value; // a malformed %-escape is passed through rather than failing the request
        }
      };
      const pathParameters = Object.fromEntries(route.names.map((name, i) => [name, decode(match[i + 1] ?? '')]));
      return { routeKey: route.routeKey, target: route.target, pathParameters };
    }
    return fallback ? { routeKey: '$default', target: fallback.target } : undefined;
  };

  const json = (res: ServerResponse, status: number, body: unknown) =>
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { path } = splitTarget(req.url);
    const local = options.localRoutes?.find((route) => path.startsWith(route.pathPrefix));
    if (local) {
      await local.handle(req, res);
      return;
    }
    let body: Buffer;
    try {
      body = await readBody(req, maxBody);
    } catch (error) {
      if (!(error instanceof TooLarge)) throw error;
      // Answer without reading the rest, then close: the client may still be sending.
      const socket = req.socket as Socket | null;
      res.setHeader('connection', 'close');
      json(res, 413, { message: 'Request Entity Too Large' });
      res.once('finish', () => {
        if (socket && !socket.destroyed) socket.destroySoon();
      });
      return;
    }
    const route = resolveRoute(req.method ?? 'GET', path);
    if (!route) {
      json(res, 404, { message: 'Not Found' });
      return;
    }
    const handler = options.handlers[route.target];
    if (!handler) {
      json(res, 503, { error: { code: 'not_wired', message: `the ${route.target} function is not wired locally` } });
      return;
    }
    const event = toApiGatewayEvent(req, body, route);
    let timer: NodeJS.Timeout | undefined;
    try {
      const timeout = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), timeoutMs)));
      const result = await Promise.race([handler(event), timeout]);
      if (result === 'timeout') {
        log(`${req.method} ${path}: the function did not answer within ${timeoutMs} ms`);
        json(res, 503, { message: 'Service Unavailable' });
        return;
      }
      writeResult(res, result);
    } catch (error) {
      log(`${req.method} ${path}: the function threw`, error);
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end(INTERNAL_ERROR);
    } finally {
      clearTimeout(timer);
    }
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error) => {
      log(`${req.method} ${req.url}: request failed`, error);
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end(INTERNAL_ERROR);
    });
  });
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(options.port, '127.0.0.1', () => {
      server.removeListener('error', reject);
      resolveListen();
    });
  });
  const { port } = server.address() as AddressInfo;
  let stopped: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    server,
    stop() {
      stopped ??= new Promise<void>((resolveClose) => {
        server.close(() => resolveClose());
        server.closeIdleConnections();
      });
      return stopped;
    },
  };
}
