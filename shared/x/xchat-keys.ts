// XChat keys as X lists them and as the brand's secret keeps them. Pure, no SDK.
// - X: `GET /2/users/:id/public_keys` answers `{data: [{public_key, signing_public_key, identity_public_key_signature,
//   public_key_version, juicebox_config}]}` (x-api/users/get-user-public-keys; older pages name the version `version`
//   and the Juicebox config `token_map`, so both are read). Only these keys, never one carried inside an event, are
//   trusted to verify a sender's signature (@xdevplatform/chat-xdk, setSigningKeys).
// - The brand's secret holds `X_CHAT_KEYS`: `{pin, keyVersion, juiceboxConfig}`, written by `npm run x -- chat-setup`.
//   The private keys themselves are never in it: they live in Juicebox behind the PIN (X's SDK: setup / unlock).
import type { JsonObject } from './format-readers';

/** One registered key version of a user: what decrypting their messages needs to verify them. */
export type XChatPublicKey = { version: string; publicKey: string; signingPublicKey: string; identityPublicKeySignature: string };

/** What the functions need to unlock the brand's XChat keys: the PIN, the key version X registered, Juicebox's config. */
export type XChatSettings = { pin: string; keyVersion: string; juiceboxConfig: string };

const isObject = (value: unknown): value is JsonObject => typeof value === 'object' && value !== null && !Array.isArray(value);
const text = (value: unknown): string | undefined =>
  typeof value === 'string' && value !== '' ? value : typeof value === 'number' ? String(value) : undefined;

function entries(body: unknown): JsonObject[] {
  const data = isObject(body) ? body.data : undefined;
  return (Array.isArray(data) ? data : [data]).filter(isObject);
}

/** The complete key versions in X's answer (one missing a field cannot verify anything and is left out). */
export function publicKeysFrom(body: unknown): XChatPublicKey[] {
  return entries(body).flatMap((entry) => {
    const version = text(entry.public_key_version) ?? text(entry.version);
    const publicKey = text(entry.public_key);
    const signingPublicKey = text(entry.signing_public_key);
    const identityPublicKeySignature = text(entry.identity_public_key_signature);
    return version && publicKey && signingPublicKey && identityPublicKeySignature
      ? [{ version, publicKey, signingPublicKey, identityPublicKeySignature }]
      : [];
  });
}

/** The Juicebox configuration in X's answer for the account's own keys, as the JSON text X's SDK takes. */
export function juiceboxConfigFrom(body: unknown): string | undefined {
  for (const entry of entries(body)) {
    const config = entry.juicebox_config ?? entry.token_map;
    if (isObject(config)) return JSON.stringify(config);
    if (typeof config === 'string' && config !== '') return config;
  }
  return undefined;
}

/**
 * The auth token Juicebox's realm `realmId` (hex) takes, from X's config (`realms: [{realm_id, address, token}]`): the
 * SDK asks for one per realm it calls.
 */
export function realmTokenFrom(juiceboxConfig: string, realmId: string): string | undefined {
  try {
    const config: unknown = JSON.parse(juiceboxConfig);
    const realms = isObject(config) && Array.isArray(config.realms) ? config.realms.filter(isObject) : [];
    const realm = realms.find((r) => String(r.realm_id ?? r.id ?? '').toLowerCase() === realmId.toLowerCase());
    return text(realm?.token);
  } catch {
    return undefined;
  }
}

/** `X_CHAT_KEYS` from the brand's secret, or undefined when it is absent or not what chat-setup writes. */
export function xchatSettingsFrom(value: string | undefined): XChatSettings | undefined {
  if (!value) return undefined;
  try {
    const parsed: unknown = JSON.parse(value);
    if (!isObject(parsed)) return undefined;
    const pin = text(parsed.pin);
    const keyVersion = text(parsed.keyVersion);
    const juiceboxConfig = text(parsed.juiceboxConfig);
    return pin && keyVersion && juiceboxConfig ? { pin, keyVersion, juiceboxConfig } : undefined;
  } catch {
    return undefined;
  }
}

/** The signing-key entries X's SDK verifies a user's events with. */
export function signingKeysOf(userId: string, keys: XChatPublicKey[]) {
  return keys.map((key) => ({
    userId,
    publicKeyVersion: key.version,
    publicKey: key.signingPublicKey,
    identityPublicKey: key.publicKey,
    identityPublicKeySignature: key.identityPublicKeySignature,
  }));
}
