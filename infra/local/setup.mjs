/* global process, console */
// Runs before `npm start` and `npm test` (plain Node, no dependency, so it works on a fresh clone): installs the locked
// dependencies with `npm ci` when node_modules is missing or differs from package-lock.json, then checks the tools
// that are not npm packages, each missing one in one line that says what to install.
//   node infra/local/setup.mjs [--for start|test] [--dry-run]
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..', '..');
const args = process.argv.slice(2);
const purpose = args.includes('--for') ? args[args.indexOf('--for') + 1] : 'start';
const dryRun = args.includes('--dry-run');

/** Why node_modules is not what package-lock.json locks, or undefined when it is. */
function staleReason(dir) {
  if (!existsSync(join(dir, 'node_modules'))) return 'node_modules is missing';
  const lock = JSON.parse(readFileSync(join(dir, 'package-lock.json'), 'utf8'));
  for (const [path, entry] of Object.entries(lock.packages ?? {})) {
    // Top-level packages only (nested copies follow their parent); optional ones may be absent on this platform.
    if (!path.startsWith('node_modules/') || path.lastIndexOf('node_modules/') !== 0 || entry.optional || entry.link) continue;
    const manifest = join(dir, path, 'package.json');
    if (!existsSync(manifest)) return `${path.slice('node_modules/'.length)} is not installed`;
    const { version } = JSON.parse(readFileSync(manifest, 'utf8'));
    if (version !== entry.version) return `${path.slice('node_modules/'.length)} is ${version}, the lock says ${entry.version}`;
  }
  return undefined;
}

function fail(line) {
  console.error(line);
  process.exit(1);
}

const reason = staleReason(root);
if (reason) {
  console.log(`Installing the locked dependencies (${reason}): npm ci`);
  if (!dryRun) {
    const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
    const result = spawnSync(npm, ['ci', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit' });
    if (result.status !== 0) fail('npm ci failed: see above (network, or a package-lock.json out of step with package.json).');
  }
}

// DynamoDB Local is AWS's Java jar (npm start and the tests); the browser tests drive Debian's chromium.
// `java -version` writes to stderr.
const probe = spawnSync('java', ['-version'], { encoding: 'utf8' });
const javaMajor = probe.error ? 0 : Number(/version "(\d+)/.exec(`${probe.stdout}${probe.stderr}`)?.[1] ?? 0);
if (javaMajor < 17) fail('Java 17 or newer is needed for DynamoDB Local: install it (Debian/Ubuntu: apt-get install -y openjdk-17-jre-headless).');
if (purpose === 'test') {
  const chromium = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => p && existsSync(p));
  if (!chromium) fail('chromium is needed for the browser tests: install it (Debian/Ubuntu: apt-get install -y chromium) or set CHROMIUM_PATH.');
}
