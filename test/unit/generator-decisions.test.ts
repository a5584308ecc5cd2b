import seedrandom from 'seedrandom';
import { readEvidenceSettings } from '../../src/config';
import { compiledSeedPolicy, seedRegionDirectory } from '../../src/decisions/engine-from-seeds';
import { loadStaticData } from '../../src/decisions/static-data';
import { loadCountryCodes, loadSubdivisionBoundaries } from '../../src/decisions/reference-data';
import { DecisionEngine, EngineData } from '../../src/decisions/engine/engine';
import { DEFAULT_MAX_GPS_ACCURACY_METERS } from '../../src/decisions/engine/signal-readers';
import { CompiledExemption, CompiledPolicy, DeviceFacts, Signals } from '../../src/decisions/engine/types';
import { DecisionMemo } from '../../src/decisions/engine/decision-memo';
import { GeoLocator } from '../../src/decisions/engine/geo-locator';
import { PLACE_SPREAD_DEGREES, PlaceLocator } from '../../src/seeding/place-locator';
import { places } from '../../src/seeding/places';

/*
 * The seed generator's and the what-if replay's shortcuts must give the engine's answers exactly:
 * the quadtree locators (the places' and the world's, boundary-cells.ts) the region point-in-polygon
 * tests give for every point, the decision memo the engine's decision for every attempt.
 */

const random = seedrandom('generator-decisions');
const around = (centre: number) => Number((centre + (random() - 0.5) * 2 * PLACE_SPREAD_DEGREES).toFixed(5));

describe('the generator locator', () => {
  const real = loadStaticData().locator;
  // The demo's places lie inland or in their territorial waters, far from borders; these lie on
  // borders, where the quadtree has to cut: Detroit and Windsor, Geneva, Tijuana, the Strait of Dover.
  const centres = [
    ...places,
    { name: 'Detroit', latitude: 42.32, longitude: -83.04 },
    { name: 'Geneva', latitude: 46.2, longitude: 6.1 },
    { name: 'Tijuana', latitude: 32.54, longitude: -117.03 },
    { name: 'Strait of Dover', latitude: 51.0, longitude: 1.45 },
  ];
  const fast = new PlaceLocator(centres, loadSubdivisionBoundaries(), loadCountryCodes());

  it('answers as the engine locator does for points spread around every place, coasts and borders included', () => {
    const differences: string[] = [];
    const regions = new Set<string | null>();
    for (const place of centres) {
      // Each place's corners and edges too, where the quadtree's root ends.
      const points: [number, number][] = [
        [place.latitude - PLACE_SPREAD_DEGREES, place.longitude - PLACE_SPREAD_DEGREES],
        [place.latitude + PLACE_SPREAD_DEGREES, place.longitude + PLACE_SPREAD_DEGREES],
        [place.latitude, place.longitude + PLACE_SPREAD_DEGREES],
      ];
      for (let index = 0; index < 3_000; index += 1) points.push([around(place.latitude), around(place.longitude)]);
      // The hard cases, next to a border or coast: between two points answered differently, the
      // crossing found by bisection, and the points of the 5-decimal grid around it.
      for (let index = 1; index < 3_000; index += 1) {
        let [a, b] = [points[index - 1], points[index]];
        if (real.locateExactly(...a) === real.locateExactly(...b)) continue;
        for (let step = 0; step < 30; step += 1) {
          const middle: [number, number] = [(a[0] + b[0]) / 2, (a[1] + b[1]) / 2];
          if (real.locateExactly(...middle) === real.locateExactly(...a)) a = middle;
          else b = middle;
        }
        for (const dLatitude of [-1e-5, 0, 1e-5])
          for (const dLongitude of [-1e-5, 0, 1e-5])
            points.push([Number((a[0] + dLatitude).toFixed(5)), Number((a[1] + dLongitude).toFixed(5))]);
      }
      for (const [latitude, longitude] of points) {
        const expected = real.locateExactly(latitude, longitude);
        regions.add(expected);
        for (const [name, locator] of [
          ['places', fast],
          ['world', real],
        ] as const) {
          const found = locator.locate(latitude, longitude);
          if (found !== expected)
            differences.push(`${name} ${place.name} ${latitude},${longitude}: ${found} for ${expected}`);
        }
      }
    }
    expect(differences).toEqual([]);
    for (const code of ['US', 'CA', 'CH', 'FR', 'MX', 'GB', 'UA-43', 'UA-40']) expect(regions).toContain(code);
  });

  it('locates points away from every place the usual way', () => {
    for (const [latitude, longitude] of [
      [59.3293, 18.0686],
      [0, -30],
      [44.95, 34.1],
      [-33.9, 18.4],
    ] as const)
      expect(fast.locate(latitude, longitude)).toBe(real.locateExactly(latitude, longitude));
  });

  it('answers anywhere in the world as point-in-polygon tests do, on every border crossed between random points', () => {
    const world = new GeoLocator(loadSubdivisionBoundaries(), loadCountryCodes());
    const points: [number, number][] = [];
    for (let index = 0; index < 4_000; index += 1)
      points.push([Number(((random() - 0.5) * 160).toFixed(5)), Number(((random() - 0.5) * 360).toFixed(5))]);
    // Neighbours 0.5° apart, and where their answers differ the crossing and the 5-decimal grid around it.
    for (let index = 0; index < 1_500; index += 1) {
      const [latitude, longitude] = points[index];
      let a: [number, number] = [latitude, longitude];
      let b: [number, number] = [latitude + 0.5, longitude + 0.5];
      points.push(b);
      if (world.locateExactly(...a) === world.locateExactly(...b)) continue;
      for (let step = 0; step < 30; step += 1) {
        const middle: [number, number] = [(a[0] + b[0]) / 2, (a[1] + b[1]) / 2];
        if (world.locateExactly(...middle) === world.locateExactly(...a)) a = middle;
        else b = middle;
      }
      for (const dLatitude of [-1e-5, 0, 1e-5])
        for (const dLongitude of [-1e-5, 0, 1e-5])
          points.push([Number((a[0] + dLatitude).toFixed(5)), Number((a[1] + dLongitude).toFixed(5))]);
    }
    const differences: string[] = [];
    const regions = new Set<string | null>();
    // Twice: the first asks cut the cells, the second walks them.
    for (let round = 0; round < 2; round += 1)
      for (const [latitude, longitude] of points) {
        const expected = world.locateExactly(latitude, longitude);
        regions.add(expected);
        const found = world.locate(latitude, longitude);
        if (found !== expected) differences.push(`${latitude},${longitude}: ${found} for ${expected}`);
      }
    expect(differences).toEqual([]);
    expect(regions.size).toBeGreaterThan(40);
  });
});

describe('the generator decision memo', () => {
  const day = 86_400_000;
  const start = Date.parse('2026-06-01T00:00:00Z');
  const switchover = start + 20 * day;
  const exemptionEnds = start + 35 * day;
  // Rules using everything a decision depends on: versions with windows, monitor mode, a model
  // scope, exemptions of a device (expiring) and of a partner.
  const policies: CompiledPolicy[] = [
    compiledSeedPolicy(),
    {
      versionId: 11,
      policyKey: 'russia-review',
      versionNumber: 1,
      action: 'REVIEW',
      mode: 'ENFORCE',
      priority: 5,
      effectiveFrom: start,
      effectiveUntil: switchover,
      regionCodes: new Set(['RU']),
      modelCodes: null,
    },
    {
      versionId: 12,
      policyKey: 'russia-review',
      versionNumber: 2,
      action: 'LOCK',
      mode: 'MONITOR',
      priority: 5,
      effectiveFrom: switchover,
      effectiveUntil: null,
      regionCodes: new Set(['RU', 'TR']),
      modelCodes: null,
    },
    {
      versionId: 21,
      policyKey: 'models-in-india',
      versionNumber: 1,
      action: 'LOCK',
      mode: 'ENFORCE',
      priority: 1,
      effectiveFrom: start + 10 * day,
      effectiveUntil: start + 50 * day,
      regionCodes: new Set(['IN']),
      modelCodes: new Set(['PX-1']),
    },
  ];
  const exemptions: CompiledExemption[] = [
    {
      reference: 'RXhlbXB0aW9uOjE=',
      policyKey: 'models-in-india',
      deviceId: 7,
      partnerId: null,
      expiresAt: exemptionEnds,
    },
    { reference: 'RXhlbXB0aW9uOjI=', policyKey: 'russia-review', deviceId: null, partnerId: 3, expiresAt: null },
  ];
  const data: EngineData = {
    regions: seedRegionDirectory(),
    ...loadStaticData(),
    policies,
    exemptions,
    maxGpsAccuracyMeters: DEFAULT_MAX_GPS_ACCURACY_METERS,
    ...readEvidenceSettings({}),
  };
  const engine = new DecisionEngine(data);
  // As the generator builds it: the engine on the same data with the generator's locator.
  const memo = new DecisionMemo(
    new DecisionEngine({ ...data, locator: new PlaceLocator(places, loadSubdivisionBoundaries(), loadCountryCodes()) }),
    data,
  );
  const networks = ['310', '250', '255', '432', '368', '404', '286', '999'];
  const instants = [start, switchover - 1, switchover, exemptionEnds - 1, exemptionEnds, start + 10 * day];

  it('decides every attempt as the engine does', () => {
    const differences: string[] = [];
    const locks = new Map<number, number | null>();
    const kinds = new Set<string>();
    for (let index = 0; index < 20_000; index += 1) {
      const place = places[Math.floor(random() * places.length)];
      const signals: Signals = {
        gps:
          random() < 0.85
            ? {
                latitude: around(place.latitude),
                longitude: around(place.longitude),
                accuracyMeters: random() < 0.05 ? 9_000 : Math.round(5 + random() * 60),
              }
            : null,
        sim:
          random() < 0.9
            ? {
                mcc: networks[Math.floor(random() * networks.length)],
                mnc: String(1 + Math.floor(random() * 20)).padStart(2, '0'),
              }
            : null,
        ipCountry: random() < 0.9 ? place.regionCode.slice(0, 2) : null,
      };
      const deviceId = 1 + Math.floor(random() * 12);
      const device: DeviceFacts = {
        deviceId,
        modelCode: random() < 0.5 ? 'PX-1' : 'PX-2',
        partnerId: 1 + Math.floor(random() * 4),
        locked: locks.has(deviceId),
        lockedByVersionId: locks.get(deviceId) ?? null,
      };
      const occurredAt = new Date(
        random() < 0.2 ? instants[Math.floor(random() * instants.length)] : start + Math.floor(random() * 60 * day),
      );
      const expected = engine.decide(signals, device, occurredAt);
      const found = memo.decide(signals, device, occurredAt);
      const fields = (decision: typeof expected) => [
        decision.outcome,
        decision.enforced,
        decision.regionCode,
        decision.regionSource,
        decision.policyVersionId,
        decision.reasonCodes,
      ];
      if (JSON.stringify(fields(found)) !== JSON.stringify(fields(expected)))
        differences.push(`${JSON.stringify([signals, device, occurredAt])}: ${JSON.stringify(fields(found))}`);
      kinds.add(expected.reasonCodes[0]);
      if (expected.outcome === 'LOCK' && expected.enforced && !device.locked)
        locks.set(deviceId, expected.policyVersionId);
      if (random() < 0.05) locks.delete(deviceId);
    }
    expect(differences).toEqual([]);
    // The comparison covered every kind of decision the rules make.
    expect([...kinds].sort()).toEqual(
      expect.arrayContaining([
        'DEVICE_ALREADY_LOCKED',
        'EXEMPT',
        'IP_COUNTRY_ONLY',
        'MONITOR_ONLY',
        'NO_POLICY_APPLIES',
        'POLICY_APPLIES',
        'SIGNALS_DISAGREE',
      ]),
    );
  });
});
