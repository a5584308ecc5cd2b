/**
 * Fills the code blocks of docs/partners.md from the tested examples, so that no snippet in the
 * guide is typed by hand (`npm run docs:partners`; a test fails when the guide is stale).
 *
 * A block in the guide:            A region in an example (TypeScript; Python with `#`):
 *   <!-- snippet: PATH#NAME -->      // #region NAME
 *   ```ts                            …
 *   …                                // #endregion NAME
 *   ```
 *   <!-- /snippet -->
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { extname, join } from 'node:path';

const ROOT = join(__dirname, '..');
export const GUIDE = join(ROOT, 'docs', 'partners.md');
const BLOCK = /<!-- snippet: ([^#\s]+)#([\w-]+) -->\n[\s\S]*?<!-- \/snippet -->/g;
const LANGUAGE: Record<string, string> = { '.ts': 'ts', '.py': 'python', '.graphql': 'graphql', '.json': 'json' };

/** The lines between `#region name` and `#endregion name` of a file, without their common indent. */
export function region(
  path: string,
  name: string,
  read = (file: string) => readFileSync(join(ROOT, file), 'utf8'),
): string {
  const lines = read(path).split('\n');
  const start = lines.findIndex((line) => new RegExp(`^\\s*(//|#) ?#?region ${name}\\s*$`).test(line));
  const end = lines.findIndex(
    (line, index) => index > start && new RegExp(`^\\s*(//|#) ?#?endregion ${name}\\s*$`).test(line),
  );
  if (start === -1 || end === -1)
    throw new Error(`${path} has no region ${name} (#region ${name} … #endregion ${name})`);
  const body = lines.slice(start + 1, end);
  const indent = Math.min(...body.filter((line) => line.trim()).map((line) => /^ */.exec(line)![0].length));
  return body.map((line) => line.slice(indent)).join('\n');
}

/** The guide with every snippet block refilled from its region. */
export function renderGuide(guide: string, read?: (file: string) => string): string {
  return guide.replace(BLOCK, (_block, path: string, name: string) => {
    const language = LANGUAGE[extname(path)] ?? '';
    // prettier-ignore: the guide shows the example's lines exactly, not Prettier's reflow of them.
    return `<!-- snippet: ${path}#${name} -->\n<!-- prettier-ignore -->\n\`\`\`${language}\n${region(path, name, read)}\n\`\`\`\n\n<!-- /snippet -->`;
  });
}

/** Code blocks of the guide that no snippet marker fills: hand-typed code, which the guide must not have. */
export function handTypedBlocks(guide: string): string[] {
  return [...guide.replace(BLOCK, '').matchAll(/```[\s\S]*?```/g)].map((match) => match[0]);
}

if (require.main === module) {
  writeFileSync(GUIDE, renderGuide(readFileSync(GUIDE, 'utf8')));
  console.log('docs/partners.md: snippets refilled from examples/');
}
