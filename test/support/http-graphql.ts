/**
 * A GraphQL request over HTTP with a bearer key, for tests that talk to a listening server (the
 * console's, the live events', the examples'): answers the data and fails the test on any error.
 * Server-process tests that read the status and the errors themselves use `graphql` of
 * server-process.ts instead.
 */
export async function graphqlOverHttp(
  url: string,
  key: string,
  query: string,
  variables: Record<string, unknown> = {},
): Promise<any> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as any;
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data;
}
