// AWS SDK clients, built once per process. On Lambda they use the role's credentials; locally the runner points
// them at DynamoDB Local and the SQS emulator on loopback with throwaway credentials.
//
// Loading an SDK client package is most of a cold start (tens of milliseconds each; see the README's Performance
// section), so a function must import only the clients it uses. Each client therefore has its own module
// (dynamodb-client.ts, sqs-client.ts): the SDK is external to the bundles, and esbuild keeps an external import of
// every module that is in the bundle even when the code using it is shaken out, so two clients in one file would be
// loaded together. Functions take `Pick<AwsClients, ...>` of what they use; this file, which loads both, is for the
// local runner and the tests, which hand every function the same full set.
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { Config } from '../config';
import { dynamoDbClient } from './dynamodb-client';
import { sqsClient } from './sqs-client';

export type AwsClients = { dynamodb: DynamoDBClient; sqs: SQSClient };

/** Both clients for this config: loopback endpoints when the config names them, AWS otherwise. */
export function createAwsClients(config: Config): AwsClients {
  return { dynamodb: dynamoDbClient(config), sqs: sqsClient(config) };
}
