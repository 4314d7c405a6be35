// `npm run dlq -- <command>`: the DLQ CLI's terminal entry point. Everything it does is in dlq-program.ts.
import { consoleOutput } from './cli-support';
import { runDlqProgram } from './dlq-program';

// The AWS SDK warns on every run that its releases after January 2027 need Node 22; the pinned versions work on this
// Node (20), and the notice would bury the command's own output. It is read when the first client is built, below.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

process.exitCode = await runDlqProgram(process.argv.slice(2), { env: process.env, out: consoleOutput });
