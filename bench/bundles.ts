// bundleKb and initMs: each function bundled as the CDK stack bundles it, and how long a fresh Node process takes
// to import the bundle.
//
// The esbuild options mirror BridgeFunction's NodejsFunction bundling (infra/constructs/bridge-function.ts), as
// aws-cdk-lib turns them into esbuild flags: platform node, target node24, format esm (index.mjs), minify, external
// source map without sources, `@aws-sdk/*` external, main fields module,main, and the createRequire banner.
// checkStackBundling() reads that file and warns when it no longer says what is copied here.
//
// initMs is measured inside the child (performance.now() around `await import()`), so Node's own boot is left out,
// with the stack's NODE_OPTIONS (--enable-source-maps) and environment. The bundles sit under .bench/ inside the
// repository so `@aws-sdk/*` resolves to node_modules, as on Lambda it resolves to the runtime's copy: the SDK's load
// time is part of a cold start and is in the figure; it is also reported apart (sdkMs).
import { execFile } from 'node:child_process';
import { mkdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { build, type Metafile } from 'esbuild';
import { median, round } from './stats';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const OUT_DIR = join(ROOT, '.bench', 'bundles');

export const FUNCTIONS = ['x-webhook', 'ingest', 'notify', 'helpdesk-api', 'reply'] as const;
export type FunctionName = (typeof FUNCTIONS)[number];

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
  NODE_OPTIONS: '--enable-source-maps',
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
  /** Median import time of the whole bundle in a fresh process. */
  initMs: number;
  /** Median import time of only the `@aws-sdk/*` modules the bundle imports, in a fresh process. */
  sdkMs: number;
  sdkModules: string[];
  /** The biggest contributors to the bundle, KB in the output, by npm package or by our own folder. */
  biggestInputs: [string, number][];
  sourceMapKb: number;
};

export type BundlesResult = {
  bundleKb: Record<FunctionName, number>;
  initMs: Record<FunctionName, number>;
  perFunction: Record<FunctionName, BundleFigures>;
  stackDrift: string[];
  nodeVersion: string;
};

/** Bundles every function and times `imports` fresh imports of each (median). */
export async function measureBundles(options: { imports?: number; sdkImports?: number } = {}): Promise<BundlesResult> {
  const imports = options.imports ?? 7;
  const sdkImports = options.sdkImports ?? 5;
  await rm(OUT_DIR, { recursive: true, force: true });
  const perFunction = {} as Record<FunctionName, BundleFigures>;
  for (const name of FUNCTIONS) {
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
    for (let i = 0; i < imports; i++) times.push(await timeImport([pathToFileURL(outfile).href]));
    const sdkTimes: number[] = [];
    for (let i = 0; i < sdkImports; i++) sdkTimes.push(await timeImport(sdkModules, 'require'));
    perFunction[name] = {
      kb: round(bytes / 1024, 1),
      initMs: round(median(times), 1),
      sdkMs: round(median(sdkTimes), 1),
      sdkModules,
      biggestInputs: biggestInputs(result.metafile),
      sourceMapKb: round(mapBytes / 1024, 1),
    };
  }
  return {
    bundleKb: Object.fromEntries(FUNCTIONS.map((n) => [n, perFunction[n].kb])) as Record<FunctionName, number>,
    initMs: Object.fromEntries(FUNCTIONS.map((n) => [n, perFunction[n].initMs])) as Record<FunctionName, number>,
    perFunction,
    stackDrift: await checkStackBundling(),
    nodeVersion: process.version,
  };
}

/**
 * Milliseconds a fresh `node` takes to import (or, as the functions load the SDK, require) `specifiers` in order,
 * timed inside the child.
 */
async function timeImport(specifiers: string[], how: 'import' | 'require' = 'import'): Promise<number> {
  const script = [
    `const specifiers = ${JSON.stringify(specifiers)};`,
    "const { createRequire } = await import('node:module');",
    "const load = createRequire(process.cwd() + '/');",
    'const started = performance.now();',
    how === 'import' ? 'for (const s of specifiers) await import(s);' : 'for (const s of specifiers) load(s);',
    'process.stdout.write(String(performance.now() - started));',
  ].join('\n');
  // cwd is the repository, so bare `@aws-sdk/*` specifiers resolve from node_modules as the bundles' do.
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], {
    cwd: ROOT,
    env: CHILD_ENV,
    timeout: 30_000,
  });
  const ms = Number(stdout.trim());
  if (!Number.isFinite(ms)) throw new Error(`import probe printed ${JSON.stringify(stdout)}`);
  return ms;
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
