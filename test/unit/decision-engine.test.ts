import { device, engineWith, exportPolicy, locator, networks } from '../support/engine';

const NOW = new Date('2026-11-20T12:00:00Z');
const engine = engineWith();
const gpsOnly = (latitude: number, longitude: number, accuracyMeters = 15) => ({
  gps: { latitude, longitude, accuracyMeters },
});

describe('GPS: every restricted territory and its neighbours, on both sides of each border', () => {
  it.each([
    // Crimea and its isthmus with Kherson oblast
    ['Simferopol', 44.9521, 34.1024, 'UA-43', 'LOCK'],
    ['Yalta pier', 44.4952, 34.1707, 'UA-43', 'LOCK'],
    ['Armyansk (Crimean side of the Perekop isthmus)', 46.1059, 33.6918, 'UA-43', 'LOCK'],
    ['Chaplynka (Kherson oblast, north of the isthmus)', 46.3664, 33.5356, 'UA', 'ALLOW'],
    ['Henichesk (Kherson oblast, by the Chonhar strait)', 46.1722, 34.8118, 'UA', 'ALLOW'],
    // Sevastopol (UA-40) and the rest of Crimea (UA-43): land by Natural Earth, water to the nearest shore
    ['Sevastopol, city centre', 44.6054, 33.5221, 'UA-40', 'LOCK'],
    ['Sevastopol bay (a boat in the harbour)', 44.6196, 33.56, 'UA-40', 'LOCK'],
    ['Balaklava harbour, on a boat', 44.4985, 33.5975, 'UA-40', 'LOCK'],
    ['Inkerman (Sevastopol, inland)', 44.6141, 33.6078, 'UA-40', 'LOCK'],
    ['Kacha (Sevastopol, north coast)', 44.7786, 33.5439, 'UA-40', 'LOCK'],
    ['Cape Fiolent (a beach below the cliffs)', 44.5009, 33.4866, 'UA-40', 'LOCK'],
    ['5 km off Sevastopol, at sea (territorial waters)', 44.62, 33.42, 'UA-40', 'LOCK'],
    ['Bakhchysarai (Crimea, north-east of Sevastopol)', 44.7517, 33.8606, 'UA-43', 'LOCK'],
    ['Sokolyne (Crimea, east of Sevastopol)', 44.551, 33.915, 'UA-43', 'LOCK'],
    ['Foros (Crimea, Yalta side of the boundary)', 44.3915, 33.7883, 'UA-43', 'LOCK'],
    ['Yevpatoria bay, on a boat', 45.185, 33.37, 'UA-43', 'LOCK'],
    // Kerch Strait: Kerch is Crimea, Taman across the strait is Russia
    ['Kerch', 45.3562, 36.4674, 'UA-43', 'LOCK'],
    ['Taman (Russia, across the Kerch Strait)', 45.2111, 36.7164, 'RU', 'ALLOW'],
    // Cuba and a neighbour
    ['Havana', 23.1136, -82.3666, 'CU', 'LOCK'],
    ['Havana harbour, on a boat', 23.1402, -82.3436, 'CU', 'LOCK'],
    ['Key West (United States)', 24.5551, -81.78, 'US', 'ALLOW'],
    // Iran and neighbours
    ['Tehran', 35.6892, 51.389, 'IR', 'LOCK'],
    ['Tabriz', 38.08, 46.2919, 'IR', 'LOCK'],
    ['Herat (Afghanistan)', 34.3529, 62.204, 'AF', 'ALLOW'],
    ['Van (Türkiye)', 38.5012, 43.373, 'TR', 'ALLOW'],
    // Syria and neighbours
    ['Damascus', 33.5138, 36.2765, 'SY', 'LOCK'],
    ['Aleppo', 36.2021, 37.1343, 'SY', 'LOCK'],
    ['Beirut (Lebanon)', 33.8938, 35.5018, 'LB', 'ALLOW'],
    ['Gaziantep (Türkiye)', 37.0662, 37.3833, 'TR', 'ALLOW'],
    // The two Koreas
    ['Pyongyang', 39.0392, 125.7625, 'KP', 'LOCK'],
    ['Kaesong (north of the line)', 37.9709, 126.5544, 'KP', 'LOCK'],
    ['Paju (south of the line)', 37.7599, 126.7802, 'KR', 'ALLOW'],
    ['Seoul', 37.5665, 126.978, 'KR', 'ALLOW'],
    ['Dandong (China, across the Yalu)', 40.1293, 124.3943, 'CN', 'ALLOW'],
    // Sudan and South Sudan: South Sudan is not Sudan
    ['Khartoum', 15.5007, 32.5599, 'SD', 'LOCK'],
    ['Kadugli (Sudan, near the border)', 11.0108, 29.7183, 'SD', 'LOCK'],
    ['Juba (South Sudan)', 4.8594, 31.5713, 'SS', 'ALLOW'],
    ['Malakal (South Sudan)', 9.5334, 31.6605, 'SS', 'ALLOW'],
  ])('%s', (_name, latitude, longitude, region, outcome) => {
    const decision = engine.decide(gpsOnly(latitude, longitude), device, NOW);
    expect({ region: decision.regionCode, outcome: decision.outcome, source: decision.regionSource }).toEqual({
      region,
      outcome,
      source: 'GPS',
    });
  });

  // The most specific ISO 3166-1 entity at the point: a dependent territory with a code of its own
  // is its own region, never its sovereign state; a feature without an ISO code (IC, EA, DG) is
  // the entity around it.
  it.each([
    ['Nuuk, Greenland', 64.1814, -51.6941, 'GL'],
    ['inland ice, Greenland', 72, -40, 'GL'],
    ['Tórshavn, Faroe Islands', 62.0107, -6.7741, 'FO'],
    ['George Town, Cayman Islands', 19.2866, -81.3744, 'KY'],
    ['Hamilton, Bermuda', 32.2949, -64.7814, 'BM'],
    ['Gibraltar', 36.1408, -5.3536, 'GI'],
    ['Douglas, Isle of Man', 54.15, -4.4833, 'IM'],
    ['St Helier, Jersey', 49.1858, -2.11, 'JE'],
    ['Jamestown, Saint Helena', -15.9244, -5.7181, 'SH'],
    ['Georgetown, Ascension (SH)', -7.9467, -14.3559, 'SH'],
    ['San Juan, Puerto Rico', 18.4655, -66.1057, 'PR'],
    ['Hagåtña, Guam', 13.4757, 144.7489, 'GU'],
    ['Charlotte Amalie, US Virgin Islands', 18.3419, -64.9307, 'VI'],
    ['Oranjestad, Aruba', 12.5186, -70.0358, 'AW'],
    ['Willemstad, Curaçao', 12.1091, -68.9316, 'CW'],
    ['Nouméa, New Caledonia', -22.2758, 166.458, 'NC'],
    ['Papeete, French Polynesia', -17.5516, -149.5585, 'PF'],
    ['Cayenne, French Guiana', 4.9224, -52.3135, 'GF'],
    ['Saint-Denis, Réunion', -20.8823, 55.4504, 'RE'],
    ['Mariehamn, Åland', 60.0973, 19.9348, 'AX'],
    ['Longyearbyen, Svalbard', 78.2232, 15.6267, 'SJ'],
    ['Hong Kong', 22.2793, 114.1628, 'HK'],
    ['Macao', 22.1987, 113.5439, 'MO'],
    ['Diego Garcia (IO)', -7.3195, 72.4229, 'IO'],
    ['Las Palmas, Canary Islands (ES)', 28.1235, -15.4363, 'ES'],
    ['Ceuta (ES)', 35.8894, -5.3213, 'ES'],
    ['Copenhagen, Denmark', 55.6761, 12.5683, 'DK'],
    ['London, United Kingdom', 51.5074, -0.1278, 'GB'],
    ['Paris, France', 48.8566, 2.3522, 'FR'],
  ])('resolves %s to %s', (_name, latitude, longitude, region) => {
    expect(locator.locate(latitude, longitude)).toBe(region);
  });

  it('resolves a point far out at sea to no region, and allows it', () => {
    expect(locator.locate(30, -40)).toBeNull();
    const decision = engine.decide(gpsOnly(30, -40), device, NOW);
    expect(decision).toMatchObject({ outcome: 'ALLOW', regionCode: null, reasonCodes: ['OUTSIDE_ANY_TERRITORY'] });
  });

  it('does not trust a fix less accurate than the limit, and falls back to the SIM', () => {
    const decision = engine.decide(
      { gps: { latitude: 44.95, longitude: 34.1, accuracyMeters: 20_000 }, sim: { mcc: '255', mnc: '01' } },
      device,
      NOW,
    );
    expect(decision.readings[0]).toMatchObject({ source: 'GPS', usable: false, finding: 'GPS_INACCURATE' });
    expect(decision).toMatchObject({ regionSource: 'SIM', regionCode: 'UA', outcome: 'ALLOW' });
  });
});

describe('SIM', () => {
  it.each([
    ['a Crimean operator (250-32) maps to Crimea, not Russia', { mcc: '250', mnc: '32' }, 'UA-43', 'LOCK'],
    ['Sevmobile (250-33)', { mcc: '250', mnc: '33' }, 'UA-43', 'LOCK'],
    ['Krymtelekom (250-34)', { mcc: '250', mnc: '34' }, 'UA-43', 'LOCK'],
    ['Volna mobile (250-60)', { mcc: '250', mnc: '60' }, 'UA-43', 'LOCK'],
    ['a Moscow operator (250-01) is Russia', { mcc: '250', mnc: '01' }, 'RU', 'ALLOW'],
    ['Cubacel (368-01)', { mcc: '368', mnc: '01' }, 'CU', 'LOCK'],
    ['an Iranian MCC without MNC', { mcc: '432' }, 'IR', 'LOCK'],
  ])('%s', (_name, sim, region, outcome) => {
    expect(engine.decide({ sim }, device, NOW)).toMatchObject({ regionCode: region, outcome, regionSource: 'SIM' });
  });

  it('treats an MCC shared by several countries without an MNC as unusable', () => {
    expect(networks.lookup('255')).toMatchObject({ regionCode: null, finding: 'SIM_AMBIGUOUS' });
    expect(engine.decide({ sim: { mcc: '255' } }, device, NOW)).toMatchObject({
      outcome: 'REVIEW',
      reasonCodes: ['NO_USABLE_SIGNAL'],
    });
  });
});

describe('combining signals', () => {
  it('reviews instead of locking when GPS and SIM disagree about a restricted region', () => {
    const inCrimeaWithUsSim = engine.decide(
      { ...gpsOnly(44.9521, 34.1024), sim: { mcc: '310', mnc: '410' } },
      device,
      NOW,
    );
    expect(inCrimeaWithUsSim).toMatchObject({ outcome: 'REVIEW', regionCode: 'UA-43' });
    expect(inCrimeaWithUsSim.reasonCodes.slice(0, 3)).toEqual(['SIGNALS_DISAGREE', 'GPS:UA-43', 'SIM:US']);
    const inGermanyWithCubanSim = engine.decide(
      { ...gpsOnly(52.52, 13.405), sim: { mcc: '368', mnc: '01' } },
      device,
      NOW,
    );
    expect(inGermanyWithCubanSim).toMatchObject({ outcome: 'REVIEW', regionCode: 'DE' });
  });

  it('locks when GPS and SIM agree, and ignores harmless disagreements', () => {
    expect(engine.decide({ ...gpsOnly(44.9521, 34.1024), sim: { mcc: '250', mnc: '32' } }, device, NOW).outcome).toBe(
      'LOCK',
    );
    expect(engine.decide({ ...gpsOnly(52.52, 13.405), sim: { mcc: '310', mnc: '410' } }, device, NOW).outcome).toBe(
      'ALLOW',
    );
  });

  it('never locks on the IP country alone', () => {
    const decision = engine.decide({ ipCountry: 'ir' }, device, NOW);
    expect(decision).toMatchObject({ outcome: 'REVIEW', regionCode: 'IR', regionSource: 'IP' });
    expect(decision.reasonCodes[0]).toBe('IP_COUNTRY_ONLY');
    expect(engine.decide({ ipCountry: 'FR' }, device, NOW).outcome).toBe('ALLOW');
  });

  it('reviews when no signal is usable', () => {
    for (const signals of [{}, { ipCountry: 'ZZ' }, { sim: { mcc: '999' } }]) {
      expect(engine.decide(signals, device, NOW)).toMatchObject({
        outcome: 'REVIEW',
        reasonCodes: ['NO_USABLE_SIGNAL'],
        regionSource: 'NONE',
      });
    }
  });

  it('explains every signal it saw and every policy it considered', () => {
    const decision = engine.decide(
      { ...gpsOnly(23.1136, -82.3666), sim: { mcc: '368', mnc: '01' }, ipCountry: 'CU' },
      device,
      NOW,
    );
    expect(decision.readings.map((reading) => [reading.source, reading.regionCode, reading.usable])).toEqual([
      ['GPS', 'CU', true],
      ['SIM', 'CU', true],
      ['IP', 'CU', true],
    ]);
    expect(decision.considered).toEqual([
      expect.objectContaining({ finding: 'APPLIES', detail: 'CU is covered through CU' }),
    ]);
    expect(decision.reasonCodes).toEqual([
      'POLICY_APPLIES',
      'POLICY:export-restricted-territories',
      'VERSION:1',
      'REGION:CU',
      'SOURCE:GPS',
    ]);
  });
});

describe('policy evaluation', () => {
  const inHavana = gpsOnly(23.1136, -82.3666);
  const boundary = Date.parse('2026-06-01T00:00:00Z');
  const later = { ...exportPolicy, versionId: 2, policyKey: 'later', effectiveFrom: boundary };

  it('applies a version only to attempts that occurred while it was effective, whenever they arrive', () => {
    const onlyLater = engineWith([later]);
    expect(onlyLater.decide(inHavana, device, new Date(boundary - 1)).outcome).toBe('ALLOW');
    expect(onlyLater.decide(inHavana, device, new Date(boundary - 1)).considered[0].finding).toBe('NOT_YET_EFFECTIVE');
    expect(onlyLater.decide(inHavana, device, new Date(boundary)).outcome).toBe('LOCK');
    const ended = engineWith([{ ...exportPolicy, effectiveUntil: boundary }]);
    expect(ended.decide(inHavana, device, new Date(boundary)).considered[0].finding).toBe('NO_LONGER_EFFECTIVE');
    expect(ended.decide(inHavana, device, new Date(boundary - 1)).outcome).toBe('LOCK');
  });

  it('covers subdivisions through their country', () => {
    const onUkraine = engineWith([{ ...exportPolicy, regionCodes: new Set(['UA']) }]);
    expect(onUkraine.decide(gpsOnly(44.9521, 34.1024), device, NOW).considered[0].detail).toBe(
      'UA-43 is covered through UA',
    );
  });

  it('limits a policy to its product scope', () => {
    const scoped = engineWith([{ ...exportPolicy, modelCodes: new Set(['NV-3']) }]);
    expect(scoped.decide(inHavana, device, NOW)).toMatchObject({
      outcome: 'ALLOW',
      reasonCodes: ['NO_POLICY_APPLIES', 'REGION:CU', 'SOURCE:GPS'],
    });
    expect(scoped.decide(inHavana, { ...device, modelCode: 'NV-3' }, NOW).outcome).toBe('LOCK');
  });

  it('lets the highest priority win, and LOCK beat REVIEW at equal priority', () => {
    const review = {
      ...exportPolicy,
      versionId: 3,
      policyKey: 'review-cuba',
      action: 'REVIEW' as const,
      priority: 200,
    };
    expect(engineWith([exportPolicy, review]).decide(inHavana, device, NOW)).toMatchObject({
      outcome: 'REVIEW',
      policyVersionId: 3,
    });
    const tied = { ...review, priority: 100 };
    expect(engineWith([tied, exportPolicy]).decide(inHavana, device, NOW)).toMatchObject({
      outcome: 'LOCK',
      policyVersionId: 1,
    });
  });

  it('records but does not enforce a MONITOR policy', () => {
    const monitor = engineWith([{ ...exportPolicy, mode: 'MONITOR' }]);
    expect(monitor.decide(inHavana, device, NOW)).toMatchObject({
      outcome: 'LOCK',
      enforced: false,
      reasonCodes: expect.arrayContaining(['MONITOR_ONLY']),
    });
  });

  it('allows an exempted device or partner until the exemption expires', () => {
    const expiresAt = Date.parse('2026-12-01T00:00:00Z');
    const deviceExemption = {
      reference: 'RXhlbXB0aW9uOjEx',
      policyKey: exportPolicy.policyKey,
      deviceId: 7,
      partnerId: null,
      expiresAt,
    };
    const exempted = engineWith([exportPolicy], [deviceExemption]);
    expect(exempted.decide(inHavana, device, NOW)).toMatchObject({
      outcome: 'ALLOW',
      reasonCodes: [
        'EXEMPT',
        `EXEMPT_FROM:${exportPolicy.policyKey}`,
        'EXEMPTION:RXhlbXB0aW9uOjEx',
        'REGION:CU',
        'SOURCE:GPS',
      ],
    });
    expect(exempted.decide(inHavana, device, new Date(expiresAt)).outcome).toBe('LOCK');
    expect(exempted.decide(inHavana, { ...device, deviceId: 8 }, NOW).outcome).toBe('LOCK');
    const partnerExemption = { ...deviceExemption, reference: 'RXhlbXB0aW9uOjEy', deviceId: null, partnerId: 3 };
    expect(engineWith([exportPolicy], [partnerExemption]).decide(inHavana, device, NOW).reasonCodes).toContain(
      'EXEMPTION:RXhlbXB0aW9uOjEy',
    );
  });

  it('keeps a locked device locked, whatever the new attempt says', () => {
    const locked = { ...device, locked: true, lockedByVersionId: 1 };
    expect(engine.decide(gpsOnly(52.52, 13.405), locked, NOW)).toMatchObject({
      outcome: 'LOCK',
      enforced: true,
      policyVersionId: 1,
      reasonCodes: ['DEVICE_ALREADY_LOCKED', 'REGION:DE', 'SOURCE:GPS'],
    });
  });
});
