// The user cache and the read counter in memory, with the same rules as shared/aws/dynamo-x-cache.ts: an entry past
// its expiry is not returned, and the day's reserved reads never exceed the budget.
import type { CachedXUser, XUserCache } from '../../shared/x/complete-items';
import type { ReadCounter, ReadDay } from '../../shared/x/x-reads';

/** A user cache whose entries expire by `now` (the test's clock). `puts` counts the entries written. */
export function memoryUserCache(now: () => Date): XUserCache & { entries: Map<string, { user: CachedXUser; expiresAt: Date }>; puts: number } {
  const entries = new Map<string, { user: CachedXUser; expiresAt: Date }>();
  const cache = {
    entries,
    puts: 0,
    async getUsers(ids: string[]) {
      const found = new Map<string, CachedXUser>();
      for (const id of ids) {
        const entry = entries.get(id);
        if (entry && entry.expiresAt.getTime() > now().getTime()) found.set(id, entry.user);
      }
      return found;
    },
    async putUsers(users: CachedXUser[], expiresAt: Date) {
      for (const user of users) entries.set(user.xUserId, { user, expiresAt });
      cache.puts += users.length;
    },
  };
  return cache;
}

/** A read counter per day in memory. */
export function memoryReadCounter(): ReadCounter & { days: Map<string, ReadDay> } {
  const days = new Map<string, ReadDay>();
  const get = (day: string): ReadDay => {
    let record = days.get(day);
    if (!record) {
      record = { day, reads: 0, refused: 0, costMicroUsd: 0, userReads: 0, postReads: 0 };
      days.set(day, record);
    }
    return record;
  };
  return {
    days,
    async reserve({ day, wanted, budget }) {
      const record = get(day);
      const granted = Math.max(0, Math.min(wanted, budget - record.reads));
      record.reads += granted;
      return granted;
    },
    async settle({ day, unused, made, refused, costMicroUsd }) {
      const record = get(day);
      record.reads -= unused;
      record.userReads += made.user ?? 0;
      record.postReads += made.post ?? 0;
      record.refused += refused;
      record.costMicroUsd += costMicroUsd;
    },
    async day(day) {
      return { ...get(day) };
    },
  };
}
