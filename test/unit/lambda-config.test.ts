// Config on Lambda: parsed at the first invocation, the handler built once from it, a missing secret named.
import { describe, expect, it } from 'vitest';
import { configFromEnvironment, lazyHandler } from '../../shared/aws/lambda-config';
import { configWithSecrets } from '../../shared/aws/lambda-secrets';
import { FUNCTION_SECRETS } from '../../shared/aws/resources';

const ENV = { BRAND: 'acme', X_BOT_USER_ID: '1602999888777666555', X_BOT_USERNAME: 'AcmeSupport' };

describe('configFromEnvironment', () => {
  it('reads the environment once and hands back the same config at every invocation', async () => {
    const load = configFromEnvironment([], { ...ENV });
    const first = await load();
    expect(first.brand).toBe('acme');
    expect(await load()).toBe(first);
  });

  it('names the variable that is wrong', async () => {
    await expect(configFromEnvironment([], { ...ENV, BRAND: 'Not A Slug' })()).rejects.toThrow(/BRAND/);
    await expect(configFromEnvironment([], { ...ENV, ATTACHMENTS_BUCKET: 'Not_A_Bucket' })()).rejects.toThrow(/ATTACHMENTS_BUCKET/);
    await expect(configFromEnvironment([], { ...ENV, X_READ_BUDGET_PER_DAY: '-1' })()).rejects.toThrow(/X_READ_BUDGET_PER_DAY/);
  });
});

describe('configWithSecrets', () => {
  it('without SECRET_ARN (the local runner, tests) reads the secrets from the environment', async () => {
    const load = configWithSecrets(FUNCTION_SECRETS['x-webhook'], { ...ENV, X_API_SECRET: 'consumer-secret' });
    const config = await load();
    expect(config.x.apiSecret).toBe('consumer-secret');
    expect(await load()).toBe(config);
  });

  it('refuses to start without a secret the function needs, naming it', async () => {
    await expect(configWithSecrets(FUNCTION_SECRETS['helpdesk-api'], { ...ENV })()).rejects.toThrow(/HELPDESK_API_TOKEN is required/);
  });

  it('starts ingest and reply for a brand that has not set XChat up (no X_CHAT_KEYS), and still names a missing token', async () => {
    const x = { X_API_KEY: 'k', X_API_SECRET: 's', X_ACCESS_TOKEN: '1-t', X_ACCESS_TOKEN_SECRET: 'ts' };
    for (const fn of ['ingest', 'reply'] as const) {
      expect(FUNCTION_SECRETS[fn]).toContain('X_CHAT_KEYS');
      const config = await configWithSecrets(FUNCTION_SECRETS[fn], { ...ENV, ...x })();
      expect(config.x.chat, fn).toBeUndefined();
      const { X_ACCESS_TOKEN: _token, ...withoutToken } = x;
      await expect(configWithSecrets(FUNCTION_SECRETS[fn], { ...ENV, ...withoutToken })(), fn).rejects.toThrow(/X_ACCESS_TOKEN/);
    }
  });
});

describe('lazyHandler', () => {
  it('builds the handler at the first invocation and reuses it while the config is the same', async () => {
    let builds = 0;
    const handler = lazyHandler((config) => {
      builds++;
      return async (event: string) => `${config.brand}:${event}`;
    }, configFromEnvironment([], { ...ENV }));
    expect(builds).toBe(0);
    expect(await handler('a')).toBe('acme:a');
    expect(await handler('b')).toBe('acme:b');
    expect(builds).toBe(1);
  });
});
