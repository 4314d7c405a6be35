// @aws-sdk/util-dynamodb's marshalling, loaded by require() (see load.ts).
import type * as Sdk from '@aws-sdk/util-dynamodb';
import { requireSdk } from './load';

const sdk = requireSdk<typeof Sdk>('@aws-sdk/util-dynamodb');

export const marshall = sdk.marshall;
export const unmarshall = sdk.unmarshall;
