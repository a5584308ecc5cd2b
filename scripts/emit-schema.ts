/** Writes schema/schema.graphql from the code (`npm run schema`). */
import { writeFileSync } from 'node:fs';
import { printAppSchema } from '../src/schema';

void printAppSchema().then((sdl) => {
  writeFileSync('schema/schema.graphql', sdl);
  console.log('wrote schema/schema.graphql');
});
