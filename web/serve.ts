import fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import type { Context, Middleware, Next } from 'koa';
import type { AppDeps } from '../api/app';

/**
 * The web pages: plain ES modules and CSS under web/static, no build step. Files are served
 * under /static/; every page URL (/inbox, /tasks/12, /seal/<id>, /verify/<number>, …) gets
 * the one shell page, whose router draws the page in the browser. Only GET and HEAD are
 * answered here; everything else falls through to the API.
 */
const STATIC_DIR = path.join(__dirname, 'static');

/** First path segments that are pages. /seal/:id and /verify/:number are handed out to others. */
const PAGE_ROOTS = new Set([
  '',
  'login',
  'inbox',
  'tasks',
  'requests',
  'counter',
  'applications',
  'seal',
  'admin',
  'certificates',
  'verify',
  'audit',
  'sharing',
]);

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

/**
 * Scripts and styles only from this origin; PDFs are shown from blob: URLs; no inline script.
 * The API's JSON answers are not pages and get no policy here.
 */
const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "frame-src 'self' blob:",
  "object-src 'self' blob:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'self'",
].join('; ');

interface StaticFile {
  body: Buffer;
  type: string;
  etag: string;
}

export function webRoutes(deps: Pick<AppDeps, 'config'>): Middleware {
  // Production reads each file once; elsewhere every request reads the disk, so an edited page shows on reload.
  const cacheFiles = deps.config.env === 'production';
  const cache = new Map<string, StaticFile | null>();

  function load(rel: string): StaticFile | null {
    if (cacheFiles && cache.has(rel)) return cache.get(rel)!;
    const full = path.resolve(STATIC_DIR, rel);
    const type = TYPES[path.extname(full)];
    let file: StaticFile | null = null;
    if (type && full.startsWith(STATIC_DIR + path.sep)) {
      try {
        const body = fs.readFileSync(full);
        file = { body, type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"` };
      } catch {
        file = null;
      }
    }
    if (cacheFiles) cache.set(rel, file);
    return file;
  }

  function send(ctx: Context, file: StaticFile, isPage: boolean) {
    ctx.set('ETag', file.etag);
    // No fingerprinted names (no build step): the browser revalidates, and gets 304 while unchanged.
    ctx.set('Cache-Control', 'no-cache');
    ctx.set('X-Content-Type-Options', 'nosniff');
    if (isPage) {
      ctx.set('Content-Security-Policy', CSP);
      ctx.set('Referrer-Policy', 'same-origin');
      ctx.set('X-Frame-Options', 'SAMEORIGIN');
    }
    if (ctx.get('if-none-match') === file.etag) {
      ctx.status = 304;
      return;
    }
    ctx.type = file.type;
    ctx.body = file.body;
  }

  return async (ctx: Context, next: Next) => {
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') return next();
    const p = ctx.path;
    if (p.startsWith('/static/')) {
      let rel: string;
      try {
        rel = decodeURIComponent(p.slice('/static/'.length));
      } catch {
        return next();
      }
      const file = rel.includes('\0') ? null : load(rel);
      if (!file) return next();
      return send(ctx, file, false);
    }
    const root = p.split('/')[1] ?? '';
    // The holder portal has its own shell (docs/holders.md): holders are not staff.
    const holderPage = root === 'holder' && p !== '/holder/login' && p !== '/holder/callback';
    if (!PAGE_ROOTS.has(root) && !holderPage) return next();
    const shell = load(holderPage ? 'holder.html' : 'index.html');
    if (!shell) return next();
    send(ctx, shell, true);
  };
}
