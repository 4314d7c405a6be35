// Use case: inbound items as queued → items the ticket rules can take (every author named).
// Pure for now: a person X's body did not name is shown by X id and marked `unresolved`.
import type { CompleteEvent, InboundEvent, InboundUser, NamedUser } from './inbound-event';

/**
 * The person as the body named them; without a user object, a placeholder naming their X id, marked `unresolved`
 * so a later look-up can complete it. Never a blank name.
 */
export function namedFromBody(user: InboundUser): NamedUser {
  if (user.username !== undefined && user.username !== '') {
    return {
      xUserId: user.xUserId,
      username: user.username,
      name: user.name !== undefined && user.name !== '' ? user.name : user.username,
      ...(user.profile ? { profile: user.profile } : {}),
    };
  }
  return { xUserId: user.xUserId, username: '', name: `X user ${user.xUserId}`, unresolved: true };
}

/** The item with every author as the body named them (see namedFromBody). */
export function completeFromBody(item: InboundEvent): CompleteEvent {
  switch (item.kind) {
    case 'post':
      return { ...item, author: namedFromBody(item.author) };
    case 'dm':
      return { ...item, sender: namedFromBody(item.sender) };
    case 'delete':
      return item;
  }
}
