import express, { RequestHandler, Router } from 'express';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isLocalDevelopmentRequest } from './auth/local-development';
import { projectRoot } from './config';

export const CONSOLE_PATH = '/console';
export const CONSOLE_DIST = join(projectRoot(), 'console', 'dist');

function escapeAttribute(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
}

/**
 * The operations console (console/, a Vite build) under /console: its hashed assets cached for good,
 * every other path its index page (the app routes in the browser). The page served to a browser on
 * this machine outside production carries the local admin key for the sign-in form, as the IDE does;
 * the bundle itself holds no secret.
 */
export function serveConsole(settings: { production: boolean; adminKey?: string }): Router {
  const router = Router();
  const indexFile = join(CONSOLE_DIST, 'index.html');
  const page: RequestHandler = (request, response) => {
    // Read on each request (a small file, rarely asked): a rebuild shows without a restart.
    const index = existsSync(indexFile) ? readFileSync(indexFile, 'utf8') : null;
    response.setHeader('Cache-Control', 'no-store');
    if (!index) {
      response
        .status(503)
        .type('text')
        .send('The console is not built: run `npm run console:build` (npm ci and npm start build it).');
      return;
    }
    const key =
      !settings.production && settings.adminKey && isLocalDevelopmentRequest(request) ? settings.adminKey : null;
    response
      .type('html')
      .send(
        key
          ? index.replace(
              '</head>',
              `<meta name="compliance-development-key" content="${escapeAttribute(key)}" />\n  </head>`,
            )
          : index,
      );
  };
  router.use(
    `${CONSOLE_PATH}/assets`,
    express.static(join(CONSOLE_DIST, 'assets'), { immutable: true, maxAge: '365d', fallthrough: false }),
  );
  // The maps' shapes (console/shapes.mts): the evidence map's and the overview's world map.
  for (const asset of ['map-shapes.json', 'world-shapes.json'])
    router.get(`${CONSOLE_PATH}/${asset}`, (_request, response) =>
      response.sendFile(join(CONSOLE_DIST, asset), { maxAge: '1h' }),
    );
  router.get([CONSOLE_PATH, `${CONSOLE_PATH}/*path`], page);
  return router;
}
