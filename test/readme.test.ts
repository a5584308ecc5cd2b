/** What the README promises about settings is checked against the code that reads them. */
import { readFileSync } from 'node:fs';
import { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createApp } from '../src/app';
import { openTestDatabase } from './support/database';

const ROOT = join(__dirname, '..');
const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');

/** The rows of the README's configuration table, by the variable names in their first cell. */
function configurationTable(): Map<string, string> {
  const section = readme.slice(readme.indexOf('## Configuration'));
  const table = section.slice(0, section.indexOf('\n## ') > 0 ? section.indexOf('\n## ') : undefined);
  const rows = new Map<string, string>();
  for (const line of table.split('\n').filter((row) => row.startsWith('| `'))) {
    const cells = line.split('|').map((cell) => cell.trim());
    for (const name of cells[1].match(/[A-Z][A-Z0-9_]{2,}/g) ?? []) rows.set(name, line);
  }
  return rows;
}

/** Every environment variable src/config.ts reads: `env.NAME` and the names handed to its readers. */
function settingsRead(): string[] {
  const source = readFileSync(join(ROOT, 'src', 'config.ts'), 'utf8');
  const names = new Set<string>();
  for (const match of source.matchAll(/env\.([A-Z][A-Z0-9_]+)/g)) names.add(match[1]);
  for (const match of source.matchAll(/\(\s*'([A-Z][A-Z0-9_]+)'/g)) names.add(match[1]);
  return [...names].sort();
}

describe('README', () => {
  it('has every setting the server reads in its configuration table, with a default and a meaning', () => {
    const table = configurationTable();
    const read = settingsRead();
    expect(read.length).toBeGreaterThan(25);
    expect(read.filter((name) => !table.has(name))).toEqual([]);
    for (const name of read)
      expect(
        table
          .get(name)!
          .split('|')
          .filter((cell) => cell.trim()).length,
      ).toBe(3);
  });
});

describe('README examples', () => {
  it('has CSV report URLs that work as written: no placeholders, 200 and CSV with an API key', async () => {
    const urls = [...readme.matchAll(/`(?:GET )?(\/reports\/[a-z-]+\.csv\?[^`\s]+)`/g)].map((match) => match[1]);
    expect(urls.length).toBeGreaterThanOrEqual(5);
    expect(urls.filter((url) => url.includes('…'))).toEqual([]);
    const database = await openTestDatabase();
    const adminKey = 'cgk_readme-examples-admin-key-0123456789abcdef';
    const app = await createApp(database.dataSource, { ...database.settings, adminKey });
    const server = app.httpServer.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      for (const url of urls) {
        const response = await fetch(`${origin}${url}`, { headers: { authorization: `Bearer ${adminKey}` } });
        expect({ url, status: response.status, type: response.headers.get('content-type')?.split(';')[0] }).toEqual({
          url,
          status: 200,
          type: 'text/csv',
        });
        await response.text();
      }
    } finally {
      await app.apollo.stop();
      await database.close();
    }
  });
});
