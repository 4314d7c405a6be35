// Config on Lambda for a function that reads secrets: the brand's Secrets Manager secret (SECRET_ARN), fetched at
// cold start and refreshed every few minutes so a rotated secret is picked up. Only the functions that import this
// file load the Secrets Manager client.
import { GetSecretValueCommand, SecretsManagerClient } from './sdk/client-secrets-manager';
import { parseConfig, ROTATION_COMPANIONS, type Config, type SecretName } from '../config';
import { ConfigError } from '../errors';
import type { ConfigSource } from './lambda-config';

const REFRESH_MS = 5 * 60 * 1000;
let client: SecretsManagerClient | undefined;

/**
 * Config whose `needs` come from the secret at SECRET_ARN, the rest from the environment. Without SECRET_ARN (the
 * local runner, tests) the secrets are read from the environment. Only the values in `needs` are taken: the brand's
 * secret holds every function's values and IAM can grant it only whole, so this is where a function is kept to its
 * own (and where another function's malformed value cannot stop it), with their ROTATION_COMPANIONS when present (a
 * rotation's previous values). A secret that is not a JSON object fails with a
 * message naming SECRET_ARN, never its content.
 */
export function configWithSecrets(
  needs: readonly [SecretName, ...SecretName[]],
  env: Record<string, string | undefined> = process.env,
): ConfigSource {
  let cached: { config: Config; at: number } | undefined;
  return async (options = {}) => {
    const maxAgeMs = Math.min(options.maxAgeMs ?? REFRESH_MS, REFRESH_MS);
    if (cached && Date.now() - cached.at < maxAgeMs) return cached.config;
    let source: Record<string, string | undefined> = env;
    if (env.SECRET_ARN) {
      client ??= new SecretsManagerClient({});
      const result = await client.send(new GetSecretValueCommand({ SecretId: env.SECRET_ARN }));
      try {
        const parsed: unknown = JSON.parse(result.SecretString ?? '');
        if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object');
        source = parsed as Record<string, string>;
      } catch {
        throw new ConfigError('Invalid configuration: the secret at SECRET_ARN must be a JSON object of strings');
      }
    }
    // A value's rotation companions (its previous value during an overlap) come with it, when the secret holds them.
    const names = needs.flatMap((name) => [name, ...(ROTATION_COMPANIONS[name] ?? [])]);
    const secrets = Object.fromEntries(names.map((name) => [name, source[name]]));
    const config = parseConfig(env, secrets, needs);
    cached = { config, at: Date.now() };
    return config;
  };
}

