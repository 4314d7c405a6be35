// Stack traces that name the TypeScript sources, without `--enable-source-maps`. That flag makes Node parse each
// bundle's source map while the bundle loads (~10 ms of every cold start, README "Performance"); and
// `process.setSourceMapsEnabled(true)` called later maps only modules loaded after it, not the bundle already running.
// So the bundle maps its own frames: V8 formats an error's `stack` lazily, the first time it is read, through
// Error.prepareStackTrace; the first such call reads `<bundle>.map` (which cdk ships beside index.mjs) and every frame
// in the bundle is written as Node writes a source-mapped frame (`at name (/…/shared/x.ts:12:5)`). A cold start that
// logs no error never reads the map.
import { readFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { fileURLToPath } from 'node:url';

/**
 * Installs the mapping for the bundle at `bundleUrl` (the running module's `import.meta.url`) when it is a bundle with
 * a map beside it and Node is not mapping stacks itself; otherwise (sources run through tsx, the flag set) it does
 * nothing. Returns whether it installed.
 */
export function mapBundleStacks(bundleUrl: string): boolean {
  if (!/\.m?js$/.test(bundleUrl) || !bundleUrl.startsWith('file:')) return false;
  if (process.sourceMapsEnabled) return false;
  const bundlePath = fileURLToPath(bundleUrl);
  let map: SourceMap | null | undefined;
  // undefined: not read yet; null: unreadable, frames stay as V8 writes them.
  const load = (): SourceMap | null => {
    if (map !== undefined) return map;
    map = null;
    try {
      const payload = JSON.parse(readFileSync(`${bundlePath}.map`, 'utf8')) as { sources: string[] };
      const mapUrl = new URL(`${bundleUrl}.map`);
      // Sources are relative to the map (esbuild writes them so); Node resolves them the same way.
      payload.sources = payload.sources.map((source) => fileURLToPath(new URL(source, mapUrl)));
      map = new SourceMap(payload as ConstructorParameters<typeof SourceMap>[0]);
    } catch {
      map = null;
    }
    return map;
  };
  // Node's own formatter (Node 22+ installs one), kept for stacks with no frame in the bundle.
  const previous = Error.prepareStackTrace;
  Error.prepareStackTrace = (error: Error, trace: NodeJS.CallSite[]): unknown => {
    if (previous && !trace.some((site) => site.getFileName() === bundleUrl)) return previous(error, trace);
    const frames = trace.map((site) => {
      try {
        return mappedFrame(site, bundleUrl, load) ?? String(site);
      } catch {
        return String(site);
      }
    });
    return [Error.prototype.toString.call(error), ...frames.map((frame) => `    at ${frame}`)].join('\n');
  };
  return true;
}

/** `site` as Node writes a source-mapped frame, or undefined when it is not in the bundle or has no mapping. */
function mappedFrame(site: NodeJS.CallSite, bundleUrl: string, load: () => SourceMap | null): string | undefined {
  const file = site.getFileName() ?? site.getScriptNameOrSourceURL();
  const line = site.getLineNumber();
  const column = site.getColumnNumber();
  if (file !== bundleUrl || line === null || column === null) return undefined;
  const map = load();
  if (!map) return undefined;
  const entry = map.findEntry(line - 1, column - 1) as { originalSource?: string; originalLine?: number; originalColumn?: number };
  if (entry.originalSource === undefined || entry.originalLine === undefined || entry.originalColumn === undefined) return undefined;
  const location = `${entry.originalSource}:${entry.originalLine + 1}:${entry.originalColumn + 1}`;
  // The function's name as V8 has it (minified), as Node writes it with --enable-source-maps.
  const name = site.getFunctionName();
  const prefix = `${site.isAsync() ? 'async ' : ''}${site.isConstructor() ? 'new ' : ''}`;
  return name ? `${prefix}${name} (${location})` : `${prefix}${location}`;
}
