import { DataSource } from 'typeorm';
import { createEntityLoader } from '../common/loaders';
import { Sweep } from './sweep.entity';

export function createSweepLoaders(dataSource: DataSource) {
  return {
    sweepById: createEntityLoader<Sweep, number>(dataSource, Sweep),
  };
}
