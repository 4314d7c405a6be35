// Which AWS SDK packages each function's bundle loads at cold start. Loading an SDK client package is most of a
// function's init time (README, Performance), so a function must load only the clients it uses: a shared module that
// imports a client it does not need (shared/aws/clients.ts, which builds both) puts that client in the bundle, and
// esbuild keeps it there even when the code using it is shaken out. The SDK is loaded with require() by package name
// (shared/aws/sdk/load.ts), so the bundle names each package it loads as a string; an ESM import of one would show in
// the metafile, and is refused too.
import { join } from 'node:path';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { FUNCTION_NAMES, functionEntry, type FunctionName } from '../../infra/constructs/bridge-function';
import { FUNCTIONS_DIR, PROJECT_ROOT } from '../../infra/stack';

/** What each function uses: its queue, its table, and the brand's secret when FUNCTION_SECRETS gives it one. */
const SDK_PACKAGES: Record<FunctionName, string[]> = {
  'x-webhook': ['@aws-sdk/client-secrets-manager', '@aws-sdk/client-sqs'],
  // The S3 packages are required on the first attachment (a DM's media, a link to a stored copy), not at init; the
  // S3 adapter names the presigner too, though ingest only puts and removes and never requires it. SQS is required
  // at the first item put off for its look-up's backoff, not at init.
  ingest: [
    '@aws-sdk/client-dynamodb',
    '@aws-sdk/client-s3',
    '@aws-sdk/client-secrets-manager',
    '@aws-sdk/client-sqs',
    '@aws-sdk/s3-request-presigner',
    '@aws-sdk/util-dynamodb',
  ],
  notify: [
    '@aws-sdk/client-dynamodb',
    '@aws-sdk/client-s3',
    '@aws-sdk/client-secrets-manager',
    '@aws-sdk/client-sqs',
    '@aws-sdk/s3-request-presigner',
    '@aws-sdk/util-dynamodb',
  ],
  'helpdesk-api': [
    '@aws-sdk/client-dynamodb',
    '@aws-sdk/client-s3',
    '@aws-sdk/client-secrets-manager',
    '@aws-sdk/client-sqs',
    '@aws-sdk/s3-request-presigner',
    '@aws-sdk/util-dynamodb',
  ],
  reply: ['@aws-sdk/client-dynamodb', '@aws-sdk/client-secrets-manager', '@aws-sdk/client-sqs', '@aws-sdk/util-dynamodb'],
  // The table (lease, cursors, tickets, read counters), the inbound queue, and the bot's token from the secret.
  reconcile: ['@aws-sdk/client-dynamodb', '@aws-sdk/client-secrets-manager', '@aws-sdk/client-sqs', '@aws-sdk/util-dynamodb'],
};

/** The `@aws-sdk/*` packages the function's bundle loads, bundled as the stack bundles it (ESM, SDK external). */
async function sdkPackagesOf(name: FunctionName): Promise<{ required: string[]; imported: string[] }> {
  const result = await build({
    entryPoints: [functionEntry(FUNCTIONS_DIR, name)],
    absWorkingDir: PROJECT_ROOT,
    bundle: true,
    platform: 'node',
    target: 'node24',
    format: 'esm',
    outfile: join(PROJECT_ROOT, 'cdk.out', 'function-bundles-test', name, 'index.mjs'),
    write: false,
    minify: true,
    external: ['@aws-sdk/*'],
    mainFields: ['module', 'main'],
    metafile: true,
    logLevel: 'error',
  });
  const imports = Object.values(result.metafile.outputs).flatMap((output) => output.imports);
  const text = result.outputFiles.map((file) => file.text).join('\n');
  return {
    required: [...new Set([...text.matchAll(/["'](@aws-sdk\/[a-z0-9-]+)["']/g)].map((m) => m[1]!))].sort(),
    imported: [...new Set(imports.filter((i) => i.external && i.path.startsWith('@aws-sdk/')).map((i) => i.path))].sort(),
  };
}

describe('function bundles', () => {
  it.each(FUNCTION_NAMES)('%s loads only the AWS SDK packages it uses', async (name) => {
    expect(await sdkPackagesOf(name)).toEqual({ required: SDK_PACKAGES[name], imported: [] });
  });
});
