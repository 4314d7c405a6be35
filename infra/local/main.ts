// `npm start`: the whole bridge on this machine. DynamoDB Local keeps its data under DATA_DIR, the SQS emulator
// runs in memory with every message journaled under DATA_DIR (so a webhook answered 200 survives `kill -9`), and the
// real function handlers are wired as Lambda's event sources wire them on AWS.
import { ConfigError } from '../../shared/errors';
import { DEV_DEFAULTS, DEV_SECRET_NAMES, loadFunctionHandlers, startLocalBridge, withDevDefaults, type LocalBridge } from './bridge';
import { LocalServiceError } from './services';

// Powertools reads these when the functions' modules load (below, after this), so set the local defaults first:
// INFO logs, and no metrics blobs in the terminal unless asked for (POWERTOOLS_METRICS_DISABLED=false).
process.env.POWERTOOLS_LOG_LEVEL ??= 'INFO';
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
// The AWS SDK warns that its releases after January 2027 need Node 22; the pinned versions work on Node 20, and the
// notice would bury the start-up banner. Lambda runs Node 24.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

function fail(message: string): never {
  console.error(`\nCannot start the Support Bridge: ${message}\n`);
  process.exit(1);
}

function readPort(value: string | undefined): number {
  if (value === undefined || value === '') return 3000;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`Invalid configuration: PORT must be a port number (got "${value}")`);
  return port;
}

async function main(): Promise<void> {
  const started = Date.now();
  const port = readPort(process.env.PORT);
  const dataDir = process.env.DATA_DIR || '.data/';
  const { defaulted } = withDevDefaults(process.env);

  const secretsDefaulted = defaulted.filter((name) => (DEV_SECRET_NAMES as readonly string[]).includes(name));
  if (secretsDefaulted.length > 0) {
    // Only dev values are printed: a value that came from the environment is never echoed.
    console.log('\nWARNING: using local dev values (never use them outside this machine):');
    for (const name of secretsDefaulted) console.log(`  ${name}=${DEV_DEFAULTS[name]}`);
  }
  const otherDefaults = defaulted.filter((name) => !secretsDefaulted.includes(name));
  if (otherDefaults.length > 0) {
    console.log(`Using demo settings: ${otherDefaults.map((name) => `${name}=${DEV_DEFAULTS[name]}`).join(' ')}`);
  }

  let bridge: LocalBridge;
  try {
    const handlers = await loadFunctionHandlers((message) => console.warn(message));
    bridge = await startLocalBridge({
      port,
      dataDir,
      // Ctrl-C reaches only us: the functions finish their batches before DynamoDB Local goes away.
      detachDynamoDb: true,
      env: process.env,
      handlers,
      console: true,
      log: (message, error) => console.error(message, error ?? ''),
    });
  } catch (error) {
    if (error instanceof ConfigError || error instanceof LocalServiceError) fail(error.message);
    throw error;
  }

  const { config } = bridge;
  const requeued = bridge.queueJournal?.requeued ? ` (${bridge.queueJournal.requeued} re-queued now)` : '';
  const token = defaulted.includes('HELPDESK_API_TOKEN') ? config.helpdesk.apiToken : '$HELPDESK_API_TOKEN';
  const { reconciliation } = bridge;
  // Said once, here: with reconciliation off, follow-ups X's webhook never delivers are not ticketed.
  const reconcileLine =
    'every' in reconciliation
      ? `every ${reconciliation.every} s: X's mentions and unsolved tickets' conversations, read via ${config.x.apiBaseUrl}`
      : `off (${reconciliation.off}): follow-ups the X webhook does not deliver are not read`;
  console.log(`
Support Bridge (brand "${config.brand}") is up in ${Date.now() - started} ms
  X webhook:     ${bridge.url}/x/webhook
  helpdesk API:  ${bridge.url}/tickets   (Authorization: Bearer <HELPDESK_API_TOKEN>)
  health:        ${bridge.url}/healthz
  data:          tickets kept in ${dataDir} (DynamoDB Local on ${bridge.endpoints.dynamodb});
                 queues in memory (SQS emulator on ${bridge.endpoints.sqs}), journaled in ${dataDir}: unfinished
                 messages are sent again at the next start${requeued}
  ticket events: ${process.env.HELPDESK_WEBHOOK_URL ? `POSTed to ${config.helpdesk.webhookUrl}` : "POSTed to the console's own helpdesk and printed below (HELPDESK_WEBHOOK_URL is not set)"}
  replies:       ${config.x.accessToken ? `posted on X via ${config.x.apiBaseUrl}` : 'dry run (X_ACCESS_TOKEN is not set)'}
  reconcile:     ${reconcileLine}

Open the console (signed in; the link works for this run only):
  ${bridge.console?.loginUrl() ?? ''}

Or try it from a terminal:
  npm run simulate -- mention "my order is late"
  curl -s -H "Authorization: Bearer ${token}" ${bridge.url}/tickets
`);

  let stoppingSince: number | undefined;
  const shutdown = (signal: string) => {
    if (stoppingSince !== undefined) {
      // npm and tsx relay the terminal's Ctrl-C, so one press can arrive twice: only a later one means "now".
      if (Date.now() - stoppingSince < 2000) return;
      console.error(`${signal} again: exiting without waiting`);
      process.exit(1);
    }
    stoppingSince = Date.now();
    console.log(`\n${signal}: stopping (finishing in-flight batches)...`);
    bridge.stop().then(
      () => {
        console.log('stopped');
        process.exit(0);
      },
      (error: unknown) => {
        console.error('error while stopping', error);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  // A closed terminal: without this Node would exit at once, leaving DynamoDB Local (its own process group) behind.
  process.on('SIGHUP', () => shutdown('SIGHUP'));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
