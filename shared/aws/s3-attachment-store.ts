// Secondary adapter: the AttachmentStore on the brand's S3 bucket (infra/constructs/attachments-bucket.ts). Objects are
// private (the bucket blocks all public access); the helpdesk gets presigned GET links. Encryption at rest is the
// bucket's default (SSE-S3), so no call here names a key and reading needs no KMS grant.
//
// Idempotent by construction: `put` overwrites the same key with the same bytes on a redelivery, and `remove` uses
// DeleteObjects, which answers success for keys that are already gone.
//
// The SDK packages are loaded with require() like the other clients (sdk/load.ts), and only by the functions that
// import this file.
import type * as S3Sdk from '@aws-sdk/client-s3';
import type * as PresignerSdk from '@aws-sdk/s3-request-presigner';
import { Readable } from 'node:stream';
import { isDmMediaKey, LINK_TTL_SECONDS, type AttachmentLink, type AttachmentStore } from '../attachments/attachment-store';
import { requireSdk } from './sdk/load';
import { sdkClientOptions } from './sdk-client-options';

type S3Client = S3Sdk.S3Client;

/** Where the store lives. `endpoint` is a loopback S3 emulator (tests); unset on AWS. */
export type S3AttachmentStoreOptions = {
  bucket: string;
  endpoint?: string;
  /** Link lifetime in seconds; LINK_TTL_SECONDS by default. */
  linkTtlSeconds?: number;
  now?: () => Date;
};

// DeleteObjects takes at most 1,000 keys per call.
const DELETE_BATCH = 1000;

/** An S3 client for the attachments bucket: path-style against a loopback emulator (its bucket hosts do not resolve). */
export function s3Client(endpoint?: string): S3Client {
  const { S3Client } = requireSdk<typeof S3Sdk>('@aws-sdk/client-s3');
  return new S3Client({ ...sdkClientOptions(endpoint), ...(endpoint ? { forcePathStyle: true } : {}) });
}

/** The AttachmentStore on `bucket`. Keys outside `dm-media/<id>/<key>` are refused before any call. */
export function s3AttachmentStore(client: S3Client, options: S3AttachmentStoreOptions): AttachmentStore {
  const sdk = requireSdk<typeof S3Sdk>('@aws-sdk/client-s3');
  const { bucket } = options;
  const ttl = options.linkTtlSeconds ?? LINK_TTL_SECONDS;
  const now = options.now ?? (() => new Date());
  return {
    async put({ key, body, contentType }) {
      checked(key);
      await client.send(
        new sdk.PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: contentType, ContentLength: body.byteLength }),
      );
      return { key, contentType, bytes: body.byteLength };
    },

    async link(key): Promise<AttachmentLink> {
      checked(key);
      const { getSignedUrl } = requireSdk<typeof PresignerSdk>('@aws-sdk/s3-request-presigner');
      const signedAt = now();
      const url = await getSignedUrl(client, new sdk.GetObjectCommand({ Bucket: bucket, Key: key }), { expiresIn: ttl });
      return { url, expiresAt: new Date(Math.min(signedAt.getTime() + ttl * 1000, await credentialsExpiry(client))).toISOString() };
    },

    async read(key) {
      checked(key);
      try {
        const got = await client.send(new sdk.GetObjectCommand({ Bucket: bucket, Key: key }));
        if (!(got.Body instanceof Readable)) return undefined;
        return { body: got.Body, contentType: got.ContentType ?? 'application/octet-stream', bytes: got.ContentLength ?? 0 };
      } catch (error) {
        if (error instanceof sdk.NoSuchKey || (error as { name?: string }).name === 'NoSuchKey') return undefined;
        throw error;
      }
    },

    async remove(keys) {
      const unique = [...new Set(keys)];
      unique.forEach(checked);
      for (let at = 0; at < unique.length; at += DELETE_BATCH) {
        const batch = unique.slice(at, at + DELETE_BATCH);
        const result = await client.send(
          new sdk.DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true } }),
        );
        // DeleteObjects answers 200 even when some keys failed: a failure here must reach the caller, who retries.
        const failed = result.Errors ?? [];
        if (failed.length > 0) {
          throw new Error(`S3 did not delete ${failed.length} object(s): ${failed[0]?.Code ?? 'unknown'} ${failed[0]?.Message ?? ''}`.trim());
        }
      }
    },
  };
}

/**
 * When the credentials that sign links expire (epoch ms), or +Infinity when they do not say. A presigned URL stops
 * working when its signer's session does, whatever its X-Amz-Expires says, so a link never claims to live longer.
 */
async function credentialsExpiry(client: S3Client): Promise<number> {
  try {
    const identity = await client.config.credentials();
    const expiration = identity.expiration?.getTime();
    return expiration !== undefined && Number.isFinite(expiration) ? expiration : Number.POSITIVE_INFINITY;
  } catch {
    return Number.POSITIVE_INFINITY;
  }
}

/**
 * The store on the bucket the stack names in ATTACHMENTS_BUCKET (config.aws.attachmentsBucket); undefined for a
 * function the stack gives no bucket. The S3 client (and its SDK package) is loaded at the first call, not at cold
 * start: most invocations of ingest, notify and the helpdesk API never touch an attachment.
 */
export function s3AttachmentStoreFor(aws: { attachmentsBucket?: string; s3Endpoint?: string }): AttachmentStore | undefined {
  const bucket = aws.attachmentsBucket;
  if (!bucket) return undefined;
  let store: AttachmentStore | undefined;
  const real = () => (store ??= s3AttachmentStore(s3Client(aws.s3Endpoint), { bucket }));
  return {
    put: (input) => real().put(input),
    link: (key) => real().link(key),
    read: (key) => real().read(key),
    remove: (keys) => real().remove(keys),
  };
}

function checked(key: string): void {
  if (!isDmMediaKey(key)) throw new Error(`not an attachment key: ${JSON.stringify(key)}`);
}
