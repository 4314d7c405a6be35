// Where the X ops CLI finds the X app's keys and the bot's token: the environment, or (with --brand) the brand's
// Secrets Manager secret, the very values the deployed functions use, plus the bot's id from infra/brands/<brand>.json.
// No value is ever echoed: messages name the variable or the secret key, never its content.
import { GetSecretValueCommand, ResourceNotFoundException, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import * as z from 'zod';
import { ConfigError } from '../../shared/errors';
import type { XCredentials } from '../../shared/x/x-client';
import { X_DEFAULT_API_BASE_URL } from '../../shared/x/x-client';
import { loadBrandConfig } from '../brand-config';

/** What the X commands run with. `source` says where the credentials came from, for the person to read. */
export type XOpsSettings = {
  credentials: XCredentials;
  apiBaseUrl: string;
  /** The bot account: needed by `subscribe` and by `status`'s subscription check. */
  botUserId?: string;
  brand?: string;
  source: string;
};

/** Reads a secret's string value. The default reads AWS Secrets Manager; tests hand in a stub. */
export type SecretReader = (input: { secretId: string; region: string }) => Promise<string | undefined>;

/** What a brand's deployment file contributes. */
export type BrandLookup = (brand: string) => { region: string; xBotUserId: string };

/**
 * The Secrets Manager secret of a brand. Equal to infra/stack.ts secretName() (a test keeps them equal); not imported
 * from there because that module loads aws-cdk-lib, seconds of start-up for a CLI that only needs the name.
 */
export function brandSecretName(brand: string): string {
  return `support-bridge/${brand}`;
}

const X_SECRET_KEYS = ['X_API_KEY', 'X_API_SECRET', 'X_ACCESS_TOKEN', 'X_ACCESS_TOKEN_SECRET'] as const;
type XSecretKey = (typeof X_SECRET_KEYS)[number];

// Each value is checked for presence only: what X accepts is X's to say, and its refusal is explained separately.
const present = z.string().trim().min(1);
const numericId = /^\d{1,20}$/;

/**
 * Resolves the settings: from the brand's secret and file when `brand` is given, else from the environment
 * (X_API_KEY, X_API_SECRET, X_ACCESS_TOKEN, X_ACCESS_TOKEN_SECRET, X_BOT_USER_ID, X_API_BASE_URL). X_API_BASE_URL
 * applies in both cases (tests and the X API playground point it at loopback); with a brand, the bot id is the brand
 * file's. Throws ConfigError saying what to set or fill.
 */
export async function resolveXSettings(input: {
  env: Record<string, string | undefined>;
  brand?: string;
  readSecret?: SecretReader;
  lookupBrand?: BrandLookup;
}): Promise<XOpsSettings> {
  const { env, brand } = input;
  const apiBaseUrl = blankToUndefined(env.X_API_BASE_URL) ?? X_DEFAULT_API_BASE_URL;
  const envBotUserId = blankToUndefined(env.X_BOT_USER_ID);
  if (envBotUserId !== undefined && !numericId.test(envBotUserId)) {
    throw new ConfigError('X_BOT_USER_ID must be the bot account’s numeric X user id (digits only)');
  }

  if (!brand) {
    const missing = X_SECRET_KEYS.filter((key) => !present.safeParse(env[key]).success);
    if (missing.length > 0) {
      throw new ConfigError(
        `${missing.join(', ')} ${missing.length > 1 ? 'are' : 'is'} not set. Export the X app's consumer key and secret ` +
          `(X_API_KEY, X_API_SECRET) and the bot's OAuth 1.0a token (X_ACCESS_TOKEN, X_ACCESS_TOKEN_SECRET), ` +
          `or pass --brand <brand> to read them from the brand's secret.`,
      );
    }
    return {
      credentials: credentialsFrom(env as Record<XSecretKey, string>),
      apiBaseUrl,
      botUserId: envBotUserId,
      source: 'the environment',
    };
  }

  const deployment = (input.lookupBrand ?? defaultBrandLookup)(brand);
  const secretId = brandSecretName(brand);
  const raw = await (input.readSecret ?? secretsManagerReader)({ secretId, region: deployment.region });
  const where = `secret ${secretId} (${deployment.region})`;
  if (raw === undefined) throw new ConfigError(`${where} has no string value: fill it (README: Deploying a brand)`);
  let values: unknown;
  try {
    values = JSON.parse(raw);
  } catch {
    throw new ConfigError(`${where} is not JSON: it must be an object with keys ${X_SECRET_KEYS.join(', ')}, ...`);
  }
  const record = typeof values === 'object' && values !== null ? (values as Record<string, unknown>) : {};
  const missing = X_SECRET_KEYS.filter((key) => !present.safeParse(record[key]).success);
  if (missing.length > 0) {
    throw new ConfigError(
      `${where} has no value yet for ${missing.join(', ')}: fill it with the X app's ` +
        `consumer key and secret and the bot's access token and secret (README: Deploying a brand)`,
    );
  }
  return {
    credentials: credentialsFrom(record as Record<XSecretKey, string>),
    apiBaseUrl,
    // The brand file names the bot; an X_BOT_USER_ID left exported for another brand must not redirect subscriptions.
    botUserId: deployment.xBotUserId,
    brand,
    source: where,
  };
}

function credentialsFrom(values: Record<XSecretKey, string>): XCredentials {
  return {
    apiKey: values.X_API_KEY.trim(),
    apiSecret: values.X_API_SECRET.trim(),
    accessToken: values.X_ACCESS_TOKEN.trim(),
    accessTokenSecret: values.X_ACCESS_TOKEN_SECRET.trim(),
  };
}

function blankToUndefined(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

/** The brand file's region and bot id (infra/brands/<brand>.json, validated as `cdk synth` validates it). */
export const defaultBrandLookup: BrandLookup = (brand) => {
  try {
    const config = loadBrandConfig(brand);
    return { region: config.region, xBotUserId: config.xBotUserId };
  } catch (error) {
    // BrandConfigError already names the file and the field.
    throw new ConfigError((error as Error).message);
  }
};

/** Reads a secret with the AWS credentials of the environment (AWS_PROFILE, SSO, instance role...). */
export const secretsManagerReader: SecretReader = async ({ secretId, region }) => {
  const client = new SecretsManagerClient({ region });
  try {
    const result = await client.send(new GetSecretValueCommand({ SecretId: secretId }));
    return result.SecretString;
  } catch (error) {
    if (error instanceof ResourceNotFoundException) {
      throw new ConfigError(`secret ${secretId} was not found in ${region}: is the brand's stack deployed (npx cdk deploy -c brand=…)?`);
    }
    const name = error instanceof Error ? error.name : 'Error';
    const message = error instanceof Error ? error.message : String(error);
    throw new ConfigError(
      `could not read secret ${secretId} in ${region} (${name}: ${message}): check your AWS credentials (AWS_PROFILE) ` +
        `allow secretsmanager:GetSecretValue on it`,
    );
  } finally {
    client.destroy();
  }
};
