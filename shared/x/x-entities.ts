// X's text entities, read the same way for every wire format: t.co links (expanded to what the customer typed, or
// dropped when they only point at the post's own media) and @mentions (does the author address the bot?).
//
// Offsets. X counts entity offsets and display_text_range in Unicode code points of the text as it sends it, that is
// still HTML-escaped (`&amp;` is five), v2 (`start`/`end`) and v1.1 (`indices`) alike. An emoji before a link shifts
// UTF-16 indices but not X's, so offsets go through codePointIndices. X's own samples are not always right about
// offsets (the post.quote.create sample on x-api/activity/event-payloads.mdx ends its url entity two code points past
// the end of its text), so an entity is only trusted where the text at its offsets is its t.co url; otherwise the url
// is looked for in the text.
import type { Link } from './inbound-event';
import { isObject, numericId, objects, offset, text, type Bot, type JsonObject } from './format-readers';
import { codePointIndices, sliceCodePoints, storedText, toWellFormed } from './text';

/** A t.co link X put in a text. `media`: the link X appends for attached media, removed rather than expanded. */
export type UrlEntity = {
  url: string;
  expandedUrl?: string;
  displayUrl?: string;
  /** Code points into the text as X sent it (escaped). */
  start?: number;
  end?: number;
  media: boolean;
};

// X allows at most a few dozen links in a post; a body with more is not X's and is not worth the work.
const MAX_URL_ENTITIES = 100;

/**
 * v2 `entities.urls` ({start, end, url, expanded_url, display_url}); an entry with `media_key` is a media link
 * (x-api/fundamentals/data-dictionary.mdx, "entities.urls"). Entries without a url are skipped.
 */
export function v2UrlEntities(entities: unknown): UrlEntity[] {
  if (!isObject(entities)) return [];
  return objects(entities.urls).flatMap((entry) => urlEntity(entry, offset(entry.start), offset(entry.end), typeof entry.media_key === 'string'));
}

/**
 * v1.1 `entities.urls` ({indices: [start, end], url, expanded_url, display_url}); `media` adds the media link of
 * `entities.media` / `extended_entities.media` entries, which v1.1 keeps out of `urls`.
 */
export function v1UrlEntities(urls: unknown, media: unknown[] = []): UrlEntity[] {
  const fromUrls = objects(urls).flatMap((entry) => urlEntity(entry, ...indices(entry.indices), false));
  const fromMedia = media.flatMap((list) => objects(list)).flatMap((entry) => urlEntity(entry, ...indices(entry.indices), true));
  return [...fromUrls, ...fromMedia];
}

function indices(value: unknown): [number | undefined, number | undefined] {
  return Array.isArray(value) ? [offset(value[0]), offset(value[1])] : [undefined, undefined];
}

function urlEntity(entry: JsonObject, start: number | undefined, end: number | undefined, media: boolean): UrlEntity[] {
  const url = text(entry.url);
  if (url === undefined) return [];
  const entity: UrlEntity = { url, media };
  const expandedUrl = text(entry.expanded_url);
  const displayUrl = text(entry.display_url);
  if (expandedUrl !== undefined) entity.expandedUrl = expandedUrl;
  if (displayUrl !== undefined) entity.displayUrl = displayUrl;
  if (start !== undefined && end !== undefined && start < end) {
    entity.start = start;
    entity.end = end;
  }
  return [entity];
}

type Placed = { from: number; to: number; entity: UrlEntity };

/**
 * The text as the bridge stores it (storedText: HTML entities undone) with each t.co link replaced by its
 * `expanded_url` and each media link removed (with the space X put before it, when it ends the text), plus the
 * links, in the order they appear, each once. A link without `expanded_url` stays as X wrote it. A link that is also
 * a media link is a media link. Linear in the text: one pass for offsets, one for the output.
 */
export function expandLinks(rawText: string, entities: UrlEntity[]): { text: string; links: Link[] } {
  if (entities.length === 0) return { text: storedText(rawText), links: [] };
  const considered = entities.slice(0, MAX_URL_ENTITIES);
  const mediaUrls = new Set(considered.filter((entity) => entity.media).map((entity) => entity.url));
  const marked = considered.map((entity) => (mediaUrls.has(entity.url) ? { ...entity, media: true } : entity));
  const placed = place(rawText, marked);

  let out = '';
  let at = 0;
  let mediaCutAt: number | undefined;
  for (const { from, to, entity } of placed) {
    out += storedText(rawText.slice(at, from));
    if (entity.media) {
      mediaCutAt = out.length;
    } else {
      out += toWellFormed(entity.expandedUrl ?? entity.url);
    }
    at = to;
  }
  out += storedText(rawText.slice(at));
  // X appends the media link after a space; with the link gone, so goes the space, unless the customer wrote on.
  if (mediaCutAt !== undefined && out.slice(mediaCutAt).trim() === '') out = out.slice(0, mediaCutAt).trimEnd();

  const links: Link[] = [];
  const seen = new Set<string>();
  const inTextOrder = [...placed.map((p) => p.entity), ...marked];
  for (const entity of inTextOrder) {
    if (entity.media || seen.has(entity.url)) continue;
    seen.add(entity.url);
    links.push({
      url: entity.url,
      expandedUrl: entity.expandedUrl ?? entity.url,
      displayUrl: entity.displayUrl ?? entity.expandedUrl ?? entity.url,
    });
  }
  return { text: out, links };
}

/**
 * Where each entity's t.co url is in the text, as UTF-16 ranges, sorted and never overlapping. Entities whose
 * offsets point at their url come first; the others take the first occurrence of their url not yet taken. Several
 * entities at one place (v2 lists a media link once per media key) are one range, a media link if any of them is.
 */
function place(rawText: string, entities: UrlEntity[]): Placed[] {
  const positions = codePointIndices(rawText, entities.flatMap((e) => (e.start === undefined ? [] : [e.start, e.end ?? 0])));
  const taken: Placed[] = [];
  const overlaps = (from: number, to: number) => taken.find((p) => from < p.to && p.from < to);
  const unplaced: UrlEntity[] = [];
  for (const entity of entities) {
    const from = entity.start === undefined ? undefined : positions.get(entity.start);
    const to = entity.end === undefined ? undefined : positions.get(entity.end);
    if (from === undefined || to === undefined || rawText.slice(from, to) !== entity.url) {
      unplaced.push(entity);
      continue;
    }
    const clash = overlaps(from, to);
    if (!clash) taken.push({ from, to, entity });
    else if (clash.from === from && clash.to === to && entity.media) clash.entity = { ...clash.entity, media: true };
  }
  for (const entity of unplaced) {
    let from = rawText.indexOf(entity.url);
    // Bounded: an entity list is at most MAX_URL_ENTITIES long, so at most that many occurrences can be taken.
    for (let tries = 0; from >= 0 && tries <= MAX_URL_ENTITIES; tries += 1) {
      const to = from + entity.url.length;
      const clash = overlaps(from, to);
      if (!clash) {
        taken.push({ from, to, entity });
        break;
      }
      if (clash.entity.url === entity.url && entity.media) {
        clash.entity = { ...clash.entity, media: true };
        break;
      }
      from = rawText.indexOf(entity.url, clash.to);
    }
  }
  return taken.sort((a, b) => a.from - b.from);
}

// ---------------------------------------------------------------------------------------------------------------
// Mentions

/** A mention entity, reduced to what deciding `mentionsBot` needs; `start` is in code points, as X counts. */
export type MentionRef = { start: number | undefined; id: string | undefined; username: string | undefined };

// Mentions X adds in front of a reply: only used when X sent no display_text_range to say where they end.
const AUTO_REPLY_PREFIX = /^(?:[@\uFF20][A-Za-z0-9_]{1,15}\s+)+/;

/** v2 `entities.mentions` ({start, end, username, id}). */
export function v2Mentions(value: unknown): MentionRef[] {
  return objects(value).map((mention) => ({
    start: offset(mention.start),
    id: numericId(mention.id),
    username: typeof mention.username === 'string' ? mention.username : undefined,
  }));
}

/** v1.1 `entities.user_mentions` ({indices, screen_name, id_str}). */
export function v1Mentions(value: unknown): MentionRef[] {
  return objects(value).map((mention) => ({
    start: Array.isArray(mention.indices) ? offset(mention.indices[0]) : undefined,
    id: numericId(mention.id_str),
    username: typeof mention.screen_name === 'string' ? mention.screen_name : undefined,
  }));
}

/**
 * Whether the author named the bot in the part of the post they typed. X puts the handles of everyone in a thread in
 * front of a reply; display_text_range[0] (code points, counted on the still-escaped text) is where the typed part
 * starts, so a mention entity counts only from there. A reply without a display range is treated as starting after
 * its leading run of @handles; a post that is not a reply has no such prefix. The typed part is also scanned for
 * `@handle` (case-insensitive), in case the entities are missing or their offsets are off.
 */
export function mentionsBot(
  rawText: string,
  displayStart: number | undefined,
  isReply: boolean,
  mentions: MentionRef[],
  bot: Bot,
): boolean {
  const typedStart = displayStart ?? (isReply ? (AUTO_REPLY_PREFIX.exec(rawText)?.[0].length ?? 0) : 0);
  const botHandle = bot.username.toLowerCase();
  const entityHit = mentions.some(
    (mention) =>
      mention.start !== undefined &&
      mention.start >= typedStart &&
      (mention.id === bot.id || (botHandle !== '' && mention.username?.toLowerCase() === botHandle)),
  );
  if (entityHit) return true;
  return bot.handlePattern !== undefined && bot.handlePattern.test(sliceCodePoints(rawText, typedStart));
}
