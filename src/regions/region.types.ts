import { Field, InputType, registerEnumType } from 'type-graphql';
import { ConnectionType, OrderInputType, SortDirection, SortSpec } from '../common/connection';
import { Region, RegionKind } from './region.entity';

export const RegionConnection = ConnectionType(Region, 'Region', 'A page of regions.');

export enum RegionOrderField {
  CODE = 'CODE',
  NAME = 'NAME',
}
registerEnumType(RegionOrderField, { name: 'RegionOrderField', description: 'Fields regions can be ordered by.' });

export const RegionOrder = OrderInputType<RegionOrderField>(RegionOrderField, 'Region', RegionOrderField.CODE);
export type RegionOrder = InstanceType<typeof RegionOrder>;

export function regionSort(order?: RegionOrder | null): SortSpec<Region> {
  const direction = order?.direction ?? SortDirection.ASC;
  return order?.field === RegionOrderField.NAME
    ? { property: 'name', direction, valueOf: (region) => region.name }
    : { property: 'code', direction, valueOf: (region) => region.code };
}

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
