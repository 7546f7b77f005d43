// dashboardHandlers(): the dashboard page, its script, stylesheet and icon, served by the router itself (no external asset).
/// <reference path="./raw-assets.d.ts" />
import { createHash } from 'node:crypto';
import type { RequestHandler } from 'express';
import style from './assets/dashboard.css?raw';
import script from './assets/dashboard.js?raw';
import icon from './assets/icon.svg?raw';

export { DASHBOARD_PATHS } from './dashboard-paths.js';

/**
 * Same-origin everything, nothing inline, no framing (the buttons act on jobs), no <base> or form tricks, and Trusted
 * Types: an HTML sink (innerHTML and friends) throws instead of parsing attacker-controlled text.
 */
export const DASHBOARD_CSP = [
  "default-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
  "object-src 'none'",
  "require-trusted-types-for 'script'",
  "trusted-types 'none'",
].join('; ');

/** The page; `assets` is the relative path to the asset folder (it depends on a trailing slash in the page URL). */
function page(assets: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Bulk email jobs</title>
<link rel="icon" href="${assets}icon.svg" type="image/svg+xml">
<link rel="stylesheet" href="${assets}dashboard.css">
<script type="module" src="${assets}dashboard.js"></script>
</head>
<body>
<header><h1>Bulk email jobs</h1></header>
<main id="app"><noscript>This page needs JavaScript.</noscript></main>
<div id="live" class="visually-hidden" role="status" aria-live="polite"></div>
</body>
</html>
`;
}

interface Asset {
  body: string;
  type: string;
  etag: string;
}

function asset(body: string, type: string): Asset {
  return { body, type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` };
}

function serve(get: (path: string) => Asset): RequestHandler {
  return (req, res) => {
    const { body, type, etag } = get(req.path);
    res.setHeader('Content-Type', type);
    res.setHeader('Content-Security-Policy', DASHBOARD_CSP);
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('X-Frame-Options', 'DENY');
    res.setHeader('Referrer-Policy', 'no-referrer');
    // Behind the app's authentication: private, and revalidated each time (the ETag makes that cheap).
    res.setHeader('Cache-Control', 'private, no-cache');
    res.setHeader('ETag', etag);
    if (req.headers['if-none-match'] === etag) {
      res.statusCode = 304;
      res.end();
      return;
    }
    res.setHeader('Content-Length', Buffer.byteLength(body));
    res.end(req.method === 'HEAD' ? undefined : body);
  };
}

export interface DashboardHandlers {
  page: RequestHandler;
  script: RequestHandler;
  style: RequestHandler;
  icon: RequestHandler;
}

/** Handlers for DASHBOARD_PATHS. Each must run behind the router's `authenticate`, as every route does. */
export function dashboardHandlers(): DashboardHandlers {
  const html = {
    slash: asset(page(''), 'text/html; charset=utf-8'),
    bare: asset(page('dashboard/'), 'text/html; charset=utf-8'),
  };
  const js = asset(script, 'text/javascript; charset=utf-8');
  const css = asset(style, 'text/css; charset=utf-8');
  const svg = asset(icon, 'image/svg+xml');
  return {
    // `/dashboard` loads `dashboard/dashboard.js`; `/dashboard/` loads `dashboard.js`: relative, so no mount path
    // (which may hold request text when mounted on a pattern) is ever written into the page.
    page: serve((path) => (path.endsWith('/') ? html.slash : html.bare)),
    script: serve(() => js),
    style: serve(() => css),
    icon: serve(() => svg),
  };
}
