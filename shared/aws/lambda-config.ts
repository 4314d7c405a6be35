// Config on Lambda: plain settings from the environment the stack sets, secrets from the brand's Secrets Manager
// secret (SECRET_ARN), fetched at cold start and refreshed every few minutes so a rotated secret is picked up.
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { parseConfig, type Config, type SecretName } from '../config';
import { ConfigError } from '../errors';

const REFRESH_MS = 5 * 60 * 1000;
let cached: { config: Config; at: number } | undefined;
let client: SecretsManagerClient | undefined;

/**
 * The function's config. Without SECRET_ARN (the local runner, tests) the secrets are read from the environment.
 * A secret that is not a JSON object of strings fails with a message naming SECRET_ARN, never its content.
 */
export async function loadLambdaConfig(
  needs: readonly SecretName[],
  env: Record<string, string | undefined> = process.env,
): Promise<Config> {
  if (cached && Date.now() - cached.at < REFRESH_MS) return cached.config;
  let secrets: Record<string, string | undefined> = env;
  // A function that needs no secret does not read it (and the stack grants it no access).
  if (env.SECRET_ARN && needs.length > 0) {
    client ??= new SecretsManagerClient({});
    const result = await client.send(new GetSecretValueCommand({ SecretId: env.SECRET_ARN }));
    try {
      const parsed: unknown = JSON.parse(result.SecretString ?? '');
      if (typeof parsed !== 'object' || parsed === null) throw new Error('not an object');
      secrets = parsed as Record<string, string>;
    } catch {
      throw new ConfigError('Invalid configuration: the secret at SECRET_ARN must be a JSON object of strings');
    }
  }
  const config = parseConfig(env, secrets, needs);
  cached = { config, at: Date.now() };
  return config;
}

/**
 * A Lambda handler that builds its real handler from config on first use (cold start) and reuses it after.
 * The same `create` function is what the local runner and the tests call with their own config.
 */
export function lazyHandler<E, R>(
  create: (config: Config) => (event: E) => Promise<R>,
  needs: readonly SecretName[],
): (event: E) => Promise<R> {
  let built: { config: Config; run: (event: E) => Promise<R> } | undefined;
  return async (event: E) => {
    const config = await loadLambdaConfig(needs);
    if (!built || built.config !== config) built = { config, run: create(config) };
    return built.run(event);
  };
}
