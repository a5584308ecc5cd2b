import { versionInForce, versionWindows } from '../../src/policies/policy-timeline';
import { restrictionReasons, RestrictingRules } from '../../src/policies/restriction';
import { CompiledPolicy, versionsAt } from '../../src/decisions/engine/types';

const day = (n: number) => Date.UTC(2026, 0, n);
const version = (id: number, from: number, until: number | null = null) => ({
  id,
  number: id,
  effectiveFrom: from,
  effectiveUntil: until,
});

describe('versionWindows', () => {
  it('hands over from each version to the next at its effectiveFrom', () => {
    expect(versionWindows([version(1, day(1)), version(2, day(10))], null)).toEqual([
      { versionId: 1, from: day(1), until: day(10) },
      { versionId: 2, from: day(10), until: null },
    ]);
  });

  it('lets a later version with an earlier effectiveFrom replace an older one entirely', () => {
    expect(versionWindows([version(1, day(5)), version(2, day(3))], null)).toEqual([
      { versionId: 2, from: day(3), until: null },
    ]);
  });

  it('does not bring an older version back after a newer one ends, and stops at retirement', () => {
    const versions = [version(1, day(1)), version(2, day(10), day(20))];
    expect(versionInForce(versions, null, day(25))).toBeNull();
    expect(versionInForce(versions, null, day(15))).toBe(2);
    expect(versionInForce(versions, day(12), day(15))).toBeNull();
    expect(versionInForce(versions, day(12), day(11))).toBe(2);
    expect(versionInForce(versions, null, day(1) - 1)).toBeNull();
  });

  it('keeps a scheduled version pending until its instant, then in force', () => {
    const versions = [version(1, day(1)), version(2, day(30))];
    expect(versionInForce(versions, null, day(30) - 1)).toBe(1);
    expect(versionInForce(versions, null, day(30))).toBe(2);
  });
});

describe('restrictionReasons', () => {
  const base: RestrictingRules = {
    action: 'REVIEW',
    mode: 'ENFORCE',
    priority: 1,
    effectiveFrom: new Date(day(1)),
    effectiveUntil: new Date(day(100)),
    regionCodes: ['UA'],
    productScope: ['AR-5'],
  };
  const parentOf = (code: string) => (code.includes('-') ? code.split('-')[0] : null);

  it.each<[string, Partial<RestrictingRules>, string[]]>([
    ['texts only', {}, []],
    ['a subdivision of a covered country', { regionCodes: ['UA', 'UA-43'] }, []],
    ['every model instead of one', { productScope: [] as string[] }, ['WIDER_PRODUCT_SCOPE']],
    ['MONITOR', { mode: 'MONITOR', action: 'LOCK', regionCodes: ['UA', 'CU'] }, []],
    ['an open effectiveFrom', { effectiveFrom: null }, []],
    ['a later effectiveFrom', { effectiveFrom: new Date(day(5)) }, []],
    ['an earlier effectiveUntil', { effectiveUntil: new Date(day(50)) }, []],
    [
      'everything wider',
      {
        action: 'LOCK',
        priority: 2,
        regionCodes: ['CU'],
        productScope: ['AR-5', 'AR-7'],
        effectiveFrom: new Date(day(0)),
        effectiveUntil: null,
      },
      [
        'ACTION_TO_LOCK',
        'WIDER_REGIONS',
        'WIDER_PRODUCT_SCOPE',
        'EARLIER_EFFECTIVE_FROM',
        'LATER_EFFECTIVE_UNTIL',
        'HIGHER_PRIORITY',
      ],
    ],
  ])('%s', (_name, change, reasons) => {
    expect(restrictionReasons(base, { ...base, ...change }, parentOf)).toEqual(reasons);
  });

  it('counts a first ENFORCE activation and MONITOR becoming ENFORCE', () => {
    expect(restrictionReasons(null, base, parentOf)).toEqual(['NEW_ENFORCING_POLICY']);
    expect(restrictionReasons(null, { ...base, mode: 'MONITOR' }, parentOf)).toEqual([]);
    expect(restrictionReasons({ ...base, mode: 'MONITOR' }, base, parentOf)).toEqual(['MODE_TO_ENFORCE']);
  });
});

describe('versionsAt', () => {
  const compiled = (versionId: number, from: number, until: number | null, policyKey = 'p'): CompiledPolicy => ({
    versionId,
    policyKey,
    versionNumber: versionId,
    action: 'LOCK',
    mode: 'ENFORCE',
    priority: 0,
    effectiveFrom: from,
    effectiveUntil: until,
    regionCodes: new Set(['CU']),
    modelCodes: null,
  });
  const versions = [compiled(1, day(1), day(10)), compiled(2, day(10), day(20)), compiled(3, day(30), null, 'q')];

  it('weighs one version per policy: the one in force, else the latest, never past and future side by side', () => {
    expect(versionsAt(versions, day(5)).map((policy) => policy.versionId)).toEqual([1, 3]);
    expect(versionsAt(versions, day(15)).map((policy) => policy.versionId)).toEqual([2, 3]);
    // Between windows (after the last ended) the latest explains why nothing applies.
    expect(versionsAt(versions, day(25)).map((policy) => policy.versionId)).toEqual([2, 3]);
    expect(versionsAt(versions, day(0)).map((policy) => policy.versionId)).toEqual([2, 3]);
  });
});
