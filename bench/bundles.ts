// bundleKb, initMs and initToSdkFloor: each function bundled as the CDK stack bundles it, and how long Lambda's Node 24
// takes to import the bundle in a fresh process, side by side with how long the same process takes to load only the
// AWS SDK packages that bundle loads at init (its floor: the runtime's SDK is outside the bundle and cannot be made
// cheaper by the bridge).
//
// The esbuild options mirror BridgeFunction's NodejsFunction bundling (infra/constructs/bridge-function.ts), as
// aws-cdk-lib turns them into esbuild flags: platform node, target node24, format esm (index.mjs), minify, external
// source map without sources, `@aws-sdk/*` external, main fields module,main, and the createRequire banner.
// checkStackBundling() reads that file and warns when it no longer says what is copied here.
//
// Both times are measured inside the child (performance.now() around `await import()` / the `require()`s), so Node's
// own boot is left out, with the stack's environment (no NODE_OPTIONS: the bundle maps its own stacks). The bundles sit outside
// the repository and the child runs Node 24 (infra/local/lambda-runtime.ts) with the SDK on NODE_PATH only, as on
// Lambda. Which SDK packages a bundle loads at init is read from the child's module cache after the import, so a
// package required later (S3 on the first attachment) is in neither the init nor the floor.
import { execFile } from 'node:child_process';
import { mkdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { build, type Metafile } from 'esbuild';
import { FUNCTION_NAMES, type FunctionName } from '../infra/constructs/bridge-function';
import { ensureLambdaRuntime, type LambdaRuntime } from '../infra/local/lambda-runtime';
import { median, round } from './stats';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('..', import.meta.url));
// Outside the repository: from here nothing but NODE_PATH can resolve `@aws-sdk/*`.
const OUT_DIR = join(tmpdir(), 'support-bridge-bench', 'bundles');

export const FUNCTIONS = FUNCTION_NAMES;
export type { FunctionName };

// Copied from infra/constructs/bridge-function.ts (not exported there).
const ESM_REQUIRE_BANNER = [
  "import { createRequire as __bridgeCreateRequire } from 'node:module';",
  'const require = __bridgeCreateRequire(import.meta.url);',
].join(' ');

/** What the stack's bundling must still say for the copy above to be the same build. */
const STACK_BUNDLING_MARKERS = [
  'format: nodejs.OutputFormat.ESM',
  "target: 'node24'",
  "mainFields: ['module', 'main']",
  'banner: ESM_REQUIRE_BANNER',
  'minify: true',
  'sourceMap: true',
  'sourcesContent: false',
  "externalModules: ['@aws-sdk/*']",
  "import { createRequire as __bridgeCreateRequire } from 'node:module';",
  "'const require = __bridgeCreateRequire(import.meta.url);'",
];

/** Markers missing from the stack's bundling options (empty when the copy here is still the stack's build). */
export async function checkStackBundling(): Promise<string[]> {
  const source = await readFile(join(ROOT, 'infra', 'constructs', 'bridge-function.ts'), 'utf8');
  return STACK_BUNDLING_MARKERS.filter((marker) => !source.includes(marker));
}

// What the stack gives every function (infra/stack.ts `common`) plus what Lambda itself sets, with placeholder values:
// module scope reads nothing else, and config is only parsed at the first invocation (lazyHandler).
const CHILD_ENV: Record<string, string> = {
  PATH: process.env.PATH ?? '',
  BRAND: 'demo',
  X_BOT_USER_ID: '1602999888777666555',
  X_BOT_USERNAME: 'AcmeSupport',
  SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:000000000000:secret:support-bridge/demo',
  POWERTOOLS_SERVICE_NAME: 'support-bridge',
  POWERTOOLS_METRICS_NAMESPACE: 'SupportBridge',
  AWS_REGION: 'us-east-1',
  AWS_LAMBDA_FUNCTION_NAME: 'bench',
  AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '256',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
};

export type BundleFigures = {
  kb: number;
  /** Median import time of the whole bundle in a fresh Node 24 process. */
  initMs: number;
  /** Median time to require only the `@aws-sdk/*` packages the bundle loads at init, in a fresh Node 24 process. */
  sdkMs: number;
  /** initMs / sdkMs: 1 would be a bundle that costs nothing beyond the SDK it needs at init. */
  initToSdkFloor: number;
  /**
   * The same ratio of CPU time (user + system, all of the process's threads) over the same two spans: what other
   * processes on a busy machine do to wall time barely moves it.
   */
  initToSdkFloorCpu: number;
  initCpuMs: number;
  sdkCpuMs: number;
  /** Every `@aws-sdk/*` package the bundle names (some only on a later path). */
  sdkModules: string[];
  /** Those it loads at init. */
  sdkAtInit: string[];
  /** The biggest contributors to the bundle, KB in the output, by npm package or by our own folder. */
  biggestInputs: [string, number][];
  sourceMapKb: number;
};

export type BundlesResult = {
  bundleKb: Record<FunctionName, number>;
  initMs: Record<FunctionName, number>;
  initToSdkFloor: Record<FunctionName, number>;
  initToSdkFloorCpu: Record<FunctionName, number>;
  perFunction: Record<FunctionName, BundleFigures>;
  stackDrift: string[];
  nodeVersion: string;
};

/**
 * Bundles every function and times `imports` fresh imports of each, each followed by a fresh load of its SDK floor
 * (medians of each), so both sides see the same machine load.
 */
export async function measureBundles(options: { imports?: number; only?: FunctionName[] } = {}): Promise<BundlesResult> {
  const imports = options.imports ?? 7;
  const runtime = await ensureLambdaRuntime();
  await rm(OUT_DIR, { recursive: true, force: true });
  const perFunction = {} as Record<FunctionName, BundleFigures>;
  const names = options.only ?? FUNCTIONS;
  for (const name of names) {
    const outfile = join(OUT_DIR, name, 'index.mjs');
    await mkdir(join(OUT_DIR, name), { recursive: true });
    const result = await build({
      entryPoints: [join(ROOT, 'functions', name, 'handler.ts')],
      absWorkingDir: ROOT,
      bundle: true,
      platform: 'node',
      target: 'node24',
      format: 'esm',
      outfile,
      minify: true,
      sourcemap: true,
      sourcesContent: false,
      external: ['@aws-sdk/*'],
      mainFields: ['module', 'main'],
      banner: { js: ESM_REQUIRE_BANNER },
      metafile: true,
      logLevel: 'warning',
    });
    const bytes = (await stat(outfile)).size;
    const mapBytes = (await stat(`${outfile}.map`)).size;
    const sdkModules = sdkPackagesLoaded(result.metafile, await readFile(outfile, 'utf8'));
    const times: number[] = [];
    const sdkTimes: number[] = [];
    const cpuTimes: number[] = [];
    const sdkCpuTimes: number[] = [];
    let sdkAtInit: string[] = [];
    for (let i = 0; i < imports; i++) {
      const init = await timeInit(runtime, outfile, sdkModules);
      times.push(init.ms);
      cpuTimes.push(init.cpuMs);
      sdkAtInit = init.loaded;
      const sdk = await timeSdk(runtime, sdkAtInit);
      sdkTimes.push(sdk.ms);
      sdkCpuTimes.push(sdk.cpuMs);
    }
    const initMs = median(times);
    const sdkMs = median(sdkTimes);
    const initCpuMs = median(cpuTimes);
    const sdkCpuMs = median(sdkCpuTimes);
    perFunction[name] = {
      kb: round(bytes / 1024, 1),
      initMs: round(initMs, 1),
      sdkMs: round(sdkMs, 1),
      initToSdkFloor: round(initMs / sdkMs, 2),
      initToSdkFloorCpu: round(initCpuMs / sdkCpuMs, 2),
      initCpuMs: round(initCpuMs, 1),
      sdkCpuMs: round(sdkCpuMs, 1),
      sdkModules,
      sdkAtInit,
      biggestInputs: biggestInputs(result.metafile),
      sourceMapKb: round(mapBytes / 1024, 1),
    };
  }
  return {
    bundleKb: Object.fromEntries(names.map((n) => [n, perFunction[n].kb])) as Record<FunctionName, number>,
    initMs: Object.fromEntries(names.map((n) => [n, perFunction[n].initMs])) as Record<FunctionName, number>,
    initToSdkFloor: Object.fromEntries(names.map((n) => [n, perFunction[n].initToSdkFloor])) as Record<FunctionName, number>,
    initToSdkFloorCpu: Object.fromEntries(names.map((n) => [n, perFunction[n].initToSdkFloorCpu])) as Record<FunctionName, number>,
    perFunction,
    stackDrift: await checkStackBundling(),
    nodeVersion: runtime.nodeVersion,
  };
}

/** Runs `script` in a fresh Node 24 process from the bundles' folder, the SDK on NODE_PATH only; returns its stdout. */
async function child(runtime: LambdaRuntime, script: string): Promise<string> {
  const { stdout } = await run(runtime.node, ['--input-type=module', '-e', script], {
    cwd: OUT_DIR,
    env: { ...CHILD_ENV, NODE_PATH: runtime.nodePath },
    timeout: 30_000,
  });
  return stdout.trim();
}

/** Milliseconds a fresh process takes to import the bundle, and which of `sdkModules` that import loaded. */
async function timeInit(runtime: LambdaRuntime, outfile: string, sdkModules: string[]): Promise<{ ms: number; cpuMs: number; loaded: string[] }> {
  const script = [
    "const { createRequire } = await import('node:module');",
    'const cpu = process.cpuUsage();',
    'const started = performance.now();',
    `await import(${JSON.stringify(pathToFileURL(outfile).href)});`,
    'const ms = performance.now() - started;',
    'const used = process.cpuUsage(cpu);',
    'const cpuMs = (used.user + used.system) / 1000;',
    "const cached = Object.keys(createRequire(process.cwd() + '/').cache);",
    `const loaded = ${JSON.stringify(sdkModules)}.filter((name) => cached.some((path) => path.includes('/node_modules/' + name + '/')));`,
    'process.stdout.write(JSON.stringify({ ms, cpuMs, loaded }));',
  ].join('\n');
  const out = JSON.parse(await child(runtime, script)) as { ms: number; cpuMs: number; loaded: string[] };
  if (!Number.isFinite(out.ms)) throw new Error(`import probe printed ${JSON.stringify(out)}`);
  return out;
}

/** Milliseconds (wall and CPU) a fresh process takes to require `packages` in order, as the functions load the SDK. */
async function timeSdk(runtime: LambdaRuntime, packages: string[]): Promise<{ ms: number; cpuMs: number }> {
  const script = [
    "const { createRequire } = await import('node:module');",
    "const load = createRequire(process.cwd() + '/');",
    'const cpu = process.cpuUsage();',
    'const started = performance.now();',
    `for (const name of ${JSON.stringify(packages)}) load(name);`,
    'const ms = performance.now() - started;',
    'const used = process.cpuUsage(cpu);',
    'process.stdout.write(JSON.stringify({ ms, cpuMs: (used.user + used.system) / 1000 }));',
  ].join('\n');
  const out = JSON.parse(await child(runtime, script)) as { ms: number; cpuMs: number };
  if (!Number.isFinite(out.ms) || !Number.isFinite(out.cpuMs)) throw new Error('SDK probe printed no time');
  return out;
}

/**
 * The `@aws-sdk/*` packages the bundle leaves to the runtime: those it requires by name (shared/aws/sdk/load.ts), and
 * any it imports.
 */
function sdkPackagesLoaded(metafile: Metafile, bundle: string): string[] {
  const output = Object.values(metafile.outputs).find((o) => o.entryPoint);
  const imported = (output?.imports ?? []).filter((i) => i.external && i.path.startsWith('@aws-sdk/')).map((i) => i.path);
  const required = [...bundle.matchAll(/["'](@aws-sdk\/[a-z0-9-]+)["']/g)].map((m) => m[1]!);
  return [...new Set([...imported, ...required])].sort();
}

/** Output bytes by npm package (node_modules/<pkg>) or by our own top folder (shared/x, functions/...). */
function biggestInputs(metafile: Metafile, top = 8): [string, number][] {
  const output = Object.values(metafile.outputs).find((o) => o.entryPoint);
  const by = new Map<string, number>();
  for (const [path, input] of Object.entries(output?.inputs ?? {})) {
    const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path)?.[1];
    const key = pkg ?? path.split('/').slice(0, path.startsWith('shared/') ? 2 : 1).join('/').replace(/\.ts$/, '');
    by.set(key, (by.get(key) ?? 0) + input.bytesInOutput);
  }
  return [...by]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([key, bytes]) => [key, round(bytes / 1024, 1)]);
}
