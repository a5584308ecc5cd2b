/**
 * What an ADMIN runs after a client build: registers the build's persisted-documents manifest, all
 * or nothing. `npx ts-node examples/partner-client/upload-manifest.ts <url> <admin key> <client name>`.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

// #region upload-manifest
export async function uploadManifest(url: string, adminKey: string, clientName: string, manifestFile: string) {
  const manifest: Record<string, string> = JSON.parse(readFileSync(manifestFile, 'utf8'));
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${adminKey}` },
    body: JSON.stringify({
      query: `mutation ($input: RegisterPersistedOperationsInput!) {
        registerPersistedOperations(input: $input) { registeredCount alreadyRegisteredCount userErrors { field code message } }
      }`,
      variables: {
        input: { clientName, operations: Object.entries(manifest).map(([id, body]) => ({ id, body })) },
      },
    }),
  });
  const { data, errors } = (await response.json()) as { data?: any; errors?: unknown[] };
  if (errors) throw new Error(JSON.stringify(errors));
  const payload = data.registerPersistedOperations;
  if (payload.userErrors.length) throw new Error(JSON.stringify(payload.userErrors));
  return payload as { registeredCount: number; alreadyRegisteredCount: number };
}
// #endregion upload-manifest

if (require.main === module) {
  const [url, adminKey, clientName = 'partner-client'] = process.argv.slice(2);
  void uploadManifest(url, adminKey, clientName, join(__dirname, 'gql', 'persisted-documents.json')).then((result) =>
    console.log(result),
  );
}
