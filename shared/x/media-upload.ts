// X's media upload v2, as the account (OAuth 1.0a user context), for a reply's attachments.
//
// From X's docs (xdevplatform/docs):
// - x-api/media/initialize-media-upload.mdx: `POST /2/media/upload/initialize` with a JSON body `media_type`,
//   `total_bytes`, `media_category` starts a session and answers `data.id` (the media id);
// - x-api/media/append-media-upload.mdx: `POST /2/media/upload/{id}/append`, one segment each, `segment_index` from
//   0, each "at or below 5 MB";
// - x-api/media/finalize-media-upload.mdx: `POST /2/media/upload/{id}/finalize`; when the answer has
//   `processing_info`, `GET /2/media/upload?command=STATUS&media_id=` (x-api/media/get-media-upload-status.mdx) until
//   `state` is `succeeded` before the id is attached to a post (states: pending, in_progress, succeeded, failed);
// - x-api/media/create-media-metadata.mdx: `POST /2/media/metadata` with `{id, metadata: {alt_text: {text}}}` sets
//   the alt text (at most 1,000 characters).
// Bodies are JSON (a segment base64 in `media`), which OAuth 1.0a does not sign (shared/x/oauth1.ts). Nothing here
// waits: a video still processing is handed back with X's `check_after_secs`, and the caller's queue waits.
import { PermanentError, RetryableError } from '../errors';
import type { ReplyMediaFile } from '../replies/reply-media';
import { oauth1Header, type OAuth1Credentials } from './oauth1';

/** X's largest recommended segment (append-media-upload.mdx). */
export const SEGMENT_BYTES = 5 << 20;
/** X's limit on alt text. */
export const ALT_TEXT_MAX = 1000;

export type MediaUploadDeps = { baseUrl: string; credentials: OAuth1Credentials };

export type UploadedMedia = { mediaId: string; processing?: { state: string; checkAfterSecs: number } };

/** Uploads one file and sets its alt text: initialize, one append per 5 MB segment, finalize, metadata (if any). */
export async function uploadMedia(file: ReplyMediaFile, altText: string | undefined, deps: MediaUploadDeps): Promise<UploadedMedia> {
  const init = await call<{ data?: { id?: string } }>('POST', '/2/media/upload/initialize', deps, {
    media_type: file.mediaType,
    total_bytes: file.body.length,
    media_category: file.category,
  });
  const mediaId = init.data?.id;
  if (!mediaId || !/^\d{1,20}$/.test(mediaId)) throw new RetryableError('X answered the media upload without a media id');
  for (let index = 0, offset = 0; offset < file.body.length; index++, offset += SEGMENT_BYTES) {
    const media = file.body.subarray(offset, offset + SEGMENT_BYTES).toString('base64');
    await call('POST', `/2/media/upload/${mediaId}/append`, deps, { media, segment_index: index });
  }
  const done = await call<{ data?: { processing_info?: { state?: string; check_after_secs?: number } } }>(
    'POST',
    `/2/media/upload/${mediaId}/finalize`,
    deps,
    {},
  );
  if (altText !== undefined && altText.length > 0) {
    await call('POST', '/2/media/metadata', deps, { id: mediaId, metadata: { alt_text: { text: altText } } });
  }
  return { mediaId, ...processing(done.data?.processing_info) };
}

/** Where X is with a processing upload (STATUS). Throws PermanentError `media_failed` when X failed it. */
export async function mediaStatus(mediaId: string, deps: MediaUploadDeps): Promise<UploadedMedia> {
  const answer = await call<{ data?: { processing_info?: { state?: string; check_after_secs?: number } } }>(
    'GET',
    `/2/media/upload?command=STATUS&media_id=${encodeURIComponent(mediaId)}`,
    deps,
  );
  return { mediaId, ...processing(answer.data?.processing_info) };
}

function processing(info: { state?: string; check_after_secs?: number } | undefined): Pick<UploadedMedia, 'processing'> {
  if (!info?.state || info.state === 'succeeded') return {};
  if (info.state === 'failed') throw new PermanentError('X could not process the attachment', 'media_failed');
  return { processing: { state: info.state, checkAfterSecs: Math.max(1, info.check_after_secs ?? 1) } };
}

async function call<T = unknown>(method: 'GET' | 'POST', path: string, deps: MediaUploadDeps, body?: unknown): Promise<T> {
  const url = new URL(path, deps.baseUrl).href;
  const headers: Record<string, string> = { authorization: oauth1Header(method, url, deps.credentials) };
  if (body !== undefined) headers['content-type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(url, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }), signal: AbortSignal.timeout(20_000) });
  } catch (error) {
    throw new RetryableError(`X's media upload could not be reached: ${(error as Error).message}`, undefined, { cause: error });
  }
  const text = await res.text();
  if (res.status === 429) {
    const reset = Number(res.headers.get('x-rate-limit-reset'));
    throw new RetryableError("X's media upload limit was reached", Number.isFinite(reset) && reset > 0 ? reset * 1000 : Date.now() + 60_000);
  }
  if (res.status >= 500) throw new RetryableError(`X's media upload answered HTTP ${res.status}`);
  if (res.status >= 400) throw new PermanentError(`X refused the attachment (HTTP ${res.status}): ${text.slice(0, 300)}`, 'media_refused');
  try {
    return (text ? JSON.parse(text) : {}) as T;
  } catch {
    throw new RetryableError("X's media upload answered something that is not JSON");
  }
}
