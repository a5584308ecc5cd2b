import { evaluatorFor } from './evaluator';
import { access } from '../auth/roles';
import { Authorized, Arg, Ctx, FieldResolver, Mutation, Query, Resolver, Root } from 'type-graphql';
import { ActivationAttempt } from '../activations/activation-attempt.entity';
import { isUniqueViolation } from '../common/db-errors';
import { BadUserInputError, UserErrorCode, UserErrorsAbort, userError } from '../common/errors';
import { GraphQLContext } from '../context';
import { decisionLatency, decisions as decisionMetrics } from '../ops/metrics';
import { PolicyVersion } from '../policies/policy-version.entity';
import { Region } from '../regions/region.entity';
import {
  attemptRow,
  attemptWithKey,
  checkDecideInput,
  decideFor,
  decisionOfAttempt,
  recordDecision,
} from './decision.service';
import { explanationForClients } from './explanation';
import {
  ActivationDecision,
  DecideActivationInput,
  DecideActivationPayload,
  DecisionExplanation,
  PolicyEvidence,
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
    const now = new Date();
    const inputErrors = checkDecideInput(input, now);
    if (inputErrors.length) return { decision: null, attempt: null, userErrors: inputErrors };
    try {
      const work = await decideFor(context, input, now);
      const row = attemptRow(work, input, now, context.settings.privacy);
      try {
        const attempt = await recordDecision(context, work, row);
        decisionMetrics.inc({
          outcome: attempt.outcome,
          region: work.decision.regionCode ?? 'none',
          enforced: String(attempt.enforced),
        });
        decisionLatency.observe((Date.now() - now.getTime()) / 1000);
        return { decision: await decisionOfAttempt(context, attempt, input.locale), attempt, userErrors: [] };
      } catch (error) {
        // A retry raced the original (or came after it): answer with what the original recorded.
        if (!input.idempotencyKey || !isUniqueViolation(error)) throw error;
        const original = await attemptWithKey(context.dataSource.manager, input.idempotencyKey);
        if (!original) throw error;
        if (original.deviceId !== work.device.id) {
          throw new UserErrorsAbort([
            userError(['idempotencyKey'], UserErrorCode.TAKEN, 'this idempotencyKey was used for another device'),
          ]);
        }
        return {
          decision: await decisionOfAttempt(context, original, input.locale),
          attempt: original,
          userErrors: [],
        };
      }
    } catch (error) {
      if (error instanceof UserErrorsAbort) return { decision: null, attempt: null, userErrors: error.userErrors };
      throw error;
    }
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
    const now = new Date();
    const [problem] = checkDecideInput(input, asOf ?? now);
    if (problem) throw new BadUserInputError(problem.field.join('.'), problem.message);
    try {
      const work = asOf
        ? await decideFor(
            context,
            { ...input, occurredAt: input.occurredAt ?? asOf },
            asOf,
            evaluatorFor(context.dataSource, context.settings).compile(asOf),
          )
        : await decideFor(context, input, now);
      return decisionOfAttempt(context, attemptRow(work, input, now, context.settings.privacy), input.locale);
    } catch (error) {
      if (error instanceof UserErrorsAbort) {
        const [first] = error.userErrors;
        throw new BadUserInputError(first.field.join('.'), first.message);
      }
      throw error;
    }
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
    return attempt.explanation ? explanationForClients(attempt.explanation) : null;
  }
}
