/**
 * Policy changes that could lock devices wait for a second person; narrowing applies at once;
 * versions take effect by their effectiveFrom (a scheduled one by itself); history answers as of
 * any instant.
 */
import { Role } from '../src/auth/roles';
import { openTestDatabase, TestDatabase } from './support/database';
import { GraphQLClient } from './support/graphql';
import { decideActivation, previewDecisionDocument } from './support/decisions';
import { SECOND_REVIEWER, approveAsSecondPerson } from './support/policies';
import { rowCounts } from './support/row-counts';
import { testImei } from './support/fixtures';

let database: TestDatabase;
let client: GraphQLClient;

const PARIS = { gps: { latitude: 48.8566, longitude: 2.3522, accuracyMeters: 5 } };
const MADRID = { gps: { latitude: 40.4168, longitude: -3.7038, accuracyMeters: 5 } };

const CREATE = `mutation ($input: CreatePolicyInput!) { createPolicy(input: $input) { policy { id } userErrors { field message } } }`;
const UPDATE = `mutation ($input: UpdatePolicyInput!) {
  updatePolicy(input: $input) {
    policy { currentVersion { number } versions { totalCount } }
    changeRequest { id status reasons proposed { mode regionCodes effectiveFrom } }
    userErrors { field message code }
  }
}`;
const ACTIVATE = `mutation ($input: ActivatePolicyInput!) { activatePolicy(input: $input) { policy { status } changeRequest { id reasons } userErrors { field message code } } }`;
const APPROVE = `mutation ($id: ID!) { approvePolicyChange(input: { id: $id }) {
  changeRequest { status decidedBy resultingVersion { number approvedBy } impactAtApproval { attempts changedAttempts transitions { from to attempts } } }
  userErrors { field message code }
} }`;
const REJECT = `mutation ($id: ID!) { rejectPolicyChange(input: { id: $id, comment: "no" }) { changeRequest { status } userErrors { field message code } } }`;
const WITHDRAW = `mutation ($id: ID!) { withdrawPolicyChange(input: { id: $id, comment: "mine" }) { changeRequest { status } userErrors { field message code } } }`;
const PREVIEW = previewDecisionDocument('outcome enforced policyVersion { number }', { asOf: true });

let deviceImei: string;
let otherImei: string;

async function createPolicy(key: string, overrides: Record<string, unknown> = {}) {
  const data = await client.data(CREATE, {
    input: {
      key,
      title: key,
      description: 'test',
      legalBasis: 'test',
      action: 'LOCK',
      mode: 'MONITOR',
      regionCodes: ['FR'],
      effectiveFrom: '2025-01-01T00:00:00Z',
      lockMessage: 'Locked',
      ...overrides,
    },
  });
  expect(data.createPolicy.userErrors).toEqual([]);
  return data.createPolicy.policy.id as string;
}

async function preview(imei: string, signals: object, asOf?: string) {
  return (await client.data(PREVIEW, { input: { imei, signals }, asOf })).previewDecision;
}

beforeAll(async () => {
  database = await openTestDatabase();
  client = await GraphQLClient.create(database);
  const partner = await client.data(
    `mutation { createPartner(input: { name: "Lifecycle Partner", kind: CARRIER }) { partner { id } } }`,
  );
  deviceImei = testImei(1);
  otherImei = testImei(2);
  await client.data(
    `mutation ($input: RegisterDevicesInput!) { registerDevices(input: $input) { userErrors { message } } }`,
    {
      input: {
        partnerId: partner.createPartner.partner.id,
        devices: [deviceImei, otherImei].map((imei, index) => ({
          imei,
          serialNumber: `LC${index}`,
          modelCode: 'AR-5',
          marketRegionCode: 'DE',
        })),
      },
    },
  );
});
afterAll(async () => {
  await client.stop();
  await database.close();
});

describe('approvals', () => {
  it('activates a MONITOR draft at once, but an ENFORCE draft only after a second person approves', async () => {
    const monitorId = await createPolicy('monitor-france');
    const monitor = await client.data(ACTIVATE, { input: { id: monitorId } });
    expect(monitor.activatePolicy).toMatchObject({ policy: { status: 'ACTIVE' }, changeRequest: null, userErrors: [] });

    const enforceId = await createPolicy('enforce-spain', { mode: 'ENFORCE', regionCodes: ['ES'] });
    const asked = await client.data(ACTIVATE, { input: { id: enforceId, note: 'new programme' } });
    expect(asked.activatePolicy).toMatchObject({
      policy: { status: 'DRAFT' },
      changeRequest: { reasons: ['NEW_ENFORCING_POLICY'] },
      userErrors: [],
    });
    expect((await preview(deviceImei, MADRID)).outcome).toBe('ALLOW');
    // A draft waiting for approval: its only version is the latest one, in force nowhere.
    const draft = await client.data(
      '{ policy(key: "enforce-spain") { versionInForce { number } latestVersion { number mode } } }',
    );
    expect(draft.policy).toEqual({ versionInForce: null, latestVersion: { number: 1, mode: 'ENFORCE' } });

    // A reviewer's screen knows before the click who may approve or withdraw, and why not.
    const VIEWER_RIGHTS = `query ($id: ID!) { node(id: $id) { ... on PolicyChangeRequest { viewerCanApprove viewerCannotApproveReason viewerCanWithdraw } } }`;
    const requestId = asked.activatePolicy.changeRequest.id;
    expect((await client.data(VIEWER_RIGHTS, { id: requestId })).node).toEqual({
      viewerCanApprove: false,
      viewerCannotApproveReason: 'the author of a change request cannot approve it: ask a second person',
      viewerCanWithdraw: true,
    });
    expect((await client.as(SECOND_REVIEWER).data(VIEWER_RIGHTS, { id: requestId })).node).toEqual({
      viewerCanApprove: true,
      viewerCannotApproveReason: null,
      viewerCanWithdraw: true, // an ADMIN
    });
    const analyst = { keyId: null, name: 'reader', role: Role.ANALYST, partnerId: null };
    const author = { keyId: null, name: 'other author', role: Role.POLICY_AUTHOR, partnerId: null };
    expect((await client.as(analyst).data(VIEWER_RIGHTS, { id: requestId })).node).toEqual({
      viewerCanApprove: false,
      viewerCannotApproveReason: 'a ANALYST key may not use Mutation.approvePolicyChange',
      viewerCanWithdraw: false,
    });
    expect((await client.as(author).data(VIEWER_RIGHTS, { id: requestId })).node).toMatchObject({
      viewerCanApprove: true,
      viewerCanWithdraw: false, // not its author
    });

    // The author cannot approve, not even under another role; nothing is written.
    const before = await rowCounts(database.dataSource);
    const self = await client.data(APPROVE, { id: asked.activatePolicy.changeRequest.id });
    expect(self.approvePolicyChange).toEqual({
      changeRequest: null,
      userErrors: [
        {
          field: ['input', 'id'],
          code: 'FORBIDDEN',
          message: 'the author of a change request cannot approve it: ask a second person',
        },
      ],
    });
    expect(await rowCounts(database.dataSource)).toEqual(before);
    const rejectOwn = await client.data(REJECT, { id: asked.activatePolicy.changeRequest.id });
    expect(rejectOwn.rejectPolicyChange.userErrors).toMatchObject([{ code: 'FORBIDDEN' }]);

    const approved = await client.as(SECOND_REVIEWER).data(APPROVE, { id: asked.activatePolicy.changeRequest.id });
    expect(approved.approvePolicyChange).toMatchObject({
      changeRequest: {
        status: 'APPROVED',
        decidedBy: 'second reviewer',
        resultingVersion: { number: 1, approvedBy: 'second reviewer' },
      },
      userErrors: [],
    });
    expect((await preview(deviceImei, MADRID)).outcome).toBe('LOCK');
    expect((await client.as(SECOND_REVIEWER).data(VIEWER_RIGHTS, { id: requestId })).node).toEqual({
      viewerCanApprove: false,
      viewerCannotApproveReason: 'the change request is APPROVED, not PENDING',
      viewerCanWithdraw: false,
    });
    const again = await client.as(SECOND_REVIEWER).data(APPROVE, { id: asked.activatePolicy.changeRequest.id });
    expect(again.approvePolicyChange.userErrors).toMatchObject([
      { code: 'INVALID_STATE', message: 'the change request is APPROVED, not PENDING' },
    ]);
  });

  it.each([
    ['MONITOR to ENFORCE', { mode: 'ENFORCE' }, ['MODE_TO_ENFORCE']],
    ['REVIEW to LOCK', { action: 'LOCK' }, ['ACTION_TO_LOCK']],
    ['a new region', { regionCodes: ['DE', 'AT'] }, ['WIDER_REGIONS']],
    ['every model instead of one', { productScope: [] }, ['WIDER_PRODUCT_SCOPE']],
    ['an earlier effectiveFrom', { effectiveFrom: '2024-06-01T00:00:00Z' }, ['EARLIER_EFFECTIVE_FROM']],
    ['a later effectiveUntil', { effectiveUntil: '2031-01-01T00:00:00Z' }, ['LATER_EFFECTIVE_UNTIL']],
    ['no effectiveUntil', { clearEffectiveUntil: true }, ['LATER_EFFECTIVE_UNTIL']],
    ['a higher priority', { priority: 5 }, ['HIGHER_PRIORITY']],
  ])('asks for approval for %s', async (_name, change, reasons) => {
    const key = `widen-${Object.keys(change)[0].toLowerCase()}`;
    const id = await createPolicy(key, {
      action: 'REVIEW',
      mode: 'mode' in change ? 'MONITOR' : 'ENFORCE',
      regionCodes: ['DE'],
      productScope: ['AR-5'],
      effectiveUntil: '2030-01-01T00:00:00Z',
    });
    const activation = await client.data(ACTIVATE, { input: { id } });
    if (activation.activatePolicy.changeRequest)
      await approveAsSecondPerson(client, activation.activatePolicy.changeRequest.id);
    const data = await client.data(UPDATE, { input: { id, ...change } });
    expect(data.updatePolicy).toMatchObject({
      policy: { versions: { totalCount: 1 } },
      changeRequest: { status: 'PENDING', reasons },
      userErrors: [],
    });
    // One request waits per policy.
    const second = await client.data(UPDATE, { input: { id, ...change } });
    expect(second.updatePolicy.userErrors).toMatchObject([{ field: ['input', 'id'], code: 'INVALID_STATE' }]);
    const withdrawn = await client.data(WITHDRAW, { id: data.updatePolicy.changeRequest.id });
    expect(withdrawn.withdrawPolicyChange.changeRequest.status).toBe('WITHDRAWN');
  });

  it('applies narrowing at once: fewer regions, a covered subdivision, MONITOR, REVIEW, lower priority, texts', async () => {
    const id = await createPolicy('narrow-me', { mode: 'ENFORCE', regionCodes: ['UA', 'FR'], priority: 3 });
    const activation = await client.data(ACTIVATE, { input: { id } });
    await approveAsSecondPerson(client, activation.activatePolicy.changeRequest.id);
    for (const [number, change] of [
      { regionCodes: ['UA'] },
      { regionCodes: ['UA', 'UA-43'] },
      { action: 'REVIEW' },
      { priority: 1 },
      { title: 'Renamed', lockMessage: 'New words' },
      { mode: 'MONITOR' },
    ].entries()) {
      const data = await client.data(UPDATE, { input: { id, ...change } });
      expect(data.updatePolicy).toMatchObject({
        changeRequest: null,
        userErrors: [],
        policy: { currentVersion: { number: number + 2 } },
      });
    }
  });

  it('supersedes a waiting request when the policy changes under it, and lets only the author or an ADMIN withdraw', async () => {
    const id = await createPolicy('moving-target', { mode: 'ENFORCE', regionCodes: ['FR', 'BE'] });
    await approveAsSecondPerson(
      client,
      (await client.data(ACTIVATE, { input: { id } })).activatePolicy.changeRequest.id,
    );
    const asked = await client.data(UPDATE, { input: { id, regionCodes: ['FR', 'BE', 'NL'] } });
    const requestId = asked.updatePolicy.changeRequest.id;
    const analyst = { keyId: 901, name: 'other author', role: Role.POLICY_AUTHOR, partnerId: null };
    const foreign = await client.as(analyst).data(WITHDRAW, { id: requestId });
    expect(foreign.withdrawPolicyChange.userErrors).toMatchObject([{ code: 'FORBIDDEN' }]);

    await client.data(UPDATE, { input: { id, regionCodes: ['FR'] } });
    const request = await client.data(
      `query ($id: ID!) { node(id: $id) { ... on PolicyChangeRequest { status decisionComment decidedAt } } }`,
      { id: requestId },
    );
    expect(request.node).toMatchObject({ status: 'SUPERSEDED', decisionComment: 'version 2 applied first' });
    const late = await client.as(SECOND_REVIEWER).data(APPROVE, { id: requestId });
    expect(late.approvePolicyChange.userErrors).toMatchObject([{ code: 'INVALID_STATE' }]);
    await client.data(
      `mutation ($id: ID!) { retirePolicy(input: { id: $id, reason: "test done" }) { userErrors { code } } }`,
      {
        id,
      },
    );
  });

  it('refuses an approval whose proposal no longer holds: its end passed while it waited', async () => {
    const id = await createPolicy('ends-soon', { mode: 'MONITOR', regionCodes: ['NL'] });
    await client.data(ACTIVATE, { input: { id } });
    const endsAt = new Date(Date.now() + 300).toISOString();
    const asked = await client.data(UPDATE, { input: { id, mode: 'ENFORCE', effectiveUntil: endsAt } });
    await new Promise((resolve) => setTimeout(resolve, 400));
    const before = await rowCounts(database.dataSource);
    const late = await client.as(SECOND_REVIEWER).data(APPROVE, { id: asked.updatePolicy.changeRequest.id });
    expect(late.approvePolicyChange.userErrors).toEqual([
      {
        field: ['input', 'id'],
        code: 'INVALID',
        message: 'the proposal no longer holds (effectiveUntil): effectiveUntil must be later than effectiveFrom',
      },
    ]);
    expect(await rowCounts(database.dataSource)).toEqual(before);
  });

  it('shows a request its simulated impact over recorded attempts, and keeps what the approver saw', async () => {
    // One place: a device seen in Paris and Lyon within a second would be impossible travel (REVIEW).
    for (const [index, signals] of [PARIS, PARIS, PARIS].entries()) {
      await decideActivation(
        client,
        { imei: otherImei, idempotencyKey: `impact-${index}`, signals },
        'userErrors { message }',
      );
    }
    const id = await createPolicy('impact-france', { mode: 'MONITOR', regionCodes: ['FR'], priority: 9 });
    await client.data(ACTIVATE, { input: { id } });
    const asked = await client.data(UPDATE, { input: { id, mode: 'ENFORCE' } });
    const requestId = asked.updatePolicy.changeRequest.id;
    const impact = await client.data(
      `query ($id: ID!) { node(id: $id) { ... on PolicyChangeRequest { impact { attempts changedAttempts changedDevices transitions { from to attempts devices } } } } }`,
      { id: requestId },
    );
    expect(impact.node.impact).toMatchObject({
      changedAttempts: 3,
      changedDevices: 1,
      transitions: [{ from: 'ALLOW', to: 'LOCK', attempts: 3, devices: 1 }],
    });
    const approved = await client.as(SECOND_REVIEWER).data(APPROVE, { id: requestId });
    expect(approved.approvePolicyChange.changeRequest.impactAtApproval).toMatchObject({
      changedAttempts: 3,
      transitions: [{ from: 'ALLOW', to: 'LOCK', attempts: 3 }],
    });
    const listed = await client.data(
      `{ policyChangeRequests(first: 5, filter: { policyKey: "impact-france", statuses: [APPROVED] }) { totalCount nodes { kind requestedBy } } }`,
    );
    expect(listed.policyChangeRequests).toEqual({ totalCount: 1, nodes: [{ kind: 'UPDATE', requestedBy: 'test' }] });
    // Retire so the other tests' French fixes are not locked by it.
    await client.data(
      `mutation ($id: ID!) { retirePolicy(input: { id: $id, reason: "test done" }) { userErrors { code } } }`,
      {
        id,
      },
    );
  });
});

describe('scheduled versions and history', () => {
  it('takes a version with a future effectiveFrom into force by itself, and answers as of either side of it', async () => {
    const id = await createPolicy('scheduled-italy', {
      mode: 'ENFORCE',
      action: 'REVIEW',
      regionCodes: ['IT'],
      effectiveFrom: '2025-01-01T00:00:00Z',
    });
    await approveAsSecondPerson(
      client,
      (await client.data(ACTIVATE, { input: { id } })).activatePolicy.changeRequest.id,
    );
    const switchAt = new Date(Date.now() + 4_000);
    const asked = await client.data(UPDATE, {
      input: { id, action: 'LOCK', effectiveFrom: switchAt.toISOString() },
    });
    expect(asked.updatePolicy.changeRequest.reasons).toEqual(['ACTION_TO_LOCK']);
    await approveAsSecondPerson(client, asked.updatePolicy.changeRequest.id);
    const ROME = { gps: { latitude: 41.9028, longitude: 12.4964, accuracyMeters: 5 } };

    const POLICY = `query ($asOf: DateTime) { policies(asOf: $asOf, first: 50) { nodes { key action currentVersion { number } } } }`;
    const italyAt = async (asOf?: string) =>
      (await client.data(POLICY, { asOf })).policies.nodes.find(
        (node: { key: string }) => node.key === 'scheduled-italy',
      );
    const status = await client.data(
      `query ($key: String!) { policy(key: $key) { currentVersion { number } versionInForce { number } latestVersion { number } scheduledVersion { number effectiveFrom } } }`,
      { key: 'scheduled-italy' },
    );
    // The scheduled version is the latest one, not the one in force.
    expect(status.policy).toEqual({
      currentVersion: { number: 1 },
      versionInForce: { number: 1 },
      latestVersion: { number: 2 },
      scheduledVersion: { number: 2, effectiveFrom: switchAt.toISOString() },
    });
    const justBefore = new Date(switchAt.getTime() - 1).toISOString();
    expect(await italyAt(justBefore)).toEqual({
      key: 'scheduled-italy',
      action: 'REVIEW',
      currentVersion: { number: 1 },
    });
    expect(await italyAt(switchAt.toISOString())).toEqual({
      key: 'scheduled-italy',
      action: 'LOCK',
      currentVersion: { number: 2 },
    });
    expect(await italyAt('2024-12-31T23:59:59Z')).toBeUndefined();
    expect(await preview(deviceImei, ROME, justBefore)).toMatchObject({
      outcome: 'REVIEW',
      policyVersion: { number: 1 },
    });
    expect(await preview(deviceImei, ROME, switchAt.toISOString())).toMatchObject({
      outcome: 'LOCK',
      policyVersion: { number: 2 },
    });
    expect((await preview(deviceImei, ROME)).outcome).toBe('REVIEW');
    const LOCKING = `{ policies(first: 50, filter: { actions: [LOCK], coversRegionCode: "IT" }) { nodes { key } } }`;
    // Filters look at the version in force now, like currentVersion.
    expect((await client.data(LOCKING)).policies.nodes).toEqual([]);

    // When the instant comes, the live rules switch without any change or rebuild.
    const rebuilds = database.services.evaluator.rebuilds;
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, switchAt.getTime() - Date.now() + 50)));
    expect(await preview(deviceImei, ROME)).toMatchObject({ outcome: 'LOCK', policyVersion: { number: 2 } });
    expect(database.services.evaluator.rebuilds).toBe(rebuilds);
    const now = await client.data(
      `{ policy(key: "scheduled-italy") { currentVersion { number } scheduledVersion { number } } }`,
    );
    expect(now.policy).toEqual({ currentVersion: { number: 2 }, scheduledVersion: null });
    expect((await client.data(LOCKING)).policies.nodes).toEqual([{ key: 'scheduled-italy' }]);
    const unknown = await client.execute(`{ policies(filter: { coversRegionCode: "XX" }) { totalCount } }`);
    expect(unknown.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'filter.coversRegionCode' });
  });

  it('answers region(asOf:) and previewDecision(asOf:) with retired policies and revoked exemptions as they stood', async () => {
    const id = await createPolicy('retired-portugal', { mode: 'ENFORCE', regionCodes: ['PT'] });
    await approveAsSecondPerson(
      client,
      (await client.data(ACTIVATE, { input: { id } })).activatePolicy.changeRequest.id,
    );
    const LISBON = { gps: { latitude: 38.7223, longitude: -9.1393, accuracyMeters: 5 } };
    const whileActive = new Date().toISOString();
    await new Promise((resolve) => setTimeout(resolve, 5));
    await client.data(
      `mutation ($id: ID!) { retirePolicy(input: { id: $id, reason: "lifted" }) { userErrors { code } } }`,
      {
        id,
      },
    );
    const REGION = `query ($asOf: DateTime) { region(code: "PT", asOf: $asOf) { policies(first: 10) { nodes { key currentVersion { number } } } } }`;
    expect((await client.data(REGION, { asOf: whileActive })).region.policies.nodes).toEqual([
      { key: 'retired-portugal', currentVersion: { number: 1 } },
    ]);
    const ACTIVE_NOW = `{ region(code: "PT") { policies(first: 10, statuses: [ACTIVE]) { nodes { key } } } }`;
    expect((await client.data(ACTIVE_NOW)).region.policies.nodes).toEqual([]);
    expect((await preview(deviceImei, LISBON, whileActive)).outcome).toBe('LOCK');
    expect((await preview(deviceImei, LISBON)).outcome).toBe('ALLOW');

    // An exemption counts as of the instants it stood.
    const device = await client.data(`query ($imei: String!) { device(imei: $imei) { id } }`, { imei: deviceImei });
    const granted = await client.data(
      `mutation ($id: ID!) { createExemption(input: { policyKey: "enforce-spain", deviceId: $id, reason: "envoy" }) { exemption { id } userErrors { message } } }`,
      { id: device.device.id },
    );
    await new Promise((resolve) => setTimeout(resolve, 5));
    const whileExempt = new Date().toISOString();
    await new Promise((resolve) => setTimeout(resolve, 5));
    await client.data(
      `mutation ($id: ID!) { revokeExemption(input: { id: $id, reason: "left" }) { userErrors { code } } }`,
      {
        id: granted.createExemption.exemption.id,
      },
    );
    expect((await preview(deviceImei, MADRID, whileExempt)).outcome).toBe('ALLOW');
    expect((await preview(deviceImei, MADRID)).outcome).toBe('LOCK');

    const bad = await client.execute(PREVIEW, { input: { imei: deviceImei, signals: LISBON }, asOf: 'yesterday' });
    expect(bad.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('keeps recorded decisions pointing at the version that made them', async () => {
    // deviceImei has no recorded fix (previews write nothing): a Havana fix seconds after otherImei's
    // Paris ones would be impossible travel.
    const HAVANA = { gps: { latitude: 23.1136, longitude: -82.3666, accuracyMeters: 12 } };
    const decide = () =>
      decideActivation(
        client,
        { imei: deviceImei, idempotencyKey: 'kept-version', signals: HAVANA },
        'decision { policyVersion { number policy { key } } }',
      );
    const recorded = await decide();
    expect(recorded.decision.policyVersion.number).toBe(1);
    const policy = await client.data(`{ policy(key: "export-restricted-territories") { id } }`);
    await client.data(UPDATE, { input: { id: policy.policy.id, title: 'Renamed export policy' } });
    const retried = await decide();
    expect(retried.decision.policyVersion).toEqual({
      number: 1,
      policy: { key: 'export-restricted-territories' },
    });
  });
});
