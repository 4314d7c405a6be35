// Config on Lambda: plain settings from the environment the stack sets, and, for a function that reads secrets, the
// brand's Secrets Manager secret (lambda-secrets.ts). This file imports no SDK package, so a function that reads no
// secret (ingest) does not load the Secrets Manager client at cold start.
import { parseConfig, type Config } from '../config';

/**
 * Where a function's config comes from: called at every invocation, it returns the same object until it changes.
 * `maxAgeMs` asks for a copy read at most that long ago (a source that reads nothing remote ignores it).
 */
export type ConfigSource = (options?: { maxAgeMs?: number }) => Promise<Config>;

/** Reads the config again when the copy in hand is older than `maxAgeMs` (a rotated secret, found before the refresh). */
export type ConfigReload = (maxAgeMs: number) => Promise<Config>;

/**
 * Config for a function that reads no secret: the environment alone, parsed at the first invocation. `needs` is the
 * function's FUNCTION_SECRETS entry, typed empty: a function given a secret there no longer compiles with this
 * source and must move to configWithSecrets.
 */
export function configFromEnvironment(needs: readonly [], env: Record<string, string | undefined> = process.env): ConfigSource {
  let config: Config | undefined;
  return async () => (config ??= parseConfig(env, env, needs));
}

/**
 * A Lambda handler that builds its real handler from config on first use (cold start) and reuses it after, until
 * the config changes (a rotated secret). The same `create` function is what the local runner and the tests call
 * with their own config.
 */
export function lazyHandler<E, R>(
  create: (config: Config, reload: ConfigReload) => (event: E) => Promise<R>,
  loadConfig: ConfigSource,
): (event: E) => Promise<R> {
  let built: { config: Config; run: (event: E) => Promise<R> } | undefined;
  const reload: ConfigReload = (maxAgeMs) => loadConfig({ maxAgeMs });
  return async (event: E) => {
    const config = await loadConfig();
    if (!built || built.config !== config) built = { config, run: create(config, reload) };
    return built.run(event);
  };
}
