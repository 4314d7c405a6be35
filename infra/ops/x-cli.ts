// `npm run x -- <command>`: the X ops CLI's terminal entry point. Everything it does is in x-program.ts.
import { consoleOutput } from './cli-support';
import { runXProgram } from './x-program';

// The AWS SDK warns on every run that its releases after January 2027 need Node 22; the pinned versions work on this
// Node (20), and the notice would bury the command's own output. It is read when the first client is built, below.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

process.exitCode = await runXProgram(process.argv.slice(2), { env: process.env, out: consoleOutput });
