// AWS SDK clients, built once per process. On Lambda they use the role's credentials; locally the runner points
// them at DynamoDB Local and the SQS emulator on loopback with throwaway credentials.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { Config } from '../config';

export type AwsClients = { dynamodb: DynamoDBClient; sqs: SQSClient };

const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

/** Clients for this config: loopback endpoints when the config names them, AWS otherwise. */
export function createAwsClients(config: Config): AwsClients {
  const local = (endpoint: string | undefined) =>
    endpoint ? { endpoint, region: 'us-east-1', credentials: LOCAL_CREDENTIALS } : {};
  return {
    // Lambda's own retry budget is the queue: keep SDK retries short so a stuck call fails inside the timeout.
    dynamodb: new DynamoDBClient({ maxAttempts: 4, ...local(config.aws.dynamodbEndpoint) }),
    sqs: new SQSClient({ maxAttempts: 4, ...local(config.aws.sqsEndpoint) }),
  };
}
