// X Activity API `chat.received` / `chat.sent` → an inbound DM whose content is still encrypted (shared/x/xchat-event.ts).
// Pure and free of the SDK and of zod: this runs in the webhook Lambda. The payload, as event-payloads.mdx shows it:
// `{conversation_token, id, created_at_msec, sender_id, conversation_id, conversation_key_version, encoded_event,
// conversation_key_change_event, message_event_signature: {public_key_version, signature, signature_version,
// signing_public_key}}`: no text, no users.
import type { InboundDm } from './inbound-event';
import type { XChatEnvelope } from './xchat-event';
import { isObject, isoFromMillis, numericId, withOptional, type Env, type ItemOutcome } from './format-readers';
import { userFrom } from './x-users';

const MESSAGE_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** A one-to-one conversation id: the two participants' ids (X writes `a:b`; its send path takes `a-b`). */
const ONE_TO_ONE = /^(\d{1,20})[:-](\d{1,20})$/;

/**
 * One XChat message as an inbound DM with empty text and its encrypted fields in `xchat`, keyed by the message's id
 * (the UUID its sender's SDK minted: the same however X delivers it). Group conversations (`g…` ids) are not
 * support tickets: `unsupported`. `other_account` when the bot is not in the conversation.
 */
export function xchatItem(payload: unknown, via: string, env: Env): ItemOutcome {
  if (!isObject(payload)) return 'malformed';
  // `encoded_event` is taken as X sent it (the docs' samples cut it short): only X's SDK can tell whether it opens.
  const id = typeof payload.id === 'string' ? payload.id.toLowerCase() : undefined;
  const senderId = numericId(payload.sender_id);
  const conversationId = typeof payload.conversation_id === 'string' ? payload.conversation_id : undefined;
  const encodedEvent = payload.encoded_event;
  if (!id || !MESSAGE_ID.test(id) || !senderId || !conversationId || typeof encodedEvent !== 'string' || encodedEvent === '') {
    return 'malformed';
  }
  if (conversationId.startsWith('g')) return 'unsupported';
  const participants = ONE_TO_ONE.exec(conversationId);
  if (!participants) return 'malformed';
  const [, first, second] = participants as unknown as [string, string, string];
  // X delivers every subscription's events to the app's webhook: a conversation without the bot is someone else's.
  if (first !== env.bot.id && second !== env.bot.id) return 'other_account';
  const customer = first === env.bot.id ? second : first;
  const fromBot = senderId === env.bot.id;
  if (!fromBot && senderId !== customer) return 'malformed';
  // chat.received: the customer wrote to the bot; chat.sent: the bot wrote to the customer.
  const recipient = fromBot ? customer : env.bot.id;

  const signature = isObject(payload.message_event_signature) ? payload.message_event_signature : undefined;
  const xchat = withOptional<XChatEnvelope>(
    { conversationId, encodedEvent },
    {
      conversationKeyVersion: stringOf(payload.conversation_key_version),
      keyChangeEvent: stringOf(payload.conversation_key_change_event),
      signature:
        signature && stringOf(signature.public_key_version) && stringOf(signature.signature)
          ? withOptional(
              { publicKeyVersion: String(signature.public_key_version), signature: String(signature.signature) },
              { signatureVersion: stringOf(signature.signature_version), signingPublicKey: stringOf(signature.signing_public_key) },
            )
          : undefined,
    },
  );
  const dm: InboundDm = {
    kind: 'dm',
    format: 'xaa',
    xId: id,
    // X names no user in chat events: ingest looks the sender up, as for a DM whose `users` map lacks them.
    sender: userFrom(senderId, [], env.bot),
    recipientXUserId: recipient,
    text: '',
    links: [],
    media: [],
    createdAt: isoFromMillis(payload.created_at_msec) ?? env.receivedAt,
    via,
    receivedAt: env.receivedAt,
    xchat,
  };
  return dm;
}

function stringOf(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : typeof value === 'number' ? String(value) : undefined;
}
