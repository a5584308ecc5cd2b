/** What a partner integration does with the typed client: the flows the partner guide shows. */
import { PartnerClient, payloadOrThrow } from './client';
import { AttemptEvidence, DecideActivation, DevicePage, RegisterDevices } from './operations';
import type { ActivationSignalsInput, DeviceManifestRow, DevicePageQuery } from './gql/graphql';

// #region register-manifest
/** Registers a manifest of devices, all or nothing; throws UserErrorsError naming every bad row. */
export async function registerManifest(client: PartnerClient, partnerId: string, devices: DeviceManifestRow[]) {
  const { registerDevices } = await client.request(RegisterDevices, { input: { partnerId, devices } });
  return payloadOrThrow(registerDevices).registeredCount;
}
// #endregion register-manifest

type DeviceNode = DevicePageQuery['devices']['nodes'][number];

// #region page-devices
/** Every device of the partner, page by page (keyset cursors: rows added meanwhile never shift a page). */
export async function* allDevices(client: PartnerClient, pageSize = 100): AsyncGenerator<DeviceNode> {
  let after: string | null = null;
  for (;;) {
    const { devices }: DevicePageQuery = await client.request(DevicePage, { first: pageSize, after });
    yield* devices.nodes;
    if (!devices.pageInfo.hasNextPage) return;
    after = devices.pageInfo.endCursor ?? null;
  }
}
// #endregion page-devices

// #region attempt-evidence
/** Why an attempt was decided as it was: the region, the policy, and the evidence of each signal. */
export async function explainAttempt(client: PartnerClient, attemptId: string): Promise<string[]> {
  const { node } = await client.request(AttemptEvidence, { id: attemptId });
  if (!node || !('outcome' in node)) return [`no attempt ${attemptId}`];
  const lines = [`${node.outcome} in ${node.resolvedRegion?.code ?? 'no region'} (${node.reasonCodes.join(', ')})`];
  for (const signal of node.explanation?.signals ?? [])
    lines.push(
      `signal ${signal.source}: ${signal.finding} ${signal.regionCode ?? ''} ${signal.usable ? '' : '(not used)'}`.trim(),
    );
  for (const policy of node.explanation?.policies ?? [])
    lines.push(`policy ${policy.policyKey}: ${policy.finding}${policy.applies ? ' (applies)' : ''}`);
  return lines;
}
// #endregion attempt-evidence

// #region decide-idempotently
/**
 * The gateway's call: one idempotency key per activation, reused on every retry, so that a retry
 * after a timeout returns the decision already made instead of deciding (and locking) twice.
 */
export async function decideIdempotently(
  client: PartnerClient,
  activation: { id: string; imei: string; signals: ActivationSignalsInput },
  tries = 3,
) {
  const input = { imei: activation.imei, signals: activation.signals, idempotencyKey: `activation-${activation.id}` };
  for (let attempt = 1; ; attempt += 1) {
    try {
      const { decideActivation } = await client.request(DecideActivation, { input });
      return payloadOrThrow(decideActivation);
    } catch (error) {
      // Network failures: the first try may have been decided; the same key makes the retry safe.
      if (!(error instanceof TypeError) || attempt >= tries) throw error;
    }
  }
}
// #endregion decide-idempotently
