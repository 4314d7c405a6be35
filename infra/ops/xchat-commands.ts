// `npm run x -- chat-setup` and `chat-status`: the brand's XChat keys, as X's SDK intends them
// (xchat/getting-started.mdx, "Register public keys"; xchat/handling-private-keys.mdx):
// - chat-setup generates the account's identity and signing keys with X's SDK, stores the private keys in Juicebox
//   behind the brand's PIN (the SDK's setup), registers the public keys with X (`POST /2/users/:id/public_keys`), and
//   writes what the functions need to unlock them (X_CHAT_KEYS: the PIN, the key version X registered, X's Juicebox
//   config) into the brand's secret. Juicebox first: if X's registration then fails, nothing public points at keys
//   the bridge cannot recover, and running it again starts over.
// - chat-status tells whether XChat is ready: X_CHAT_KEYS present, its key version registered at X, and (--unlock)
//   the keys unlocking with the PIN.
// The PIN is read from X_CHAT_PIN (never from the command line, which other users of the machine can see).
import { PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ConfigError } from '../../shared/errors';
import { createXChatClient, type XChatClient, type XClientOptions } from '../../shared/x/x-client';
import { juiceboxConfigFrom, publicKeysFrom, xchatSettingsFrom, type XChatSettings } from '../../shared/x/xchat-keys';
import { CommandFailure, EXIT, expectOnly, type CommandLine, type ExitCode, type Output } from './cli-support';
import { brandSecretName, defaultBrandLookup, resolveXSettings, secretsManagerReader, type BrandLookup, type SecretReader } from './x-credentials';

export const XCHAT_COMMANDS = new Set(['chat-setup', 'chat-status']);

export const XCHAT_USAGE = `  chat-setup [--force]            generate the account's XChat keys with X's SDK, keep them in Juicebox behind the PIN in
                                  X_CHAT_PIN, register them with X and write X_CHAT_KEYS to the brand's secret
  chat-status [--unlock]          whether XChat is ready (X_CHAT_KEYS set, its keys registered at X; --unlock tries the PIN)`;

/** Writes one secret's new value (the whole JSON). */
export type SecretWriter = (input: { secretId: string; region: string; value: string }) => Promise<void>;

export type XChatProgramDeps = {
  env: Record<string, string | undefined>;
  out: Output;
  readSecret?: SecretReader;
  writeSecret?: SecretWriter;
  lookupBrand?: BrandLookup;
  createChatClient?: (options: XClientOptions) => XChatClient;
  /** Replaces juicebox-sdk (tests: a local realm); X's SDK's own seam. */
  juiceboxModule?: unknown;
};

/** Checks a chat command's line before anything is read or sent (throws UsageError), then hands `run` back. */
export function checkXChatLine<T>(line: CommandLine, run: T): T {
  const setup = line.command === 'chat-setup';
  expectOnly(line, { options: ['brand', ...(setup ? ['force'] : ['unlock'])], maxArgs: 0, usage: `npm run x -- [--brand <brand>] ${line.command}` });
  return run;
}

/** Runs chat-setup or chat-status; configuration and X's refusals are thrown for x-program.ts to explain. */
export async function runXChatCommand(line: CommandLine, deps: XChatProgramDeps): Promise<ExitCode> {
  const setup = line.command === 'chat-setup';
  const brand = line.values.brand;
  const settings = await resolveXSettings({ env: deps.env, brand, readSecret: deps.readSecret, lookupBrand: deps.lookupBrand });
  if (!settings.botUserId) throw new ConfigError('X_BOT_USER_ID is not set: XChat keys belong to the bot account');
  const botUserId = settings.botUserId;
  const client = (deps.createChatClient ?? createXChatClient)({ ...settings.credentials, apiBaseUrl: settings.apiBaseUrl });
  const secret = brand ? await brandSecret(brand, deps) : undefined;
  const current = xchatSettingsFrom(secret ? (secret.values.X_CHAT_KEYS as string | undefined) : deps.env.X_CHAT_KEYS);
  const own = await client.getPublicKeys(botUserId);
  const registered = publicKeysFrom(own);
  const { out } = deps;

  if (!setup) {
    const problems: string[] = [];
    if (!current) problems.push(`X_CHAT_KEYS is not set in ${settings.source}: run chat-setup`);
    else if (!registered.some((k) => k.version === current.keyVersion)) {
      problems.push(`X lists no key version ${current.keyVersion} for the account: its keys changed since chat-setup; run chat-setup --force`);
    }
    out.line(`XChat keys registered at X: ${registered.length ? registered.map((k) => k.version).join(', ') : 'none'}`);
    if (current) out.line(`X_CHAT_KEYS: key version ${current.keyVersion}`);
    if (current && problems.length === 0 && line.flags.has('unlock')) {
      const { unlockXChat } = await import('../../shared/x/xchat-open');
      try {
        const session = await unlockXChat({ settings: current, botUserId, juiceboxModule: deps.juiceboxModule });
        const match = registered.find((k) => k.version === current.keyVersion);
        if (match && !session.chat.matchesRegisteredKey(match.publicKey)) problems.push('the keys in Juicebox are not the ones X lists: run chat-setup --force');
        else out.line('the keys unlock with the PIN');
        session.chat.free();
      } catch (error) {
        problems.push(`the keys do not unlock: ${(error as Error).message}`);
      }
    }
    for (const problem of problems) out.error(problem);
    out.line(problems.length ? 'XChat is NOT ready: XChat messages reach tickets encrypted.' : 'XChat is ready.');
    return problems.length ? EXIT.failure : EXIT.ok;
  }

  const pin = deps.env.X_CHAT_PIN?.trim();
  if (!pin) throw new ConfigError('X_CHAT_PIN is not set: export the PIN that will guard the XChat keys in Juicebox (at least 4 characters, not a run like 1234)');
  if (registered.length > 0 && !line.flags.has('force')) {
    throw new CommandFailure(
      `the account already has XChat keys at X (version ${registered.map((k) => k.version).join(', ')}). New keys cannot read ` +
        'messages sent to the old ones: run chat-setup --force only if the old keys are lost or compromised.',
    );
  }
  const juiceboxConfig = current?.juiceboxConfig ?? juiceboxConfigFrom(own);
  if (!juiceboxConfig) throw new CommandFailure("X's answer for the account's public keys carries no Juicebox config (juicebox_config)");
  const { createChat } = await (await import('../../shared/x/xchat-open')).loadChatXdk();
  const chat = await createChat({
    juiceboxConfig,
    getAuthToken: async (realmId: string) => {
      const { realmTokenFrom } = await import('../../shared/x/xchat-keys');
      const token = realmTokenFrom(juiceboxConfig, realmId);
      if (!token) throw new Error(`no Juicebox token for realm ${realmId} in X's config`);
      return token;
    },
    ...(deps.juiceboxModule ? { juiceboxModule: deps.juiceboxModule } : {}),
  } as Parameters<typeof createChat>[0]);
  try {
    const registration = chat.generateKeypairs();
    await chat.setup(pin);
    out.line('keys generated and kept in Juicebox behind the PIN');
    const key = registration.publicKey;
    const answer = await client.addPublicKey(botUserId, {
      public_key: {
        identity_public_key_signature: key.identityPublicKeySignature,
        public_key: key.publicKey,
        ...(key.publicKeyFingerprint ? { public_key_fingerprint: key.publicKeyFingerprint } : {}),
        registration_method: key.registrationMethod,
        signing_public_key: key.signingPublicKey,
        ...(key.signingPublicKeySignature ? { signing_public_key_signature: key.signingPublicKeySignature } : {}),
      },
      ...(registration.version ? { version: registration.version } : {}),
      generate_version: registration.generateVersion,
    });
    // X names the version it registered; if its answer does not, its list of the account's keys does.
    const named = (answer as { data?: { public_key_version?: unknown; version?: unknown } } | undefined)?.data;
    const version =
      registration.version ||
      (typeof named?.public_key_version === 'string' ? named.public_key_version : typeof named?.version === 'string' ? named.version : undefined) ||
      publicKeysFrom(await client.getPublicKeys(botUserId)).find((k) => k.publicKey === key.publicKey)?.version;
    if (!version) throw new CommandFailure('X registered the keys but named no version for them; run chat-status');
    out.line(`public keys registered with X as version ${version} (fingerprint ${chat.getPublicKeyFingerprint()})`);
    const value: XChatSettings = { pin, keyVersion: version, juiceboxConfig };
    const json = JSON.stringify(value);
    if (secret) {
      await (deps.writeSecret ?? secretsManagerWriter)({ secretId: secret.secretId, region: secret.region, value: JSON.stringify({ ...secret.values, X_CHAT_KEYS: json }) });
      out.line(`X_CHAT_KEYS written to ${secret.where}: ingest reads XChat messages from its next cold start`);
    } else {
      out.line('Set X_CHAT_KEYS to this value where the bridge reads its secrets (it holds the PIN: keep it as secret as the keys):');
      out.line(json);
    }
    return EXIT.ok;
  } finally {
    chat.free();
  }
}

async function brandSecret(brand: string, deps: XChatProgramDeps) {
  const region = (deps.lookupBrand ?? defaultBrandLookup)(brand).region;
  const secretId = brandSecretName(brand);
  const raw = await (deps.readSecret ?? secretsManagerReader)({ secretId, region });
  const values = JSON.parse(raw ?? '{}') as Record<string, unknown>;
  return { secretId, region, values, where: `secret ${secretId} (${region})` };
}

/** Puts a secret's new value with the AWS credentials of the environment. */
export const secretsManagerWriter: SecretWriter = async ({ secretId, region, value }) => {
  const client = new SecretsManagerClient({ region });
  try {
    await client.send(new PutSecretValueCommand({ SecretId: secretId, SecretString: value }));
  } finally {
    client.destroy();
  }
};
