import { Field, ObjectType, registerEnumType } from 'type-graphql';
import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn, ManyToOne, JoinColumn } from 'typeorm';
import { Node } from '../common/node';
import { jsonType, timestampType } from '../db/column-types';

export enum RegionKind {
  COUNTRY = 'COUNTRY',
  SUBDIVISION = 'SUBDIVISION',
}
registerEnumType(RegionKind, {
  name: 'RegionKind',
  description: 'Whether a region is a country (ISO 3166-1) or a subdivision of one (ISO 3166-2).',
  valuesConfig: {
    COUNTRY: { description: 'A country, with its ISO 3166-1 alpha-2 code (e.g. `UA`).' },
    SUBDIVISION: {
      description: 'A subdivision of a country, with its ISO 3166-2 code (e.g. `UA-43`); its parent is the country.',
    },
  },
});

@Entity('region')
@ObjectType({
  implements: Node,
  description: 'A territory: an ISO 3166-1 country or an ISO 3166-2 subdivision of one.',
})
export class Region extends Node {
  @PrimaryGeneratedColumn()
  id: number;

  @Index('region_code_key', { unique: true })
  @Column({ type: 'varchar', length: 10 })
  @Field({ description: 'ISO code: alpha-2 for a country (`CU`), ISO 3166-2 for a subdivision (`UA-43`).' })
  code: string;

  @Column({ type: 'varchar', length: 200 })
  @Field({ description: 'English short name.' })
  name: string;

  @Column({ type: 'varchar', length: 20 })
  @Field(() => RegionKind, { description: 'Country or subdivision.' })
  kind: RegionKind;

  @Index('region_parent_id_idx')
  @Column({ type: 'integer', nullable: true })
  parentId: number | null;

  @ManyToOne(() => Region, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'parentId', foreignKeyConstraintName: 'region_parent_id_fkey' })
  parentRelation?: Region;

  @Column({ type: jsonType })
  @Field(() => [String], {
    description: 'Mobile country codes (MCC, ITU E.212) assigned to this country; empty for subdivisions.',
  })
  mobileCountryCodes: string[];

  @CreateDateColumn({ type: timestampType })
  @Field({ description: 'Timestamp when the region was loaded.' })
  createdAt: Date;

  /** Set on a copy read through `region(code:, asOf:)`: its policies are then those in force at that instant. */
  asOf?: Date;
}
