/**
 * GraphQL Code Generator for the example partner client: types for every operation in
 * operations.ts, from the released schema, and the manifest of persisted documents an ADMIN
 * registers (`gql/persisted-documents.json`). Run `npm run examples:codegen` after changing them.
 */
import type { CodegenConfig } from '@graphql-codegen/cli';

const config: CodegenConfig = {
  schema: 'schema/schema.graphql',
  documents: ['examples/partner-client/operations.ts'],
  ignoreNoDocuments: false,
  generates: {
    'examples/partner-client/gql/': {
      preset: 'client',
      config: {
        // Documents as typed strings: the client needs no GraphQL library at run time.
        documentMode: 'string',
        useTypeImports: true,
        enumsAsTypes: true,
        scalars: { DateTime: 'string', JSON: 'unknown' },
      },
      presetConfig: {
        fragmentMasking: false,
        // The hash the server expects: SHA-256 of the document text.
        persistedDocuments: { mode: 'embedHashInDocument', hashAlgorithm: 'sha256' },
      },
    },
  },
};

export default config;
