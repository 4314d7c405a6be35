// vitest globalSetup: one DynamoDB Local (in memory) and one SQS emulator for the whole test run, shared by every
// integration test through `inject` (each test bridge uses its own table and queue names on them).
import type { TestProject } from 'vitest/node';
import { startDynamoDbLocal, startSqsEmulator, type LocalService } from '../../infra/local/services';

declare module 'vitest' {
  export interface ProvidedContext {
    /** DynamoDB Local, e.g. http://127.0.0.1:41234 */
    dynamodbEndpoint: string;
    /** The fauxqs SQS emulator, e.g. http://127.0.0.1:41235 */
    sqsEndpoint: string;
  }
}

/** Starts the shared emulators and provides their endpoints; the returned teardown stops them. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const started = Date.now();
  const [dynamo, sqs] = await Promise.allSettled([startDynamoDbLocal(), startSqsEmulator()]);
  const running = [dynamo, sqs].flatMap((r) => (r.status === 'fulfilled' ? [r.value as LocalService] : []));
  const failed = [dynamo, sqs].find((r) => r.status === 'rejected');
  if (failed?.status === 'rejected' || dynamo.status !== 'fulfilled' || sqs.status !== 'fulfilled') {
    await Promise.all(running.map((s) => s.stop()));
    const reason = failed?.status === 'rejected' ? (failed.reason as Error).message : 'unknown error';
    console.error(`\nIntegration test services could not start: ${reason}\n`);
    throw new Error(`integration test services could not start: ${reason}`);
  }
  project.provide('dynamodbEndpoint', dynamo.value.endpoint);
  project.provide('sqsEndpoint', sqs.value.endpoint);
  if (process.env.DEBUG_TEST_SERVICES) console.log(`test services up in ${Date.now() - started} ms`);
  return async () => {
    await Promise.all(running.map((s) => s.stop()));
  };
}
