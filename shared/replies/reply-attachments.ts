// A reply's attachments → X's media ids: each file fetched behind the SSRF guard (reply-media.ts), checked against
// what X lets one post or DM carry, uploaded with media upload v2 (shared/x/media-upload.ts) with its alt text. Loaded
// by the reply worker only for a reply with attachments, so the fetch and upload code costs no cold start.
//
// X's rule (x-api/media/quickstart/best-practices.mdx): "You may attach up to 4 photos, 1 animated GIF or 1 video in a
// Post"; a DM carries one attachment, uploaded with a DM category (`dm_image`, `dm_gif`, `dm_video`: "Using the wrong
// category (for example a DM category on a Post) is a common reason an upload succeeds and Post create then fails").
import { PermanentError, RetryableError } from '../errors';
import { mediaStatus, uploadMedia, type MediaUploadDeps } from '../x/media-upload';
import type { MediaUploaded } from './post-reply';
import { fetchReplyMedia, ReplyMediaError, type ReplyMediaFile } from './reply-media';

export type ReplyAttachment = { url: string; altText?: string };

export type ReplyAttachmentDeps = MediaUploadDeps & {
  /** X_REPLY_MEDIA_ALLOW_LOOPBACK: tests and `npm start` only; never set in the stack. */
  allowLoopback: boolean;
};

/** Fetches every attachment, then uploads them in order. Nothing is uploaded when one file is refused. */
export async function uploadAttachments(attachments: ReplyAttachment[], channel: 'post' | 'dm', deps: ReplyAttachmentDeps): Promise<MediaUploaded> {
  const files: ReplyMediaFile[] = [];
  for (const attachment of attachments) {
    try {
      files.push(await fetchReplyMedia(attachment.url, { allowLoopback: deps.allowLoopback }));
    } catch (error) {
      if (!(error instanceof ReplyMediaError)) throw error;
      const why = `attachment ${files.length + 1}: ${error.message}`;
      throw error.transient ? new RetryableError(why) : new PermanentError(why, error.code);
    }
  }
  const animated = files.filter((f) => f.category !== 'tweet_image').length;
  if ((channel === 'dm' && files.length > 1) || files.length > 4 || (animated > 0 && files.length > 1)) {
    throw new PermanentError(
      channel === 'dm' ? 'a DM carries one attachment' : 'a post carries up to 4 photos, or 1 GIF or video',
      'too_many_attachments',
    );
  }
  const mediaIds: string[] = [];
  let checkAfterSecs: number | undefined;
  for (const [i, file] of files.entries()) {
    const category = channel === 'dm' ? (file.category.replace('tweet_', 'dm_') as ReplyMediaFile['category']) : file.category;
    const uploaded = await uploadMedia({ ...file, category }, attachments[i]!.altText, deps);
    mediaIds.push(uploaded.mediaId);
    if (uploaded.processing) checkAfterSecs = Math.max(checkAfterSecs ?? 0, uploaded.processing.checkAfterSecs);
  }
  return { mediaIds, ...(checkAfterSecs === undefined ? {} : { checkAfterSecs }) };
}

/** STATUS of each uploaded media: the longest wait X asks for, or undefined once all are ready. */
export async function pendingMedia(mediaIds: string[], deps: MediaUploadDeps): Promise<number | undefined> {
  let wait: number | undefined;
  for (const id of mediaIds) {
    const status = await mediaStatus(id, deps);
    if (status.processing) wait = Math.max(wait ?? 0, status.processing.checkAfterSecs);
  }
  return wait;
}
