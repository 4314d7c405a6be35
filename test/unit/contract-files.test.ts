// The committed contract files must be exactly what the code's schemas generate: run `npm run contract` after
// changing a schema, and review the diff as an integrator would.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildContractFiles } from '../../infra/contract/build-contract';

const root = join(import.meta.dirname, '..', '..', 'contract');

describe('contract files', () => {
  const files = buildContractFiles();

  it.each(Object.keys(files))('contract/%s is up to date', (path) => {
    expect(readFileSync(join(root, path), 'utf8')).toBe(files[path]);
  });

  it('has no stale files', () => {
    const committed = readdirSync(join(root, 'events')).map((f) => `events/${f}`);
    expect(committed.sort()).toEqual(Object.keys(files).filter((f) => f.startsWith('events/')).sort());
  });

  it('publishes every event type and the API operations', () => {
    const openapi = JSON.parse(files['openapi.json']!) as { paths: Record<string, unknown> };
    expect(Object.keys(openapi.paths)).toEqual([
      '/healthz',
      '/tickets',
      '/tickets/{ticketId}',
      '/tickets/{ticketId}/attachments/{attachmentId}',
      '/tickets/{ticketId}/replies',
    ]);
    expect(Object.keys(files).filter((f) => f.startsWith('events/ticket.'))).toHaveLength(8);
    expect(Object.keys(files)).toContain('events/channel.health_changed.schema.json');
  });
});
