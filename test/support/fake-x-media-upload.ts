// X's media upload v2 for the fake X server (plugged in with FakeXServer's `extraRoutes`, so the fake's OAuth 1.0a
// check runs first): initialize, append, finalize, STATUS and the alt-text metadata, as X's docs describe them
// (xdevplatform/docs: x-api/media/initialize-media-upload.mdx, append-media-upload.mdx, finalize-media-upload.mdx,
// get-media-upload-status.mdx, create-media-metadata.mdx; bodies as in quickstart/media-upload-chunked.mdx). Like X,
// it takes user context only (an app Bearer token gets 403), refuses an append or finalize of an unknown session,
// a finalize whose segments do not add up to `total_bytes`, and an image over 5 MB. A video finalizes `pending` and
// is `succeeded` after `videoStatusChecks` STATUS calls.
import type { Answer, RecordedRequest } from './fake-x-server';

export type FakeMediaSession = {
  id: string;
  mediaType: string;
  category: string;
  totalBytes: number;
  segments: Buffer[];
  finalized: boolean;
  statusChecks: number;
  altText?: string;
};

const problem = (status: number, detail: string): Answer => ({ status, body: { title: status === 403 ? 'Forbidden' : 'Invalid Request', detail, type: 'about:blank', status } });

export class FakeXMediaUpload {
  readonly sessions = new Map<string, FakeMediaSession>();
  private nextId = 1880028106020515840n;

  constructor(private readonly options: { videoStatusChecks?: number } = {}) {}

  /** For FakeXServer's `extraRoutes`. */
  readonly routes = (request: RecordedRequest, user: string): Answer | undefined => {
    const { method, path } = request;
    if (method === 'POST' && path === '/2/tweets') return this.checkAttached(request);
    const upload = method === 'POST' && path.startsWith('/2/media/');
    const status = method === 'GET' && path === '/2/media/upload';
    if (!upload && !status) return undefined;
    if (user === 'app') return problem(403, 'Authenticating with OAuth 2.0 Application-Only is forbidden for this endpoint.');
    if (status) return this.status(request);
    if (path === '/2/media/upload/initialize') return this.initialize(request);
    if (path === '/2/media/metadata') return this.metadata(request);
    const step = /^\/2\/media\/upload\/(\d+)\/(append|finalize)$/.exec(path);
    if (!step) return problem(404, 'Not found');
    const session = this.sessions.get(step[1]!);
    if (!session) return problem(400, 'Invalid media id');
    return step[2] === 'append' ? this.append(session, request) : this.finalize(session);
  };

  /**
   * A post with `media.media_ids` names only finalized uploads X is done processing (else X's 400); the post itself is
   * left to the fake X server (undefined passes on).
   */
  private checkAttached(request: RecordedRequest): Answer | undefined {
    const ids = (request.body as { media?: { media_ids?: unknown } } | undefined)?.media?.media_ids;
    if (ids === undefined) return undefined;
    if (!Array.isArray(ids) || ids.length === 0 || ids.length > 4) return problem(400, 'media.media_ids must hold 1 to 4 ids');
    for (const id of ids) {
      const session = this.sessions.get(String(id));
      const processed = !session?.mediaType.startsWith('video/') || session.statusChecks >= (this.options.videoStatusChecks ?? 1);
      if (!session?.finalized || !processed) return problem(400, `Your media IDs are invalid: ${String(id)}`);
    }
    return undefined;
  }

  private initialize(request: RecordedRequest): Answer {
    const body = request.body as { media_type?: string; total_bytes?: number; media_category?: string } | undefined;
    if (!body?.media_type || typeof body.total_bytes !== 'number') return problem(400, 'media_type and total_bytes are required');
    const limit = body.media_type.startsWith('image/') && body.media_type !== 'image/gif' ? 5 << 20 : 15 << 20;
    if (!body.media_type.startsWith('video/') && body.total_bytes > limit) return problem(400, 'File size exceeds the limit');
    const id = String(this.nextId++);
    this.sessions.set(id, {
      id,
      mediaType: body.media_type,
      category: body.media_category ?? '',
      totalBytes: body.total_bytes,
      segments: [],
      finalized: false,
      statusChecks: 0,
    });
    return { status: 200, body: { data: { id, media_key: `3_${id}`, expires_after_secs: 86400 } } };
  }

  private append(session: FakeMediaSession, request: RecordedRequest): Answer {
    const body = request.body as { media?: string; segment_index?: number } | undefined;
    if (session.finalized || typeof body?.media !== 'string' || body.segment_index !== session.segments.length) {
      return problem(400, 'Invalid segment');
    }
    session.segments[body.segment_index] = Buffer.from(body.media, 'base64');
    return { status: 200, body: { data: { expires_at: 1_900_000_000 } } };
  }

  private finalize(session: FakeMediaSession): Answer {
    const size = session.segments.reduce((sum, s) => sum + s.length, 0);
    if (size !== session.totalBytes) return problem(400, 'File size does not match total_bytes');
    session.finalized = true;
    const video = session.mediaType.startsWith('video/');
    return {
      status: 200,
      body: {
        data: {
          id: session.id,
          media_key: `3_${session.id}`,
          size,
          expires_after_secs: 86400,
          ...(video ? { processing_info: { state: 'pending', check_after_secs: 1 } } : {}),
        },
      },
    };
  }

  private status(request: RecordedRequest): Answer {
    const session = this.sessions.get(request.query['media_id'] ?? '');
    if (request.query['command'] !== 'STATUS' || !session?.finalized) return problem(400, 'Invalid media id');
    session.statusChecks += 1;
    const done = session.statusChecks >= (this.options.videoStatusChecks ?? 1);
    const info = done ? { state: 'succeeded', progress_percent: 100 } : { state: 'in_progress', check_after_secs: 1, progress_percent: 50 };
    return { status: 200, body: { data: { id: session.id, media_key: `3_${session.id}`, processing_info: info } } };
  }

  private metadata(request: RecordedRequest): Answer {
    const body = request.body as { id?: string; metadata?: { alt_text?: { text?: string } } } | undefined;
    const session = this.sessions.get(body?.id ?? '');
    const text = body?.metadata?.alt_text?.text;
    if (!session || typeof text !== 'string' || text.length > 1000) return problem(400, 'Invalid metadata');
    session.altText = text;
    return { status: 200, body: { data: { associated_metadata: true } } };
  }
}
