// Replies by XChat: a DM ticket whose latest customer message came by XChat is answered in that XChat conversation,
// encrypted with X's SDK (loaded only here, only then) under the conversation key X delivered with that message, and
// signed as the account (xchat/getting-started.mdx, "Send a message"; x-api/chat/send-chat-message:
// `POST /2/chat/conversations/:id/messages {message_id, encoded_message_create_event, encoded_message_event_signature}`).
//
// Exactly once, with the reply's recorded-before-sent design (post-reply.ts): the SDK mints the message id inside the
// signed event, and asks that the same encrypted payload be sent again on a retry "so an id is never minted twice"
// (SendPayload.messageId in the SDK's typings). So the payload is written on the reply's record (in its target) before
// X is called, and every later attempt sends that same payload; X keys the message by its id, and the webhook's
// `chat.sent` echo carries it, so the reply settles under that id whichever comes first.
//
// A plain DM is sent instead (post-reply.ts, `sendDm`) when the customer's latest message came by X's DM API, or when
// XChat is not set up for the brand or the message carried no conversation key: X decides whether it accepts it, and
// the helpdesk sees which by the outbound message's `transport`.
import { RetryableError } from '../errors';
import { logger } from '../logger';
import type { Message } from '../tickets/model';
import type { StoredReply, TicketStore } from '../tickets/ticket-store';
import type { XChatClient } from '../x/x-client';
import type { XChatSettings } from '../x/xchat-keys';
import type { XChatSession } from '../x/xchat-open';

/** What an XChat reply keeps on its record's target: the conversation, and the payload once it was encrypted. */
export type XChatReplyState = {
  conversationId: string;
  payload: { messageId: string; encryptedContent: string; encodedEventSignature: string };
};

export type XChatReplier = {
  /** Sends the reply by XChat and resolves with the message's id, or undefined when it should go as a plain DM. */
  send(attempt: StoredReply): Promise<{ xId: string } | undefined>;
};

export type XChatReplierDeps = {
  store: Pick<TicketStore, 'getTicketView' | 'updateReply'>;
  botUserId: string;
  /** The brand's XChat keys; undefined when XChat is not set up (replies go as plain DMs). */
  settings: XChatSettings | undefined;
  /** X's XChat endpoints as the account (built on first use). */
  client: () => Promise<Pick<XChatClient, 'sendChatMessage'>>;
  /** Replaces juicebox-sdk (tests: a local realm). */
  juiceboxModule?: unknown;
};

/** The XChat state on a reply's target, if the reply is going by XChat. */
export function xchatStateOf(target: StoredReply['target']): XChatReplyState | undefined {
  const state = (target as { xchat?: XChatReplyState }).xchat;
  return state && typeof state.payload?.messageId === 'string' ? state : undefined;
}

export function xchatReplier(deps: XChatReplierDeps): XChatReplier {
  let session: Promise<XChatSession> | undefined;
  const unlocked = (settings: XChatSettings) => {
    session ??= import('../x/xchat-open').then(({ unlockXChat }) =>
      unlockXChat({ settings, botUserId: deps.botUserId, ...(deps.juiceboxModule ? { juiceboxModule: deps.juiceboxModule } : {}) }),
    );
    // A failed unlock (Juicebox unreachable) is tried again by the next reply, not remembered.
    session.catch(() => (session = undefined));
    return session;
  };

  return {
    async send(attempt) {
      if (attempt.target.kind !== 'dm') return undefined;
      const participant = attempt.target.participantXUserId;
      let state = xchatStateOf(attempt.target);
      if (!state) {
        const conversation = await latestXChatConversation(attempt, deps.store);
        if (!conversation) return undefined;
        if (!deps.settings) {
          logger.warn('the customer wrote by XChat but XChat is not set up: replying by plain DM', { replyId: attempt.reply.id });
          return undefined;
        }
        if (!conversation.keyChangeEvent) {
          logger.warn('no conversation key came with the customer\'s XChat message: replying by plain DM', { replyId: attempt.reply.id });
          return undefined;
        }
        const { chat } = await unlocked(deps.settings);
        const keys = chat.extractConversationKeys([conversation.keyChangeEvent]);
        const version = keys.latestVersion;
        const key = version === null ? undefined : keys.keys[version];
        if (version === null || !key) {
          logger.warn('the XChat conversation key does not open with the account\'s keys: replying by plain DM', { replyId: attempt.reply.id });
          return undefined;
        }
        const payload = chat.encryptMessage({
          conversationId: conversation.conversationId,
          text: attempt.reply.text,
          conversationKey: key,
          conversationKeyVersion: version,
        });
        state = {
          conversationId: conversation.conversationId,
          payload: { messageId: payload.messageId, encryptedContent: payload.encryptedContent, encodedEventSignature: payload.encodedEventSignature },
        };
        // Recorded before it is sent: a worker that dies after X took it leaves the payload for the next to resend.
        const recorded: StoredReply = { ...attempt, target: { ...attempt.target, xchat: state } as StoredReply['target'] };
        if ((await deps.store.updateReply(recorded, { status: attempt.reply.status, attempts: attempt.attempts })) !== 'ok') {
          throw new RetryableError(`reply ${attempt.reply.id} changed while its XChat message was recorded`);
        }
      }
      const client = await deps.client();
      // The recipient's user id names a one-to-one conversation (X builds the canonical id from it and the account).
      await client.sendChatMessage(participant, {
        message_id: state.payload.messageId,
        encoded_message_create_event: state.payload.encryptedContent,
        encoded_message_event_signature: state.payload.encodedEventSignature,
      });
      return { xId: state.payload.messageId };
    },
  };
}

/** The conversation of the ticket's latest customer message, when that message came by XChat. */
async function latestXChatConversation(attempt: StoredReply, store: XChatReplierDeps['store']): Promise<Message['xchat']> {
  const view = await store.getTicketView(attempt.reply.ticketId);
  const latest = (view?.messages ?? [])
    .filter((m) => m.direction === 'inbound' && !m.redacted)
    .sort((a, b) => b.createdAt.localeCompare(a.createdAt))[0];
  return latest?.transport === 'xchat' ? latest.xchat : undefined;
}
