import type { FastifyInstance } from 'fastify';
import { APP_CSS, APP_JS, FAVICON_ICO } from '../assets.js';

/** /static/app.css, /static/app.js (the pages' only style and script: the CSP allows no inline ones) and /favicon.ico. Public, like sign-in. */
export default async function staticAssets(app: FastifyInstance) {
  app.get('/static/app.css', async (_req, reply) =>
    reply.type('text/css; charset=utf-8').header('cache-control', 'public, max-age=300').send(APP_CSS),
  );
  app.get('/static/app.js', async (_req, reply) =>
    reply.type('text/javascript; charset=utf-8').header('cache-control', 'public, max-age=300').send(APP_JS),
  );
  app.get('/favicon.ico', async (_req, reply) =>
    reply.type('image/x-icon').header('cache-control', 'public, max-age=86400').send(FAVICON_ICO),
  );
}
