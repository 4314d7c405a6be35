// `npm start` and `npm test` set themselves up (infra/local/setup.mjs): `npm ci` when node_modules is missing or
// differs from package-lock.json, nothing when it matches, and one line naming a missing Java. Run with --dry-run in
// a scratch folder, so nothing is installed.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

const script = join(import.meta.dirname, '..', '..', 'infra', 'local', 'setup.mjs');
const dirs: string[] = [];

function project(installed: Record<string, string> | undefined): string {
  const dir = mkdtempSync(join(tmpdir(), 'setup-'));
  dirs.push(dir);
  mkdirSync(join(dir, 'infra', 'local'), { recursive: true });
  cpSync(script, join(dir, 'infra', 'local', 'setup.mjs'));
  const lock = { packages: { '': {}, 'node_modules/left-pad': { version: '1.3.0' }, 'node_modules/fsevents': { version: '2.3.3', optional: true } } };
  writeFileSync(join(dir, 'package-lock.json'), JSON.stringify(lock));
  if (installed) {
    for (const [name, version] of Object.entries(installed)) {
      mkdirSync(join(dir, 'node_modules', name), { recursive: true });
      writeFileSync(join(dir, 'node_modules', name, 'package.json'), JSON.stringify({ name, version }));
    }
  }
  return dir;
}

function run(dir: string, path = process.env.PATH ?? '') {
  const result = spawnSync(process.execPath, [join(dir, 'infra', 'local', 'setup.mjs'), '--dry-run'], { encoding: 'utf8', env: { ...process.env, PATH: path } });
  return { status: result.status, out: `${result.stdout}${result.stderr}`.trim() };
}

afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('the setup before npm start and npm test', () => {
  it('installs when node_modules is missing', () => {
    expect(run(project(undefined)).out).toContain('Installing the locked dependencies (node_modules is missing): npm ci');
  });

  it('installs when an installed package is not the locked version', () => {
    expect(run(project({ 'left-pad': '1.1.0' })).out).toContain('(left-pad is 1.1.0, the lock says 1.3.0)');
  });

  it('does nothing when node_modules matches the lock (optional packages may be absent)', () => {
    expect(run(project({ 'left-pad': '1.3.0' }))).toEqual({ status: 0, out: '' });
  });

  it('names a missing Java in one line', () => {
    const bin = mkdtempSync(join(tmpdir(), 'setup-bin-'));
    dirs.push(bin);
    symlinkSync(process.execPath, join(bin, 'node'));
    // A PATH with node only: no java on it.
    const { status, out } = run(project({ 'left-pad': '1.3.0' }), bin);
    expect(status).toBe(1);
    expect(out.split('\n')).toEqual([expect.stringMatching(/^Java 17 or newer is needed for DynamoDB Local: install it/)]);
  });
});
