// The real thing ops run: `npx cdk synth` through the pinned CLI, offline, with no AWS credentials, bundling every
// function with the local esbuild. Slower than the template tests (a few seconds per function), so it runs once.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FUNCTION_NAMES, missingFunctionEntries } from '../../infra/constructs/bridge-function';
import { FUNCTIONS_DIR, PROJECT_ROOT } from '../../infra/stack';

/** The environment of a machine without AWS access: no credentials, no profile, no telemetry. */
function offlineEnv(): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('AWS_')));
  return { ...env, CDK_DISABLE_CLI_TELEMETRY: 'true', CDK_DISABLE_VERSION_CHECK: '1', NO_COLOR: '1' };
}

function cdk(args: string[]) {
  return spawnSync('npx', ['--no-install', 'cdk', ...args, '--no-notices'], {
    cwd: PROJECT_ROOT,
    env: offlineEnv(),
    encoding: 'utf8',
    timeout: 170_000,
  });
}

type Template = { Resources: Record<string, { Type: string; Properties?: Record<string, unknown>; Metadata?: Record<string, unknown> }> };

describe('cdk synth -c brand=example (real esbuild bundling)', () => {
  it('finds every function entry the stack names', () => {
    // A missing handler file is the regression this file exists to catch: it must fail here, never skip.
    expect(missingFunctionEntries(FUNCTIONS_DIR)).toEqual([]);
  });

  let outdir: string;
  let result: ReturnType<typeof cdk>;

  beforeAll(() => {
    // Inside the project (cdk.out is gitignored) so the bundles can resolve the external @aws-sdk/* when loaded.
    mkdirSync(join(PROJECT_ROOT, 'cdk.out'), { recursive: true });
    outdir = mkdtempSync(join(PROJECT_ROOT, 'cdk.out', 'synth-test-'));
    result = cdk(['synth', '--quiet', '-c', 'brand=example', '-o', outdir]);
  }, 180_000);

  afterAll(() => rmSync(outdir, { recursive: true, force: true }));

  it('succeeds offline, with the security rule pack passing', () => {
    expect(result.error).toBeUndefined();
    expect(result.stderr.slice(-3000), 'cdk synth output').not.toMatch(/ERROR|Validation failed/);
    expect(result.status).toBe(0);
    expect(existsSync(join(outdir, 'SupportBridge-example.template.json'))).toBe(true);
  });

  it('bundles each function as a minified ESM file with a source map and the require shim', () => {
    const template = JSON.parse(readFileSync(join(outdir, 'SupportBridge-example.template.json'), 'utf8')) as Template;
    const functions = Object.values(template.Resources).filter((r) => r.Type === 'AWS::Lambda::Function');
    expect(functions).toHaveLength(FUNCTION_NAMES.length);
    for (const fn of functions) {
      const assetPath = fn.Metadata?.['aws:asset:path'] as string;
      const dir = join(outdir, assetPath);
      // Ingest and reply carry X's XChat SDK unbundled (it reads its wasm beside its files): nothing else does.
      const xchat = /\/(Ingest|Reply)\//.test(String(fn.Metadata?.['aws:cdk:path']));
      expect(readdirSync(dir).sort()).toEqual(xchat ? ['index.mjs', 'index.mjs.map', 'node_modules'] : ['index.mjs', 'index.mjs.map']);
      if (xchat) {
        expect(existsSync(join(dir, 'node_modules/@xdevplatform/chat-xdk/pkg/chat_xdk_wasm_bg.wasm'))).toBe(true);
        expect(existsSync(join(dir, 'node_modules/juicebox-sdk/juicebox-sdk_bg.wasm'))).toBe(true);
        // The SDK resolves from the asset alone and compiles its wasm (juicebox-sdk's included) there.
        const config = JSON.stringify({ key_store_token_map_json: JSON.stringify({ realms: [{ id: '0102030405060708090a0b0c0d0e0f10', address: 'https://juicebox.invalid/' }], register_threshold: 1, recover_threshold: 1, pin_hashing_mode: 'Standard2019' }) });
        const script = `const { createChat } = await import('@xdevplatform/chat-xdk'); const chat = await createChat({ juiceboxConfig: ${JSON.stringify(config)}, getAuthToken: async () => 't' }); console.log(typeof chat.generateKeypairs().publicKey.publicKey);`;
        const sdk = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: dir, encoding: 'utf8', env: offlineEnv(), timeout: 30_000 });
        expect(sdk.stderr, dir).toBe('');
        expect(sdk.stdout.trim(), dir).toBe('string');
      }
      const bundle = readFileSync(join(dir, 'index.mjs'), 'utf8');
      expect(bundle.startsWith('import { createRequire as __bridgeCreateRequire }')).toBe(true);
      // The AWS SDK stays outside the bundle (the Lambda runtime provides it).
      expect(bundle).not.toMatch(/class \w*SQSClient\b|class \w*DynamoDBClient\b/);
      expect(statSync(join(dir, 'index.mjs')).size).toBeLessThan(2_000_000);
    }
  });

  it('produces bundles that load as ES modules and export `handler`', () => {
    const template = JSON.parse(readFileSync(join(outdir, 'SupportBridge-example.template.json'), 'utf8')) as Template;
    for (const fn of Object.values(template.Resources).filter((r) => r.Type === 'AWS::Lambda::Function')) {
      const bundle = join(outdir, fn.Metadata?.['aws:asset:path'] as string, 'index.mjs');
      // A fresh process: CommonJS-in-ESM mistakes ("Dynamic require of … is not supported") only show at load.
      const loaded = spawnSync(
        process.execPath,
        ['--input-type=module', '-e', `const m = await import(${JSON.stringify(bundle)}); console.log(typeof m.handler);`],
        { encoding: 'utf8', env: offlineEnv(), timeout: 30_000 },
      );
      expect(loaded.stderr, bundle).toBe('');
      expect(loaded.stdout.trim(), bundle).toBe('function');
    }
  });
});

describe('cdk synth with a bad brand', () => {
  it('fails with one line naming the brand file', () => {
    const bad = cdk(['synth', '--quiet', '-c', 'brand=no-such-brand', '-o', mkdtempSync(join(tmpdir(), 'sb-synth-'))]);
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toContain('infra/brands/no-such-brand.json: no such brand file (brands: example');
    expect(bad.stderr).not.toMatch(/\n\s+at /);
  }, 120_000);
});
