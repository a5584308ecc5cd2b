import { DataSource } from 'typeorm';
import { OrderArgument } from '../common/connection';
import { createChildConnectionLoader } from '../common/loaders';
import { ActivationAttempt } from './activation-attempt.entity';
import { createAttemptRefLoader } from './attempt-refs';
import { applyAttemptFilter } from './activation-attempt.service';
import { ActivationAttemptOrder, ResolvedAttemptFilter, attemptSort } from './activation-attempt.types';

export interface DeviceAttemptsFilter extends ResolvedAttemptFilter {
  /** Part of the loader key so that different orders are different batches. */
  order: OrderArgument<ActivationAttemptOrder['field']>;
}

export function createActivationAttemptLoaders(dataSource: DataSource) {
  return {
    /** By id and what the reference knows of occurredAt (see attempt-refs.ts): one month probed per reference. */
    activationAttemptByRef: createAttemptRefLoader(dataSource),
    attemptsByDevice: createChildConnectionLoader<ActivationAttempt, DeviceAttemptsFilter>(dataSource, {
      entity: ActivationAttempt,
      parentProperty: 'deviceId',
      sortFor: (key) => attemptSort(key.filter?.order),
      applyFilter: (qb, filter) => applyAttemptFilter(qb, filter),
    }),
  };
}
