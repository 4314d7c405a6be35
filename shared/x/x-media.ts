// X's media objects → the photos, videos and GIFs of an inbound item, from each place X lists them:
// - v2: the post's `attachments.media_keys`, resolved in `includes.media` ({media_key, type, url, preview_image_url,
//   alt_text, width, height, duration_ms, variants [{bit_rate, content_type, url}]}; x-api/fundamentals/data-dictionary.mdx,
//   "Media object");
// - v1.1: `extended_entities.media` ({id_str, type, media_url_https, url, ext_alt_text, original_info | sizes,
//   video_info {duration_millis, variants [{bitrate, content_type, url}]}}; x-api/enterprise-gnip-2.0/fundamentals/
//   data-dictionary.mdx);
// - DMs: `message_data.attachment.media`, a v1.1 media object whose files X serves only with the account's OAuth
//   credentials (`requiresAuth`).
import type { InboundMedia } from './inbound-event';
import { isObject, objects, offset, text, type JsonObject } from './format-readers';

type MediaType = InboundMedia['type'];

// X allows 4 media per post and 1 per DM; a body listing more is not X's, and the rest is not read.
const MAX_MEDIA_READ = 10;

/**
 * What a media key says of its media when `includes.media` has no entry for it: X forms keys as `<kind>_<id>`, with
 * 3 for photos, 7 for videos (13 for videos uploaded through Media Studio) and 16 for animated GIFs, as the keys in
 * X's own examples show (x-api/fundamentals/expansions.mdx `3_…` photo, data-dictionary/reference.mdx `7_…` video and
 * `13_…` video, tutorials/explore-a-users-posts.mdx `16_…` animated_gif). A key of another kind is not listed: the
 * bridge cannot say what it is.
 */
export function typeFromMediaKey(mediaKey: string): MediaType | undefined {
  const kind = /^(\d{1,3})_\d{1,20}$/.exec(mediaKey)?.[1];
  if (kind === '3') return 'photo';
  if (kind === '7' || kind === '13') return 'video';
  if (kind === '16') return 'animated_gif';
  return undefined;
}

/**
 * The media of a v2 post, in `attachments.media_keys` order. A key `includes.media` does not describe still gives
 * an entry (its type from the key, no url) so the message shows that something was attached; see typeFromMediaKey.
 */
export function v2Media(attachments: unknown, includesMedia: unknown): InboundMedia[] {
  const keys = isObject(attachments) && Array.isArray(attachments.media_keys) ? attachments.media_keys : [];
  const described = objects(includesMedia);
  const media: InboundMedia[] = [];
  for (const key of new Set(keys.slice(0, MAX_MEDIA_READ))) {
    const mediaKey = text(key);
    if (mediaKey === undefined) continue;
    const entry = described.find((candidate) => candidate.media_key === mediaKey);
    const type = mediaType(entry?.type) ?? typeFromMediaKey(mediaKey);
    if (type === undefined) continue;
    const item: InboundMedia = { mediaKey, type, requiresAuth: false };
    if (entry) {
      const best = type === 'photo' ? undefined : bestMp4(entry.variants);
      setDefined(item, {
        url: best?.url ?? text(entry.url),
        contentType: best?.contentType,
        previewUrl: text(entry.preview_image_url),
        altText: text(entry.alt_text),
        width: offset(entry.width),
        height: offset(entry.height),
        durationMs: offset(entry.duration_ms),
      });
    }
    media.push(item);
  }
  return media;
}

/** The media of a v1.1 post, from `extended_entities.media` (or `entities.media`, which lists only the first photo). */
export function v1Media(extendedEntities: unknown, entities: unknown): InboundMedia[] {
  const extended = isObject(extendedEntities) ? objects(extendedEntities.media) : [];
  const list = extended.length > 0 ? extended : isObject(entities) ? objects(entities.media) : [];
  return list.slice(0, MAX_MEDIA_READ).flatMap((entry) => v1MediaItem(entry, false));
}

/** The media of a v1.1 DM (`message_data.attachment` of type "media"): behind the account's OAuth credentials. */
export function dmMedia(attachment: unknown): InboundMedia[] {
  if (!isObject(attachment) || (attachment.type !== undefined && attachment.type !== 'media')) return [];
  return isObject(attachment.media) ? v1MediaItem(attachment.media, true) : [];
}

function v1MediaItem(entry: JsonObject, requiresAuth: boolean): InboundMedia[] {
  // v1.1 objects carry no media key; X's id_str names the media, and a newer object's media_key is used when present.
  const mediaKey = text(entry.media_key) ?? (typeof entry.id_str === 'string' && /^\d{1,20}$/.test(entry.id_str) ? entry.id_str : undefined);
  const type = mediaType(entry.type);
  if (mediaKey === undefined || type === undefined) return [];
  const video = isObject(entry.video_info) ? entry.video_info : undefined;
  const best = type === 'photo' ? undefined : bestMp4(video?.variants);
  const image = text(entry.media_url_https) ?? text(entry.media_url);
  const original = isObject(entry.original_info) ? entry.original_info : undefined;
  const large = isObject(entry.sizes) && isObject(entry.sizes.large) ? entry.sizes.large : undefined;
  const item: InboundMedia = { mediaKey, type, requiresAuth };
  setDefined(item, {
    // A v1.1 photo's file is media_url_https; a video's or GIF's is its best mp4, and media_url_https its still.
    url: type === 'photo' ? image : best?.url,
    contentType: best?.contentType,
    previewUrl: type === 'photo' ? undefined : image,
    altText: text(entry.ext_alt_text),
    width: offset(original?.width) ?? offset(large?.w),
    height: offset(original?.height) ?? offset(large?.h),
    durationMs: offset(video?.duration_millis),
  });
  return [item];
}

function mediaType(value: unknown): MediaType | undefined {
  return value === 'photo' || value === 'video' || value === 'animated_gif' ? value : undefined;
}

/** The mp4 variant with the highest bit rate (v2 `bit_rate`, v1.1 `bitrate`); HLS playlists are not files. */
function bestMp4(variants: unknown): { url: string; contentType: string } | undefined {
  let best: { url: string; rate: number } | undefined;
  for (const variant of objects(variants)) {
    const url = text(variant.url);
    if (url === undefined || variant.content_type !== 'video/mp4') continue;
    const rate = offset(variant.bit_rate) ?? offset(variant.bitrate) ?? 0;
    if (!best || rate > best.rate) best = { url, rate };
  }
  return best ? { url: best.url, contentType: 'video/mp4' } : undefined;
}

function setDefined(item: InboundMedia, fields: Partial<Record<keyof InboundMedia, string | number | undefined>>): void {
  for (const [key, value] of Object.entries(fields)) {
    if (value !== undefined) (item as Record<string, unknown>)[key] = value;
  }
}
