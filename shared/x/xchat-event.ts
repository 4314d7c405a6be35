// What an XChat message (X Activity API `chat.received` / `chat.sent`) carries through the queue to ingest. XChat is
// end-to-end encrypted: X's payload has no text, only `encoded_event` (a base64 Thrift MessageCreateEvent whose content
// is encrypted under the conversation key), the key version, optionally the `conversation_key_change_event` that wraps
// that key to each participant's identity key, and the sender's signature over the event
// (x-api/activity/event-payloads.mdx; xchat/getting-started.mdx, "Receive and decrypt"). The webhook only copies them;
// ingest opens them with X's SDK (shared/x/xchat-open.ts), loaded only when such an item arrives.
import * as z from 'zod/mini';
import { lazySchema } from '../lazy-schema';

/** XChat message ids are the UUIDs the sender's SDK mints (`SendPayload.messageId` in @xdevplatform/chat-xdk). */
export const XCHAT_MESSAGE_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Why an XChat message stays encrypted in its ticket. */
export const xchatUnreadableSchema = lazySchema(() => z.enum([
  /** The brand has not run `npm run x -- chat-setup`: the bridge holds no XChat keys. */
  'not_set_up',
  /** The keys could not be unlocked (Juicebox refused the PIN, or could not be reached). */
  'keys_unavailable',
  /** No conversation key for the event's key version, or the SDK could not decrypt it. */
  'undecryptable',
  /** The sender's signature did not verify against their registered signing keys. */
  'unverified',
]));
export type XChatUnreadable = z.infer<typeof xchatUnreadableSchema>;

export const xchatSignatureSchema = lazySchema(() => z.object({
  publicKeyVersion: z.string(),
  signature: z.string(),
  signatureVersion: z.optional(z.string()),
  signingPublicKey: z.optional(z.string()),
}));

/** An XChat message as queued: X's encrypted fields, and once ingest tried to open it, why it could not (if so). */
export const xchatEnvelopeSchema = lazySchema(() => z.object({
  /** X's conversation id: `<user id>:<user id>` for a one-to-one conversation. */
  conversationId: z.string(),
  encodedEvent: z.string(),
  conversationKeyVersion: z.optional(z.string()),
  keyChangeEvent: z.optional(z.string()),
  signature: z.optional(xchatSignatureSchema),
  unreadable: z.optional(xchatUnreadableSchema),
}));
export type XChatEnvelope = z.infer<typeof xchatEnvelopeSchema>;

/** What an agent reads in place of the text of an XChat message the bridge could not open. */
export const XCHAT_NOTICE: Record<XChatUnreadable, string> = {
  not_set_up:
    'An encrypted XChat message arrived. The bridge cannot read XChat until XChat is set up for this brand ' +
    '(`npm run x -- chat-setup`); read it in the X app meanwhile, or ask the customer to write again by DM.',
  keys_unavailable:
    'An encrypted XChat message arrived, but the bridge could not unlock its XChat keys (Juicebox refused or was ' +
    'unreachable). Check `npm run x -- chat-status`; read the message in the X app meanwhile.',
  undecryptable:
    'An encrypted XChat message arrived that the bridge\'s keys cannot decrypt (unknown conversation key version). ' +
    'Read it in the X app; if this repeats, check `npm run x -- chat-status`.',
  unverified:
    'An encrypted XChat message arrived whose signature did not verify against the sender\'s registered keys: it ' +
    'was not opened. Read it in the X app and treat it with care.',
};

/**
 * What a message from an XChat item carries besides its text: where it came from, whether it stayed encrypted, and
 * (internal) what a reply needs: its conversation and the wrapped conversation key X delivered with it.
 */
export function xchatMessageFields(xchat: XChatEnvelope): {
  transport: 'xchat';
  encrypted?: true;
  notice?: string;
  xchat: { conversationId: string; keyChangeEvent?: string };
} {
  const reply = { conversationId: xchat.conversationId, ...(xchat.keyChangeEvent ? { keyChangeEvent: xchat.keyChangeEvent } : {}) };
  return xchat.unreadable
    ? { transport: 'xchat', encrypted: true, notice: XCHAT_NOTICE[xchat.unreadable], xchat: reply }
    : { transport: 'xchat', xchat: reply };
}
