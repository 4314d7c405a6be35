// The SQS client, in a module of its own: a function loads @aws-sdk/client-sqs only if it imports this file
// (see clients.ts for why each client has its own file).
import { SQSClient } from './sdk/client-sqs';
import type { Config } from '../config';
import { sdkClientOptions } from './sdk-client-options';

/** An SQS client for this config: the SQS emulator when the config names its endpoint, AWS otherwise. */
export function sqsClient(config: Config): SQSClient {
  return new SQSClient(sdkClientOptions(config.aws.sqsEndpoint));
}
