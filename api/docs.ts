import fs from 'node:fs';
import type Router from '@koa/router';
import type { Context } from 'koa';

/**
 * /docs: the API reference for people, rendered from /openapi.json by Scalar's standalone
 * bundle (@scalar/api-reference), served from node_modules — no CDN, no inline script, and
 * no fonts fetched from elsewhere (docs/api.md).
 */

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>certflow API reference</title>
</head>
<body>
<noscript>The machine-readable contract is at <a href="/openapi.json">/openapi.json</a>.</noscript>
<div id="app"></div>
<script src="/docs/scalar.js"></script>
<script src="/docs/init.js"></script>
</body>
</html>
`;

const INIT = `Scalar.createApiReference('#app', {
  url: '/openapi.json',
  withDefaultFonts: false,
  hideClientButton: true,
  telemetry: false,
});
`;

// Scalar styles itself with inline styles; its scripts still come from this origin only.
const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "frame-ancestors 'self'",
].join('; ');

let bundle: Buffer | null | undefined;
function scalarBundle(): Buffer | null {
  if (bundle === undefined) {
    try {
      bundle = fs.readFileSync(require.resolve('@scalar/api-reference/browser/standalone.js'));
    } catch {
      bundle = null;
    }
  }
  return bundle;
}

export function docsRoutes(router: Router) {
  router.get('/docs', (ctx: Context) => {
    ctx.set('Content-Security-Policy', CSP);
    ctx.type = 'text/html; charset=utf-8';
    ctx.body = PAGE;
  });
  router.get('/docs/init.js', (ctx: Context) => {
    ctx.type = 'text/javascript; charset=utf-8';
    ctx.body = INIT;
  });
  router.get('/docs/scalar.js', (ctx: Context) => {
    const js = scalarBundle();
    if (!js) {
      ctx.status = 503;
      ctx.type = 'text/plain; charset=utf-8';
      ctx.body = '@scalar/api-reference is not installed (npm ci); /openapi.json has the same content';
      return;
    }
    ctx.set('Cache-Control', 'public, max-age=3600');
    ctx.type = 'text/javascript; charset=utf-8';
    ctx.body = js;
  });
}
