// The web UI's static files (built by Vite into dist/web): index.html at / and for every /ui/… page, hashed assets cached for a year.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply } from 'fastify';
import fastifyStatic from '@fastify/static';
import { geulError } from '../core/errors.js';

/** dist/web, from src/server (tsx) or dist/server (built): both sit two folders below the package root. */
export const WEB_DIR = fileURLToPath(new URL('../../dist/web/', import.meta.url));

// As strict as the UI allows: its own scripts, styles and API only; no inline code, no frames, no plugins. Inline style
// attributes are not needed (Preact sets styles through the CSSOM, which style-src does not govern). Images: the
// favicon is a data: URL; the CSV download's blob: URL is a navigation, which img-src does not govern.
const UI_CSP = [
  "default-src 'none'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:", "connect-src 'self'",
  "font-src 'self'", "manifest-src 'self'", "form-action 'self'", "base-uri 'none'", "frame-ancestors 'none'",
].join('; ');

export async function registerUiRoutes(app: FastifyInstance, dir: string = WEB_DIR): Promise<void> {
  // The page is under a kilobyte and changes only with a new build: read once, sent from memory.
  let index: string | undefined;
  try {
    index = readFileSync(`${dir}/index.html`, 'utf8');
  } catch {
    index = undefined;
  }
  if (index !== undefined) {
    // Asset names carry a content hash: a new build has new names, so a year of caching never serves stale code.
    await app.register(fastifyStatic, {
      root: `${dir}/assets`, prefix: '/ui/assets/', index: false, wildcard: true, decorateReply: false,
      setHeaders: (reply) => { reply.header('cache-control', 'public, max-age=31536000, immutable'); },
    });
  }
  const page = async (_request: unknown, reply: FastifyReply) => {
    if (index === undefined) throw geulError('UI_NOT_BUILT', { detail: `${dir}index.html is missing` });
    // The page itself is revalidated every time, so a restarted server's new build is picked up at once.
    return reply.header('cache-control', 'no-cache').header('content-security-policy', UI_CSP).type('text/html; charset=utf-8').send(index);
  };
  const hide = { schema: { hide: true } };
  app.get('/', hide, page);
  app.get('/ui', hide, async (_request, reply) => reply.redirect('/ui/', 301));
  app.get('/ui/', hide, page);
  app.get('/ui/*', hide, page);
}
