// The one DynamoDB Local and the one SQS emulator every measurement of a run shares (each measurement uses its own
// table and queue names on them), and the stop that takes them down however the run ends.
import { startDynamoDbLocal, startSqsEmulator, type DynamoDbLocal, type LocalService } from '../infra/local/services';

export type BenchServices = {
  dynamodb: DynamoDbLocal;
  sqs: LocalService;
  endpoints: { dynamodbEndpoint: string; sqsEndpoint: string };
  /** Stops both (java included). Idempotent. */
  stop(): Promise<void>;
};

/** Starts both services on loopback; Ctrl-C or SIGTERM during the run stops them before the process exits. */
export async function startBenchServices(): Promise<BenchServices> {
  const [dynamo, sqs] = await Promise.allSettled([startDynamoDbLocal(), startSqsEmulator()]);
  const started = [dynamo, sqs].flatMap((s) => (s.status === 'fulfilled' ? [s.value as LocalService] : []));
  if (dynamo.status === 'rejected' || sqs.status === 'rejected') {
    await Promise.all(started.map((s) => s.stop()));
    throw dynamo.status === 'rejected' ? dynamo.reason : (sqs as PromiseRejectedResult).reason;
  }
  let stopped: Promise<void> | undefined;
  const stop = () => (stopped ??= Promise.all([dynamo.value.stop(), sqs.value.stop()]).then(() => undefined));
  // A person pressing Ctrl-C must not leave java listening: stop, then exit with the signal's conventional code.
  const onSignal = (signal: NodeJS.Signals) => {
    process.stderr.write(`\n[bench] ${signal}: stopping the local services\n`);
    void stop().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  return {
    dynamodb: dynamo.value,
    sqs: sqs.value,
    endpoints: { dynamodbEndpoint: dynamo.value.endpoint, sqsEndpoint: sqs.value.endpoint },
    stop: async () => {
      process.removeListener('SIGINT', onSignal);
      process.removeListener('SIGTERM', onSignal);
      await stop();
    },
  };
}
