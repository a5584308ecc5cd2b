/** Prints the DDL that would bring an empty database to the entities' schema (for writing migrations). */
import { createDataSource } from '../ormconfig';

async function main(): Promise<void> {
  const dataSource = createDataSource();
  await dataSource.initialize();
  const sqlInMemory = await dataSource.driver.createSchemaBuilder().log();
  for (const query of sqlInMemory.upQueries) console.log(`${query.query};`);
  await dataSource.destroy();
}
void main();
