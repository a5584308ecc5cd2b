/* eslint-disable */
/** Internal type. DO NOT USE DIRECTLY. */
type Exact<T extends { [key: string]: unknown }> = { [K in keyof T]: T[K] };
/** Internal type. DO NOT USE DIRECTLY. */
export type Incremental<T> = T | { [P in keyof T]?: P extends ' $fragmentName' | '__typename' ? T[P] : never };
import type { DocumentTypeDecoration } from '@graphql-typed-document-node/core';
/** The location signals of an activation; any may be missing. */
export type ActivationSignalsInput = {
  /** The serving network (MCC and MNC), when the radio was attached to one. Ranks after a usable fix and before the SIM. */
  cell?: CellInput | null | undefined;
  /** GPS fix, when the device had one, rounded to the stored precision. Not shown to partners. */
  gps?: GeoPointInput | null | undefined;
  /** ISO 3166-1 alpha-2 country of the client IP, as the gateway looked it up. */
  ipCountry?: string | null | undefined;
  /** SIM network identity, when a SIM was present. */
  sim?: SimInput | null | undefined;
};

/** The serving network the radio is attached to: where the phone is now, unlike the SIM's home network. MCC and MNC only (no cell identity is accepted or kept). */
export type CellInput = {
  /** Mobile country code of the serving network (3 digits). */
  mcc: string;
  /** Mobile network code of the serving network (2 or 3 digits), when known. */
  mnc?: string | null | undefined;
};

/** One activation as the gateway reports it. */
export type DecideActivationInput = {
  /** A retry with the same key returns the same decision and writes nothing new (1 to 200 characters). */
  idempotencyKey?: string | null | undefined;
  /** The phone's IMEI: 15 digits with a valid Luhn check digit. */
  imei: string;
  /** Language of the lock message, e.g. `ru`; English when missing or unknown. */
  locale?: string | null | undefined;
  /** When the phone tried to activate (attempts can arrive late, up to 730 days; at most 5 minutes ahead of the server); now by default. */
  occurredAt?: string | null | undefined;
  /** The location signals. */
  signals: ActivationSignalsInput;
};

/** What the decision says must happen to the device. */
export type DecisionOutcome =
  /** The device may activate. */
  | 'ALLOW'
  /** A policy forbids activation here: the device is locked (when enforced). */
  | 'LOCK'
  /** The evidence is inconclusive or a REVIEW policy applies: a person decides. */
  | 'REVIEW';

/** Narrows a list of devices; all given conditions must hold. */
export type DeviceFilter = {
  /** Only devices whose IMEI starts with these digits (e.g. a TAC). */
  imeiPrefix?: string | null | undefined;
  /** Only devices sold for these market regions (ISO codes). */
  marketRegionCodes?: Array<string> | null | undefined;
  /** Only devices of these model codes. */
  modelCodes?: Array<string> | null | undefined;
  /** Only devices distributed by these partners (global IDs). */
  partnerIds?: Array<string | number> | null | undefined;
  /** Only devices in one of these states. */
  statuses?: Array<DeviceStatus> | null | undefined;
};

/** One row of a shipment manifest. */
export type DeviceManifestRow = {
  /** The device's IMEI: 15 digits with a valid Luhn check digit. */
  imei: string;
  /** ISO code of the region the device is sold for. */
  marketRegionCode: string;
  /** Code of the device's model; the IMEI's TAC must be one of the model's. */
  modelCode: string;
  /** Manufacturer serial number (1 to 64 characters). */
  serialNumber: string;
};

/** Lifecycle state of a device. */
export type DeviceStatus =
  /** Activated and allowed. */
  | 'ACTIVE'
  /** Locked by an enforced policy; stays locked until unlocked through an audited path. */
  | 'LOCKED'
  /** Registered from a manifest, never activated. */
  | 'NEW'
  /** An activation attempt is waiting in the review queue. */
  | 'UNDER_REVIEW';

/** A satellite position fix. */
export type GeoPointInput = {
  /** Horizontal accuracy radius in metres, when known. */
  accuracyMeters?: number | null | undefined;
  /** Timestamp when the fix was taken (the attempt's occurredAt when missing). A fix taken more than STALE_FIX_MINUTES (60 by default) before occurredAt is stale: kept as evidence, never deciding. May lie at most 5 minutes after occurredAt (clock skew). */
  fixedAt?: string | null | undefined;
  /** Latitude in degrees, -90 to 90. */
  latitude: number;
  /** Longitude in degrees, -180 to 180. */
  longitude: number;
  /** Indicates the OS reported the fix as coming from a mock location provider (Android `Location.isMock()` / `isFromMockProvider()`). A mocked fix neither decides nor clears; the decision carries GPS_MOCKED. */
  mock?: boolean | null | undefined;
};

/** Which signal the resolved region came from. */
export type RegionSource =
  /** The serving cell's network: where the radio is attached now. */
  | 'CELL'
  /** A usable GPS fix (not mocked, not stale, accurate enough, no impossible travel). */
  | 'GPS'
  /** The country of the client IP address; never locks on its own. */
  | 'IP'
  /** No usable signal. */
  | 'NONE'
  /** The SIM's home network: where the card was issued. */
  | 'SIM';

/** A partner's shipment manifest: registered all together or not at all. */
export type RegisterDevicesInput = {
  /** The devices, 1 to 10000. */
  devices: Array<DeviceManifestRow>;
  /** Global ID of the partner that distributes the devices. */
  partnerId: string | number;
};

/** The SIM card's network identity. */
export type SimInput = {
  /** Mobile country code (3 digits). */
  mcc: string;
  /** Mobile network code (2 or 3 digits), when known. */
  mnc?: string | null | undefined;
};

/** Machine-readable reason of a user error. */
export type UserErrorCode =
  /** The value is listed twice in the same input. */
  | 'DUPLICATE'
  /** The caller may run the mutation but not on this object: an author approving or rejecting their own change request, or withdrawing another's. */
  | 'FORBIDDEN'
  /** A persisted operation's ID is not the SHA-256 hash of its body. */
  | 'HASH_MISMATCH'
  /** The idempotency key was first sent with a different request: the first request's decision stands. */
  | 'IDEMPOTENCY_CONFLICT'
  /** The value has the wrong form, or does not fit with another value of the input. */
  | 'INVALID'
  /** An IMEI's check digit (Luhn) does not match its other digits: mistyped. */
  | 'INVALID_CHECKSUM'
  /** A persisted operation's body is not a valid operation of this schema. */
  | 'INVALID_OPERATION'
  /** The object is not in a state that allows the change (revoked already, not LOCKED, no longer PENDING, a sweep that ended). */
  | 'INVALID_STATE'
  /** No object has this ID, key or code. */
  | 'NOT_FOUND'
  /** A value the change needs is missing or empty. */
  | 'REQUIRED'
  /** The value is held by another object already (a name, key, code, TAC, IMEI or idempotency key used for another device). */
  | 'TAKEN'
  /** A text is longer than its field allows. */
  | 'TOO_LONG'
  /** A list has more items than the field allows. */
  | 'TOO_MANY';

export type RegisterDevicesMutationVariables = Exact<{
  input: RegisterDevicesInput;
}>;


export type RegisterDevicesMutation = { registerDevices: { registeredCount: number, devices: Array<{ id: string, imei: string }> | null, userErrors: Array<{ field: Array<string>, message: string, code: UserErrorCode }> } };

export type DevicePageQueryVariables = Exact<{
  first: number;
  after?: string | null | undefined;
  filter?: DeviceFilter | null | undefined;
}>;


export type DevicePageQuery = { devices: { totalCount: number, pageInfo: { hasNextPage: boolean, endCursor: string | null }, nodes: Array<{ id: string, imei: string, status: DeviceStatus, model: { code: string }, attempts: { nodes: Array<{ id: string, outcome: DecisionOutcome }> } }> } };

export type AttemptEvidenceQueryVariables = Exact<{
  id: string | number;
}>;


export type AttemptEvidenceQuery = { node:
    | { id: string, occurredAt: string, outcome: DecisionOutcome, enforced: boolean, reasonCodes: Array<string>, resolvedRegion: { code: string, name: string } | null, policyVersion: { number: number, policy: { key: string } } | null, explanation: { signals: Array<{ source: RegionSource, regionCode: string | null, usable: boolean, finding: string, detail: string }>, policies: Array<{ policyKey: string, applies: boolean, finding: string, detail: string }> } | null, device: { imei: string, status: DeviceStatus } }
    | Record<PropertyKey, never>
   | null };

export type DecideActivationMutationVariables = Exact<{
  input: DecideActivationInput;
}>;


export type DecideActivationMutation = { decideActivation: { decision: { outcome: DecisionOutcome, enforced: boolean, reasonCodes: Array<string>, lockMessage: string | null } | null, attempt: { id: string } | null, userErrors: Array<{ field: Array<string>, message: string, code: UserErrorCode }> } };

export class TypedDocumentString<TResult, TVariables>
  extends String
  implements DocumentTypeDecoration<TResult, TVariables>
{
  __apiType?: NonNullable<DocumentTypeDecoration<TResult, TVariables>['__apiType']>;
  private value: string;
  public __meta__?: Record<string, any> | undefined;

  constructor(value: string, __meta__?: Record<string, any> | undefined) {
    super(value);
    this.value = value;
    this.__meta__ = __meta__;
  }

  override toString(): string & DocumentTypeDecoration<TResult, TVariables> {
    return this.value;
  }
}

export const RegisterDevicesDocument = new TypedDocumentString(`
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
    `, {"hash":"sha256:12c403ede11c776c02d1c3ee982064321d4b0bb0f1493dd287936b089c0887bd"}) as unknown as TypedDocumentString<RegisterDevicesMutation, RegisterDevicesMutationVariables>;
export const DevicePageDocument = new TypedDocumentString(`
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
    `, {"hash":"sha256:dda7dbf508e26182e32e56e784a36ee72581ef890d5ae9e1026be6cfebe183cb"}) as unknown as TypedDocumentString<DevicePageQuery, DevicePageQueryVariables>;
export const AttemptEvidenceDocument = new TypedDocumentString(`
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
    `, {"hash":"sha256:bcec69cc4ea5b53ab5303b676dabee7212cd88103d8662a9aba50ff8607acd5a"}) as unknown as TypedDocumentString<AttemptEvidenceQuery, AttemptEvidenceQueryVariables>;
export const DecideActivationDocument = new TypedDocumentString(`
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
    `, {"hash":"sha256:39659c5773cc8a1c991a746e1c87bb77c54aa6cb6055eac181591128ccf23d7f"}) as unknown as TypedDocumentString<DecideActivationMutation, DecideActivationMutationVariables>;