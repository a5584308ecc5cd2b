import { RequestHandler } from 'express';
import { ruruHTML } from 'ruru/server';
import { serveStatic } from 'ruru/static';
import { isLocalDevelopmentRequest } from './auth/local-development';

/** The query the IDE opens with: it runs as is on the demo data. */
export const EXAMPLE_QUERY = `# Where are devices being locked, and by which policy version?
query LockedDevices {
  devices(first: 5, filter: { statuses: [LOCKED] }) {
    totalCount
    edges {
      node {
        imei
        status
        lockedAt
        model { marketingName }
        partner { name }
        attempts(first: 1, filter: { outcomes: [LOCK] }) {
          nodes {
            occurredAt
            resolvedRegion { code name }
            policyVersion { number title policy { key } }
            reasonCodes
          }
        }
      }
    }
  }
  region(code: "UA-43") {
    name
    parent { name }
    policies(first: 5) { nodes { key title mode } }
  }
}
`;

export const IDE_STATIC_PATH = '/ruru-static/';

/** The IDE's assets come from the ruru package in node_modules: the page loads nothing from elsewhere. */
export const serveIdeAssets: RequestHandler = serveStatic(IDE_STATIC_PATH) as unknown as RequestHandler;

function idePage(endpoint: string, apiKey?: string): string {
  return ruruHTML({
    endpoint,
    staticPath: IDE_STATIC_PATH,
    // ruru-types marks every client option required; the rest keep their defaults.
    clientConfig: {
      initialQuery: EXAMPLE_QUERY,
      defaultQuery: EXAMPLE_QUERY,
      ...(apiKey ? { initialHeaders: JSON.stringify({ Authorization: `Bearer ${apiKey}` }, null, 2) } : {}),
    } as never,
    htmlParts: { titleTag: '<title>compliance-graph — GraphQL IDE</title>' },
  });
}

/**
 * GET /graphql from a browser (Accept: text/html) gets the IDE; everything else goes to Apollo.
 * With `localApiKey`, the page served to this machine (`isLocalDevelopmentRequest`) has it in its
 * headers, so the first query runs as is; other clients get the page without it.
 */
export function ideForBrowsers(endpoint: string, localApiKey?: string): RequestHandler {
  const page = idePage(endpoint);
  const localPage = localApiKey ? idePage(endpoint, localApiKey) : page;
  return (request, response, next) => {
    if (
      request.method === 'GET' &&
      request.accepts(['application/json', 'text/html']) === 'text/html' &&
      !request.query.query
    ) {
      // The local page holds a secret: no shared cache may keep it.
      response.setHeader('Cache-Control', 'no-store');
      response.type('html').send(isLocalDevelopmentRequest(request) ? localPage : page);
      return;
    }
    next();
  };
}
