// The @aws-sdk/client-secrets-manager values the bridge uses, loaded by require() (see load.ts).
import type * as Sdk from '@aws-sdk/client-secrets-manager';
import { requireSdk } from './load';

const sdk = requireSdk<typeof Sdk>('@aws-sdk/client-secrets-manager');

export const SecretsManagerClient = sdk.SecretsManagerClient;
export type SecretsManagerClient = Sdk.SecretsManagerClient;
export const GetSecretValueCommand = sdk.GetSecretValueCommand;
