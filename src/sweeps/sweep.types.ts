import { IsOptional } from 'class-validator';
import { TextLength } from '../common/text-length';
import { Field, ID, InputType, Int, ObjectType } from 'type-graphql';
import { ConnectionType, SortDirection, byId } from '../common/connection';
import { MutationPayload } from '../common/payload';
import { UserError } from '../common/errors';
import { Sweep, SweepAction, SweepStatus } from './sweep.entity';

export const SweepConnection = ConnectionType(Sweep, 'Sweep', 'A page of sweeps.');

/** Newest first. */
export const sweepSort = byId<Sweep>(SortDirection.DESC);

@InputType({ description: 'A re-screening sweep to start, or to try as a dry run.' })
export class StartSweepInput {
  @TextLength(1, 100, 'policyKey must be 1 to 100 characters')
  @Field({ description: 'Key of the policy whose change the sweep carries out.' })
  policyKey: string;

  @Field(() => SweepAction, { description: 'Lock or unlock.' })
  action: SweepAction;

  @Field({ description: 'True: count what it would change, by region, model and partner, and write nothing.' })
  dryRun: boolean;

  @IsOptional()
  @TextLength(1, 1000, 'note must be 1 to 1000 characters')
  @Field(() => String, { nullable: true, description: 'Why (kept with the sweep and in the audit trail).' })
  note?: string | null;
}

@InputType({ description: 'A sweep to pause, resume or cancel.' })
export class SweepControlInput {
  @Field(() => ID, { description: 'Global ID of the sweep.' })
  id: string;
}

@ObjectType({ description: 'Changed devices in one region, model or partner.' })
export class SweepCount {
  /** Row id of the region, model or partner. */
  key: number;

  @Field(() => Int, { description: 'Devices the sweep changed (or, in a dry run, would change) there.' })
  devices: number;
}

@ObjectType({ description: 'Changed devices in one region.' })
export class SweepRegionCount extends SweepCount {}

@ObjectType({ description: 'Changed devices of one model.' })
export class SweepModelCount extends SweepCount {}

@ObjectType({ description: 'Changed devices of one partner.' })
export class SweepPartnerCount extends SweepCount {}

@ObjectType({ description: 'Changed devices counted by region (where it was activated or locked), model and partner.' })
export class SweepBreakdownCounts {
  @Field(() => [SweepRegionCount], { description: 'By region, most devices first.' })
  byRegion: SweepRegionCount[];

  @Field(() => [SweepModelCount], { description: 'By device model, most devices first.' })
  byModel: SweepModelCount[];

  @Field(() => [SweepPartnerCount], { description: 'By partner, most devices first.' })
  byPartner: SweepPartnerCount[];
}

@ObjectType({ description: 'What a sweep would change now. Nothing was written.' })
export class SweepPreview {
  @Field(() => SweepAction, { description: 'Lock or unlock.' })
  action: SweepAction;

  @Field(() => Int, { description: 'Devices it would examine.' })
  total: number;

  @Field(() => Int, { description: 'Devices it would change.' })
  changed: number;

  @Field(() => SweepBreakdownCounts, { description: 'The devices it would change, counted.' })
  breakdown: SweepBreakdownCounts;

  sampleDeviceIds: number[];
}

@ObjectType({ description: 'Result of startSweep.' })
export class StartSweepPayload {
  @Field(() => Sweep, { nullable: true, description: 'The sweep started; null for a dry run or on user errors.' })
  sweep: Sweep | null;

  @Field(() => SweepPreview, { nullable: true, description: 'What a dry run found; null for a real run.' })
  preview: SweepPreview | null;

  @Field(() => [UserError], {
    description: 'What was wrong with the input; empty on success. Nothing is written when any exists.',
  })
  userErrors: UserError[];
}

export const PauseSweepPayload = MutationPayload(Sweep, 'sweep', 'pauseSweep');
export const ResumeSweepPayload = MutationPayload(Sweep, 'sweep', 'resumeSweep');
export const CancelSweepPayload = MutationPayload(Sweep, 'sweep', 'cancelSweep');

@InputType({ description: 'Conditions on sweeps.' })
export class SweepFilter {
  @Field(() => [SweepStatus], { nullable: true, description: 'Only sweeps in one of these states.' })
  statuses?: SweepStatus[] | null;
}
