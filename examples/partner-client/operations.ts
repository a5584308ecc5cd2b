/**
 * Every operation the example partner client runs. GraphQL Code Generator types them (gql/) and
 * lists them in the persisted-documents manifest.
 */
import { graphql } from './gql';

export const RegisterDevices = graphql(`
  mutation RegisterDevices($input: RegisterDevicesInput!) {
    registerDevices(input: $input) {
      registeredCount
      devices {
        id
        imei
      }
      userErrors {
        field
        message
        code
      }
    }
  }
`);

export const DevicePage = graphql(`
  query DevicePage($first: Int!, $after: String, $filter: DeviceFilter) {
    devices(first: $first, after: $after, filter: $filter) {
      totalCount
      pageInfo {
        hasNextPage
        endCursor
      }
      nodes {
        id
        imei
        status
        model {
          code
        }
        attempts(first: 1) {
          nodes {
            id
            outcome
          }
        }
      }
    }
  }
`);

export const AttemptEvidence = graphql(`
  query AttemptEvidence($id: ID!) {
    node(id: $id) {
      ... on ActivationAttempt {
        id
        occurredAt
        outcome
        enforced
        reasonCodes
        resolvedRegion {
          code
          name
        }
        policyVersion {
          number
          policy {
            key
          }
        }
        explanation {
          signals {
            source
            regionCode
            usable
            finding
            detail
          }
          policies {
            policyKey
            applies
            finding
            detail
          }
        }
        device {
          imei
          status
        }
      }
    }
  }
`);

/** The activation gateway's one operation. */
export const DecideActivation = graphql(`
  mutation DecideActivation($input: DecideActivationInput!) {
    decideActivation(input: $input) {
      decision {
        outcome
        enforced
        reasonCodes
        lockMessage
      }
      attempt {
        id
      }
      userErrors {
        field
        message
        code
      }
    }
  }
`);
