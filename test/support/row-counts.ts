import { DataSource } from 'typeorm';

/** Rows in every table: compare before and after a rejected mutation to prove nothing was written. */
export async function rowCounts(dataSource: DataSource): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const metadata of dataSource.entityMetadatas) {
    counts[metadata.tableName] = await dataSource.getRepository(metadata.target).count();
  }
  return counts;
}
