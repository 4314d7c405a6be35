// Settings every AWS SDK client of the bridge shares. This file imports no SDK package, so the per-client modules
// (dynamodb-client.ts, sqs-client.ts) can share it without one loading the other's SDK.

const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

/** Options for an SDK client: a loopback endpoint with throwaway credentials when one is given, AWS otherwise. */
export function sdkClientOptions(endpoint: string | undefined) {
  return {
    // Lambda's own retry budget is the queue: keep SDK retries short so a stuck call fails inside the timeout.
    maxAttempts: 4,
    ...(endpoint ? { endpoint, region: 'us-east-1', credentials: LOCAL_CREDENTIALS } : {}),
  };
}
