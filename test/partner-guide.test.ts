/** docs/partners.md shows only code from the tested examples, as it is there now. */
import { readFileSync } from 'node:fs';
import { GUIDE, handTypedBlocks, region, renderGuide } from '../scripts/partner-guide';

const guide = readFileSync(GUIDE, 'utf8');

describe('the partner guide', () => {
  it('has every snippet as the example has it (run `npm run docs:partners`)', () => {
    expect(guide).toContain('<!-- snippet: ');
    expect(renderGuide(guide)).toBe(guide);
  });

  it('has no code block that is not taken from an example', () => {
    expect(handTypedBlocks(guide)).toEqual([]);
  });

  it('names a missing region instead of showing nothing', () => {
    expect(() => region('examples/partner-client/flows.ts', 'no-such-region')).toThrow(
      'examples/partner-client/flows.ts has no region no-such-region (#region no-such-region … #endregion no-such-region)',
    );
    const stale = guide.replace('if (!header) return false;', 'if (!header) return true;');
    expect(stale).not.toBe(guide);
    expect(renderGuide(stale)).toBe(guide);
  });
});
