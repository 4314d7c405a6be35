// The local runner's AttachmentStore: files under DATA_DIR/attachments (or a temporary folder in memory mode), served
// by the runner's own HTTP server at LOCAL_ATTACHMENTS_PATH. Links are signed like presigned S3 URLs: the key, an
// expiry and an HMAC over both with a key made at start, so a link can be neither guessed nor stretched, and every
// link dies with the process that signed it (as S3 links die with the credentials that signed them).
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { dirname, join, resolve, sep } from 'node:path';
import { isDmMediaKey, LINK_TTL_SECONDS, type AttachmentStore } from '../../shared/attachments/attachment-store';

/** Where the local runner serves stored files: `GET /local/attachments/<key>?expires=…&signature=…`. */
export const LOCAL_ATTACHMENTS_PATH = '/local/attachments/';

export type FileAttachmentStoreOptions = {
  /** The folder holding the files (`<DATA_DIR>/attachments`). */
  dir: string;
  /** The runner's base URL, known once its HTTP server listens (port 0 picks one). */
  baseUrl: () => string;
  linkTtlSeconds?: number;
  now?: () => Date;
};

export type FileAttachmentStore = AttachmentStore & {
  /** Answers a GET of a signed link: the file, or 404 for a wrong, expired or removed link (never which one). */
  serve(req: IncomingMessage, res: ServerResponse): Promise<void>;
};

const META_SUFFIX = '.meta.json';

/** The AttachmentStore on the local file system, with the route that serves its links. */
export function fileAttachmentStore(options: FileAttachmentStoreOptions): FileAttachmentStore {
  const root = resolve(options.dir);
  const ttl = options.linkTtlSeconds ?? LINK_TTL_SECONDS;
  const now = options.now ?? (() => new Date());
  const signingKey = randomBytes(32);
  const sign = (key: string, expires: number) => createHmac('sha256', signingKey).update(`${key}\n${expires}`).digest('base64url');

  const pathOf = (key: string): string => {
    if (!isDmMediaKey(key)) throw new Error(`not an attachment key: ${JSON.stringify(key)}`);
    const path = resolve(root, ...key.split('/'));
    // isDmMediaKey already rules out `..`; this is the belt to its braces.
    if (!path.startsWith(root + sep)) throw new Error(`attachment key outside the store: ${key}`);
    return path;
  };

  const read: AttachmentStore['read'] = async (key) => {
    const path = pathOf(key);
    let meta: { contentType: string };
    let size: number;
    try {
      meta = JSON.parse(await readFile(path + META_SUFFIX, 'utf8')) as { contentType: string };
      size = (await stat(path)).size;
    } catch {
      return undefined;
    }
    return { body: createReadStream(path), contentType: meta.contentType, bytes: size };
  };

  return {
    async put({ key, body, contentType }) {
      const path = pathOf(key);
      await mkdir(dirname(path), { recursive: true });
      // Written aside and renamed, so a reader never sees half a file; a redelivery replaces it the same way.
      const temporary = `${path}.${randomBytes(6).toString('hex')}.tmp`;
      await writeFile(temporary, body);
      await writeFile(path + META_SUFFIX, JSON.stringify({ contentType }));
      await rename(temporary, path);
      return { key, contentType, bytes: body.byteLength };
    },

    async link(key) {
      pathOf(key);
      const expires = Math.floor(now().getTime() / 1000) + ttl;
      const encoded = key.split('/').map(encodeURIComponent).join('/');
      const query = new URLSearchParams({ expires: String(expires), signature: sign(key, expires) });
      return { url: `${options.baseUrl()}${LOCAL_ATTACHMENTS_PATH}${encoded}?${query}`, expiresAt: new Date(expires * 1000).toISOString() };
    },

    read,

    async remove(keys) {
      for (const key of new Set(keys)) {
        const path = pathOf(key);
        await rm(path, { force: true });
        await rm(path + META_SUFFIX, { force: true });
      }
    },

    async serve(req, res) {
      const notFound = () => res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ message: 'Not Found' }));
      if (req.method !== 'GET' && req.method !== 'HEAD') return void notFound();
      const url = new URL(req.url ?? '/', 'http://local');
      let key: string;
      try {
        key = url.pathname.slice(LOCAL_ATTACHMENTS_PATH.length).split('/').map(decodeURIComponent).join('/');
      } catch {
        return void notFound();
      }
      const expires = Number(url.searchParams.get('expires'));
      const given = Buffer.from(url.searchParams.get('signature') ?? '');
      if (!isDmMediaKey(key) || !Number.isSafeInteger(expires) || expires * 1000 < now().getTime()) return void notFound();
      const wanted = Buffer.from(sign(key, expires));
      if (given.length !== wanted.length || !timingSafeEqual(given, wanted)) return void notFound();
      const file = await read(key);
      if (!file) return void notFound();
      res.writeHead(200, {
        'content-type': file.contentType,
        'content-length': String(file.bytes),
        // What S3 would allow a presigned GET too: the browser may keep it while the link lives, and must not sniff.
        'cache-control': 'private, max-age=300',
        'x-content-type-options': 'nosniff',
      });
      if (req.method === 'HEAD') {
        file.body.destroy();
        res.end();
        return;
      }
      file.body.pipe(res);
      await new Promise<void>((done) => res.once('close', done));
    },
  };
}

/** The folder the local runner keeps attachments in. */
export function attachmentsDir(dataDir: string): string {
  return join(dataDir, 'attachments');
}
