// Serves GraphiQL (HTML page + its static assets) from the gateway itself, so the IDE works offline and behind proxies.
// Invariants: every asset comes from node_modules into memory at startup, only whitelisted names are served, nothing loads from a CDN.
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { dirname, join } from 'node:path';
import { gzip } from 'node:zlib';

/** Path segment, under the endpoint path, where the static assets live. */
const ASSET_DIR = 'graphiql-assets';

/** Only versioned URLs (?v=<hash>) may be cached forever; a bare name can change when node_modules is upgraded. */
const IMMUTABLE_CACHE = 'public, max-age=31536000, immutable';
const SHORT_CACHE = 'public, max-age=300';

const DEFAULT_QUERY = `# Welcome to GraphiQL, served by lakegate.
#
# Ctrl-Enter (Cmd-Enter) runs the operation at the cursor.
# Subscriptions stream over graphql-ws (graphql-transport-ws) on this same URL.

query {
  __typename
}
`;

interface AssetSource {
  /** Public name under <endpoint>/graphiql-assets/. Fixed strings: the whitelist. */
  name: string;
  /** Package whose package.json anchors the lookup, so node_modules layout (hoisting, workspaces) doesn't matter. */
  pkg: string;
  /** File path relative to that package's root. */
  file: string;
  contentType: string;
}

// Load order in the page matters: graphiql's UMD reads window.React / window.ReactDOM when it is evaluated.
const ASSET_SOURCES: readonly AssetSource[] = [
  { name: 'react.production.min.js', pkg: 'react', file: 'umd/react.production.min.js', contentType: 'text/javascript; charset=utf-8' },
  { name: 'react-dom.production.min.js', pkg: 'react-dom', file: 'umd/react-dom.production.min.js', contentType: 'text/javascript; charset=utf-8' },
  // graphiql 3.x ships the UMD bundle as graphiql.min.js (a copy of dist/index.umd.js); it defines window.GraphiQL with a static createFetcher.
  { name: 'graphiql.min.js', pkg: 'graphiql', file: 'graphiql.min.js', contentType: 'text/javascript; charset=utf-8' },
  { name: 'graphiql.min.css', pkg: 'graphiql', file: 'graphiql.min.css', contentType: 'text/css; charset=utf-8' },
  // Defines window.graphqlWs; GraphiQL's UMD cannot `import('graphql-ws')` by itself, so we hand it a ready client.
  { name: 'graphql-ws.min.js', pkg: 'graphql-ws', file: 'umd/graphql-ws.min.js', contentType: 'text/javascript; charset=utf-8' },
];

interface Asset {
  name: string;
  contentType: string;
  body: Buffer;
  /** Short content hash used both as cache-busting ?v= and inside the ETag. */
  version: string;
  etag: string;
  /** Filled asynchronously after startup; identity encoding is served until it is ready. */
  gzipped?: { body: Buffer; etag: string };
}

let assetCache: Map<string, Asset> | undefined;

/** Reads all assets once per process; throws with the missing package/file so misinstalls fail at boot, not in the browser. */
function loadAssets(): Map<string, Asset> {
  if (assetCache) return assetCache;
  const assets = new Map<string, Asset>();
  for (const src of ASSET_SOURCES) {
    let path: string;
    let body: Buffer;
    try {
      path = join(dirname(require.resolve(`${src.pkg}/package.json`)), src.file);
      body = readFileSync(path);
    } catch (err) {
      throw new Error(`graphiql: cannot load asset ${src.pkg}/${src.file} (is the package installed?): ${(err as Error).message}`);
    }
    const digest = createHash('sha256').update(body).digest('base64url');
    const asset: Asset = {
      name: src.name,
      contentType: src.contentType,
      body,
      version: digest.slice(0, 16),
      etag: `"${digest}"`,
    };
    // Compress off the main thread; ~1 MB of graphiql JS shrinks ~4x and the page is unusable until it arrives.
    gzip(body, { level: 9 }, (gzErr, gz) => {
      // A failed compression just means we keep serving identity; not worth failing startup for.
      if (!gzErr) asset.gzipped = { body: gz, etag: `"${digest}-gz"` };
    });
    assets.set(src.name, asset);
  }
  assetCache = assets;
  return assets;
}

/** Splits an Accept-style header into lower-cased ranges with their q-values (malformed q counts as 0). */
function parseQualityList(header: string): Array<{ range: string; q: number }> {
  return header.split(',').map((part) => {
    const [range, ...params] = part.split(';');
    let q = 1;
    for (const p of params) {
      const eq = p.indexOf('=');
      if (eq !== -1 && p.slice(0, eq).trim().toLowerCase() === 'q') {
        const n = Number(p.slice(eq + 1).trim());
        q = Number.isFinite(n) ? Math.min(Math.max(n, 0), 1) : 0;
      }
    }
    return { range: range.trim().toLowerCase(), q };
  });
}

/** q-value of the most specific Accept range matching a media type (RFC 9110 §12.5.1); 0 when nothing matches. */
function acceptQuality(accept: string, type: string): number {
  const major = type.slice(0, type.indexOf('/'));
  let best = 0;
  let quality = 0;
  for (const { range, q } of parseQualityList(accept)) {
    const specificity = range === type ? 3 : range === `${major}/*` ? 2 : range === '*/*' ? 1 : 0;
    if (specificity > best) {
      best = specificity;
      quality = q;
    }
  }
  return quality;
}

function acceptsGzip(acceptEncoding: string | undefined): boolean {
  if (!acceptEncoding) return false;
  const list = parseQualityList(acceptEncoding);
  // An explicit `gzip;q=0` refuses gzip even when `*` would allow it.
  const entry = list.find((e) => e.range === 'gzip') ?? list.find((e) => e.range === '*');
  return entry !== undefined && entry.q > 0;
}

/** True when the request is a browser navigation asking for HTML (Accept prefers text/html over application/json). */
export function wantsGraphiql(req: IncomingMessage): boolean {
  if (req.method !== 'GET' && req.method !== 'HEAD') return false;
  const accept = req.headers.accept;
  // No Accept or `*/*` (curl, most GraphQL clients) must keep getting JSON: the IDE is opt-in by the browser's preference.
  if (!accept) return false;
  const html = acceptQuality(accept, 'text/html');
  const json = Math.max(acceptQuality(accept, 'application/json'), acceptQuality(accept, 'application/graphql-response+json'));
  return html > 0 && html > json;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** JSON that is safe inside an inline <script>: no `</script>`, `<!--`, or JS-invalid line separators. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

/** Host header is attacker-influenced text going into a CSP header: accept only host[:port] syntax so it can't add directives. */
function safeHost(host: string | undefined): string | undefined {
  if (!host) return undefined;
  return /^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/.test(host) ? host : undefined;
}

function normalizeBasePath(p: string): string {
  if (!p.startsWith('/')) throw new Error(`graphiql: endpointPath must start with '/', got ${JSON.stringify(p)}`);
  return p.length > 1 ? p.replace(/\/+$/, '') : p;
}

function etagMatches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false;
  if (ifNoneMatch.trim() === '*') return true;
  // If-None-Match uses weak comparison (RFC 9110 §13.1.2), so a W/ prefix added by a proxy still matches.
  const strip = (t: string) => t.trim().replace(/^W\//, '');
  return ifNoneMatch.split(',').some((t) => strip(t) === etag);
}

export interface GraphiqlHandlerOptions {
  /** Path the GraphQL endpoint is mounted at, e.g. '/graphql'. The page is served there; assets under <path>/graphiql-assets/. */
  endpointPath: string;
  title?: string;
  /** Shown in a fresh tab (GraphiQL persists tabs in localStorage afterwards). */
  defaultQuery?: string;
}

/**
 * Handles GET <basePath> (the HTML page, only when wantsGraphiql(req)) and GET <basePath>/graphiql-assets/<file> (static assets).
 * Returns false if the request is not for it, so callers can fall through to the GraphQL handler.
 */
export function createGraphiqlHandler(opts: GraphiqlHandlerOptions): (req: IncomingMessage, res: ServerResponse) => boolean {
  const basePath = normalizeBasePath(opts.endpointPath);
  const assets = loadAssets();
  const assetPrefix = `${basePath === '/' ? '' : basePath}/${ASSET_DIR}/`;
  const title = opts.title ?? 'lakegate GraphiQL';
  const defaultQuery = opts.defaultQuery ?? DEFAULT_QUERY;

  // Every URL in the page is relative to the page's own URL, so a proxy that mounts us under /some/prefix keeps working.
  // The page lives at <basePath>, so its last segment is both the endpoint and the parent of the assets directory.
  const lastSegment = basePath === '/' ? '' : basePath.slice(basePath.lastIndexOf('/') + 1);
  const endpointRel = lastSegment ? `./${lastSegment}` : './';
  const assetRel = (name: string): string => {
    const a = assets.get(name);
    if (!a) throw new Error(`graphiql: unknown asset ${name}`);
    return `${endpointRel.replace(/\/$/, '')}/${ASSET_DIR}/${encodeURIComponent(name)}?v=${a.version}`;
  };

  // The bootstrap is static text; only the CSP nonce varies per response. It reads its own nonce via
  // document.currentScript.nonce so it can hand it to the one library that injects a <style> element.
  const bootstrap = `(function () {
  'use strict';
  var cfg = ${scriptJson({ endpoint: endpointRel, defaultQuery })};
  // react-remove-scroll (used by GraphiQL's dialogs) injects a <style>; it tags it with this global, which keeps CSP strict.
  window.__webpack_nonce__ = document.currentScript && document.currentScript.nonce;
  var http = new URL(cfg.endpoint, window.location.href);
  http.search = '';
  http.hash = '';
  var ws = new URL(http.href);
  ws.protocol = http.protocol === 'https:' ? 'wss:' : 'ws:';
  var params = new URLSearchParams(window.location.search);
  var variables = params.get('variables');
  var fetcher = GraphiQL.createFetcher({
    url: http.href,
    // graphql-ws needs an absolute ws(s) URL; lazy by default, so no socket is opened until a subscription runs.
    wsClient: graphqlWs.createClient({ url: ws.href })
  });
  var props = {
    fetcher: fetcher,
    defaultQuery: cfg.defaultQuery,
    defaultEditorToolsVisibility: true,
    shouldPersistHeaders: false
  };
  // Share-able links: /graphql?query=...&variables=... open with that operation.
  if (params.get('query')) props.query = params.get('query');
  if (variables) props.variables = variables;
  if (params.get('operationName')) props.operationName = params.get('operationName');
  ReactDOM.createRoot(document.getElementById('graphiql')).render(React.createElement(GraphiQL, props));
})();`;

  const pageStyle = 'html,body,#graphiql{height:100%;margin:0;overflow:hidden}';

  const renderPage = (nonce: string): string => `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${escapeHtml(title)}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${escapeHtml(assetRel('graphiql.min.css'))}">
<style nonce="${nonce}">${pageStyle}</style>
</head>
<body>
<div id="graphiql">Loading GraphiQL…</div>
<script src="${escapeHtml(assetRel('react.production.min.js'))}"></script>
<script src="${escapeHtml(assetRel('react-dom.production.min.js'))}"></script>
<script src="${escapeHtml(assetRel('graphql-ws.min.js'))}"></script>
<script src="${escapeHtml(assetRel('graphiql.min.js'))}"></script>
<script nonce="${nonce}">${bootstrap}</script>
</body>
</html>
`;

  const servePage = (req: IncomingMessage, res: ServerResponse): void => {
    const nonce = randomBytes(18).toString('base64');
    // 'self' does not match ws:/wss: in older Safari/Firefox, so name the socket origin explicitly from the Host we were reached by.
    const host = safeHost(req.headers.host);
    const wsSources = host ? ` ws://${host} wss://${host}` : '';
    const csp = [
      "default-src 'none'",
      `script-src 'self' 'nonce-${nonce}'`,
      `style-src 'self' 'nonce-${nonce}'`,
      `connect-src 'self'${wsSources}`,
      // The CSS embeds its fonts and icons as data: URLs.
      "img-src 'self' data:",
      "font-src 'self' data:",
      "base-uri 'none'",
      "form-action 'none'",
      "frame-ancestors 'self'",
    ].join('; ');
    const body = Buffer.from(renderPage(nonce), 'utf8');
    res.statusCode = 200;
    res.setHeader('Content-Type', 'text/html; charset=utf-8');
    res.setHeader('Content-Length', body.length);
    res.setHeader('Content-Security-Policy', csp);
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'no-referrer');
    // Fresh nonce per response, and the same URL answers JSON to non-browsers: never cache, and tell caches the Accept split.
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('Vary', 'Accept');
    res.end(req.method === 'HEAD' ? undefined : body);
  };

  const serveAsset = (req: IncomingMessage, res: ServerResponse, name: string, query: string): void => {
    res.setHeader('X-Content-Type-Options', 'nosniff');
    // Map lookup on the raw, undecoded name: anything not literally in the whitelist (../, %2e%2e, …) is a 404.
    const asset = assets.get(name);
    if (!asset) {
      res.statusCode = 404;
      res.setHeader('Content-Type', 'text/plain; charset=utf-8');
      res.setHeader('Cache-Control', 'no-store');
      res.end(req.method === 'HEAD' ? undefined : 'Not found\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.statusCode = 405;
      res.setHeader('Allow', 'GET, HEAD');
      res.setHeader('Content-Type', 'text/plain; charset=utf-8');
      res.end('Method not allowed\n');
      return;
    }
    const gz = acceptsGzip(req.headers['accept-encoding']) ? asset.gzipped : undefined;
    const rep = gz ?? { body: asset.body, etag: asset.etag };
    const versioned = new URLSearchParams(query).get('v') === asset.version;
    res.setHeader('Content-Type', asset.contentType);
    res.setHeader('ETag', rep.etag);
    res.setHeader('Cache-Control', versioned ? IMMUTABLE_CACHE : SHORT_CACHE);
    res.setHeader('Vary', 'Accept-Encoding');
    if (gz) res.setHeader('Content-Encoding', 'gzip');
    if (etagMatches(req.headers['if-none-match'], rep.etag)) {
      res.statusCode = 304;
      res.end();
      return;
    }
    res.statusCode = 200;
    res.setHeader('Content-Length', rep.body.length);
    res.end(req.method === 'HEAD' ? undefined : rep.body);
  };

  return (req, res) => {
    const url = req.url ?? '';
    const q = url.indexOf('?');
    const pathname = q === -1 ? url : url.slice(0, q);
    const query = q === -1 ? '' : url.slice(q + 1);
    if (pathname.startsWith(assetPrefix)) {
      serveAsset(req, res, pathname.slice(assetPrefix.length), query);
      return true;
    }
    if (pathname === basePath && wantsGraphiql(req)) {
      servePage(req, res);
      return true;
    }
    return false;
  };
}
