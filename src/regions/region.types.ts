import { Field, InputType } from 'type-graphql';
import { ConnectionType, defineOrder } from '../common/connection';
import { Region, RegionKind } from './region.entity';

export const RegionConnection = ConnectionType(Region, 'Region', 'A page of regions.');

const regionOrder = defineOrder<Region, 'CODE' | 'NAME'>(
  'Region',
  'regions',
  {
    CODE: { property: 'code', description: 'The ISO 3166 code.', valueOf: (region) => region.code },
    NAME: { property: 'name', description: 'The English short name.', valueOf: (region) => region.name },
  },
  'CODE',
);
export const RegionOrder = regionOrder.OrderInput;
export type RegionOrder = InstanceType<typeof RegionOrder>;
export const regionSort = regionOrder.sortOf;

@InputType({ description: 'Narrows a list of regions; all given conditions must hold.' })
export class RegionFilter {
  @Field(() => RegionKind, { nullable: true, description: 'Only countries, or only subdivisions.' })
  kind?: RegionKind | null;

  @Field(() => String, { nullable: true, description: 'Only the subdivisions of the country with this code.' })
  parentCode?: string | null;

  @Field(() => [String], { nullable: true, description: 'Only the regions with these ISO codes.' })
  codes?: string[] | null;

  @Field(() => String, {
    nullable: true,
    description: 'Only regions whose English name contains this text (case-insensitive).',
  })
  nameContains?: string | null;

  @Field(() => String, { nullable: true, description: 'Only the countries that mobile country code (MCC) belongs to.' })
  mobileCountryCode?: string | null;
}
