/**
 * Re-screening sweeps: a new LOCK policy locks devices already activated in its regions; a lifted
 * one unlocks the devices it locked. A dry run equals the real run and writes nothing; a real run
 * can be paused, resumed and cancelled; every change is audited and in the device's history.
 */
import { AuditEvent } from '../src/audit/audit-event.entity';
import { registry } from '../src/ops/metrics';
import { PartnerEvent, PartnerEventType } from '../src/webhooks/partner-event.entity';
import { DeviceStatusChange } from '../src/devices/device-status-change.entity';
import { openTestDatabase, TestDatabase, usingPostgres } from './support/database';
import { GraphQLClient } from './support/graphql';
import { applyWithApproval } from './support/policies';
import { rowCounts } from './support/row-counts';
import { imeiOf } from './support/imei';
import { decideActivation } from './support/decisions';

let database: TestDatabase;
let client: GraphQLClient;

const PARIS = { gps: { latitude: 48.8566, longitude: 2.3522, accuracyMeters: 5 } };
const BRUSSELS = { gps: { latitude: 50.8503, longitude: 4.3517, accuracyMeters: 5 } };
const BERLIN = { gps: { latitude: 52.52, longitude: 13.405, accuracyMeters: 5 } };

/** Devices by name: where each was activated decides whether a sweep touches it. */
const devices: Record<string, { imei: string; id?: string }> = {};
const partnerIds: string[] = [];

const START = `mutation ($input: StartSweepInput!) {
  startSweep(input: $input) {
    sweep { id status total }
    preview {
      total changed
      breakdown { byRegion { region { code } devices } byModel { model { code } devices } byPartner { partner { name } devices } }
      sampleDevices { imei }
    }
    userErrors { field message code }
  }
}`;
const SWEEP = `query ($id: ID!) {
  sweep(id: $id) {
    status total processed changed failed finishedAt policy { key }
    breakdown { byRegion { region { code } devices } byModel { model { code } devices } byPartner { partner { name } devices } }
  }
}`;

async function decide(name: string, signals: object, key: string, occurredAt?: Date) {
  const decided = await decideActivation(client, {
    imei: devices[name].imei,
    signals,
    idempotencyKey: key,
    occurredAt: occurredAt?.toISOString(),
  });
  return decided.decision.outcome as string;
}

async function statusOf(name: string) {
  const data = await client.data(
    `query ($imei: String!) { device(imei: $imei) { status lockCause lockPolicyVersion { number policy { key } } statusHistory(first: 10) { nodes { fromStatus toStatus cause reason sweep { id } attempt { id } } } } }`,
    { imei: devices[name].imei },
  );
  return data.device;
}

async function runSweep(input: Record<string, unknown>) {
  const started = await client.data(START, { input: { ...input, dryRun: false } });
  expect(started.startSweep.userErrors).toEqual([]);
  await database.services.sweeps.idle();
  return started.startSweep.sweep.id as string;
}

/** Made on first use and shared after: each test makes what it needs, so that it runs alone too (-t). */
function once<T>(make: () => Promise<T>): () => Promise<T> {
  let made: Promise<T> | undefined;
  return () => (made ??= make());
}

/** A LOCK policy on France and Belgium, active in MONITOR mode: new activations there are only watched. */
const beneluxPolicy = once(async () => {
  const created = await client.data(
    `mutation { createPolicy(input: { key: "benelux-france", title: "t", description: "d", legalBasis: "l", action: LOCK, mode: MONITOR,
      effectiveFrom: "2025-01-01T00:00:00Z", regionCodes: ["FR", "BE"], lockMessage: "Not for this market" }) { policy { id } } }`,
  );
  const id: string = created.createPolicy.policy.id;
  await client.data(`mutation ($id: ID!) { activatePolicy(input: { id: $id }) { userErrors { code } } }`, { id });
  return id;
});

/** The same policy enforced, the device "exempt" exempted, and "never-activated" activating in Paris after it. */
const beneluxEnforced = once(async () => {
  const id = await beneluxPolicy();
  await applyWithApproval(client, 'updatePolicy', { id, mode: 'ENFORCE' });
  await client.data(
    `mutation ($id: ID!) { createExemption(input: { policyKey: "benelux-france", deviceId: $id, reason: "test" }) { userErrors { message } } }`,
    { id: devices.exempt.id },
  );
  return { neverActivated: await decide('never-activated', PARIS, 'n1') };
});

/** The devices activated in France and Belgium before the policy was enforced, locked by its sweep; the sweep's ID. */
const beneluxSwept = once(async () => {
  await beneluxEnforced();
  return runSweep({ policyKey: 'benelux-france', action: 'LOCK_ACTIVE_DEVICES', note: 'new rule' });
});

/** A LOCK policy on Germany, enforced. */
const germanyPolicy = once(async () => {
  const created = await client.data(
    `mutation { createPolicy(input: { key: "germany", title: "t", description: "d", legalBasis: "l", action: LOCK, mode: ENFORCE,
      effectiveFrom: "2025-01-01T00:00:00Z", regionCodes: ["DE"], lockMessage: "No" }) { policy { id } } }`,
  );
  const id: string = created.createPolicy.policy.id;
  await applyWithApproval(client, 'activatePolicy', { id });
  return id;
});

/**
 * The German devices locked by a sweep of "germany". The steering test's own sweep does it (and
 * says so here); the cancel test, run alone, sweeps them plainly.
 */
let germanyLocked: Promise<unknown> | undefined;
const lockedInGermany = () =>
  (germanyLocked ??= germanyPolicy().then(() => runSweep({ policyKey: 'germany', action: 'LOCK_ACTIVE_DEVICES' })));

beforeAll(async () => {
  database = await openTestDatabase();
  database.settings.sweeps = { batchSize: 2, leaseMs: 30_000, batchPauseMs: 0 };
  client = await GraphQLClient.create(database);
  for (const name of ['North Carrier', 'South Carrier']) {
    const partner = await client.data(
      `mutation ($name: String!) { createPartner(input: { name: $name, kind: CARRIER }) { partner { id } } }`,
      { name },
    );
    partnerIds.push(partner.createPartner.partner.id);
  }
  const plan: [string, string, string, number][] = [
    // name, model TAC, model code, partner index
    ['paris-1', '35291811', 'AR-5', 0],
    ['paris-2', '35291811', 'AR-5', 1],
    ['paris-3', '35291821', 'AR-5-PRO', 1],
    ['brussels', '35291821', 'AR-5-PRO', 0],
    ['moved-to-berlin', '35291811', 'AR-5', 0],
    ['berlin', '35291811', 'AR-5', 0],
    ['exempt', '35291811', 'AR-5', 0],
    ['never-activated', '35291811', 'AR-5', 0],
  ];
  for (const [index, [name, tac, modelCode, partner]] of plan.entries()) {
    devices[name] = { imei: imeiOf(700 + index, tac) };
    const registered = await client.data(
      `mutation ($input: RegisterDevicesInput!) { registerDevices(input: $input) { devices { id } userErrors { message } } }`,
      {
        input: {
          partnerId: partnerIds[partner],
          devices: [{ imei: devices[name].imei, serialNumber: name, modelCode, marketRegionCode: 'DE' }],
        },
      },
    );
    devices[name].id = registered.registerDevices.devices[0].id;
  }
  await decide('paris-1', PARIS, 'p1');
  await decide('paris-2', PARIS, 'p2');
  await decide('paris-3', PARIS, 'p3');
  await decide('brussels', BRUSSELS, 'b1');
  // Two hours before Berlin: Paris to Berlin within a second would be impossible travel (a REVIEW).
  await decide('moved-to-berlin', PARIS, 'm1', new Date(Date.now() - 2 * 3_600_000));
  await decide('moved-to-berlin', BERLIN, 'm2');
  await decide('berlin', BERLIN, 'd1');
  await decide('exempt', PARIS, 'e1');
});
afterAll(async () => {
  await client.stop();
  await database.close();
});

describe('LOCK_ACTIVE_DEVICES', () => {
  it('refuses a policy that does not lock in ENFORCE mode, naming the field', async () => {
    await beneluxPolicy();
    for (const [input, field, code] of [
      [{ policyKey: 'benelux-france', action: 'LOCK_ACTIVE_DEVICES' }, 'policyKey', 'INVALID_STATE'],
      [{ policyKey: 'no-such-policy', action: 'LOCK_ACTIVE_DEVICES' }, 'policyKey', 'NOT_FOUND'],
      [{ policyKey: 'benelux-france', action: 'LOCK_ACTIVE_DEVICES', note: '' }, 'note', 'INVALID'],
      [{ policyKey: 'k'.repeat(101), action: 'LOCK_ACTIVE_DEVICES' }, 'policyKey', 'TOO_LONG'],
    ] as const) {
      for (const dryRun of [true, false]) {
        const before = await rowCounts(database.dataSource);
        const data = await client.data(START, { input: { ...input, dryRun } });
        expect(data.startSweep).toMatchObject({
          sweep: null,
          preview: null,
          userErrors: [{ field: ['input', field], code }],
        });
        expect(await rowCounts(database.dataSource)).toEqual(before);
      }
    }
  });

  it('counts in a dry run exactly what the real run then changes, writing nothing', async () => {
    // New activations lock at once; the devices activated before wait for the sweep.
    expect((await beneluxEnforced()).neverActivated).toBe('LOCK');
    expect((await statusOf('paris-1')).status).toBe('ACTIVE');

    const before = await rowCounts(database.dataSource);
    const dry = await client.data(START, {
      input: { policyKey: 'benelux-france', action: 'LOCK_ACTIVE_DEVICES', dryRun: true },
    });
    expect(await rowCounts(database.dataSource)).toEqual(before);
    const preview = dry.startSweep.preview;
    // Candidates: every ACTIVE device with an accepted attempt in FR or BE (moved-to-berlin and exempt too).
    expect(preview.total).toBe(6);
    expect(preview.changed).toBe(4);
    expect(preview.breakdown).toEqual({
      byRegion: [
        { region: { code: 'FR' }, devices: 3 },
        { region: { code: 'BE' }, devices: 1 },
      ],
      byModel: expect.arrayContaining([
        { model: { code: 'AR-5' }, devices: 2 },
        { model: { code: 'AR-5-PRO' }, devices: 2 },
      ]),
      byPartner: expect.arrayContaining([
        { partner: { name: 'North Carrier' }, devices: 2 },
        { partner: { name: 'South Carrier' }, devices: 2 },
      ]),
    });
    expect(preview.sampleDevices.map((device: { imei: string }) => device.imei).sort()).toEqual(
      ['paris-1', 'paris-2', 'paris-3', 'brussels'].map((name) => devices[name].imei).sort(),
    );

    const sweepId = await beneluxSwept();
    const sweep = (await client.data(SWEEP, { id: sweepId })).sweep;
    expect(sweep).toMatchObject({ status: 'COMPLETED', total: 6, processed: 6, changed: 4, failed: 0 });
    expect(sweep.breakdown.byRegion).toEqual(preview.breakdown.byRegion);
    expect(sweep.breakdown.byModel).toEqual(expect.arrayContaining(preview.breakdown.byModel));
    expect(sweep.breakdown.byPartner).toEqual(expect.arrayContaining(preview.breakdown.byPartner));

    for (const name of ['paris-1', 'paris-2', 'paris-3', 'brussels']) {
      const device = await statusOf(name);
      expect(device.status).toBe('LOCKED');
      // Caused by the sweep, under the policy version in force that it swept for.
      expect(device).toMatchObject({
        lockCause: 'SWEEP',
        lockPolicyVersion: { number: 2, policy: { key: 'benelux-france' } },
      });
      expect(device.statusHistory.nodes[0]).toMatchObject({
        fromStatus: 'ACTIVE',
        toStatus: 'LOCKED',
        cause: 'SWEEP',
        sweep: { id: sweepId },
      });
      expect(device.statusHistory.nodes[0].reason).toMatch(/^POLICY:benelux-france,VERSION:2,REGION:(FR|BE)$/);
    }
    for (const name of ['moved-to-berlin', 'berlin', 'exempt']) expect((await statusOf(name)).status).toBe('ACTIVE');
    expect(await registry.metrics()).toMatch(
      /sweep_devices_total\{action="LOCK_ACTIVE_DEVICES",changed="true"\} [4-9]/,
    );
    const audits = await database.dataSource.getRepository(AuditEvent).findBy({ action: 'device.lock' });
    const bySweep = audits.filter((event) => (event.after as { sweepId?: string }).sweepId === sweepId);
    expect(bySweep).toHaveLength(4);
    // Their partners hear of it through the webhook outbox, written with each change.
    const events = await database.dataSource
      .getRepository(PartnerEvent)
      .findBy({ type: PartnerEventType.DEVICE_LOCKED });
    expect(events.filter((event) => event.data.sweepId === sweepId)).toHaveLength(4);

    // Nothing is left to do: a second dry run changes nothing; a locked device stays locked when it asks again.
    const again = await client.data(START, {
      input: { policyKey: 'benelux-france', action: 'LOCK_ACTIVE_DEVICES', dryRun: true },
    });
    expect(again.startSweep.preview).toMatchObject({ total: 2, changed: 0 });
    expect(await decide('paris-1', BERLIN, 'p1-again')).toBe('LOCK');
  });
});

describe('steering a sweep', () => {
  it('pauses after a batch, resumes where it left off, and refuses moves its state does not allow', async () => {
    // Another policy: the devices activated in Germany.
    await germanyPolicy();
    database.settings.sweeps = { batchSize: 1, leaseMs: 30_000, batchPauseMs: 200 };
    const started = await client.data(START, {
      input: { policyKey: 'germany', action: 'LOCK_ACTIVE_DEVICES', dryRun: false },
    });
    const id = started.startSweep.sweep.id;
    expect(started.startSweep.sweep).toMatchObject({ status: 'RUNNING', total: 2 });
    const CONTROL = (name: string) =>
      `mutation ($id: ID!) { ${name}(input: { id: $id }) { sweep { status } userErrors { field code message } } }`;
    const twice = await client.data(START, {
      input: { policyKey: 'germany', action: 'LOCK_ACTIVE_DEVICES', dryRun: false },
    });
    expect(twice.startSweep.userErrors).toMatchObject([{ field: ['input', 'policyKey'], code: 'INVALID_STATE' }]);

    expect((await client.data(CONTROL('pauseSweep'), { id })).pauseSweep.sweep.status).toBe('PAUSED');
    await database.services.sweeps.idle();
    const paused = (await client.data(SWEEP, { id })).sweep;
    expect(paused.status).toBe('PAUSED');
    expect(paused.processed).toBeLessThan(2);
    expect((await client.data(CONTROL('pauseSweep'), { id })).pauseSweep.userErrors).toEqual([
      { field: ['input', 'id'], code: 'INVALID_STATE', message: 'a PAUSED sweep cannot be paused' },
    ]);

    database.settings.sweeps = { batchSize: 1, leaseMs: 30_000, batchPauseMs: 0 };
    expect((await client.data(CONTROL('resumeSweep'), { id })).resumeSweep.sweep.status).toBe('RUNNING');
    await database.services.sweeps.idle();
    expect((await client.data(SWEEP, { id })).sweep).toMatchObject({ status: 'COMPLETED', processed: 2, changed: 2 });
    germanyLocked = Promise.resolve();
    expect((await client.data(CONTROL('cancelSweep'), { id })).cancelSweep.userErrors).toMatchObject([
      { code: 'INVALID_STATE' },
    ]);
    const missing = await client.data(CONTROL('cancelSweep'), { id: 'U3dlZXA6OTk5OTk=' });
    expect(missing.cancelSweep.userErrors).toMatchObject([{ field: ['input', 'id'], code: 'NOT_FOUND' }]);
  });

  it('cancels: the batches done stay done, the rest is left', async () => {
    await lockedInGermany();
    // Retiring frees the German devices: an unlock sweep with pauses long enough to cancel it.
    await client.data(
      `mutation ($id: ID!) { retirePolicy(input: { id: $id, reason: "lifted" }) { userErrors { code } } }`,
      { id: await germanyPolicy() },
    );
    const sweepChanges = () =>
      database.dataSource.getRepository(DeviceStatusChange).countBy({ cause: 'SWEEP' as never });
    const changesBefore = await sweepChanges();
    database.settings.sweeps = { batchSize: 1, leaseMs: 30_000, batchPauseMs: 300 };
    const started = await client.data(START, {
      input: { policyKey: 'germany', action: 'UNLOCK_RELEASED_DEVICES', dryRun: false },
    });
    const id = started.startSweep.sweep.id;
    await new Promise((resolve) => setTimeout(resolve, 100));
    const cancelled = await client.data(
      `mutation ($id: ID!) { cancelSweep(input: { id: $id }) { sweep { status finishedAt } userErrors { code } } }`,
      { id },
    );
    expect(cancelled.cancelSweep.sweep.status).toBe('CANCELLED');
    await database.services.sweeps.idle();
    const sweep = (await client.data(SWEEP, { id })).sweep;
    expect(sweep.status).toBe('CANCELLED');
    expect(sweep.processed).toBeLessThan(sweep.total);
    // The batches done stay done: one status change each, nothing more.
    expect(await sweepChanges()).toBe(changesBefore + sweep.changed);
    database.settings.sweeps = { batchSize: 2, leaseMs: 30_000, batchPauseMs: 0 };
    // The rest is unlocked by a new sweep.
    const rest = await runSweep({ policyKey: 'germany', action: 'UNLOCK_RELEASED_DEVICES' });
    expect((await client.data(SWEEP, { id: rest })).sweep).toMatchObject({
      status: 'COMPLETED',
      changed: 2 - sweep.changed,
    });
  });
});

describe('UNLOCK_RELEASED_DEVICES', () => {
  it('unlocks what a lifted policy locked — by decision or by sweep — but not what a person locked', async () => {
    await beneluxSwept();
    await client.data(
      `mutation ($id: ID!) { retirePolicy(input: { id: $id, reason: "programme lifted" }) { userErrors { code } } }`,
      { id: await beneluxPolicy() },
    );
    const dry = await client.data(START, {
      input: { policyKey: 'benelux-france', action: 'UNLOCK_RELEASED_DEVICES', dryRun: true },
    });
    // Four locked by the sweep, one (never-activated) by a decision.
    expect(dry.startSweep.preview).toMatchObject({ total: 5, changed: 5 });
    const { result: sweepId, statements } = await database.statements.measure(() =>
      runSweep({ policyKey: 'benelux-france', action: 'UNLOCK_RELEASED_DEVICES' }),
    );
    // Live announcements leave once per batch (the devices changed, then the sweep's progress), not
    // once per device: batches of 2 over 5 devices are 3 batches and the closing one, so at most 7
    // NOTIFYs on PostgreSQL (SQLite announces in process, after the commit).
    expect(statements.filter((sql) => /pg_notify/.test(sql)).length).toBeLessThanOrEqual(usingPostgres ? 7 : 0);
    expect((await client.data(SWEEP, { id: sweepId })).sweep).toMatchObject({ status: 'COMPLETED', changed: 5 });
    for (const name of ['paris-1', 'paris-2', 'paris-3', 'brussels', 'never-activated']) {
      const device = await statusOf(name);
      expect(device.status).toBe('ACTIVE');
      expect(device.statusHistory.nodes[0]).toMatchObject({ fromStatus: 'LOCKED', toStatus: 'ACTIVE', cause: 'SWEEP' });
    }
    const history = await statusOf('never-activated');
    expect(history.statusHistory.nodes.map((node: { cause: string }) => node.cause)).toEqual(['SWEEP', 'DECISION']);
  });

  it('leaves a lock a person decided in a review for a person to undo', async () => {
    const created = await client.data(
      `mutation { createPolicy(input: { key: "review-spain", title: "t", description: "d", legalBasis: "l", action: REVIEW, mode: ENFORCE,
        effectiveFrom: "2025-01-01T00:00:00Z", regionCodes: ["ES"], lockMessage: "Wait" }) { policy { id } } }`,
    );
    await applyWithApproval(client, 'activatePolicy', { id: created.createPolicy.policy.id });
    const MADRID = { gps: { latitude: 40.4168, longitude: -3.7038, accuracyMeters: 5 } };
    const reviewed = await decideActivation(
      client,
      { imei: devices.berlin.imei, signals: MADRID, idempotencyKey: 'madrid-review' },
      'decision { outcome } attempt { id }',
    );
    expect(reviewed.decision.outcome).toBe('REVIEW');
    const resolved = await client.data(
      `mutation ($id: ID!) { resolveReview(input: { attemptId: $id, resolution: LOCK, note: "confirmed resale" }) { userErrors { message } } }`,
      { id: reviewed.attempt.id },
    );
    expect(resolved.resolveReview.userErrors).toEqual([]);
    expect((await statusOf('berlin')).statusHistory.nodes[0]).toMatchObject({ toStatus: 'LOCKED', cause: 'REVIEW' });
    await client.data(
      `mutation ($id: ID!) { retirePolicy(input: { id: $id, reason: "lifted" }) { userErrors { code } } }`,
      {
        id: created.createPolicy.policy.id,
      },
    );
    const dry = await client.data(START, {
      input: { policyKey: 'review-spain', action: 'UNLOCK_RELEASED_DEVICES', dryRun: true },
    });
    expect(dry.startSweep.preview).toMatchObject({ total: 0, changed: 0 });
  });

  it('keeps a device locked while another enforced policy still locks it there', async () => {
    const created = await client.data(
      `mutation { createPolicy(input: { key: "france-a", title: "t", description: "d", legalBasis: "l", action: LOCK, mode: ENFORCE,
        effectiveFrom: "2025-01-01T00:00:00Z", regionCodes: ["FR"], lockMessage: "No" }) { policy { id } } }`,
    );
    await applyWithApproval(client, 'activatePolicy', { id: created.createPolicy.policy.id });
    const second = await client.data(
      `mutation { createPolicy(input: { key: "france-b", title: "t", description: "d", legalBasis: "l", action: LOCK, mode: ENFORCE,
        effectiveFrom: "2025-01-01T00:00:00Z", regionCodes: ["FR"], lockMessage: "No" }) { policy { id } } }`,
    );
    await applyWithApproval(client, 'activatePolicy', { id: second.createPolicy.policy.id });
    expect(await decide('paris-1', PARIS, 'p1-locked-by-a')).toBe('LOCK');
    const lockedBy = await client.data(
      `query ($imei: String!) { device(imei: $imei) { lockedByAttempt { policyVersion { policy { key } } } } }`,
      { imei: devices['paris-1'].imei },
    );
    const lockingKey = lockedBy.device.lockedByAttempt.policyVersion.policy.key;
    const lockingId = lockingKey === 'france-a' ? created.createPolicy.policy.id : second.createPolicy.policy.id;
    await client.data(
      `mutation ($id: ID!) { retirePolicy(input: { id: $id, reason: "lifted" }) { userErrors { code } } }`,
      {
        id: lockingId,
      },
    );
    const dry = await client.data(START, {
      input: { policyKey: lockingKey, action: 'UNLOCK_RELEASED_DEVICES', dryRun: true },
    });
    expect(dry.startSweep.preview).toMatchObject({ total: 1, changed: 0 });
  });
});
