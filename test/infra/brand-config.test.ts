// Brand files are written by ops by hand: every mistake must fail `cdk synth` with the file and the field named.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  BRANDS_DIR,
  BrandConfigError,
  listBrands,
  loadBrandConfig,
  loadBrandConfigs,
  parseBrandConfig,
} from '../../infra/brand-config';

const ACME = join(BRANDS_DIR, 'acme.json');

const valid = {
  brand: 'acme',
  region: 'eu-west-1',
  xBotUserId: '1490000000000000001',
  xBotUsername: 'AcmeHelp',
  helpdeskWebhookUrl: 'https://helpdesk.acme.test/x',
  alarmEmail: 'ops@acme.test',
};

function errorFor(content: unknown): string {
  try {
    parseBrandConfig(ACME, JSON.stringify(content));
  } catch (error) {
    expect(error).toBeInstanceOf(BrandConfigError);
    return (error as Error).message;
  }
  throw new Error('expected the brand file to be rejected');
}

describe('brand files', () => {
  it('ships a valid example', () => {
    expect(listBrands()).toContain('example');
    expect(loadBrandConfig('example')).toMatchObject({ brand: 'example', region: 'eu-west-1' });
  });

  it('fills the documented defaults', () => {
    expect(parseBrandConfig(ACME, JSON.stringify(valid))).toEqual({
      ...valid,
      mentionMergeWindowHours: 24,
      reopenWindowHours: 168,
      xReadBudgetPerDay: 2000,
      xReconcileIntervalSeconds: 300,
      xReplyPolicy: 'summoned',
      listenQueries: [],
      silentChannelHours: 24,
      logRetentionDays: 30,
      reservedConcurrency: { reply: 2, notify: 5 },
      apiThrottling: { rateLimit: 50, burstLimit: 100 },
    });
  });

  it.each([
    [{ ...valid, xBotUserId: '@acme' }, 'infra/brands/acme.json: xBotUserId must be a numeric X user id'],
    // A number, not a string: JSON.parse would already have rounded a real X id.
    [{ ...valid, xBotUserId: 42 }, 'infra/brands/acme.json: xBotUserId '],
    [{ ...valid, xBotUserId: undefined }, 'infra/brands/acme.json: xBotUserId is required'],
    [{ ...valid, xBotUsername: '@AcmeHelp' }, 'infra/brands/acme.json: xBotUsername must be an X handle without the @'],
    [{ ...valid, helpdeskWebhookUrl: 'http://helpdesk.acme.test/x' }, 'infra/brands/acme.json: helpdeskWebhookUrl must be an https:// URL'],
    [{ ...valid, alarmEmail: 'ops' }, 'infra/brands/acme.json: alarmEmail must be an e-mail address'],
    [{ ...valid, region: 'Ireland' }, 'infra/brands/acme.json: region must be an AWS region'],
    [{ ...valid, account: '1234' }, 'infra/brands/acme.json: account must be a 12-digit AWS account id'],
    [{ ...valid, mentionMergeWindowHours: 1.5 }, 'infra/brands/acme.json: mentionMergeWindowHours must be a whole number of hours'],
    [{ ...valid, xReadBudgetPerDay: 12.5 }, 'infra/brands/acme.json: xReadBudgetPerDay must be a whole number of reads'],
    [{ ...valid, xMonthlySpendCapUsd: -5 }, 'infra/brands/acme.json: xMonthlySpendCapUsd must be a positive number of dollars'],
    [{ ...valid, xReplyPolicy: 'everyone' }, 'infra/brands/acme.json: xReplyPolicy '],
    [{ ...valid, xReconcileIntervalSeconds: 90 }, 'infra/brands/acme.json: xReconcileIntervalSeconds must be 0 (off) or a whole number of minutes'],
    [{ ...valid, xReconcileIntervalSeconds: 30 }, 'infra/brands/acme.json: xReconcileIntervalSeconds must be 0 (off) or a whole number of minutes'],
    [{ ...valid, xReconcileIntervalSeconds: 86_460 }, 'infra/brands/acme.json: xReconcileIntervalSeconds must be 0 (off) or a whole number of minutes'],
    [{ ...valid, xReconcileIntervalSeconds: '300' }, 'infra/brands/acme.json: xReconcileIntervalSeconds must be a number of seconds'],
    [{ ...valid, reopenWindowHours: -1 }, 'infra/brands/acme.json: reopenWindowHours must be at least 0'],
    [{ ...valid, silentChannelHours: 0 }, 'infra/brands/acme.json: silentChannelHours must be at least 1'],
    [{ ...valid, silentChannelHours: 200 }, 'infra/brands/acme.json: silentChannelHours must be at most 168'],
    [{ ...valid, logRetentionDays: 31 }, 'infra/brands/acme.json: logRetentionDays must be one of 1, 3, 5'],
    [{ ...valid, reservedConcurrency: { reply: 1 } }, 'infra/brands/acme.json: reservedConcurrency.reply must be at least 2'],
    [{ ...valid, apiThrottling: { rateLimit: 0 } }, 'infra/brands/acme.json: apiThrottling.rateLimit '],
    [{ ...valid, alarmEmial: 'ops@acme.test' }, 'infra/brands/acme.json: unknown field alarmEmial'],
    [{ ...valid, reservedConcurrency: { replies: 3 } }, 'infra/brands/acme.json: unknown field replies in reservedConcurrency'],
    [{ ...valid, brand: 'Acme' }, 'infra/brands/acme.json: brand must be a lowercase slug'],
    [{ ...valid, brand: 'other' }, 'infra/brands/acme.json: brand must equal the file name ("acme"), got "other"'],
  ])('rejects %j naming the file and the field', (content, message) => {
    expect(errorFor(content)).toContain(message);
  });

  it('accepts 0 (no schedule) and whole minutes up to a day as the reconciliation interval', () => {
    for (const seconds of [0, 60, 3600, 86_400]) {
      expect(parseBrandConfig(ACME, JSON.stringify({ ...valid, xReconcileIntervalSeconds: seconds })).xReconcileIntervalSeconds).toBe(seconds);
    }
  });

  it('rejects a file that is not JSON, naming it', () => {
    expect(() => parseBrandConfig(ACME, '{ brand: acme }')).toThrow(/^infra\/brands\/acme\.json: not valid JSON/);
  });

  it('names the brand file that does not exist and lists the brands that do', () => {
    expect(() => loadBrandConfigs({ only: 'nope' })).toThrow(
      /^infra\/brands\/nope\.json: no such brand file \(brands: .*example/,
    );
  });

  it('refuses a folder without brand files', () => {
    const empty = mkdtempSync(join(tmpdir(), 'sb-no-brands-'));
    expect(() => loadBrandConfigs({ dir: empty })).toThrow(BrandConfigError);
  });

  it('validates every brand file of a folder, failing on the first bad one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sb-brands-'));
    writeFileSync(join(dir, 'acme.json'), JSON.stringify(valid));
    writeFileSync(join(dir, 'zeta.json'), JSON.stringify({ ...valid, brand: 'zeta', alarmEmail: 'nobody' }));
    expect(() => loadBrandConfigs({ dir })).toThrow(/zeta\.json: alarmEmail must be an e-mail address/);
    expect(loadBrandConfigs({ dir, only: 'acme' }).map((config) => config.brand)).toEqual(['acme']);
  });
});
