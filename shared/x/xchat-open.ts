// The brand's XChat keys at work, with X's SDK (@xdevplatform/chat-xdk, a WebAssembly build of X's Rust core). This
// module is only ever loaded by a dynamic import, when an XChat message arrives (shared/x/xchat-inbound.ts) or a reply
// goes back by XChat: the SDK (~1 MB of wasm, and juicebox-sdk's ~3 MB when the keys are unlocked) is kept out of every
// other path and every other function's bundle (infra/constructs/bridge-function.ts ships it beside the functions that
// need it).
//
// Keys, as X's SDK intends (xchat/getting-started.mdx; the SDK's README): the private keys live in Juicebox behind the
// brand's PIN; a cold start unlocks them once (createChat + unlock) and keeps them in memory. Decrypting follows
// "Receive and decrypt": the conversation key from the payload's `conversation_key_change_event`
// (extractConversationKeys), the sender's signing keys from X (`GET /2/users/:id/public_keys`), then decryptEvent,
// which by default refuses an event whose signature does not verify.
import type { ChatWithJuicebox, ConversationKeyMap, createChat, Event as ChatEvent } from '@xdevplatform/chat-xdk';
import type { Link } from './inbound-event';
import type { OpenedChat, XChatDm, XChatOpener } from './xchat-inbound';
import { realmTokenFrom, signingKeysOf, type XChatPublicKey, type XChatSettings } from './xchat-keys';

// X's SDK by a specifier esbuild cannot follow: it stays a runtime import of the package the function's asset carries
// beside its bundle (node_modules/@xdevplatform/chat-xdk, copied by infra/constructs/bridge-function.ts), since the
// SDK reads its wasm next to its own files and pulls juicebox-sdk's in at unlock.
const CHAT_XDK = '@xdevplatform/chat-xdk';

/** Loads X's SDK (its module, and its wasm at the first createChat). */
export function loadChatXdk(): Promise<{ createChat: typeof createChat }> {
  return import(/* @vite-ignore */ CHAT_XDK) as Promise<{ createChat: typeof createChat }>;
}

export type XChatSession = {
  /** The unlocked SDK instance: the brand's identity and signing keys are in it. */
  chat: ChatWithJuicebox;
  settings: XChatSettings;
  botUserId: string;
};

export type UnlockOptions = {
  settings: XChatSettings;
  botUserId: string;
  /**
   * Replaces juicebox-sdk: the SDK's own seam for running without Juicebox's servers (its tests use it). Tests hand in
   * a local realm; production leaves it out and the SDK loads juicebox-sdk.
   */
  juiceboxModule?: unknown;
};

/** Loads X's SDK and unlocks the brand's keys from Juicebox with the PIN. Throws when Juicebox refuses or fails. */
export async function unlockXChat(options: UnlockOptions): Promise<XChatSession> {
  const { createChat } = await loadChatXdk();
  const { settings } = options;
  const chat = await createChat({
    juiceboxConfig: settings.juiceboxConfig,
    // Juicebox's realms take X's per-realm tokens, which X lists in the config it hands the account.
    getAuthToken: async (realmId) => {
      const token = realmTokenFrom(settings.juiceboxConfig, realmId);
      if (token === undefined) throw new Error(`no Juicebox token for realm ${realmId} in X's config`);
      return token;
    },
    ...(options.juiceboxModule ? { juiceboxModule: options.juiceboxModule } : {}),
  } as Parameters<typeof createChat>[0]);
  await chat.unlock(settings.pin);
  // Who signs what the bridge sends: the account, under the key version X registered.
  chat.setIdentity(options.botUserId, settings.keyVersion);
  return { chat, settings, botUserId: options.botUserId };
}

export type OpenerOptions = UnlockOptions & {
  /** A user's registered XChat keys, as X lists them (throws when X fails: the item is redelivered). */
  publicKeys: (userId: string) => Promise<XChatPublicKey[]>;
};

/** An opener holding the unlocked keys, the conversation keys it has met and the senders' keys it has read. */
export async function createXChatOpener(options: OpenerOptions): Promise<XChatOpener> {
  const { chat } = await unlockXChat(options);
  const conversationKeys = new Map<string, ConversationKeyMap>();
  const senderKeys = new Map<string, XChatPublicKey[]>();
  const keysOf = async (userId: string, fresh: boolean) => {
    let keys = fresh ? undefined : senderKeys.get(userId);
    if (!keys) senderKeys.set(userId, (keys = await options.publicKeys(userId)));
    return signingKeysOf(userId, keys);
  };

  return {
    async open(item: XChatDm): Promise<OpenedChat> {
      const { conversationId, encodedEvent, keyChangeEvent } = item.xchat;
      const known = conversationKeys.get(conversationId) ?? {};
      if (keyChangeEvent) {
        try {
          conversationKeys.set(conversationId, { ...known, ...chat.extractConversationKeys([keyChangeEvent]).keys });
        } catch {
          // Not for our keys, or not a key change at all: decrypting says so below.
        }
      }
      const keys = conversationKeys.get(conversationId) ?? {};
      const senderId = item.sender.xUserId;
      // X failing this read is thrown: the item is redelivered, it is no verdict on the message.
      const signing = await keysOf(senderId, false);
      let event: ChatEvent;
      try {
        event = decrypt(chat, encodedEvent, keys, signing);
      } catch (error) {
        if (!isSignatureError(error)) return { ok: false, reason: 'undecryptable', detail: messageOf(error) };
        // The sender may have registered new keys since they were read: read them once more.
        const fresh = await keysOf(senderId, true);
        try {
          event = decrypt(chat, encodedEvent, keys, fresh);
        } catch (again) {
          return { ok: false, reason: isSignatureError(again) ? 'unverified' : 'undecryptable', detail: messageOf(again) };
        }
      }
      // The signed event must say what X's envelope says: who sent it, and in which conversation.
      if (event.senderId !== senderId || event.conversationId !== conversationId) {
        return { ok: false, reason: 'unverified', detail: 'the signed event names another sender or conversation' };
      }
      const text = event.type === 'message' ? textOf(event) : undefined;
      if (text === undefined) return { ok: false, reason: 'undecryptable', detail: `not a text message (${event.type})` };
      return { ok: true, text, links: linksOf(event) };
    },
  };
}

function decrypt(chat: ChatWithJuicebox, encodedEvent: string, keys: ConversationKeyMap, signing: ReturnType<typeof signingKeysOf>): ChatEvent {
  const event = chat.decryptEvent(encodedEvent, keys, signing);
  // Rejecting unverified events is the SDK's default; an event that still comes back unverified is refused here too.
  if (event.verified !== true) throw new Error('Signature verification failed: the event is not verified');
  return event;
}

function isSignatureError(error: unknown): boolean {
  return /signature/i.test(messageOf(error));
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The text of a text message (the SDK names the content's kind `content_type`; its typings say `contentType`). */
function textOf(event: ChatEvent): string | undefined {
  const content = event.content;
  const kind = content?.contentType ?? (content as { content_type?: unknown } | undefined)?.content_type;
  return kind === 'text' && typeof content?.text === 'string' ? content.text : undefined;
}

/** Links the customer attached as URL cards (XChat sends a link in the text as typed, not as a t.co link). */
function linksOf(event: ChatEvent): Link[] {
  const attachments = [...(event.attachments ?? []), ...((event.content?.attachments as unknown[] | undefined) ?? [])];
  const urls = attachments
    .map((a) => (typeof a === 'object' && a !== null ? (a as { url?: unknown }).url : undefined))
    .filter((url): url is string => typeof url === 'string' && /^https?:\/\//.test(url));
  return [...new Set(urls)].map((url) => ({ url, expandedUrl: url, displayUrl: url.replace(/^https?:\/\//, '') }));
}
