// One of the bridge's functions (functions/<name>/handler.ts), bundled locally with esbuild as an ESM Node 24 arm64
// Lambda, with its own log group (retention set) and its own role that starts with nothing but that log group.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { RemovalPolicy, type Duration } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

/** The six functions, named as their folders under functions/. */
export const FUNCTION_NAMES = ['x-webhook', 'ingest', 'notify', 'helpdesk-api', 'reply', 'reconcile'] as const;

/** One function's folder name. */
export type FunctionName = (typeof FUNCTION_NAMES)[number];

/** Where a function's code lives: `<functionsDir>/<name>/handler.ts`, exporting `handler`. */
export function functionEntry(functionsDir: string, name: FunctionName): string {
  return join(functionsDir, name, 'handler.ts');
}

/** The function entries that do not exist yet under `functionsDir`. */
export function missingFunctionEntries(functionsDir: string): string[] {
  return FUNCTION_NAMES.map((name) => functionEntry(functionsDir, name)).filter((entry) => !existsSync(entry));
}

/** What differs between the functions. */
export type BridgeFunctionProps = {
  name: FunctionName;
  /** The folder holding one folder per function. */
  functionsDir: string;
  /** The repository root: esbuild's working directory and where package-lock.json sits. */
  projectRoot: string;
  memorySize: number;
  timeout: Duration;
  environment: Record<string, string>;
  logRetention: logs.RetentionDays;
  reservedConcurrentExecutions?: number;
  description: string;
};

// ESM bundles have no `require`; a CommonJS dependency that calls require('crypto') (twitter-api-v2 and friends do)
// would crash at load without this shim. The alias avoids clashing with names esbuild generates.
const ESM_REQUIRE_BANNER = [
  "import { createRequire as __bridgeCreateRequire } from 'node:module';",
  'const require = __bridgeCreateRequire(import.meta.url);',
].join(' ');

// Packages a function imports at run time by a name esbuild does not follow, shipped as they are in the asset's
// node_modules: X's XChat SDK reads its WebAssembly next to its own files (and juicebox-sdk's at unlock), so it cannot
// be bundled. Only ingest (opening XChat messages, shared/x/xchat-open.ts) and reply (answering by XChat,
// shared/replies/xchat-reply.ts) load it; no other function's asset grows.
const XCHAT_PACKAGES = ['@xdevplatform/chat-xdk', 'juicebox-sdk'];
const RUNTIME_PACKAGES: Partial<Record<FunctionName, string[]>> = { ingest: XCHAT_PACKAGES, reply: XCHAT_PACKAGES };

/** A NodejsFunction with the bridge's defaults, its log group and a role scoped to that log group. */
export class BridgeFunction extends Construct {
  /** The function. */
  readonly fn: nodejs.NodejsFunction;
  /** Its log group (retention from the brand file). */
  readonly logGroup: logs.LogGroup;
  /** Its execution role: its own log group, plus what the stack grants. */
  readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: BridgeFunctionProps) {
    super(scope, id);
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention,
      // Logs outlive a torn-down stack only until their retention runs out; keeping them helps a post-mortem.
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // An explicit role instead of the default one: the default attaches AWSLambdaBasicExecutionRole, which may
    // create log groups and write to any of them. This one may only write to its own.
    const role = (this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: props.description,
    }));
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [this.logGroup.logGroupArn],
      }),
    );

    this.fn = new nodejs.NodejsFunction(this, 'Function', {
      description: props.description,
      entry: functionEntry(props.functionsDir, props.name),
      handler: 'handler',
      projectRoot: props.projectRoot,
      depsLockFilePath: join(props.projectRoot, 'package-lock.json'),
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize,
      timeout: props.timeout,
      role,
      logGroup: this.logGroup,
      environment: props.environment,
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      bundling: {
        format: nodejs.OutputFormat.ESM,
        target: 'node24',
        // Prefer packages' ESM builds: better tree-shaking, and zod's ESM entry is what keeps it small.
        mainFields: ['module', 'main'],
        banner: ESM_REQUIRE_BANNER,
        minify: true,
        sourceMap: true,
        // Line numbers in stack traces are what we need; the sources themselves would only double the bundle.
        sourcesContent: false,
        // The Lambda Node.js runtime ships AWS SDK v3; bundling our own copy only adds cold-start time.
        externalModules: ['@aws-sdk/*'],
        // Offline and without Docker: esbuild from node_modules.
        forceDockerBundling: false,
        ...copiedPackages(RUNTIME_PACKAGES[props.name]),
      },
    });
  }
}

/** Command hooks copying `packages` from the project's node_modules into the asset's (none: no hooks). */
function copiedPackages(packages: string[] | undefined): Pick<nodejs.BundlingOptions, 'commandHooks'> {
  if (!packages?.length) return {};
  return {
    commandHooks: {
      beforeBundling: () => [],
      beforeInstall: () => [],
      afterBundling: (inputDir, outputDir) =>
        packages.map((name) => `mkdir -p "${outputDir}/node_modules/${name}" && cp -R "${inputDir}/node_modules/${name}/." "${outputDir}/node_modules/${name}/"`),
    },
  };
}
