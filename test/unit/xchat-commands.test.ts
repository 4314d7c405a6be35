// `npm run x -- chat-setup` and `chat-status` against the fake X's XChat endpoints and a local Juicebox realm: the keys
// X's SDK generates are kept in Juicebox behind the PIN, registered with X, and what the functions need lands in the
// brand's secret; status says whether XChat is ready; a message a customer then encrypts to the registered keys opens.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { memoryOutput } from '../../infra/ops/cli-support';
import { runXProgram } from '../../infra/ops/x-program';
import { normaliseWebhookBody } from '../../shared/x/normalise';
import { inboundEventSchema } from '../../shared/x/inbound-event';
import { xchatSettingsFrom, publicKeysFrom } from '../../shared/x/xchat-keys';
import { createXChatOpener } from '../../shared/x/xchat-open';
import type { XChatDm } from '../../shared/x/xchat-inbound';
import { FakeXServer } from '../support/fake-x-server';
import { chatParty, chatReceived, FakeXChat, localJuicebox, type LocalJuicebox } from '../support/fake-xchat';

const BOT_ID = '1602999888777666555';
const CREDENTIALS = {
  consumerKey: 'chat-setup-consumer-key',
  consumerSecret: 'chat-setup-consumer-secret',
  accessToken: `${BOT_ID}-chat-setup-token`,
  accessTokenSecret: 'chat-setup-token-secret',
};
const PIN = '7391-acme';

let x: FakeXServer;
let xchat: FakeXChat;
let juicebox: LocalJuicebox;

beforeAll(async () => {
  x = new FakeXServer({ credentials: CREDENTIALS, extraRoutes: (request, user) => xchat.routes(request, user) });
  await x.start();
});
afterAll(() => x.stop());
beforeEach(() => {
  xchat = new FakeXChat();
  juicebox = localJuicebox();
  x.reset();
});

const env = (more: Record<string, string> = {}) => ({
  X_API_KEY: CREDENTIALS.consumerKey,
  X_API_SECRET: CREDENTIALS.consumerSecret,
  X_ACCESS_TOKEN: CREDENTIALS.accessToken,
  X_ACCESS_TOKEN_SECRET: CREDENTIALS.accessTokenSecret,
  X_BOT_USER_ID: BOT_ID,
  X_API_BASE_URL: x.url,
  ...more,
});

async function run(argv: string[], more: Record<string, string> = {}, deps: Partial<Parameters<typeof runXProgram>[1]> = {}) {
  const out = memoryOutput();
  const code = await runXProgram(argv, { env: env(more), out, timeoutMs: 5_000, xchat: { juiceboxModule: juicebox.module }, ...deps });
  return { code, out };
}

describe('chat-setup, from the environment', () => {
  it('keeps the keys in Juicebox, registers them with X, prints X_CHAT_KEYS; status is then ready and the keys unlock', async () => {
    const setup = await run(['chat-setup'], { X_CHAT_PIN: PIN });
    expect(setup.out.errors).toEqual([]);
    expect(setup.code).toBe(0);
    // Juicebox before X: the private keys are safe before anything public points at them.
    expect(juicebox.calls).toEqual(['register']);
    const registered = xchat.keys.get(BOT_ID) ?? [];
    expect(registered).toHaveLength(1);
    const printed = setup.out.lines.at(-1)!;
    const settings = xchatSettingsFrom(printed)!;
    expect(settings).toMatchObject({ pin: PIN, keyVersion: registered[0]!.public_key_version });
    const posted = x.requests.find((r) => r.method === 'POST' && r.path === `/2/users/${BOT_ID}/public_keys`)!;
    expect(posted.body).toMatchObject({ public_key: { public_key: expect.any(String), signing_public_key: expect.any(String), identity_public_key_signature: expect.any(String), registration_method: expect.any(String) }, generate_version: expect.any(Boolean) });

    const status = await run(['chat-status', '--unlock'], { X_CHAT_KEYS: printed });
    expect(status.out.errors).toEqual([]);
    expect(status.out.lines).toContain('the keys unlock with the PIN');
    expect(status.out.lines.at(-1)).toBe('XChat is ready.');
    expect(status.code).toBe(0);

    // A customer writes to the keys X now lists for the account: the functions open it with X_CHAT_KEYS.
    const customer = await chatParty('1357924680', xchat, juicebox);
    const bot = publicKeysFrom({ data: registered })[0]!;
    const delivery = chatReceived(customer, { userId: BOT_ID, identityPublicKey: bot.publicKey, keyVersion: bot.version }, 'after setup');
    const dm = inboundEventSchema.parse(normaliseWebhookBody(delivery.body, { botUserId: BOT_ID, botUsername: 'AcmeSupport', receivedAt: new Date().toISOString() }).events[0]) as XChatDm;
    const opener = await createXChatOpener({ settings, botUserId: BOT_ID, juiceboxModule: juicebox.module, publicKeys: async (id) => publicKeysFrom({ data: xchat.keys.get(id) }) });
    expect(await opener.open(dm)).toEqual({ ok: true, text: 'after setup', links: [] });
  });

  it('refuses to replace keys X already lists without --force (new keys cannot read messages sent to the old)', async () => {
    expect((await run(['chat-setup'], { X_CHAT_PIN: PIN })).code).toBe(0);
    const again = await run(['chat-setup'], { X_CHAT_PIN: PIN });
    expect(again.code).toBe(1);
    expect(again.out.errors.join('\n')).toMatch(/already has XChat keys.*--force/s);
    expect(xchat.keys.get(BOT_ID)).toHaveLength(1);
    expect((await run(['chat-setup', '--force'], { X_CHAT_PIN: PIN })).code).toBe(0);
    expect(xchat.keys.get(BOT_ID)).toHaveLength(2);
  });

  it('needs the PIN from X_CHAT_PIN, and a strong one (the SDK refuses runs like 1234)', async () => {
    const none = await run(['chat-setup']);
    expect(none.code).toBe(1);
    expect(none.out.errors.join('\n')).toMatch(/X_CHAT_PIN is not set/);
    const weak = await run(['chat-setup'], { X_CHAT_PIN: '1234' });
    expect(weak.code).toBe(1);
    expect(xchat.keys.get(BOT_ID)).toBeUndefined();
  });

  it('status without X_CHAT_KEYS, or with a key version X does not list, is not ready (exit 1)', async () => {
    const missing = await run(['chat-status']);
    expect(missing.code).toBe(1);
    expect(missing.out.errors.join('\n')).toMatch(/X_CHAT_KEYS is not set.*chat-setup/);
    expect(missing.out.lines.at(-1)).toMatch(/NOT ready/);
    const stale = await run(['chat-status'], { X_CHAT_KEYS: JSON.stringify({ pin: PIN, keyVersion: '42', juiceboxConfig: '{}' }) });
    expect(stale.code).toBe(1);
    expect(stale.out.errors.join('\n')).toMatch(/no key version 42/);
  });

  it('a wrong option is a usage error before anything is read or sent', async () => {
    const wrong = await run(['chat-setup', '--unlock']);
    expect(wrong.code).toBe(2);
    expect(x.requests).toEqual([]);
  });
});

describe('chat-setup, for a brand', () => {
  it("writes X_CHAT_KEYS into the brand's secret, keeping every other value", async () => {
    const secret: Record<string, string> = {
      X_API_KEY: CREDENTIALS.consumerKey,
      X_API_SECRET: CREDENTIALS.consumerSecret,
      X_ACCESS_TOKEN: CREDENTIALS.accessToken,
      X_ACCESS_TOKEN_SECRET: CREDENTIALS.accessTokenSecret,
      HELPDESK_API_TOKEN: 'helpdesk-api-token-of-the-brand',
    };
    const writes: { secretId: string; region: string; value: string }[] = [];
    const out = memoryOutput();
    const code = await runXProgram(['--brand', 'acme', 'chat-setup'], {
      env: { X_API_BASE_URL: x.url, X_CHAT_PIN: PIN },
      out,
      timeoutMs: 5_000,
      readSecret: async () => JSON.stringify(secret),
      lookupBrand: () => ({ region: 'eu-west-1', xBotUserId: BOT_ID }),
      xchat: { juiceboxModule: juicebox.module, writeSecret: async (input) => void writes.push(input) },
    });
    expect(out.errors).toEqual([]);
    expect(code).toBe(0);
    expect(writes).toHaveLength(1);
    expect(writes[0]).toMatchObject({ secretId: 'support-bridge/acme', region: 'eu-west-1' });
    const written = JSON.parse(writes[0]!.value) as Record<string, string>;
    expect(written).toMatchObject(secret);
    expect(xchatSettingsFrom(written.X_CHAT_KEYS)).toMatchObject({ pin: PIN, keyVersion: xchat.keys.get(BOT_ID)![0]!.public_key_version });
    // The PIN is never printed when it goes to the secret.
    expect(out.text()).not.toContain(PIN);
  });
});
