/**
 * The rules about evidence that cannot be taken at face value (README's decision table): mocked
 * and stale fixes, the serving cell, impossible travel. Each threshold is tested on both sides.
 */
import { distanceKm, impliedSpeedKmh } from '../../src/decisions/engine/travel';
import { DeviceFacts, NeighbourFix, Signals } from '../../src/decisions/engine/types';
import { device, engineWith, exportPolicy } from '../support/engine';

const NOW = new Date('2026-11-20T12:00:00Z');
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const engine = engineWith();

const SIMFEROPOL = { latitude: 44.9521, longitude: 34.1024, accuracyMeters: 20 };
const KYIV = { latitude: 50.4501, longitude: 30.5234, accuracyMeters: 20 };
const HAVANA = { latitude: 23.1136, longitude: -82.3666, accuracyMeters: 12 };
const BERLIN = { latitude: 52.52, longitude: 13.405, accuracyMeters: null };
const MOSCOW = { latitude: 55.7558, longitude: 37.6173, accuracyMeters: null };
/** K-Telecom / Win Mobile: operating only in Crimea, under Russia's MCC. */
const CRIMEAN_NETWORK = { mcc: '250', mnc: '32' };
/** MTS Russia: a nationwide Russian network. */
const RUSSIAN_NETWORK = { mcc: '250', mnc: '01' };
const GERMAN_NETWORK = { mcc: '262', mnc: '01' };
const CUBAN_NETWORK = { mcc: '368', mnc: '01' };
const UKRAINIAN_NETWORK = { mcc: '255', mnc: '01' };

const ago = (milliseconds: number) => new Date(NOW.getTime() - milliseconds);
const summary = (signals: Signals, facts: DeviceFacts = device) => {
  const decision = engine.decide(signals, facts, NOW);
  return {
    outcome: decision.outcome,
    region: decision.regionCode,
    source: decision.regionSource,
    reasons: decision.reasonCodes,
  };
};

describe('rule 1: a mocked fix neither decides nor clears, and is never dropped silently', () => {
  it.each<[string, Signals, ReturnType<typeof summary>]>([
    [
      'mocked, inside Crimea, nothing else',
      { gps: { ...SIMFEROPOL, mock: true } },
      { outcome: 'REVIEW', region: null, source: 'NONE', reasons: ['GPS_MOCKED', 'NO_USABLE_SIGNAL'] },
    ],
    [
      'mocked, outside (Kyiv), nothing else',
      { gps: { ...KYIV, mock: true } },
      { outcome: 'REVIEW', region: null, source: 'NONE', reasons: ['GPS_MOCKED', 'NO_USABLE_SIGNAL'] },
    ],
    [
      'mocked in Kyiv, a Crimean SIM: the SIM decides (the fix does not clear)',
      { gps: { ...KYIV, mock: true }, sim: CRIMEAN_NETWORK },
      {
        outcome: 'LOCK',
        region: 'UA-43',
        source: 'SIM',
        reasons: [
          'POLICY_APPLIES',
          'POLICY:export-restricted-territories',
          'VERSION:1',
          'REGION:UA-43',
          'SOURCE:SIM',
          'GPS_MOCKED',
        ],
      },
    ],
    [
      'mocked in Kyiv, a Crimean serving cell: the cell decides',
      { gps: { ...KYIV, mock: true }, cell: CRIMEAN_NETWORK },
      {
        outcome: 'LOCK',
        region: 'UA-43',
        source: 'CELL',
        reasons: expect.arrayContaining(['POLICY_APPLIES', 'SOURCE:CELL', 'GPS_MOCKED']),
      },
    ],
    [
      'mocked in Crimea, a German SIM: the SIM decides (the fix does not lock either)',
      { gps: { ...SIMFEROPOL, mock: true }, sim: GERMAN_NETWORK },
      {
        outcome: 'ALLOW',
        region: 'DE',
        source: 'SIM',
        reasons: ['NO_POLICY_APPLIES', 'REGION:DE', 'SOURCE:SIM', 'GPS_MOCKED'],
      },
    ],
    [
      'mocked in Crimea, only an IP country: at most a review',
      { gps: { ...SIMFEROPOL, mock: true }, ipCountry: 'UA' },
      {
        outcome: 'ALLOW',
        region: 'UA',
        source: 'IP',
        reasons: ['NO_POLICY_APPLIES', 'REGION:UA', 'SOURCE:IP', 'GPS_MOCKED'],
      },
    ],
    [
      'mock: false is an ordinary fix',
      { gps: { ...SIMFEROPOL, mock: false } },
      { outcome: 'LOCK', region: 'UA-43', source: 'GPS', reasons: expect.arrayContaining(['POLICY_APPLIES']) },
    ],
  ])('%s', (_name, signals, expected) => {
    expect(summary(signals)).toEqual(expected);
  });

  it('keeps the mocked fix in the evidence with the region it claimed', () => {
    const [reading] = engine.decide({ gps: { ...SIMFEROPOL, mock: true } }, device, NOW).readings;
    expect(reading).toMatchObject({
      source: 'GPS',
      regionCode: 'UA-43',
      usable: false,
      assessment: 'MOCKED',
      finding: 'GPS_MOCKED',
    });
  });

  it('names the mocked fix on a locked device too', () => {
    const locked = { ...device, locked: true, lockedByVersionId: 1 };
    expect(summary({ gps: { ...KYIV, mock: true } }, locked).reasons).toEqual(['DEVICE_ALREADY_LOCKED', 'GPS_MOCKED']);
  });
});

describe('rule 2: a fix taken more than STALE_FIX_MINUTES (60) before the attempt does not decide', () => {
  it.each<[string, number, Signals['sim'], ReturnType<typeof summary>]>([
    [
      '59 minutes old, in Havana: decides',
      59,
      null,
      { outcome: 'LOCK', region: 'CU', source: 'GPS', reasons: expect.arrayContaining(['POLICY_APPLIES']) },
    ],
    ['60 minutes old: still decides (more than 60 is stale)', 60, null, expect.objectContaining({ source: 'GPS' })],
    [
      '61 minutes old, nothing else: review',
      61,
      null,
      { outcome: 'REVIEW', region: null, source: 'NONE', reasons: ['GPS_STALE', 'NO_USABLE_SIGNAL'] },
    ],
    [
      '61 minutes old, a German SIM: the SIM decides',
      61,
      GERMAN_NETWORK,
      {
        outcome: 'ALLOW',
        region: 'DE',
        source: 'SIM',
        reasons: ['NO_POLICY_APPLIES', 'REGION:DE', 'SOURCE:SIM', 'GPS_STALE'],
      },
    ],
    [
      '61 minutes old, a Cuban SIM: the SIM decides',
      61,
      CUBAN_NETWORK,
      { outcome: 'LOCK', region: 'CU', source: 'SIM', reasons: expect.arrayContaining(['SOURCE:SIM', 'GPS_STALE']) },
    ],
  ])('%s', (_name, minutes, sim, expected) => {
    expect(summary({ gps: { ...HAVANA, fixedAt: ago(minutes * MINUTE) }, sim })).toEqual(expected);
  });

  it('reads a stored fix time (ISO text, as replays hand it in) like a live one', () => {
    const stale = engine.decide({ gps: { ...HAVANA, fixedAt: ago(61 * MINUTE).toISOString() } }, device, NOW);
    expect(stale.readings[0]).toMatchObject({ assessment: 'STALE', finding: 'GPS_STALE', regionCode: 'CU' });
    expect(stale.readings[0].detail).toMatch(/61 min before the attempt/);
  });

  it('uses occurredAt when the fix has no time of its own', () => {
    expect(summary({ gps: HAVANA }).source).toBe('GPS');
  });
});

describe('rule 3: the serving cell ranks after a usable fix and before the SIM', () => {
  it.each<[string, Signals, Partial<ReturnType<typeof summary>>]>([
    [
      'a Crimean serving network alone: Crimea',
      { cell: CRIMEAN_NETWORK },
      { outcome: 'LOCK', region: 'UA-43', source: 'CELL' },
    ],
    [
      'a Russian nationwide serving network alone: Russia',
      { cell: RUSSIAN_NETWORK },
      { outcome: 'ALLOW', region: 'RU', source: 'CELL' },
    ],
    [
      'a Crimean cell beats a Ukrainian SIM (related regions: roaming at home)',
      { cell: CRIMEAN_NETWORK, sim: UKRAINIAN_NETWORK },
      { outcome: 'LOCK', region: 'UA-43', source: 'CELL' },
    ],
    [
      'a Russian cell and a Crimean SIM disagree about a restricted region',
      { cell: RUSSIAN_NETWORK, sim: CRIMEAN_NETWORK },
      { outcome: 'REVIEW', region: 'RU', source: 'CELL' },
    ],
    [
      'a usable fix in Kyiv and a Crimean cell disagree: review',
      { gps: KYIV, cell: CRIMEAN_NETWORK },
      { outcome: 'REVIEW', region: 'UA', source: 'GPS' },
    ],
    [
      'a usable fix in Simferopol and a Russian nationwide cell disagree: review, not lock',
      { gps: SIMFEROPOL, cell: RUSSIAN_NETWORK },
      { outcome: 'REVIEW', region: 'UA-43', source: 'GPS' },
    ],
    [
      'a usable fix in Simferopol and a Crimean cell agree: lock',
      { gps: SIMFEROPOL, cell: CRIMEAN_NETWORK },
      { outcome: 'LOCK', region: 'UA-43', source: 'GPS' },
    ],
    [
      'a fix in Berlin and a German cell: allow',
      { gps: BERLIN, cell: GERMAN_NETWORK },
      { outcome: 'ALLOW', source: 'GPS' },
    ],
    [
      'an unknown serving network is unresolved: the SIM decides',
      { cell: { mcc: '999', mnc: '99' }, sim: CUBAN_NETWORK },
      { outcome: 'LOCK', region: 'CU', source: 'SIM' },
    ],
  ])('%s', (_name, signals, expected) => {
    expect(summary(signals)).toMatchObject(expected);
  });

  it('names the disagreeing signals in the reasons', () => {
    expect(summary({ gps: KYIV, cell: CRIMEAN_NETWORK }).reasons.slice(0, 3)).toEqual([
      'CELL_DISAGREES',
      'GPS:UA',
      'CELL:UA-43',
    ]);
    expect(summary({ cell: RUSSIAN_NETWORK, sim: CRIMEAN_NETWORK }).reasons.slice(0, 3)).toEqual([
      'SIGNALS_DISAGREE',
      'CELL:RU',
      'SIM:UA-43',
    ]);
    expect(summary({ cell: CRIMEAN_NETWORK }).reasons).toContain('SOURCE:CELL');
  });

  it('reads a serving network with the finding and detail of a serving network', () => {
    const [reading] = engine.decide({ cell: CRIMEAN_NETWORK }, device, NOW).readings;
    expect(reading).toMatchObject({
      source: 'CELL',
      regionCode: 'UA-43',
      usable: true,
      assessment: 'USABLE',
      finding: 'CELL_SUBDIVISION_NETWORK',
    });
    expect(reading.detail).toMatch(/^serving network: 250-32 is .* operating only in UA-43$/);
  });
});

describe('rule 4: impossible travel (IMPOSSIBLE_TRAVEL_KMH, 1,000 km/h)', () => {
  const BERLIN_TO_MOSCOW_KM = distanceKm(BERLIN, MOSCOW);
  /** A device whose neighbouring fix was in Berlin, as long before (or after) this attempt as flying at `kmh` takes. */
  const cameFromBerlinAt = (kmh: number, after = false): DeviceFacts => {
    const elapsed = (BERLIN_TO_MOSCOW_KM / kmh) * HOUR;
    const neighbour: NeighbourFix = {
      latitude: BERLIN.latitude,
      longitude: BERLIN.longitude,
      fixedAt: NOW.getTime() + (after ? elapsed : -elapsed),
      uncertaintyMeters: 0,
    };
    return { ...device, neighbourFixes: [neighbour] };
  };

  it('computes the distance it judges by', () => {
    expect(BERLIN_TO_MOSCOW_KM).toBeGreaterThan(1_600);
    expect(BERLIN_TO_MOSCOW_KM).toBeLessThan(1_620);
  });

  it.each<[string, Signals, DeviceFacts, ReturnType<typeof summary>]>([
    [
      '990 km/h from Berlin to Moscow: the fix decides',
      { gps: MOSCOW },
      cameFromBerlinAt(990),
      { outcome: 'ALLOW', region: 'RU', source: 'GPS', reasons: ['NO_POLICY_APPLIES', 'REGION:RU', 'SOURCE:GPS'] },
    ],
    [
      '1,010 km/h from Berlin to Moscow: review',
      { gps: MOSCOW },
      cameFromBerlinAt(1_010),
      { outcome: 'REVIEW', region: null, source: 'NONE', reasons: ['IMPOSSIBLE_TRAVEL', 'GPS:RU'] },
    ],
    [
      '1,010 km/h to the next fix (a late attempt compared with its later neighbour): review',
      { gps: MOSCOW },
      cameFromBerlinAt(1_010, true),
      { outcome: 'REVIEW', region: null, source: 'NONE', reasons: ['IMPOSSIBLE_TRAVEL', 'GPS:RU'] },
    ],
    [
      '990 km/h to the next fix: the fix decides',
      { gps: MOSCOW },
      cameFromBerlinAt(990, true),
      expect.objectContaining({ outcome: 'ALLOW', source: 'GPS' }),
    ],
    [
      '1,010 km/h with a German SIM: the SIM would allow, the journey cannot: review',
      { gps: MOSCOW, sim: GERMAN_NETWORK },
      cameFromBerlinAt(1_010),
      {
        outcome: 'REVIEW',
        region: 'DE',
        source: 'SIM',
        reasons: ['IMPOSSIBLE_TRAVEL', 'GPS:RU', 'REGION:DE', 'SOURCE:SIM'],
      },
    ],
    [
      '1,010 km/h with a Cuban SIM: an enforced policy locks on the other evidence',
      { gps: MOSCOW, sim: CUBAN_NETWORK },
      cameFromBerlinAt(1_010),
      {
        outcome: 'LOCK',
        region: 'CU',
        source: 'SIM',
        reasons: expect.arrayContaining(['POLICY_APPLIES', 'SOURCE:SIM', 'IMPOSSIBLE_TRAVEL']),
      },
    ],
    [
      '1,010 km/h into Crimea with nothing else: review, not lock',
      { gps: SIMFEROPOL },
      { ...device, neighbourFixes: [{ ...KYIV, fixedAt: NOW.getTime() - MINUTE, uncertaintyMeters: 0 }] },
      { outcome: 'REVIEW', region: null, source: 'NONE', reasons: ['IMPOSSIBLE_TRAVEL', 'GPS:UA-43'] },
    ],
  ])('%s', (_name, signals, facts, expected) => {
    expect(summary(signals, facts)).toEqual(expected);
  });

  it('keeps the implied speed in the evidence', () => {
    const [reading] = engine.decide({ gps: MOSCOW }, cameFromBerlinAt(1_010), NOW).readings;
    expect(reading).toMatchObject({ assessment: 'IMPOSSIBLE_TRAVEL', usable: false, regionCode: 'RU' });
    expect(reading.speedKmh).toBeCloseTo(1_010, 6);
    expect(reading.detail).toMatch(/implies 1010 km\/h, more than the 1000 km\/h possible/);
    const [honest] = engine.decide({ gps: MOSCOW }, cameFromBerlinAt(990), NOW).readings;
    expect(honest).toMatchObject({ assessment: 'USABLE', usable: true });
    expect(honest.speedKmh).toBeCloseTo(990, 6);
  });

  it('ignores neighbours more than a day away, and takes the uncertainty of positions off the distance', () => {
    const dayAndMinuteAgo = NOW.getTime() - 24 * HOUR - MINUTE;
    expect(
      impliedSpeedKmh({ ...MOSCOW, fixedAt: NOW.getTime(), uncertaintyMeters: 0 }, [
        { ...BERLIN, fixedAt: dayAndMinuteAgo, uncertaintyMeters: 0 },
      ]),
    ).toBeNull();
    // 5 km apart within a minute is 300 km/h; within 5 km of uncertainty it is no travel at all.
    const here = { latitude: 52.52, longitude: 13.405 };
    const there = { latitude: 52.52 + 5 / 111.2, longitude: 13.405 };
    expect(
      impliedSpeedKmh({ ...here, fixedAt: NOW.getTime(), uncertaintyMeters: 0 }, [
        { ...there, fixedAt: NOW.getTime() - MINUTE, uncertaintyMeters: 0 },
      ]),
    ).toBeCloseTo(300, 0);
    expect(
      impliedSpeedKmh({ ...here, fixedAt: NOW.getTime(), uncertaintyMeters: 2_600 }, [
        { ...there, fixedAt: NOW.getTime() - MINUTE, uncertaintyMeters: 2_600 },
      ]),
    ).toBe(0);
    // Two places at the same instant.
    expect(
      impliedSpeedKmh({ ...MOSCOW, fixedAt: NOW.getTime(), uncertaintyMeters: 0 }, [
        { ...BERLIN, fixedAt: NOW.getTime(), uncertaintyMeters: 0 },
      ]),
    ).toBe(Infinity);
  });

  it('does not judge a mocked or stale fix for travel (it decides nothing anyway)', () => {
    expect(summary({ gps: { ...MOSCOW, mock: true } }, cameFromBerlinAt(1_010)).reasons).toEqual([
      'GPS_MOCKED',
      'NO_USABLE_SIGNAL',
    ]);
    expect(summary({ gps: { ...MOSCOW, fixedAt: ago(2 * HOUR) } }, cameFromBerlinAt(1_010)).reasons).toEqual([
      'GPS_STALE',
      'NO_USABLE_SIGNAL',
    ]);
  });

  it('replays a recorded attempt by the speed recorded with it (what-if), on either side of the limit', () => {
    expect(summary({ gps: MOSCOW }, { ...device, recordedSpeedKmh: 1_010 }).reasons[0]).toBe('IMPOSSIBLE_TRAVEL');
    expect(summary({ gps: MOSCOW }, { ...device, recordedSpeedKmh: 990 }).outcome).toBe('ALLOW');
  });
});

describe('rule 5: everything else as before', () => {
  it('decides attempts without the new signals exactly as before', () => {
    const old = engine.decide({ gps: HAVANA, sim: CUBAN_NETWORK, ipCountry: 'CU' }, device, NOW);
    expect(old.reasonCodes).toEqual([
      'POLICY_APPLIES',
      'POLICY:export-restricted-territories',
      'VERSION:1',
      'REGION:CU',
      'SOURCE:GPS',
    ]);
  });

  it('records a MONITOR policy on a cell without enforcing it', () => {
    const monitor = engineWith([{ ...exportPolicy, mode: 'MONITOR' }]);
    expect(monitor.decide({ cell: CRIMEAN_NETWORK }, device, NOW)).toMatchObject({
      outcome: 'LOCK',
      enforced: false,
      regionSource: 'CELL',
    });
  });

  it('never locks on the IP country alone, with a mocked fix beside it', () => {
    expect(summary({ gps: { ...KYIV, mock: true }, ipCountry: 'CU' })).toMatchObject({
      outcome: 'REVIEW',
      reasons: expect.arrayContaining(['IP_COUNTRY_ONLY', 'GPS_MOCKED']),
    });
  });
});
