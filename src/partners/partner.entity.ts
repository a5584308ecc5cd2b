import { Field, ObjectType, registerEnumType } from 'type-graphql';
import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import { Node } from '../common/node';
import { timestampType } from '../db/column-types';

export enum PartnerKind {
  DISTRIBUTOR = 'DISTRIBUTOR',
  CARRIER = 'CARRIER',
}
registerEnumType(PartnerKind, {
  name: 'PartnerKind',
  description: 'How a partner brings devices to market.',
  valuesConfig: {
    DISTRIBUTOR: { description: 'Sells devices on to retailers or customers.' },
    CARRIER: { description: 'A mobile network operator that sells devices with its service.' },
  },
});

@Entity('partner')
@ObjectType({ implements: Node, description: "A distributor or carrier that sells the maker's devices." })
export class Partner extends Node {
  @PrimaryGeneratedColumn()
  id: number;

  @Index('partner_name_key', { unique: true })
  @Column({ type: 'varchar', length: 200 })
  @Field({ description: 'Legal or trading name, unique among partners.' })
  name: string;

  @Column({ type: 'varchar', length: 20 })
  @Field(() => PartnerKind, { description: 'Distributor or carrier.' })
  kind: PartnerKind;

  @Column({ type: 'varchar', length: 320, nullable: true })
  @Field(() => String, { nullable: true, description: 'Address the compliance team writes to.' })
  contactEmail: string | null;

  @CreateDateColumn({ type: timestampType })
  @Field({ description: 'Timestamp when the partner was created.' })
  createdAt: Date;

  @UpdateDateColumn({ type: timestampType })
  @Field({ description: 'Timestamp when the partner was last changed.' })
  updatedAt: Date;
}
