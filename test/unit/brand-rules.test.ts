// A brand's rules for what becomes a ticket (shared/rules/brand-rules.ts): each rule kind over fixture items, the
// order rules apply in, rules files that do not hold refused with the rule named, and the rules inside ingest: a
// drop opens nothing, is recorded so a redelivery is a duplicate, and is counted by rule name; tags and priority go
// on the ticket the item opens.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { BrandConfigError, loadBrandConfig, parseBrandConfig } from '../../infra/brand-config';
import { parseConfig } from '../../shared/config';
import { ConfigError } from '../../shared/errors';
import { applyRules, parseBrandRules, parseBrandRulesFile, ruleItemOf, RulesError, type BrandRules, type RuleItem } from '../../shared/rules/brand-rules';
import { ingestItem, type IngestDeps } from '../../shared/tickets/ingest';
import type { CompleteDm, CompletePost } from '../../shared/x/inbound-event';
import { normaliseWebhookBody } from '../../shared/x/normalise';
import { memoryTicketStore, type MemoryTicketStore } from '../support/memory-ticket-store';

const RULES_PATH = join(import.meta.dirname, '../fixtures/rules/acme-rules.json');
const rules: BrandRules = parseBrandRulesFile(RULES_PATH, readFileSync(RULES_PATH, 'utf8'));

const BOT = { xUserId: '1602999888777666555', username: 'AcmeSupport' };
const item = (overrides: Omit<Partial<RuleItem>, 'author'> & { author?: Partial<RuleItem['author']> } = {}): RuleItem => ({
  channel: 'mention',
  text: '@AcmeSupport my widget died again',
  links: 0,
  lang: 'en',
  ...overrides,
  author: { xUserId: '1357924680', username: 'jane_doe_dev', followersCount: 250, verifiedType: 'none', ...overrides.author },
});

describe('drop rules', () => {
  it.each<[string, RuleItem, string]>([
    ['a staff account, by handle in any case', item({ author: { username: 'Acme_Jane' } }), 'staff'],
    ['a staff account, by id', item({ author: { xUserId: '1400000000000000001', username: 'renamed' } }), 'staff'],
    ['three cashtags', item({ text: 'buy $ACME $MOON $DOGE now' }), 'cashtag-spam'],
    ['links and nothing else', item({ text: 'https://spam.example/x https://spam.example/y #win @AcmeSupport', links: 2 }), 'link-only'],
    ['a keyword, whole word, any case', item({ text: 'GIVEAWAY! follow us' }), 'giveaways'],
    ['a phrase over any whitespace', item({ text: 'get free\ncrypto here' }), 'giveaways'],
    ['a small account heard by listening', item({ channel: 'listening', author: { followersCount: 3 } }), 'tiny-listening-accounts'],
    ['a listening post in another language', item({ channel: 'listening', lang: 'fr' }), 'not-our-languages'],
    ['a language, on any channel', item({ lang: 'ja' }), 'japanese'],
  ])('drops %s', (_what, input, rule) => {
    expect(applyRules(rules, input)).toEqual({ drop: rule, tags: [], matched: [rule] });
  });

  it.each<[string, RuleItem]>([
    ['a keyword inside another word', item({ text: 'giveaways are not our thing' })],
    ['two cashtags', item({ text: 'is $ACME or $MOON better' })],
    ['a link with words', item({ text: 'my order https://shop.example/A-1 never came', links: 1 })],
    ['a small account that wrote to the account (the rule names listening only)', item({ author: { followersCount: 3 } })],
    ['an author whose follower count X did not give', item({ channel: 'listening', author: { followersCount: undefined } })],
    ['a listening post X gave no language', item({ channel: 'listening', lang: undefined })],
  ])('keeps %s', (_what, input) => {
    expect(applyRules(rules, input).drop).toBeUndefined();
  });

  it('the first matching drop rule in file order is the one recorded', () => {
    // Matches staff, cashtag-spam and giveaways: staff comes first.
    expect(applyRules(rules, item({ text: 'giveaway $A $B $C', author: { username: 'acme_jane' } })).drop).toBe('staff');
  });

  it('a drop decides alone: no tag or priority is worked out for a dropped item', () => {
    expect(applyRules(rules, item({ text: 'giveaway: refund and cancel' }))).toEqual({ drop: 'giveaways', tags: [], matched: ['giveaways'] });
  });
});

describe('tag and priority rules', () => {
  it('every matching tag rule adds its tag, in file order, once', () => {
    const verdict = applyRules(rules, item({ channel: 'listening', text: 'I want a refund for the invoice' }));
    expect(verdict.tags).toEqual(['billing', 'churn-risk', 'listening']);
    expect(verdict.matched).toEqual(['billing', 'churn', 'heard-by-listening', 'refunds']);
  });

  it('the first matching priority rule wins: urgent above high when both match', () => {
    expect(applyRules(rules, item({ text: 'refund me or I cancel', author: { verifiedType: 'blue' } })).priority).toBe('urgent');
    expect(applyRules(rules, item({ text: 'refund please', author: { verifiedType: 'blue' } }))).toMatchObject({ priority: 'high', matched: ['billing', 'churn', 'verified'] });
  });

  it('verified means any verified type but none; followers at least N', () => {
    expect(applyRules(rules, item({ author: { verifiedType: 'business' } })).priority).toBe('high');
    expect(applyRules(rules, item({ author: { verifiedType: 'none' } })).priority).toBeUndefined();
    expect(applyRules(rules, item({ author: { followersCount: 100_000 } })).priority).toBe('high');
    expect(applyRules(rules, item({ author: { followersCount: 99_999 } })).priority).toBeUndefined();
  });

  it('an item no rule matches: no tags, no priority', () => {
    expect(applyRules(rules, item())).toEqual({ tags: [], matched: [] });
  });

  it('reads X’s own fixture as normalised: its language, author and channel', () => {
    const body = JSON.parse(readFileSync(join(import.meta.dirname, '../fixtures/x/xaa-post-mention-create.json'), 'utf8'));
    const [post] = normaliseWebhookBody(body, { botUserId: BOT.xUserId, botUsername: BOT.username, receivedAt: '2026-11-16T14:05:10.000Z' }).events;
    const complete = { ...post, author: { ...(post as CompletePost).author, name: 'Jane' } } as CompletePost;
    expect(ruleItemOf(complete)).toMatchObject({ channel: 'mention', lang: 'en', author: { username: 'jane_doe_dev', verifiedType: 'none' } });
    expect(ruleItemOf({ ...complete, listeningQuery: 'acme widget' }).channel).toBe('listening');
  });
});

describe('rules files that do not hold', () => {
  const errorFor = (value: unknown): string => {
    try {
      parseBrandRules(value);
    } catch (error) {
      expect(error).toBeInstanceOf(RulesError);
      return (error as Error).message;
    }
    throw new Error('expected the rules to be refused');
  };

  it.each<[string, unknown, string]>([
    ['a misspelt condition, naming the rule', { drop: [{ name: 'spam', keyword: ['x'] }] }, 'rule "spam" (drop[0]): unknown field keyword'],
    ['a bad value, naming the rule and field', { drop: [{ name: 'small', followersBelow: -1 }] }, 'rule "small" (drop[0]): followersBelow must be at least 1'],
    ['an empty keyword', { tag: [{ name: 'billing', tag: 'billing', keywords: [' '] }] }, 'rule "billing" (tag[0]): keywords must not be empty'],
    ['a priority X does not know', { priority: [{ name: 'vip', verified: true, priority: 'p1' }] }, 'rule "vip" (priority[0]): priority'],
    ['a rule without a name', { drop: [{ linkOnly: true }] }, 'rule drop[0]: name'],
    ['a name that cannot be a metric dimension', { drop: [{ name: 'Spam Rule', linkOnly: true }] }, 'rule "Spam Rule" (drop[0]): name must be a lowercase name'],
    ['a rule with no condition', { drop: [{ name: 'everything' }] }, 'rule "everything" (drop[0]): names no condition'],
    ['two rules with one name', { drop: [{ name: 'x', linkOnly: true }], tag: [{ name: 'x', tag: 't', verified: true }] }, 'rule "x" (tag[0]): name is used by another rule'],
    ['a list that does not exist', { ignore: [] }, 'unknown field ignore (the lists are drop, tag, priority)'],
    ['a tag of two words', { tag: [{ name: 'b', tag: 'two words', verified: true }] }, 'rule "b" (tag[0]): tag must be one word'],
  ])('refuses %s', (_what, value, message) => {
    expect(errorFor(value)).toContain(message);
  });

  it('a file that is not JSON names the file', () => {
    expect(() => parseBrandRulesFile('rules.json', '{ drop: [')).toThrow(/^rules\.json: not valid JSON/);
  });

  it('at start: RULES_FILE and RULES stop the bridge with the variable, the file and the rule named', () => {
    const env = { BRAND: 'acme', X_BOT_USER_ID: BOT.xUserId, X_BOT_USERNAME: BOT.username };
    expect(parseConfig({ ...env, RULES_FILE: RULES_PATH }, env, []).rules?.drop).toHaveLength(7);
    const dir = join(import.meta.dirname, '../fixtures/rules');
    expect(() => parseConfig({ ...env, RULES_FILE: join(dir, 'missing.json') }, env, [])).toThrow(/^Invalid configuration: RULES_FILE .*missing\.json: cannot be read \(ENOENT\)/);
    expect(() => parseConfig({ ...env, RULES: '{"drop":[{"name":"x"}]}' }, env, [])).toThrow(
      new ConfigError('Invalid configuration: RULES rule "x" (drop[0]): names no condition, so it would match everything (keywords, accounts, languages, exceptLanguages, followersBelow, followersAtLeast, verified, linkOnly, cashtagsAtLeast, channels)'),
    );
  });

  it('at start: X_LISTEN_QUERIES is split on ; and each query must fit X’s 512 characters with the exclusions', () => {
    const env = { BRAND: 'acme', X_BOT_USER_ID: BOT.xUserId, X_BOT_USERNAME: BOT.username };
    expect(parseConfig({ ...env, X_LISTEN_QUERIES: ' "acme widget" broken ; acme refund ;' }, env, []).x.listenQueries).toEqual(['"acme widget" broken', 'acme refund']);
    expect(parseConfig(env, env, []).x.listenQueries).toEqual([]);
    expect(() => parseConfig({ ...env, X_LISTEN_QUERIES: `acme ${'x'.repeat(480)}` }, env, [])).toThrow(/^Invalid configuration: X_LISTEN_QUERIES query "acme x+…" is longer than the 480 characters/);
    expect(() => parseConfig({ ...env, X_LISTEN_QUERIES: 'a;a' }, env, [])).toThrow('X_LISTEN_QUERIES must not repeat a query');
  });
});

describe('rules in ingest', () => {
  let store: MemoryTicketStore;
  let deps: IngestDeps;
  let counted: string[];
  let nextId = 1995000000000000000n;
  const post = (overrides: Partial<CompletePost> = {}): CompletePost => ({
    kind: 'post',
    format: 'xaa',
    xId: String(++nextId),
    author: { xUserId: '1357924680', username: 'jane_doe_dev', name: 'Jane', profile: { followersCount: 250 } },
    text: '@AcmeSupport my widget died again',
    createdAt: '2026-11-16T14:00:00.000Z',
    mentionsBot: true,
    via: 'post.mention.create',
    receivedAt: '2026-11-16T14:00:01.000Z',
    links: [],
    media: [],
    lang: 'en',
    ...overrides,
  });

  beforeEach(() => {
    store = memoryTicketStore();
    counted = [];
    deps = {
      store,
      brand: 'acme',
      botUserId: BOT.xUserId,
      botUsername: BOT.username,
      windows: { mentionMergeHours: 24, reopenHours: 168 },
      now: () => new Date('2026-11-16T14:00:05.000Z'),
      rules,
      ruleMatched: (rule) => counted.push(rule),
    };
  });

  it('a dropped item opens nothing, is recorded under its X id with the rule, and its redelivery is a duplicate counted once', async () => {
    const spam = post({ text: '@AcmeSupport $ACME $MOON $DOGE to the moon' });
    expect(await ingestItem(spam, deps)).toEqual({ outcome: 'ignored', xId: spam.xId, reason: 'dropped', rule: 'cashtag-spam' });
    expect(store.tickets.size).toBe(0);
    expect(await store.getXItem(spam.xId)).toEqual({ kind: 'tombstone', xId: spam.xId, droppedBy: 'cashtag-spam' });
    // Even with the rule gone, the redelivery changes nothing: the drop was the decision.
    expect(await ingestItem(spam, { ...deps, rules: parseBrandRules({}) })).toEqual({ outcome: 'duplicate', xId: spam.xId });
    expect(store.tickets.size).toBe(0);
    expect(counted).toEqual(['cashtag-spam']);
  });

  it('a later version of a dropped post stays dropped', async () => {
    const spam = post({ text: 'GIVEAWAY @AcmeSupport' });
    await ingestItem(spam, deps);
    const edited = post({ text: 'my widget died', editHistory: [spam.xId, String(++nextId)] });
    edited.xId = edited.editHistory!.at(-1)!;
    expect(await ingestItem(edited, deps)).toEqual({ outcome: 'duplicate', xId: edited.xId });
    expect(store.tickets.size).toBe(0);
  });

  it('a DM from a staff account is dropped as a post is', async () => {
    const staffDm: CompleteDm = {
      kind: 'dm',
      format: 'xaa',
      xId: String(++nextId),
      sender: { xUserId: '1400000000000000001', username: 'acme_jane', name: 'Jane at Acme' },
      recipientXUserId: BOT.xUserId,
      text: 'testing the inbox',
      createdAt: '2026-11-16T14:00:00.000Z',
      via: 'dm.received',
      receivedAt: '2026-11-16T14:00:01.000Z',
      links: [],
      media: [],
    };
    expect(await ingestItem(staffDm, deps)).toMatchObject({ outcome: 'ignored', reason: 'dropped', rule: 'staff' });
  });

  it('tags and priority go on the ticket the item opens, each deciding rule counted; a message joining it changes neither', async () => {
    const first = post({ text: '@AcmeSupport I was charged twice, refund please', author: { xUserId: '1357924680', username: 'jane_doe_dev', name: 'Jane', profile: { verifiedType: 'blue' } } });
    const created = await ingestItem(first, deps);
    expect(created).toMatchObject({ outcome: 'created', ticketId: 'mn-1357924680-1' });
    expect(store.tickets.get('mn-1357924680-1')).toMatchObject({ tags: ['billing', 'churn-risk'], priority: 'high' });
    expect(store.tickets.get('mn-1357924680-1')?.source).toBeUndefined();
    expect(counted).toEqual(['billing', 'churn', 'verified']);
    expect(await ingestItem(post({ text: '@AcmeSupport and I want to cancel' }), deps)).toMatchObject({ outcome: 'added' });
    expect(store.tickets.get('mn-1357924680-1')).toMatchObject({ tags: ['billing', 'churn-risk'], priority: 'high' });
    expect(counted).toEqual(['billing', 'churn', 'verified']);
  });

  it('a post found by listening opens a ticket that says so, with its query', async () => {
    const heard = post({ text: 'my acme widget died again', mentionsBot: false, listeningQuery: 'acme widget' });
    await ingestItem(heard, deps);
    expect(store.tickets.get('mn-1357924680-1')).toMatchObject({ source: 'listening', listeningQuery: 'acme widget', tags: ['listening'] });
  });

  it('the account’s own posts are never judged by the rules', async () => {
    const own = post({ author: { xUserId: BOT.xUserId, username: BOT.username, name: 'Acme' }, text: 'GIVEAWAY' });
    expect(await ingestItem(own, deps)).toEqual({ outcome: 'ignored', xId: own.xId, reason: 'self' });
    expect(await store.getXItem(own.xId)).toBeUndefined();
  });
});

describe('rules and listening queries in the brand file, at cdk synth', () => {
  const base = {
    brand: 'acme',
    region: 'eu-west-1',
    xBotUserId: '1490000000000000001',
    xBotUsername: 'AcmeHelp',
    helpdeskWebhookUrl: 'https://helpdesk.acme.test/x',
    alarmEmail: 'ops@acme.test',
  };
  const parse = (extra: Record<string, unknown>) => parseBrandConfig('infra/brands/acme.json', JSON.stringify({ ...base, ...extra }));

  it('the example brand listens and has rules', () => {
    expect(loadBrandConfig('example')).toMatchObject({ listenQueries: ['"example widget" (broken OR died OR refund)'], rules: { drop: [{ name: 'staff' }, { name: 'cashtag-spam' }, { name: 'link-only' }] } });
    expect(parse({})).toMatchObject({ listenQueries: [] });
    expect(parse({}).rules).toBeUndefined();
  });

  it.each<[string, Record<string, unknown>, string]>([
    ['a rule that does not hold, naming file, field and rule', { rules: { priority: [{ name: 'vip', verified: true, priority: 'p1' }] } }, 'infra/brands/acme.json: rules rule "vip" (priority[0]): priority'],
    ['rules too large for Lambda’s environment', { rules: { drop: Array.from({ length: 40 }, (_, i) => ({ name: `spam-${i}`, keywords: ['a long enough phrase to add up'] })) } }, 'more than the 2048 Lambda’s environment leaves them'.replace('’', "'")],
    ['a query holding the separator', { listenQueries: ['acme; widget'] }, 'infra/brands/acme.json: listenQueries.0 must not hold ;'],
    ['too many queries', { listenQueries: Array.from({ length: 11 }, (_, i) => `acme ${i}`) }, 'listenQueries must hold at most 10 queries'],
    ['a query too long for X once the exclusions are added', { listenQueries: [`acme ${'x'.repeat(480)}`] }, 'infra/brands/acme.json: listenQueries query "acme'],
  ])('refuses %s', (_what, extra, message) => {
    expect(() => parse(extra)).toThrow(BrandConfigError);
    expect(() => parse(extra)).toThrow(message);
  });
});
