/** Prints the DDL that would bring a database at the latest migration to the entities (for writing the next migration). */
import { createDataSource } from '../ormconfig';

async function main(): Promise<void> {
  const dataSource = createDataSource();
  await dataSource.initialize();
  await dataSource.runMigrations();
  const sqlInMemory = await dataSource.driver.createSchemaBuilder().log();
  for (const query of sqlInMemory.upQueries) console.log(`UP ${query.query}`);
  for (const query of sqlInMemory.downQueries.reverse()) console.log(`DOWN ${query.query}`);
  await dataSource.destroy();
}
void main();
