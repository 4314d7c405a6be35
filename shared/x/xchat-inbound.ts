// Ingest's side of XChat: before an XChat message is ticketed, it is opened with the brand's keys (its text filled in)
// or marked with why it stays encrypted, so its ticket shows either what the customer wrote or, plainly, that an
// encrypted message came (shared/x/xchat-event.ts, XCHAT_NOTICE). X's SDK is loaded only here, only when an XChat item
// arrives, and only once per process (shared/x/xchat-open.ts): other items never pay its ~1 MB of WebAssembly.
// A redelivery of a message already stored is not opened again (ingest finds it a duplicate).
import type { InboundDm, InboundEvent, Link } from './inbound-event';
import type { XChatEnvelope, XChatUnreadable } from './xchat-event';
import { publicKeysFrom, type XChatSettings } from './xchat-keys';
import { XCHAT_UNREADABLE, type ChannelHealthStore } from '../channel/channel-health';
import { count, logger } from '../logger';
import { METRIC_NAMES } from '../metric-names';

export type XChatDm = InboundDm & { xchat: XChatEnvelope };

/** What opening one XChat message gave: its content, or why it stays encrypted. */
export type OpenedChat = { ok: true; text: string; links: Link[] } | { ok: false; reason: XChatUnreadable; detail: string };

/** Opens XChat messages with the brand's keys. Throws only for what a redelivery may fix (X or Juicebox failing). */
export type XChatOpener = { open(item: XChatDm): Promise<OpenedChat> };

export type XChatIntakeDeps = {
  /** Builds the opener (loads X's SDK, unlocks the keys); undefined when XChat is not set up for the brand. */
  opener: (() => Promise<XChatOpener>) | undefined;
  /** Where a message that stays encrypted is told to ops (`xchat_unreadable`, degraded); cleared by one that opens. */
  channel?: ChannelHealthStore;
  now: () => Date;
  /** Where the intake's counts go: CloudWatch by default (XChatOpened, XChatUnreadable). */
  metrics?: XChatMetrics;
};

export type XChatMetrics = { opened(): void; unreadable(reason: XChatUnreadable): void };

const cloudWatchXChatMetrics: XChatMetrics = {
  opened: () => count(METRIC_NAMES.XChatOpened),
  // One count whatever the reason (the alarm and the dashboard read it so); the log line says which.
  unreadable: () => count(METRIC_NAMES.XChatUnreadable),
};

export function isXChatDm(item: InboundEvent): item is XChatDm {
  return item.kind === 'dm' && item.xchat !== undefined;
}

/**
 * The intake ingest runs on every item before completing it: an XChat message not yet stored comes back opened (text)
 * or marked unreadable; everything else comes back as it was. The opener is built at the first XChat message; if that
 * fails (the keys could not be unlocked), the message is kept encrypted and the next one tries again.
 */
export function xchatIntake(deps: XChatIntakeDeps): (item: InboundEvent, stored: boolean) => Promise<InboundEvent> {
  let opener: Promise<XChatOpener> | undefined;
  const health = healthNews(deps);
  const metrics = deps.metrics ?? cloudWatchXChatMetrics;
  return async (item, stored) => {
    if (!isXChatDm(item) || stored || item.xchat.unreadable !== undefined || item.text !== '') return item;
    let opened: OpenedChat;
    if (!deps.opener) {
      opened = { ok: false, reason: 'not_set_up', detail: 'XChat is not set up for this brand' };
    } else {
      try {
        opener ??= deps.opener();
        opened = await (await opener).open(item);
      } catch (error) {
        // Unlocking failed (kept for the next message to retry) or X failed a look-up: a redelivery may do better.
        if (await opener?.then(() => false, () => true)) {
          opener = undefined;
          opened = { ok: false, reason: 'keys_unavailable', detail: (error as Error).message };
        } else {
          throw error;
        }
      }
    }
    if (opened.ok) {
      metrics.opened();
      await health.opened(item.receivedAt);
      return { ...item, text: opened.text, links: opened.links };
    }
    metrics.unreadable(opened.reason);
    logger.warn('XChat message kept encrypted', { xId: item.xId, via: item.via, reason: opened.reason, detail: opened.detail });
    await health.unreadable();
    return { ...item, xchat: { ...item.xchat, unreadable: opened.reason } };
  };
}

/** Tells the channel's health, never failing the item for it (the next XChat message tells it again). */
function healthNews(deps: XChatIntakeDeps): { opened(receivedAt: string): Promise<void>; unreadable(): Promise<void> } {
  const safely = async (what: string, write: (store: ChannelHealthStore) => Promise<'changed' | 'unchanged'>) => {
    if (!deps.channel) return;
    try {
      if ((await write(deps.channel)) === 'changed') {
        if (what === 'raise') count(METRIC_NAMES.ChannelDegraded);
        logger.warn(what === 'raise' ? 'XChat messages cannot be read: the channel is degraded' : 'XChat messages are read again');
      }
    } catch (error) {
      logger.warn('could not record XChat in the channel health', { error: error as Error });
    }
  };
  return {
    unreadable: () => safely('raise', (store) => store.raise(XCHAT_UNREADABLE, deps.now().toISOString())),
    // Only a condition found before this message arrived is cleared by it: a message that opens does not hide a later
    // one that could not be opened.
    opened: (receivedAt) =>
      safely('clear', (store) =>
        store.clear({ reason: 'xchat_unreadable', foundBefore: receivedAt }, 'The bridge decrypts XChat messages again.', deps.now().toISOString()),
      ),
  };
}

type XAccount = {
  apiKey: string;
  apiSecret: string;
  accessToken?: string;
  accessTokenSecret?: string;
  apiBaseUrl?: string;
  botUserId: string;
  chat?: XChatSettings;
};

/**
 * The opener for the brand's configuration: undefined (every XChat message stays encrypted, `not_set_up`) until
 * `chat-setup` wrote X_CHAT_KEYS and the account's token is configured (senders' keys are read as the account).
 * Building it loads X's SDK and X's client by dynamic imports and unlocks the keys from Juicebox.
 */
export function xchatOpenerFor(x: XAccount, options: { juiceboxModule?: unknown } = {}): (() => Promise<XChatOpener>) | undefined {
  const settings = x.chat;
  const { accessToken, accessTokenSecret } = x;
  if (!settings || !accessToken || !accessTokenSecret) return undefined;
  return async () => {
    const [{ createXChatOpener }, { createXReadClient }] = await Promise.all([import('./xchat-open'), import('./x-read-client')]);
    const read = createXReadClient({
      apiKey: x.apiKey,
      apiSecret: x.apiSecret,
      accessToken,
      accessTokenSecret,
      ...(x.apiBaseUrl ? { apiBaseUrl: x.apiBaseUrl } : {}),
    });
    return createXChatOpener({
      settings,
      botUserId: x.botUserId,
      ...(options.juiceboxModule ? { juiceboxModule: options.juiceboxModule } : {}),
      // Every key field comes by default (x-api/users/get-user-public-keys): no public_key.fields to get wrong.
      publicKeys: async (userId) => publicKeysFrom(await read.get(`users/${userId}/public_keys`, {})),
    });
  };
}
