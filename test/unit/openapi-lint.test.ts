// The API document as an integrator's tools meet it: Redocly's recommended rules find nothing in it (no error, no
// warning), and the TypeScript types generated from it (contract/openapi.d.ts, what the local console's client is
// typed by) are the committed ones, so a change to the document that breaks a caller fails the type-check.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createConfig, lintFromString } from '@redocly/openapi-core';
import { describe, expect, it } from 'vitest';
import { buildApiTypes, buildContractFiles } from '../../infra/contract/build-contract';

const root = join(import.meta.dirname, '..', '..', 'contract');

describe('the OpenAPI document', () => {
  const openapi = buildContractFiles()['openapi.json'] ?? '';

  it("passes Redocly's recommended lint with no error or warning", async () => {
    const config = await createConfig({ extends: ['recommended'] });
    const problems = await lintFromString({ source: openapi, absoluteRef: 'openapi.json', config });
    expect(problems.map((p) => `${p.severity} ${p.ruleId}: ${p.message} at ${p.location[0]?.pointer ?? '?'}`)).toEqual([]);
  });

  it('contract/openapi.d.ts is the client types openapi-typescript generates from it', async () => {
    expect(readFileSync(join(root, 'openapi.d.ts'), 'utf8')).toBe(await buildApiTypes(openapi));
  });
});
