import { createTemporaryDatabase } from '../../src/db/temporary-database';

// The names are spliced into CREATE DATABASE (no parameter can stand for an identifier): anything but a
// plain name is refused before a connection is made, so no server is needed here.
describe('createTemporaryDatabase', () => {
  const server = 'postgres://nobody@127.0.0.1:1/none';

  it.each(['cg test', 'cg_test; DROP DATABASE test', 'Cg_Test', '1cg', ''])('refuses the prefix %p', async (prefix) => {
    await expect(createTemporaryDatabase(server, prefix)).rejects.toThrow('not a plain database name');
  });

  it('refuses a template that is not a plain name', async () => {
    await expect(createTemporaryDatabase(server, 'cg_test', { template: 'tpl"; --' })).rejects.toThrow(
      'not a plain database name',
    );
  });

  it('passes a plain prefix on to the server (here: none listening)', async () => {
    await expect(createTemporaryDatabase(server, 'cg_test')).rejects.toThrow(/ECONNREFUSED/);
  });
});
