import { access } from '../auth/roles';
import { Authorized, Arg, Ctx, FieldResolver, Mutation, Query, Resolver, Root } from 'type-graphql';
import { ActivationAttempt, DecisionOutcome } from '../activations/activation-attempt.entity';
import { GraphQLContext } from '../context';
import { lockMessageFor } from '../policies/lock-message';
import { PolicyVersion } from '../policies/policy-version.entity';
import { Region } from '../regions/region.entity';
import { decideActivation, previewDecision } from './decision.service';
import { explanationForClients, reviewReasonOf } from './explanation';
import {
  ActivationDecision,
  DecideActivationInput,
  DecideActivationPayload,
  DecisionExplanation,
  PolicyEvidence,
  ReviewReason,
} from './decision.types';

@Resolver(() => ActivationDecision)
export class DecisionResolver {
  @Authorized(access.decideActivation)
  @Mutation(() => DecideActivationPayload, {
    description:
      'Decides an activation: resolves the region from the signals, applies the policies in force, records the attempt with its evidence and locks the device when an enforced policy says so. Idempotent per idempotencyKey.',
  })
  async decideActivation(
    @Arg('input', () => DecideActivationInput, { description: 'The activation.' }) input: DecideActivationInput,
    @Ctx() context: GraphQLContext,
  ): Promise<DecideActivationPayload> {
    return decideActivation(context, context.services, input);
  }

  @Authorized(access.previewDecision)
  @Query(() => ActivationDecision, {
    description:
      'The decision decideActivation would take for this input, now (or with the rules of `asOf`); writes nothing.',
  })
  async previewDecision(
    @Arg('input', () => DecideActivationInput, { description: 'The activation to decide.' })
    input: DecideActivationInput,
    @Arg('asOf', () => Date, {
      nullable: true,
      description:
        'Decide with the rules of this instant (past or future: the versions in force then, retired policies and ' +
        'exemptions as they stood) for an activation occurring then (unless input.occurredAt says otherwise).',
    })
    asOf: Date | null,
    @Ctx() context: GraphQLContext,
  ): Promise<ActivationDecision> {
    return previewDecision(context, context.services, input, asOf);
  }

  @FieldResolver(() => Region, {
    nullable: true,
    description: 'The most specific region resolved (UA-43, not UA); null when none.',
  })
  region(@Root() decision: ActivationDecision, @Ctx() context: GraphQLContext) {
    return decision.regionId === null ? null : context.loaders.regionById.load(decision.regionId);
  }

  @FieldResolver(() => PolicyVersion, {
    nullable: true,
    description: 'The policy version that decided; null when none applied.',
  })
  policyVersion(@Root() decision: ActivationDecision, @Ctx() context: GraphQLContext) {
    return decision.policyVersionId === null ? null : context.loaders.policyVersionById.load(decision.policyVersionId);
  }

  @FieldResolver(() => String, {
    nullable: true,
    description: 'The message for the phone, in the requested language; only for an enforced LOCK.',
  })
  async lockMessage(@Root() decision: ActivationDecision, @Ctx() context: GraphQLContext): Promise<string | null> {
    if (decision.outcome !== DecisionOutcome.LOCK || !decision.enforced || decision.policyVersionId === null)
      return null;
    const version = await context.loaders.policyVersionById.load(decision.policyVersionId);
    return version ? lockMessageFor(version, decision.locale) : null;
  }
}

@Resolver(() => PolicyEvidence)
export class PolicyEvidenceResolver {
  @FieldResolver(() => PolicyVersion, { description: 'The version considered.' })
  policyVersion(@Root() evidence: PolicyEvidence, @Ctx() context: GraphQLContext) {
    return context.loaders.policyVersionById.load(evidence.policyVersionId);
  }
}

@Resolver(() => ActivationAttempt)
export class AttemptExplanationResolver {
  @FieldResolver(() => DecisionExplanation, {
    nullable: true,
    description: 'The evidence the decision rests on; null for attempts recorded without it (generated data).',
  })
  explanation(@Root() attempt: ActivationAttempt): DecisionExplanation | null {
    return attempt.explanation ? explanationForClients(attempt.explanation, attempt) : null;
  }

  @FieldResolver(() => ReviewReason, {
    nullable: true,
    description: 'Why the attempt was sent to review (the review queue shows it); null when it opened no review.',
  })
  reviewReason(@Root() attempt: ActivationAttempt): ReviewReason | null {
    return reviewReasonOf(attempt);
  }
}
