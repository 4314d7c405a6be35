// Port: where the bridge keeps its own copies of media X serves only with the account's credentials (DM media), and
// how a helpdesk gets at them: a short-lived link, never the bucket itself. Adapters: the brand's S3 bucket
// (shared/aws/s3-attachment-store.ts) and, for the local runner, files under DATA_DIR
// (infra/local/file-attachment-store.ts). Keys are derived from X's stable ids, so a redelivery overwrites the same
// object and a redaction knows what to delete.
import type { Readable } from 'node:stream';

/** What was stored: the key, the content type it will be served with, and its size. */
export type StoredObject = { key: string; contentType: string; bytes: number };

/** A link anyone holding it may GET until `expiresAt` (ISO time); after that it answers 403 (S3) or 404 (local). */
export type AttachmentLink = { url: string; expiresAt: string };

export type AttachmentStore = {
  /** Stores `body` under `key`, replacing what was there (a redelivery stores the same bytes again). */
  put(input: { key: string; body: Uint8Array; contentType: string }): Promise<StoredObject>;
  /**
   * A short-lived link to the object at `key`. It is signed, not checked: a link to a key that was removed answers
   * 404 (local) or 403/404 (S3) when used. `expiresAt` is when it stops working, which may be sooner than the store's
   * usual lifetime (see S3's note on role credentials).
   */
  link(key: string): Promise<AttachmentLink>;
  /** The object's bytes and type (the local runner's file route); undefined when there is none. */
  read(key: string): Promise<{ body: Readable; contentType: string; bytes: number } | undefined>;
  /** Deletes the objects; keys that are already gone are not an error, so a retried redaction is harmless. */
  remove(keys: string[]): Promise<void>;
};

/** Every DM media copy lives under this prefix: the stack grants ingest put and delete on it and nothing else. */
export const DM_MEDIA_PREFIX = 'dm-media/';

/**
 * How long a link lasts: one hour. A presigned S3 URL stops working when the credentials that signed it expire, and a
 * Lambda role's session credentials can expire within the hour, whatever the URL asks for (S3 allows 7 days only for
 * long-term IAM user keys). An hour is what holds; events carry the link for a first look, and
 * `GET /tickets/{ticketId}/attachments/{attachmentId}` gives a fresh one at any time.
 */
export const LINK_TTL_SECONDS = 60 * 60;

const X_ID = /^\d{1,20}$/;
// X's media keys look like `3_1580000000000000000` (v2) or are a numeric `id_str` (v1.1).
const MEDIA_KEY = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * The key of a DM's media copy: `dm-media/<DM X id>/<media key>`. Both ids come from X and never change, so the same
 * DM redelivered, replayed or found again by reconciliation writes the same object. Throws on ids that are not X's
 * shapes, so nothing outside the prefix (`..`, `/`) can ever be named.
 */
export function dmMediaKey(dmXId: string, mediaKey: string): string {
  if (!X_ID.test(dmXId)) throw new Error(`not a DM X id: ${JSON.stringify(dmXId)}`);
  if (!MEDIA_KEY.test(mediaKey)) throw new Error(`not an X media key: ${JSON.stringify(mediaKey)}`);
  return `${DM_MEDIA_PREFIX}${dmXId}/${mediaKey}`;
}

/** True for a key dmMediaKey could have made: adapters refuse anything else. */
export function isDmMediaKey(key: string): boolean {
  const parts = key.split('/');
  return parts.length === 3 && `${parts[0]}/` === DM_MEDIA_PREFIX && X_ID.test(parts[1] ?? '') && MEDIA_KEY.test(parts[2] ?? '');
}
