import { Field, ID, InputType, ObjectType, registerEnumType } from 'type-graphql';
import {
  ActivationAttempt,
  ActivationSignals,
  DecisionOutcome,
  RegionSource,
} from '../activations/activation-attempt.entity';
import { UserError } from '../common/errors';

@InputType({ description: 'One activation as the gateway reports it.' })
export class DecideActivationInput {
  @Field({ description: "The phone's IMEI: 15 digits with a valid Luhn check digit." })
  imei: string;

  @Field(() => String, {
    nullable: true,
    description: 'A retry with the same key returns the same decision and writes nothing new (1 to 200 characters).',
  })
  idempotencyKey?: string | null;

  @Field(() => Date, {
    nullable: true,
    description:
      'When the phone tried to activate (attempts can arrive late, up to 730 days; at most 5 minutes ahead of the server); now by default.',
  })
  occurredAt?: Date | null;

  @Field(() => String, {
    nullable: true,
    description: 'Language of the lock message, e.g. `ru`; English when missing or unknown.',
  })
  locale?: string | null;

  @Field(() => ActivationSignals, { description: 'The location signals.' })
  signals: ActivationSignals;
}

export enum SignalAssessment {
  USABLE = 'USABLE',
  MOCKED = 'MOCKED',
  STALE = 'STALE',
  INACCURATE = 'INACCURATE',
  IMPOSSIBLE_TRAVEL = 'IMPOSSIBLE_TRAVEL',
  DISAGREES = 'DISAGREES',
  UNRESOLVED = 'UNRESOLVED',
}
registerEnumType(SignalAssessment, {
  name: 'SignalAssessment',
  description: 'How the decision read a signal: only a USABLE one may decide the region.',
  valuesConfig: {
    USABLE: { description: 'Trusted: it may decide the region.' },
    MOCKED: {
      description: 'A fix the OS reported as mocked: no evidence; it neither decides nor clears (GPS_MOCKED).',
    },
    STALE: {
      description: 'A fix taken more than STALE_FIX_MINUTES before the attempt: kept, never deciding (GPS_STALE).',
    },
    INACCURATE: { description: 'A fix whose accuracy radius exceeds MAX_GPS_ACCURACY_METERS.' },
    IMPOSSIBLE_TRAVEL: {
      description:
        "A fix implying more than IMPOSSIBLE_TRAVEL_KMH from the device's neighbouring fix (in occurredAt order): it cannot ALLOW (IMPOSSIBLE_TRAVEL).",
    },
    DISAGREES: {
      description:
        'Usable, but it points at a region unrelated to the deciding signal with one of them restricted: the outcome is REVIEW (CELL_DISAGREES, SIGNALS_DISAGREE).',
    },
    UNRESOLVED: { description: 'It names no known region (an unknown or ambiguous network, an unknown country).' },
  },
});

export enum ReviewReason {
  POLICY_REVIEW = 'POLICY_REVIEW',
  SIGNALS_DISAGREE = 'SIGNALS_DISAGREE',
  CELL_DISAGREES = 'CELL_DISAGREES',
  IMPOSSIBLE_TRAVEL = 'IMPOSSIBLE_TRAVEL',
  GPS_MOCKED = 'GPS_MOCKED',
  GPS_STALE = 'GPS_STALE',
  NO_USABLE_SIGNAL = 'NO_USABLE_SIGNAL',
  IP_COUNTRY_ONLY = 'IP_COUNTRY_ONLY',
}
registerEnumType(ReviewReason, {
  name: 'ReviewReason',
  description: 'Why a decision was sent to a person (the reason code that decided the REVIEW).',
  valuesConfig: {
    POLICY_REVIEW: { description: 'A policy whose action is REVIEW applies where the device is.' },
    SIGNALS_DISAGREE: {
      description: 'The deciding signal and the SIM pointed at unrelated regions, one of them restricted.',
    },
    CELL_DISAGREES: { description: 'The fix and the serving cell disagreed about a restricted region.' },
    IMPOSSIBLE_TRAVEL: {
      description: "The fix was too far from the device's neighbouring fix for the time between them.",
    },
    GPS_MOCKED: { description: 'The only fix was mocked and no other signal placed the device.' },
    GPS_STALE: { description: 'The only fix was stale and no other signal placed the device.' },
    NO_USABLE_SIGNAL: { description: 'No signal placed the device.' },
    IP_COUNTRY_ONLY: {
      description: 'Only the IP country placed the device in a restricted region; an IP never locks.',
    },
  },
});

@ObjectType({ description: 'What one signal said about where the device is.' })
export class SignalEvidence {
  @Field(() => RegionSource, { description: 'Which signal.' })
  source: RegionSource;

  @Field(() => String, { nullable: true, description: 'ISO code of the region the signal points at; null when none.' })
  regionCode: string | null;

  @Field({ description: 'Indicates whether the signal was trusted to decide the region.' })
  usable: boolean;

  @Field(() => SignalAssessment, {
    description:
      'How the signal was read: usable, mocked, stale, inaccurate, impossible travel, disagreeing or unresolved.',
  })
  assessment: SignalAssessment;

  @Field({ description: "Indicates whether this signal decided the region (the decision's regionSource)." })
  decided: boolean;

  @Field({
    description:
      'Machine-readable finding, e.g. `GPS_IN_REGION`, `GPS_MOCKED`, `GPS_STALE`, `IMPOSSIBLE_TRAVEL`, `CELL_SUBDIVISION_NETWORK`, `SIM_NETWORK`, `GPS_INACCURATE`.',
  })
  finding: string;

  @Field({ description: 'Human-readable account of the finding.' })
  detail: string;
}

@ObjectType({ description: 'One policy the engine considered, and why it did or did not apply.' })
export class PolicyEvidence {
  policyVersionId: number;

  @Field({ description: 'Key of the policy.' })
  policyKey: string;

  @Field({ description: 'Indicates whether the policy applied to the attempt.' })
  applies: boolean;

  @Field({
    description: 'APPLIES, NOT_YET_EFFECTIVE, NO_LONGER_EFFECTIVE, REGION_NOT_COVERED, MODEL_NOT_IN_SCOPE or EXEMPTED.',
  })
  finding: string;

  @Field({ description: 'Human-readable account of the finding.' })
  detail: string;
}

@ObjectType({ description: 'Everything the decision rests on.' })
export class DecisionExplanation {
  @Field(() => [SignalEvidence], {
    description:
      'Every signal seen, strongest first (GPS, CELL, SIM, IP): what it said, how it was read, and which one decided.',
  })
  signals: SignalEvidence[];

  @Field(() => [PolicyEvidence], { description: 'Every policy in force considered, and why it did or did not apply.' })
  policies: PolicyEvidence[];
}

@ObjectType({ description: 'The answer to an activation: what must happen to the device, and why.' })
export class ActivationDecision {
  regionId: number | null;
  policyVersionId: number | null;

  @Field(() => DecisionOutcome, { description: 'ALLOW, LOCK or REVIEW.' })
  outcome: DecisionOutcome;

  @Field({
    description: 'Indicates whether the outcome is enforced; false when the deciding policy is in MONITOR mode.',
  })
  enforced: boolean;

  @Field(() => RegionSource, { description: 'Which signal decided the region.' })
  regionSource: RegionSource;

  @Field(() => [String], {
    description:
      'Machine-readable reasons, the deciding one first, e.g. `POLICY_APPLIES`, `REGION:UA-43`, `SOURCE:CELL`, `SIGNALS_DISAGREE`, ' +
      '`CELL_DISAGREES`, `IMPOSSIBLE_TRAVEL`; a mocked or stale fix always adds `GPS_MOCKED` or `GPS_STALE`. Objects are named by public ' +
      'identifiers only: `POLICY:<policy key>`, `EXEMPT_FROM:<policy key>` and `EXEMPTION:<the exemption global ID>`.',
  })
  reasonCodes: string[];

  /** The language the request asked the lock message in (`lockMessage` resolves it). */
  locale: string | null;

  @Field(() => DecisionExplanation, { description: 'Every signal seen and every policy considered.' })
  explanation: DecisionExplanation;
}

@ObjectType({ description: 'Result of decideActivation.' })
export class DecideActivationPayload {
  @Field(() => ActivationDecision, { nullable: true, description: 'The decision; null when there are user errors.' })
  decision: ActivationDecision | null;

  @Field(() => ActivationAttempt, {
    nullable: true,
    description: 'The recorded attempt; null when there are user errors.',
  })
  attempt: ActivationAttempt | null;

  @Field(() => [UserError], {
    description: 'What was wrong with the input; empty on success. Nothing is written when any exists.',
  })
  userErrors: UserError[];
}

/** What a person decides about a REVIEW: a review cannot be resolved into another review. */
export enum ReviewResolution {
  ALLOW = 'ALLOW',
  LOCK = 'LOCK',
}
registerEnumType(ReviewResolution, {
  name: 'ReviewResolution',
  description: 'How a review is resolved.',
  valuesConfig: {
    ALLOW: { description: 'The device may activate.' },
    LOCK: { description: 'The device is locked, with the attempt as evidence.' },
  },
});

@InputType({ description: 'Resolution of a REVIEW decision.' })
export class ResolveReviewInput {
  @Field(() => ID, { description: 'Global ID of the attempt under review.' })
  attemptId: string;

  @Field(() => ReviewResolution, {
    nullable: true,
    description:
      'ALLOW lets the device activate; LOCK locks it. Required (until `resolution` is removed, one of the two).',
  })
  outcome?: ReviewResolution | null;

  @Field(() => DecisionOutcome, {
    nullable: true,
    description: 'ALLOW lets the device activate; LOCK locks it; REVIEW is refused.',
    deprecationReason: 'Use `outcome` instead, whose type has no REVIEW. Removal on or after 2027-03-01.',
  })
  resolution?: DecisionOutcome | null;

  @Field({ description: 'Why (kept in the audit trail).' })
  note: string;
}

@InputType({ description: 'A device to unlock.' })
export class UnlockDeviceInput {
  @Field(() => ID, { description: 'Global ID of a LOCKED device.' })
  deviceId: string;

  @Field({ description: 'Why it is unlocked (kept in the audit trail).' })
  reason: string;
}

@InputType({ description: 'Narrows the review queue; all given conditions must hold.' })
export class ReviewQueueFilter {
  @Field(() => [String], {
    nullable: true,
    description: 'Only activations resolved to these regions or any of their subdivisions (ISO codes).',
  })
  regionCodes?: string[] | null;

  @Field(() => [String], {
    nullable: true,
    description:
      "Leaves out, of the regions regionCodes names, these regions and their subdivisions (ISO codes): `UA` without `UA-43` and `UA-40` is Ukraine without Crimea and Sevastopol, as the console's map draws them. Only with regionCodes.",
  })
  excludeRegionCodes?: string[] | null;

  @Field(() => [String], { nullable: true, description: 'Only reviews opened by a version of these policies (keys).' })
  policyKeys?: string[] | null;

  @Field(() => [ID], {
    nullable: true,
    description: 'Only devices distributed by these partners (global IDs).',
  })
  partnerIds?: string[] | null;

  @Field(() => Date, {
    nullable: true,
    description: 'Only activations received before this instant: those waiting longer than since then.',
  })
  receivedBefore?: Date | null;
}
