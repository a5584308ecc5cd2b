import { Field, ObjectType } from 'type-graphql';
import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import { Node } from '../common/node';
import { jsonType, timestampType } from '../db/column-types';

@Entity('device_model')
@ObjectType({ implements: Node, description: 'A phone model the maker sells.' })
export class DeviceModel extends Node {
  @PrimaryGeneratedColumn()
  id: number;

  @Index('device_model_code_key', { unique: true })
  @Column({ type: 'varchar', length: 40 })
  @Field({ description: 'Internal model code, e.g. `PX-9-PRO`.' })
  code: string;

  @Column({ type: 'varchar', length: 200 })
  @Field({ description: 'Name the model is sold under.' })
  marketingName: string;

  @Column({ type: jsonType })
  @Field(() => [String], {
    description: 'Type Allocation Codes (the first 8 digits of an IMEI) assigned to this model.',
  })
  tacPrefixes: string[];

  @CreateDateColumn({ type: timestampType })
  @Field({ description: 'Timestamp when the model was created.' })
  createdAt: Date;

  @UpdateDateColumn({ type: timestampType })
  @Field({ description: 'Timestamp when the model was last changed.' })
  updatedAt: Date;
}
