// `npm run simulate -- <kind> ...`: plays X against the local bridge. Builds a real-shaped webhook body, signs it
// with the consumer secret as X does, and POSTs it to http://127.0.0.1:$PORT/x/webhook.
import {
  aaaDelete,
  aaaDm,
  aaaMention,
  aaaReply,
  xaaDelete,
  xaaDm,
  xaaMention,
  xaaReply,
  type MediaSpec,
  type XUserRef,
} from '../../test/support/x-payloads';
import { signWebhookBody } from '../../shared/x/signature';
import { DEV_DEFAULTS } from './bridge';

const USAGE = `usage: npm run simulate -- <kind> [args] [--format xaa|aaa] [--photo] [--video] [--gif] [--link <url>]
  mention "text"                 a public post mentioning the bot (the @handle is added when missing)
  dm "text"                      a direct message to the bot
  reply <inReplyToXId> "text"    a reply to a post (the bot's, by default X's auto-mention of the bot is added)
  delete <xId>                   the author deleted a post
  --format xaa (X Activity API, default) | aaa (Account Activity API)
  --photo, --video, --gif        attach media (a post takes up to 4, a DM 1); X appends a t.co link for them
  --link <url>                   a link the customer typed (added to the text when missing); X sends it as t.co
example: npm run simulate -- mention "the box arrived broken" --photo --link https://shop.example/orders/A-1234
env: PORT (3000), X_API_SECRET (the dev secret), X_BOT_USER_ID, X_BOT_USERNAME`;

function usage(message?: string): never {
  if (message) console.error(`${message}\n`);
  console.error(USAGE);
  process.exit(2);
}

/** Parses argv into a webhook body, or exits with the usage text. */
function buildBody(args: string[], bot: XUserRef): { body: Record<string, unknown>; describe: string } {
  let format: 'xaa' | 'aaa' = 'xaa';
  const positional: string[] = [];
  const media: MediaSpec[] = [];
  const links: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? '';
    if (arg === '--format') {
      const value = args[++i];
      if (value !== 'xaa' && value !== 'aaa') usage('--format must be xaa or aaa');
      format = value;
    } else if (arg.startsWith('--format=')) {
      const value = arg.slice('--format='.length);
      if (value !== 'xaa' && value !== 'aaa') usage('--format must be xaa or aaa');
      format = value;
    } else if (arg === '--photo' || arg === '--video' || arg === '--gif') {
      media.push({ type: arg === '--photo' ? 'photo' : arg === '--video' ? 'video' : 'animated_gif', altText: `a ${arg.slice(2)} from simulate` });
    } else if (arg === '--link' || arg.startsWith('--link=')) {
      const value = arg === '--link' ? args[++i] : arg.slice('--link='.length);
      if (!value || !/^https?:\/\/\S+$/.test(value)) usage('--link needs an http(s) URL');
      links.push(value);
    } else if (arg === '-h' || arg === '--help') {
      usage();
    } else {
      positional.push(arg);
    }
  }
  const [kind, ...rest] = positional;
  const createdAt = new Date();
  // Each link appears in the text the customer typed; X puts a t.co link in its place.
  const withLinks = (text: string) => links.reduce((typed, link) => (typed.includes(link) ? typed : `${typed} ${link}`), text);
  const attached = media.length > 0 ? ` (+${media.map((m) => m.type).join(', ')})` : '';
  const common = { forUserId: bot.id, knownUsers: [bot], createdAt, links, media };
  const isId = (value: string | undefined): value is string => value !== undefined && /^\d{1,20}$/.test(value);
  switch (kind) {
    case 'mention': {
      const text = rest.join(' ') || 'my order is late';
      // X fires a mention event only when the post names the bot.
      const typed = withLinks(new RegExp(`@${bot.username}\\b`, 'i').test(text) ? text : `@${bot.username} ${text}`);
      if (media.length > 4) usage('a post takes at most 4 media');
      const options = { ...common, text: typed };
      return { body: format === 'xaa' ? xaaMention(options) : aaaMention(options), describe: `${format} mention: ${typed}${attached}` };
    }
    case 'dm': {
      const text = withLinks(rest.join(' ') || 'hi, I need help with my order');
      if (media.length > 1) usage('a DM takes at most 1 attachment');
      const options = { text, recipient: bot, forUserId: bot.id, createdAt, links, ...(media[0] ? { media: media[0] } : {}) };
      return { body: format === 'xaa' ? xaaDm(options) : aaaDm(options), describe: `${format} DM: ${text}${attached}` };
    }
    case 'reply': {
      const [inReplyToXId, ...words] = rest;
      if (!isId(inReplyToXId)) usage('reply needs the numeric X id of the post it answers');
      const text = withLinks(words.join(' ') || 'still waiting, any news?');
      if (media.length > 4) usage('a post takes at most 4 media');
      const options = { ...common, text, inReplyTo: { id: inReplyToXId, user: bot } };
      return {
        body: format === 'xaa' ? xaaReply(options) : aaaReply(options),
        describe: `${format} reply to ${inReplyToXId}: ${text}`,
      };
    }
    case 'delete': {
      const [xId] = rest;
      if (!isId(xId)) usage('delete needs the numeric X id of the deleted post');
      const options = { id: xId, forUserId: bot.id };
      return { body: format === 'xaa' ? xaaDelete(options) : aaaDelete(options), describe: `${format} delete of ${xId}` };
    }
    default:
      usage(kind ? `unknown kind "${kind}"` : undefined);
  }
}

async function main(): Promise<void> {
  const env = process.env;
  const port = env.PORT || '3000';
  const secret = env.X_API_SECRET || DEV_DEFAULTS.X_API_SECRET;
  const bot: XUserRef = {
    id: env.X_BOT_USER_ID || DEV_DEFAULTS.X_BOT_USER_ID,
    username: (env.X_BOT_USERNAME || DEV_DEFAULTS.X_BOT_USERNAME).replace(/^@/, ''),
    name: 'Support',
  };
  const { body, describe } = buildBody(process.argv.slice(2), bot);
  const rawBody = Buffer.from(JSON.stringify(body), 'utf8');
  const url = `http://127.0.0.1:${port}/x/webhook`;
  console.log(`POST ${url}  (${describe})`);
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json; charset=utf-8',
        'x-twitter-webhooks-signature': signWebhookBody(secret, rawBody),
      },
      body: rawBody,
    });
  } catch (error) {
    console.error(`could not reach ${url} (${(error as Error).cause ?? (error as Error).message}): is \`npm start\` running?`);
    process.exit(1);
  }
  const text = await response.text();
  console.log(`${response.status} ${response.statusText} ${text}`);
  if (!response.ok) process.exit(1);
  // Without HELPDESK_API_TOKEN in this shell, npm start most likely runs with the dev token too.
  const token = env.HELPDESK_API_TOKEN ? '$HELPDESK_API_TOKEN' : DEV_DEFAULTS.HELPDESK_API_TOKEN;
  console.log(
    `\nQueued. Watch the \`npm start\` console for the ticket event, or list the tickets:\n` +
      `  curl -s -H "Authorization: Bearer ${token}" http://127.0.0.1:${port}/tickets`,
  );
}

await main();
