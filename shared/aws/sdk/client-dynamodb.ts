// The @aws-sdk/client-dynamodb values the bridge uses, loaded by require() (see load.ts). Types come from the package.
import type * as Sdk from '@aws-sdk/client-dynamodb';
import { requireSdk } from './load';

const sdk = requireSdk<typeof Sdk>('@aws-sdk/client-dynamodb');

export const DynamoDBClient = sdk.DynamoDBClient;
export type DynamoDBClient = Sdk.DynamoDBClient;
export const ConditionalCheckFailedException = sdk.ConditionalCheckFailedException;
export const TransactionCanceledException = sdk.TransactionCanceledException;
export const BatchGetItemCommand = sdk.BatchGetItemCommand;
export const GetItemCommand = sdk.GetItemCommand;
export const PutItemCommand = sdk.PutItemCommand;
export const UpdateItemCommand = sdk.UpdateItemCommand;
export const QueryCommand = sdk.QueryCommand;
export const TransactWriteItemsCommand = sdk.TransactWriteItemsCommand;
