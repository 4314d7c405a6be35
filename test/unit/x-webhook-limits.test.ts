// The webhook queues what X can send and cuts only what cannot be X's (shared/x/webhook-intake.ts): the arrays and
// strings complete messages brought (links, media, quotes, edit history, profiles) are bounded like text and names.
import { describe, expect, it } from 'vitest';
import type { InboundDm, InboundEvent, InboundPost } from '../../shared/x/inbound-event';
import { normaliseWebhookBody } from '../../shared/x/normalise';
import { withinLimits } from '../../shared/x/webhook-intake';
import { BOT, xaaDm, xaaQuote } from '../support/x-payloads';

const ctx = { botUserId: BOT.id, botUsername: BOT.username, receivedAt: '2026-11-16T14:05:10.250Z' };

function first(body: unknown): InboundEvent {
  const [event] = normaliseWebhookBody(body, ctx).events;
  if (!event) throw new Error('no event');
  return event;
}

describe('webhook limits on complete messages', () => {
  it('leaves an X-sized message untouched: 4 photos, links, a quote, an edit chain of 6', () => {
    const post = first(
      xaaQuote({
        text: '@AcmeSupport see https://a.example/1 and https://b.example/2',
        links: ['https://a.example/1', 'https://b.example/2'],
        media: [{ type: 'photo', altText: 'a'.repeat(1_000) }, { type: 'photo' }, { type: 'video' }, { type: 'animated_gif' }],
        editOf: ['1990000000000000001', '1990000000000000002', '1990000000000000003', '1990000000000000004', '1990000000000000005'],
        quoted: { post: { id: '1989999999999999001', text: 'q'.repeat(9_000) } },
      }),
    );
    expect(withinLimits(post)).toEqual(post);
  });

  it('cuts what no X post can carry: media past 4, links past 20, long URLs, alt text, quoted text, versions', () => {
    const post = first(xaaQuote({ quoted: { post: { id: '1989999999999999001', text: 'short' } } })) as InboundPost;
    const longUrl = `https://a.example/${'x'.repeat(5_000)}`;
    const huge: InboundPost = {
      ...post,
      author: { ...post.author, name: '👤'.repeat(500), profile: { profileImageUrl: longUrl, verifiedType: 'v'.repeat(500) } },
      links: Array.from({ length: 30 }, (_, i) => ({ url: `https://t.co/${i}`, expandedUrl: longUrl, displayUrl: 'a.example' })),
      media: Array.from({ length: 10 }, (_, i) => ({ mediaKey: `3_${i}`, type: 'photo' as const, url: longUrl, altText: '🖼'.repeat(3_000), requiresAuth: false })),
      quoted: { xId: '1989999999999999001', text: '💬'.repeat(30_000), author: { xUserId: '1', name: 'n'.repeat(1_000) } },
      editHistory: Array.from({ length: 12 }, (_, i) => (1_990_000_000_000_000_100n + BigInt(i * 1000)).toString()),
    };
    const bounded = withinLimits(huge) as InboundPost;
    expect(bounded.media).toHaveLength(4);
    expect(bounded.links).toHaveLength(20);
    expect(bounded.links[0]?.expandedUrl).toHaveLength(2_048);
    expect(bounded.media[0]?.url).toHaveLength(2_048);
    expect([...(bounded.media[0]?.altText ?? '')]).toHaveLength(1_000);
    expect([...(bounded.quoted?.text ?? '')]).toHaveLength(10_000);
    expect(bounded.quoted?.author?.name).toHaveLength(100);
    expect([...(bounded.author.name ?? '')]).toHaveLength(100);
    expect(bounded.author.profile?.profileImageUrl).toHaveLength(2_048);
    expect(bounded.editHistory).toEqual([...huge.editHistory!.slice(0, 5), huge.editHistory!.at(-1)]);
    expect(Buffer.byteLength(JSON.stringify(bounded))).toBeLessThan(256 * 1024);
  });

  it('keeps one attachment on a DM, as X allows', () => {
    const dm = first(xaaDm({ media: { type: 'photo' } })) as InboundDm;
    const doubled: InboundDm = { ...dm, media: [...dm.media, ...dm.media, ...dm.media] };
    expect((withinLimits(doubled) as InboundDm).media).toEqual(dm.media);
  });
});
