// The DynamoDB client, in a module of its own: a function loads @aws-sdk/client-dynamodb only if it imports this file
// (see clients.ts for why each client has its own file).
import { DynamoDBClient } from './sdk/client-dynamodb';
import type { Config } from '../config';
import { sdkClientOptions } from './sdk-client-options';

/** A DynamoDB client for this config: DynamoDB Local when the config names its endpoint, AWS otherwise. */
export function dynamoDbClient(config: Config): DynamoDBClient {
  return new DynamoDBClient(sdkClientOptions(config.aws.dynamodbEndpoint));
}
