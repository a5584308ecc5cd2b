import { DataSource } from 'typeorm';
import { createEntityLoader } from '../common/loaders';
import { ApiKey } from './api-key.entity';

export function createApiKeyLoaders(dataSource: DataSource) {
  return { apiKeyById: createEntityLoader<ApiKey, number>(dataSource, ApiKey) };
}
