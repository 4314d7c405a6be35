// Lambda's Node.js 24 runtime, on this machine: Node 24's own binary (the npm package `node` ships it, through the
// per-platform package its install script fetches, `node-<platform>-<arch>`, installed here directly so no install
// script has to run) and the
// AWS SDK packages the functions load, installed apart from the project, where only NODE_PATH reaches them, as Lambda
// keeps its copy in /var/runtime/node_modules. A function's deployment asset (the folder `cdk deploy` zips) is then
// loaded from a folder outside the repository, so nothing but the bundle itself and NODE_PATH can resolve.
//
// The install is cached (LAMBDA_RUNTIME_CACHE, else ~/.cache/support-bridge) under a key of the versions, so a
// machine installs it once; a fresh one (CI) installs it from the npm registry at the first use, in ~10-40 s.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/**
 * The Node 24 release the functions are run on here. Lambda's `nodejs24.x` follows Node 24's releases (it reports the
 * one it runs in `process.version`); a newer 24.x changes this line and the cache key.
 */
export const LAMBDA_NODE_VERSION = '24.21.0';

/** A runtime ready to start functions: Node 24's binary and the NODE_PATH holding the SDK. */
export type LambdaRuntime = {
  node: string;
  nodePath: string;
  nodeVersion: string;
  /** The SDK packages on NODE_PATH, with their versions (the project's pins). */
  sdk: Record<string, string>;
};

/**
 * The SDK packages the functions load, at the versions package.json pins. Lambda's runtime carries one 3.x release of
 * each; the project's pins are what the tests and bench prove, and both are the SDK's v3 line.
 */
export function lambdaSdkPackages(): Record<string, string> {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
  return Object.fromEntries(Object.entries(pkg.dependencies).filter(([name]) => name.startsWith('@aws-sdk/')));
}

function cacheRoot(): string {
  return process.env.LAMBDA_RUNTIME_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'support-bridge');
}

async function npmInstall(prefix: string, specs: string[]): Promise<void> {
  await mkdir(prefix, { recursive: true });
  await writeFile(join(prefix, 'package.json'), '{"private":true}\n');
  await run('npm', ['install', '--no-save', '--no-package-lock', '--no-audit', '--no-fund', '--loglevel=error', ...specs], {
    cwd: prefix,
    timeout: 300_000,
    maxBuffer: 16 * 1024 * 1024,
  });
}

/**
 * Node 24 and the SDK, installed once per version set (cached). Safe to call from several processes at once: each
 * installs into its own folder and the first to finish renames it into place.
 */
export async function ensureLambdaRuntime(): Promise<LambdaRuntime> {
  const sdk = lambdaSdkPackages();
  const nodePackage = `node-${process.platform}-${process.arch}`;
  const key = createHash('sha256').update(JSON.stringify({ node: LAMBDA_NODE_VERSION, nodePackage, sdk })).digest('hex').slice(0, 12);
  const dir = join(cacheRoot(), `lambda-node${LAMBDA_NODE_VERSION}-${key}`);
  const binary = (root: string) => join(root, 'runtime', 'node_modules', nodePackage, 'bin', 'node');
  const runtime: LambdaRuntime = {
    node: binary(dir),
    nodePath: join(dir, 'sdk', 'node_modules'),
    nodeVersion: `v${LAMBDA_NODE_VERSION}`,
    sdk,
  };
  if (existsSync(join(dir, 'ready'))) return runtime;
  const staging = `${dir}.installing-${randomUUID()}`;
  try {
    await Promise.all([
      npmInstall(join(staging, 'runtime'), ['--ignore-scripts', `${nodePackage}@${LAMBDA_NODE_VERSION}`]),
      npmInstall(join(staging, 'sdk'), ['--ignore-scripts', ...Object.entries(sdk).map(([name, version]) => `${name}@${version}`)]),
    ]);
    const { stdout } = await run(binary(staging), ['--version']);
    if (stdout.trim() !== runtime.nodeVersion) throw new Error(`${nodePackage}@${LAMBDA_NODE_VERSION} ran ${stdout.trim()}`);
    await writeFile(join(staging, 'ready'), `${new Date().toISOString()}\n`);
    try {
      await rename(staging, dir);
    } catch (error) {
      // Another process finished first: its copy is the same versions.
      if (!existsSync(join(dir, 'ready'))) throw error;
    }
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
  return runtime;
}

// The runtime's side of the Runtime API, reduced to a pipe: load the handler module as Lambda's Node runtime does
// (the `index.handler` setting, `index.mjs` in the task root), report the init time and where each SDK package
// resolved, then run one invocation per line of stdin and answer on fd 3. stdout and stderr stay the function's own,
// as on Lambda (they go to its log group there).
const BOOTSTRAP = `
import { createWriteStream } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
const out = createWriteStream('', { fd: 3 });
const send = (message) => out.write(JSON.stringify(message) + '\\n');
const [moduleName, exportName] = process.env._HANDLER.split('.');
const root = process.env.LAMBDA_TASK_ROOT;
const started = performance.now();
let handler;
try {
  const loaded = await import(pathToFileURL(join(root, moduleName + '.mjs')).href);
  handler = loaded[exportName];
  if (typeof handler !== 'function') throw new Error(process.env._HANDLER + ' is not a function');
} catch (error) {
  out.write(JSON.stringify({ type: 'init-error', error: { name: error?.name, message: error?.message, stack: error?.stack } }) + '\\n', () => process.exit(1));
  await new Promise(() => {});
}
const initMs = performance.now() - started;
const resolve = createRequire(join(root, 'index.mjs')).resolve;
const resolved = {};
for (const name of JSON.parse(process.env.BRIDGE_SDK_PACKAGES ?? '[]')) {
  try { resolved[name] = resolve(name); } catch { resolved[name] = null; }
}
// Node's fetch implementation (undici) is loaded by an ESM import of node:http; a cold start should not pay for it.
const fetchAtInit = process.moduleLoadList.some((name) => name.includes('undici'));
send({ type: 'ready', initMs, resolved, version: process.version, fetchAtInit });
for await (const line of createInterface({ input: process.stdin })) {
  const { id, event } = JSON.parse(line);
  const context = {
    awsRequestId: id, functionName: process.env.AWS_LAMBDA_FUNCTION_NAME, functionVersion: '$LATEST',
    memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE, invokedFunctionArn: 'arn:aws:lambda:' + process.env.AWS_REGION + ':123456789012:function:' + process.env.AWS_LAMBDA_FUNCTION_NAME,
    logGroupName: '/aws/lambda/' + process.env.AWS_LAMBDA_FUNCTION_NAME, logStreamName: 'local', callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => 30000,
  };
  try {
    const result = await handler(event, context);
    send({ type: 'result', id, result: result === undefined ? null : result });
  } catch (error) {
    send({ type: 'error', id, error: { name: error?.name, message: error?.message, stack: error?.stack } });
  }
}
`;

export type LambdaError = { name?: string; message?: string; stack?: string };

/** One execution environment: a process that has loaded the function and takes invocations one at a time. */
export type LambdaProcess = {
  /** Milliseconds the bundle's import took (Lambda's init phase, less the runtime's own start). */
  initMs: number;
  /** Where each SDK package asked for resolved from the task root (null: it did not). */
  resolved: Record<string, string | null>;
  /** `process.version` inside. */
  version: string;
  /** Whether the init loaded Node's fetch implementation (undici), ~20 ms that no function needs before its first event. */
  fetchAtInit: boolean;
  /** Runs the handler with `event`; rejects with the handler's error. */
  invoke(event: unknown): Promise<unknown>;
  /** Everything the function wrote to stdout and stderr so far (its log lines). */
  output(): string;
  stop(): Promise<void>;
};

export type StartOptions = {
  runtime: LambdaRuntime;
  /** The unzipped deployment asset: the task root. */
  taskRoot: string;
  /** The function's Handler setting, `index.handler`. */
  handler: string;
  /** The function's environment (the template's variables, resolved), without Lambda's own. */
  environment: Record<string, string>;
  functionName: string;
  memorySize?: number;
  /** SDK packages whose resolution is reported in `resolved`. */
  sdkPackages?: string[];
  /** Extra variables for the test's plumbing: the SDK's endpoint variables, for example. */
  extra?: Record<string, string>;
};

/** Starts one execution environment and waits for its init; throws with the init error if the bundle fails to load. */
export async function startLambdaProcess(options: StartOptions): Promise<LambdaProcess> {
  const env: Record<string, string> = {
    // What Lambda sets for every Node.js function (the documented reserved variables).
    PATH: '/usr/local/bin:/usr/bin:/bin',
    LANG: 'en_US.UTF-8',
    TZ: ':UTC',
    LAMBDA_TASK_ROOT: options.taskRoot,
    LAMBDA_RUNTIME_DIR: join(options.runtime.nodePath, '..'),
    NODE_PATH: options.runtime.nodePath,
    _HANDLER: options.handler,
    AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x',
    AWS_REGION: 'us-east-1',
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_LAMBDA_FUNCTION_NAME: options.functionName,
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(options.memorySize ?? 256),
    AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${options.functionName}`,
    AWS_LAMBDA_LOG_STREAM_NAME: 'local',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_SESSION_TOKEN: 'local',
    // No shared config files, as on Lambda.
    AWS_CONFIG_FILE: join(options.taskRoot, '.no-aws-config'),
    AWS_SHARED_CREDENTIALS_FILE: join(options.taskRoot, '.no-aws-credentials'),
    BRIDGE_SDK_PACKAGES: JSON.stringify(options.sdkPackages ?? []),
    ...options.environment,
    ...options.extra,
  };
  // NODE_OPTIONS, should the stack set it, is read by node itself, as on Lambda.
  const child: ChildProcess = spawn(options.runtime.node, ['--input-type=module', '-e', BOOTSTRAP], {
    cwd: options.taskRoot,
    env,
    stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const waiting = new Map<string, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  let ready: (message: { initMs: number; resolved: Record<string, string | null>; version: string; fetchAtInit: boolean }) => void;
  let failed: (error: Error) => void;
  const init = new Promise<{ initMs: number; resolved: Record<string, string | null>; version: string; fetchAtInit: boolean }>((resolve, reject) => {
    ready = resolve;
    failed = reject;
  });
  const lines = createInterface({ input: child.stdio[3] as NodeJS.ReadableStream });
  lines.on('line', (line) => {
    const message = JSON.parse(line) as { type: string; id?: string; result?: unknown; error?: LambdaError } & Record<string, unknown>;
    if (message.type === 'ready') ready(message as never);
    else if (message.type === 'init-error') failed(Object.assign(new Error(`init failed: ${message.error?.message}`), { cause: message.error }));
    else if (message.id) {
      const pending = waiting.get(message.id);
      waiting.delete(message.id);
      if (message.type === 'result') pending?.resolve(message.result);
      else pending?.reject(Object.assign(new Error(message.error?.message ?? 'handler failed'), { name: message.error?.name ?? 'Error', stack: message.error?.stack }));
    }
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void exited.then(() => {
    failed(new Error(`the function's process exited before its init finished:\n${output.slice(-2000)}`));
    for (const pending of waiting.values()) pending.reject(new Error(`the function's process exited:\n${output.slice(-2000)}`));
    waiting.clear();
  });
  const { initMs, resolved, version, fetchAtInit } = await init;
  return {
    initMs,
    resolved,
    version,
    fetchAtInit,
    invoke(event) {
      const id = randomUUID();
      return new Promise((resolve, reject) => {
        waiting.set(id, { resolve, reject });
        child.stdin?.write(`${JSON.stringify({ id, event })}\n`);
      });
    },
    output: () => output,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
