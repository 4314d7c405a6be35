// The local console in a real browser (Debian's chromium driven by playwright-core), against the whole bridge: what a
// newcomer does after `npm start`, and what the console promises an integrator (events with their attempts and
// signatures checked by the Standard Webhooks library, a reply counted exactly as the API counts it). One browser for
// the file; each view is screenshotted (into docs/console with `npm run screenshots`) and checked with axe-core.
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import axe from 'axe-core';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dmHandoffLink } from '../../shared/replies/handoff';
import { splitThread } from '../../shared/replies/split';
import { weightedLength } from '../../shared/x/weighted-length';
import { LOCAL_AWS } from '../../infra/local/services';
import { startTestBridge, type TestBridge } from '../support/test-bridge';
import { nextXId, xaaMention, xaaReply } from '../support/x-payloads';

const CHROMIUM = process.env.CHROMIUM_PATH ?? ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
const SHOTS = process.env.CONSOLE_SCREENSHOTS_DIR ?? join(tmpdir(), 'support-bridge-console-shots');

let bridge: TestBridge;
let browser: Browser;
let page: Page;

async function accessibilityViolations(): Promise<string[]> {
  await page.addScriptTag({ content: axe.source });
  // A string, evaluated in the page: this file is type-checked for Node, without the DOM's globals.
  const result = (await page.evaluate("axe.run(document, { resultTypes: ['violations'] })")) as axe.AxeResults;
  return result.violations.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`);
}

describe('the local console in chromium', () => {
  beforeAll(async () => {
    if (!CHROMIUM) throw new Error('chromium is not installed: apt-get install -y chromium (or set CHROMIUM_PATH)');
    await mkdir(SHOTS, { recursive: true });
    [bridge, browser] = await Promise.all([
      // The DLQ commands find a brand's queues by the stack's names, so this bridge is named as npm start names it.
      (async () => {
        const brand = `console-${randomUUID().slice(0, 8)}`;
        return startTestBridge({ console: { print: () => undefined }, prefix: `support-bridge-${brand}`, env: { BRAND: brand } });
      })(),
      chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] }),
    ]);
    page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
    await page.goto(bridge.console!.loginUrl());
    await page.getByRole('heading', { name: 'Tickets' }).waitFor();
  });

  afterAll(async () => {
    await browser?.close();
    await bridge?.stop();
  });

  it('opens only with the printed login link', async () => {
    const anonymous = await fetch(`${bridge.url}/console/`);
    expect(anonymous.status).toBe(401);
    const wrong = await fetch(`${bridge.url}/console/login?token=not-the-token`, { redirect: 'manual' });
    expect(wrong.status).toBe(403);
  });

  it('shows a simulated mention in the inbox within a couple of seconds, without a reload', async () => {
    await page.getByLabel('What they write').fill('the box arrived broken');
    await page.getByLabel('with a photo').check();
    const started = Date.now();
    await page.getByRole('button', { name: 'Simulate a mention' }).click();
    const ticket = page.locator('#tickets button.ticket').first();
    // About a second here; the bound leaves room for a loaded CI machine running other test files at once.
    await ticket.waitFor({ timeout: 5000 });
    expect(Date.now() - started).toBeLessThan(5000);
    await ticket.click();
    await expect.poll(() => page.locator('li.msg.inbound p').first().textContent()).toContain('the box arrived broken');
    expect(await page.locator('img.thumb').count()).toBe(1);
    await page.screenshot({ path: join(SHOTS, 'inbox.png') });
    expect(await accessibilityViolations()).toEqual([]);
  });

  it('shows a reply posted with its X id', async () => {
    await page.getByLabel('Reply on X').fill('Sorry about that! Checking now.');
    await page.getByRole('button', { name: 'Send reply' }).click();
    const status = page.locator('[data-reply-status="posted"]');
    await status.waitFor({ timeout: 5000 });
    expect(await page.getByLabel('Reply on X').inputValue()).toBe('');
    expect(await page.locator('li[data-reply-id] .meta').first().textContent()).toMatch(/posted · X \d+/);
  });

  it('counts a long reply as the API does, shows that it would be refused and previews the split', async () => {
    // CJK weighs 2 and a URL 23 whatever its length: X's count, not the string's length.
    const text = `${'ありがとう, thanks for your patience 🙏 order A-1234 https://shop.acme-example.com/orders/A-1234?ref=console right now. '.repeat(4)}`.trim();
    const measured = weightedLength(text).weightedLength;
    expect(measured).toBeGreaterThan(280);
    expect(measured).not.toBe(text.length);
    await page.getByLabel('Reply on X').fill(text);
    await expect.poll(() => page.locator('#reply-count').textContent()).toContain(`${measured} / 280`);
    expect(await page.locator('#reply-count').textContent()).toContain('refuse');
    const parts = page.locator('#split-preview .split');
    expect(await parts.count()).toBeGreaterThanOrEqual(2);
    // The API refuses it, measuring the same.
    const ticketId = await page.locator('#tickets button.ticket').first().getAttribute('data-ticket-id');
    const refused = await bridge.api('POST', `/tickets/${ticketId}/replies`, { text });
    expect(refused.status).toBe(422);
    expect((refused.json as { error: { weightedLength: number } }).error.weightedLength).toBe(measured);
    await page.screenshot({ path: join(SHOTS, 'conversation.png') });
    await page.getByLabel('Reply on X').fill('');
  });

  it('shows a message the customer deleted on X as redacted', async () => {
    await page.getByRole('button', { name: 'simulate a delete' }).first().click();
    await page.locator('p.redacted').waitFor({ timeout: 5000 });
    expect(await page.locator('p.redacted').textContent()).toContain('Redacted');
  });

  it("lists each event with its attempts, the helpdesk's answer and the signature checked", async () => {
    await page.getByRole('link', { name: 'Events' }).click();
    const created = page.locator('details', { hasText: 'ticket.created' }).first();
    await created.waitFor();
    await created.locator('summary').click();
    expect(await created.locator('td').nth(1).textContent()).toBe('204');
    expect(await created.locator('td[data-signature]').first().textContent()).toBe('verified (standardwebhooks)');
    expect(await page.locator('details', { hasText: 'ticket.reply_posted' }).count()).toBe(1);
    expect(await page.locator('details', { hasText: 'ticket.message_redacted' }).count()).toBe(1);
    await page.screenshot({ path: join(SHOTS, 'events.png'), fullPage: true });
    expect(await accessibilityViolations()).toEqual([]);
  });

  it('shows an event parked in the notify DLQ and redrives it: the helpdesk gets it again, same webhook-id', async () => {
    const posted = page.locator('details', { hasText: 'ticket.reply_posted' });
    await posted.locator('summary').click();
    const webhookId = (await posted.getAttribute('data-webhook-id')) ?? '';
    const body = JSON.parse((await posted.locator('pre').nth(1).textContent()) ?? '{}') as unknown;
    // As notify parks an event after its last retry (shared/helpdesk/notify.ts RetryMessage).
    const sqs = new SQSClient({ endpoint: bridge.endpoints.sqs, ...LOCAL_AWS });
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: bridge.resources.queues.notifyRetry.dlq.url,
        MessageBody: JSON.stringify({ webhookId, body, attempt: 1, firstAttemptAt: new Date().toISOString() }),
      }),
    );
    sqs.destroy();
    await page.getByRole('button', { name: 'Look at the DLQ' }).click();
    await expect.poll(() => page.locator('section[aria-label="Dead-letter queue"] pre').textContent()).toContain('1 event(s) parked');
    expect(await page.locator('section[aria-label="Dead-letter queue"] pre').textContent()).toContain(webhookId);
    await page.getByRole('button', { name: 'Redrive the DLQ' }).click();
    await expect.poll(() => page.locator('#notice').textContent()).toBe('redrive: 1 event(s) sent again');
    await expect.poll(() => posted.locator('summary').textContent(), { timeout: 5000 }).toContain('2 attempt(s), last 204');
  });

  // The reply form's `split` and `handoff` (after the events' counts above, which a thread's events would change), on a
  // ticket of its own: the first one's only post was deleted. The customer writes again, not naming the account.
  const author = { id: '4200000001', username: 'console_thread', name: 'Thread Customer' };
  const ticketId = `mn-${author.id}-1`;
  const followUpText = 'also the lid was cracked';

  it("posts a split reply as a thread and shows each part's X id", async () => {
    const postId = nextXId();
    expect((await bridge.postWebhook(xaaMention({ id: postId, author }))).status).toBe(200);
    const followUp = xaaReply({ id: nextXId(), author, text: followUpText, inReplyTo: { id: postId, user: author } });
    await page.getByRole('link', { name: 'Inbox' }).click();
    await page.locator(`[data-ticket-id="${ticketId}"]`).click({ timeout: 5000 });
    expect((await bridge.postWebhook(followUp)).status).toBe(200);
    const text = `Thanks for waiting. ${'We found the parcel at the depot and it leaves today, tracking follows by DM. '.repeat(5)}`.trim();
    const parts = splitThread(text);
    expect(parts.length).toBeGreaterThanOrEqual(2);
    await page.getByLabel('Reply on X').fill(text);
    await page.getByLabel('Post as a thread (split)').check();
    // The preview is the API's own split: the same parts, word for word.
    await expect.poll(() => page.locator('#split-preview .split').count()).toBe(parts.length);
    const previewed = await page.locator('#split-preview .split').allTextContents();
    previewed.forEach((line, i) => expect(line.endsWith(parts[i]!)).toBe(true));
    expect(await page.locator('#reply-count').textContent()).toContain('posted as a thread');
    await page.getByRole('button', { name: 'Send reply' }).click();
    const reply = page.locator('li[data-reply-id]', { has: page.locator('[data-reply-status="posted"]') }).filter({ has: page.locator('li[data-part]') });
    await reply.waitFor({ timeout: 5000 });
    const shown = await reply.locator('li[data-part]').allTextContents();
    expect(shown).toHaveLength(parts.length);
    const ids = shown.map((line, i) => {
      expect(line).toContain(parts[i]);
      return /^X (\d+) · /.exec(line)?.[1];
    });
    expect(new Set(ids).size).toBe(parts.length);
    expect(ids.every((id) => id !== undefined)).toBe(true);
  });

  it('counts the DM hand-off link in the live counter, as the API composes it', async () => {
    const text = 'Happy to sort this out in private';
    await page.getByLabel('Reply on X').fill(text);
    await expect.poll(() => page.locator('#reply-count').textContent()).toContain(`${weightedLength(text).weightedLength} / 280`);
    await page.getByLabel(/Hand off to DM/).check();
    const composed = `${text}\n${dmHandoffLink({ xUserId: bridge.config.x.botUserId })}`;
    // A link counts 23 whatever its length, and its own line 1 more.
    expect(weightedLength(composed).weightedLength).toBe(weightedLength(text).weightedLength + 24);
    await expect.poll(() => page.locator('#reply-count').textContent()).toContain(`${weightedLength(composed).weightedLength} / 280`);
    await page.getByLabel(/Hand off to DM/).uncheck();
    await page.getByLabel('Reply on X').fill('');
  });

  it("shows the API's not_summoned refusal with its code", async () => {
    const option = page.locator('#reply-under option', { hasText: followUpText });
    await option.waitFor({ state: 'attached', timeout: 5000 });
    await page.getByLabel('Reply under').selectOption((await option.getAttribute('value')) ?? '');
    await page.getByLabel('Reply on X').fill('Sorry about the lid!');
    await page.getByRole('button', { name: 'Send reply' }).click();
    await expect.poll(() => page.locator('#notice').textContent()).toContain('reply refused (422 not_summoned)');
    expect(await accessibilityViolations()).toEqual([]);
  });

  it('sends attachments by URL, and shows the API refusing one it will not fetch', async () => {
    await page.getByLabel('Reply on X').fill('Here is the label');
    await page.getByLabel('Attachment 1: https URL').fill('https://10.0.0.1/label.png');
    await page.getByLabel('Attachment 1: alt text').fill('the shipping label');
    await page.getByRole('button', { name: 'Send reply' }).click();
    await expect.poll(() => page.locator('#notice').textContent()).toContain('reply refused (422 attachment_not_allowed)');
  });
});
