// The @aws-sdk/client-sqs values the bridge uses, loaded by require() (see load.ts). Types come from the package.
import type * as Sdk from '@aws-sdk/client-sqs';
import { requireSdk } from './load';

const sdk = requireSdk<typeof Sdk>('@aws-sdk/client-sqs');

export const SQSClient = sdk.SQSClient;
export type SQSClient = Sdk.SQSClient;
export const ChangeMessageVisibilityCommand = sdk.ChangeMessageVisibilityCommand;
export const SendMessageBatchCommand = sdk.SendMessageBatchCommand;
export const SendMessageCommand = sdk.SendMessageCommand;
