// How the functions load the AWS SDK: with require(), from its CommonJS build, which is what Node resolves for the
// SDK's packages anyway. An ESM `import` of a CommonJS package makes Node scan its source for export names first, and
// for the SDK that scan costs more than loading it: on Node 20 here, @aws-sdk/client-dynamodb takes ~110 ms to
// import and ~77 ms to require (`npm run bench` shows each function's init). The bundles stay ESM with the SDK
// external: the call below is opaque to esbuild, so the SDK is left to the Lambda runtime's copy, as before.
import { createRequire } from 'node:module';

const load = createRequire(import.meta.url);

/** One AWS SDK package, typed as its ESM entry point describes it. */
export function requireSdk<T>(name: `@aws-sdk/${string}`): T {
  return load(name) as T;
}
