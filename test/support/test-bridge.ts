// The whole bridge for an integration test: the real functions (unless the test hands in its own) on the run's
// shared DynamoDB Local and SQS emulator, under resource names no other test uses, HTTP on a free port.
import { randomUUID } from 'node:crypto';
import { DynamoDBClient, ScanCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { inject } from 'vitest';
import { loadFunctionHandlers, startLocalBridge, type LocalBridge, type LocalBridgeOptions } from '../../infra/local/bridge';
import { LOCAL_AWS } from '../../infra/local/services';
import { signWebhookBody } from '../../shared/x/signature';

export type HttpAnswer = { status: number; headers: Headers; text: string; json: unknown };

export type TestBridge = LocalBridge & {
  /**
   * POSTs a webhook body (an object is JSON-encoded; a string or Buffer is sent as is) to /x/webhook, signed with
   * the bridge's X_API_SECRET unless `sign: false` or another `secret` is given.
   */
  postWebhook(body: unknown, options?: { sign?: boolean; secret?: string; headers?: Record<string, string> }): Promise<HttpAnswer>;
  /** Calls the helpdesk API with the bridge's bearer token (`token: null` sends none). */
  api(method: string, path: string, body?: unknown, token?: string | null): Promise<HttpAnswer>;
  /** Every item in the table, unmarshalled. */
  scanTable(): Promise<Record<string, unknown>[]>;
};

async function answer(response: Response): Promise<HttpAnswer> {
  const text = await response.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, text, json };
}

/** Starts a bridge for one test (or file); call `stop()` in afterAll/afterEach. */
export async function startTestBridge(overrides: Partial<LocalBridgeOptions> = {}): Promise<TestBridge> {
  const handlers = overrides.handlers ?? (await loadFunctionHandlers());
  const bridge = await startLocalBridge({
    port: 0,
    inMemory: true,
    pollIntervalMs: 50,
    prefix: `t-${randomUUID().slice(0, 12)}`,
    emulators: { dynamodbEndpoint: inject('dynamodbEndpoint'), sqsEndpoint: inject('sqsEndpoint') },
    ...overrides,
    // No reconciliation timer unless a test asks for one: a run at an arbitrary moment would add reads to the fake
    // X a test counts. `reconcileOnce()` runs it when a test wants it.
    env: { X_RECONCILE_INTERVAL_SECONDS: '0', ...overrides.env },
    handlers,
  });
  return Object.assign(bridge, {
    async postWebhook(body: unknown, options: { sign?: boolean; secret?: string; headers?: Record<string, string> } = {}) {
      const raw = Buffer.isBuffer(body) ? body : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body), 'utf8');
      const headers: Record<string, string> = { 'content-type': 'application/json; charset=utf-8', ...options.headers };
      if (options.sign !== false) {
        headers['x-twitter-webhooks-signature'] = signWebhookBody(options.secret ?? bridge.config.x.apiSecret, raw);
      }
      return answer(await fetch(`${bridge.url}/x/webhook`, { method: 'POST', headers, body: raw }));
    },
    async api(method: string, path: string, body?: unknown, token: string | null = bridge.config.helpdesk.apiToken) {
      const headers: Record<string, string> = {};
      if (token !== null) headers.authorization = `Bearer ${token}`;
      if (body !== undefined) headers['content-type'] = 'application/json';
      const init: RequestInit = { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) };
      return answer(await fetch(`${bridge.url}${path}`, init));
    },
    async scanTable() {
      const items: Record<string, unknown>[] = [];
      // Its own client, so a test's look at the table does not count as the functions' requests.
      const dynamodb = new DynamoDBClient({ endpoint: bridge.endpoints.dynamodb, ...LOCAL_AWS });
      let start: Record<string, AttributeValue> | undefined;
      do {
        const page = await dynamodb.send(
          new ScanCommand({ TableName: bridge.resources.tableName, ExclusiveStartKey: start }),
        );
        items.push(...(page.Items ?? []).map((item) => unmarshall(item)));
        start = page.LastEvaluatedKey;
      } while (start);
      dynamodb.destroy();
      return items;
    },
  });
}
