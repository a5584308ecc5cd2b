/* eslint-disable */
import * as types from './graphql';



/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "\n  mutation RegisterDevices($input: RegisterDevicesInput!) {\n    registerDevices(input: $input) {\n      registeredCount\n      devices {\n        id\n        imei\n      }\n      userErrors {\n        field\n        message\n        code\n      }\n    }\n  }\n": typeof types.RegisterDevicesDocument,
    "\n  query DevicePage($first: Int!, $after: String, $filter: DeviceFilter) {\n    devices(first: $first, after: $after, filter: $filter) {\n      totalCount\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n      nodes {\n        id\n        imei\n        status\n        model {\n          code\n        }\n        attempts(first: 1) {\n          nodes {\n            id\n            outcome\n          }\n        }\n      }\n    }\n  }\n": typeof types.DevicePageDocument,
    "\n  query AttemptEvidence($id: ID!) {\n    node(id: $id) {\n      ... on ActivationAttempt {\n        id\n        occurredAt\n        outcome\n        enforced\n        reasonCodes\n        resolvedRegion {\n          code\n          name\n        }\n        policyVersion {\n          number\n          policy {\n            key\n          }\n        }\n        explanation {\n          signals {\n            source\n            regionCode\n            usable\n            finding\n            detail\n          }\n          policies {\n            policyKey\n            applies\n            finding\n            detail\n          }\n        }\n        device {\n          imei\n          status\n        }\n      }\n    }\n  }\n": typeof types.AttemptEvidenceDocument,
    "\n  mutation DecideActivation($input: DecideActivationInput!) {\n    decideActivation(input: $input) {\n      decision {\n        outcome\n        enforced\n        reasonCodes\n        lockMessage\n      }\n      attempt {\n        id\n      }\n      userErrors {\n        field\n        message\n        code\n      }\n    }\n  }\n": typeof types.DecideActivationDocument,
};
const documents: Documents = {
    "\n  mutation RegisterDevices($input: RegisterDevicesInput!) {\n    registerDevices(input: $input) {\n      registeredCount\n      devices {\n        id\n        imei\n      }\n      userErrors {\n        field\n        message\n        code\n      }\n    }\n  }\n": types.RegisterDevicesDocument,
    "\n  query DevicePage($first: Int!, $after: String, $filter: DeviceFilter) {\n    devices(first: $first, after: $after, filter: $filter) {\n      totalCount\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n      nodes {\n        id\n        imei\n        status\n        model {\n          code\n        }\n        attempts(first: 1) {\n          nodes {\n            id\n            outcome\n          }\n        }\n      }\n    }\n  }\n": types.DevicePageDocument,
    "\n  query AttemptEvidence($id: ID!) {\n    node(id: $id) {\n      ... on ActivationAttempt {\n        id\n        occurredAt\n        outcome\n        enforced\n        reasonCodes\n        resolvedRegion {\n          code\n          name\n        }\n        policyVersion {\n          number\n          policy {\n            key\n          }\n        }\n        explanation {\n          signals {\n            source\n            regionCode\n            usable\n            finding\n            detail\n          }\n          policies {\n            policyKey\n            applies\n            finding\n            detail\n          }\n        }\n        device {\n          imei\n          status\n        }\n      }\n    }\n  }\n": types.AttemptEvidenceDocument,
    "\n  mutation DecideActivation($input: DecideActivationInput!) {\n    decideActivation(input: $input) {\n      decision {\n        outcome\n        enforced\n        reasonCodes\n        lockMessage\n      }\n      attempt {\n        id\n      }\n      userErrors {\n        field\n        message\n        code\n      }\n    }\n  }\n": types.DecideActivationDocument,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RegisterDevices($input: RegisterDevicesInput!) {\n    registerDevices(input: $input) {\n      registeredCount\n      devices {\n        id\n        imei\n      }\n      userErrors {\n        field\n        message\n        code\n      }\n    }\n  }\n"): typeof import('./graphql').RegisterDevicesDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query DevicePage($first: Int!, $after: String, $filter: DeviceFilter) {\n    devices(first: $first, after: $after, filter: $filter) {\n      totalCount\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n      nodes {\n        id\n        imei\n        status\n        model {\n          code\n        }\n        attempts(first: 1) {\n          nodes {\n            id\n            outcome\n          }\n        }\n      }\n    }\n  }\n"): typeof import('./graphql').DevicePageDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query AttemptEvidence($id: ID!) {\n    node(id: $id) {\n      ... on ActivationAttempt {\n        id\n        occurredAt\n        outcome\n        enforced\n        reasonCodes\n        resolvedRegion {\n          code\n          name\n        }\n        policyVersion {\n          number\n          policy {\n            key\n          }\n        }\n        explanation {\n          signals {\n            source\n            regionCode\n            usable\n            finding\n            detail\n          }\n          policies {\n            policyKey\n            applies\n            finding\n            detail\n          }\n        }\n        device {\n          imei\n          status\n        }\n      }\n    }\n  }\n"): typeof import('./graphql').AttemptEvidenceDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation DecideActivation($input: DecideActivationInput!) {\n    decideActivation(input: $input) {\n      decision {\n        outcome\n        enforced\n        reasonCodes\n        lockMessage\n      }\n      attempt {\n        id\n      }\n      userErrors {\n        field\n        message\n        code\n      }\n    }\n  }\n"): typeof import('./graphql').DecideActivationDocument;


export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}
