import { Authorized, Ctx, FieldResolver, Resolver, Root } from 'type-graphql';
import { ActivationAttempt } from '../activations/activation-attempt.entity';
import { access } from '../auth/roles';
import { GraphQLContext } from '../context';
import { Sweep } from '../sweeps/sweep.entity';
import { Device } from './device.entity';
import { DeviceStatusChange } from './device-status-change.entity';

@Resolver(() => DeviceStatusChange)
export class DeviceStatusChangeResolver {
  @FieldResolver(() => Device, { description: 'The device whose status changed.' })
  device(@Root() change: DeviceStatusChange, @Ctx() context: GraphQLContext) {
    return context.loaders.deviceById.load(change.deviceId);
  }

  @Authorized(access.readAttempts)
  @FieldResolver(() => ActivationAttempt, {
    nullable: true,
    description:
      'The attempt behind it: the decision, the review, or the evidence a sweep acted on; null for a change no attempt caused, and once the month of the attempt is retired (ATTEMPT_RETENTION_MONTHS), as the history outlives raw attempts.',
  })
  attempt(@Root() change: DeviceStatusChange, @Ctx() context: GraphQLContext) {
    return change.attemptId === null
      ? null
      : context.loaders.activationAttemptByRef.load({ id: change.attemptId, occurredAt: change.attemptOccurredAt });
  }

  @Authorized(access.readSweeps)
  @FieldResolver(() => Sweep, { nullable: true, description: 'The sweep that made it, when a sweep did.' })
  sweep(@Root() change: DeviceStatusChange, @Ctx() context: GraphQLContext) {
    return change.sweepId === null ? null : context.loaders.sweepById.load(change.sweepId);
  }
}
