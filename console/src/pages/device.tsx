import { FormEvent, useState } from 'react';
import { useMutation, useQuery } from 'urql';
import { AttemptEvidence } from '../evidence';
import { FragmentType, graphql, readFragment } from '../gql';
import { can } from '../roles';
import { Link } from '../router';
import {
  ConfirmDialog,
  Field,
  Loading,
  RequestError,
  StatusBadge,
  Time,
  UserErrorLike,
  messagesFor,
  useMutationPayload,
  FormErrors,
} from '../ui';
import { useViewer } from '../viewer';

/** A list that may be empty still refreshes after a mutation returns this type (a stable object: urql compares it). */
const EXEMPTION_CONTEXT = { additionalTypenames: ['Exemption'] };

const DeviceQuery = graphql(`
  query DevicePage($imei: String!, $withLocation: Boolean!, $withPolicies: Boolean!) {
    device(imei: $imei) {
      id
      imei
      serialNumber
      status
      lockReason
      lockedAt
      activatedAt
      createdAt
      model {
        code
        marketingName
      }
      partner {
        id
        name
      }
      marketRegion {
        code
        name
      }
      lockedByAttempt {
        id
        occurredAt
        resolvedRegion {
          code
          name
        }
        policyVersion {
          number
          policy {
            key
            title
          }
        }
      }
      statusHistory(first: 20) {
        totalCount
        nodes {
          id
          occurredAt
          fromStatus
          toStatus
          cause
          actor
          reason
        }
      }
      attempts(first: 10) {
        ...DeviceAttemptsPage
      }
    }
    policies(first: 100) @include(if: $withPolicies) {
      nodes {
        key
        title
      }
    }
  }
`);

const DeviceAttemptsFragment = graphql(`
  fragment DeviceAttemptsPage on ActivationAttemptConnection {
    totalCount
    pageInfo {
      hasNextPage
      endCursor
    }
    nodes {
      id
      occurredAt
      outcome
      enforced
      reasonCodes
      resolvedRegion {
        code
      }
      ...AttemptEvidence
    }
  }
`);

const MoreAttemptsQuery = graphql(`
  query DeviceMoreAttempts($imei: String!, $after: String!, $withLocation: Boolean!) {
    device(imei: $imei) {
      id
      attempts(first: 10, after: $after) {
        ...DeviceAttemptsPage
      }
    }
  }
`);

const ExemptionsQuery = graphql(`
  query DeviceExemptions($deviceId: ID!) {
    exemptions(first: 50, filter: { deviceId: $deviceId }) {
      totalCount
      nodes {
        id
        reason
        grantedBy
        createdAt
        expiresAt
        revokedAt
        policy {
          key
          title
        }
      }
    }
  }
`);

const UnlockMutation = graphql(`
  mutation UnlockDevice($input: UnlockDeviceInput!) {
    unlockDevice(input: $input) {
      device {
        id
        status
        lockReason
        lockedAt
      }
      userErrors {
        field
        message
        code
      }
    }
  }
`);

const CreateExemptionMutation = graphql(`
  mutation CreateExemption($input: CreateExemptionInput!) {
    createExemption(input: $input) {
      exemption {
        id
      }
      userErrors {
        field
        message
        code
      }
    }
  }
`);

const RevokeExemptionMutation = graphql(`
  mutation RevokeExemption($input: RevokeExemptionInput!) {
    revokeExemption(input: $input) {
      exemption {
        id
        revokedAt
      }
      userErrors {
        field
        message
        code
      }
    }
  }
`);

/** What locked a device, in words (Device.lockCause). */
const LOCK_CAUSES: Record<string, string> = {
  DECISION: 'An enforced decision',
  REVIEW: 'A person, on review',
  SWEEP: 'A re-screening sweep',
};

export function DevicePage({ imei }: { imei: string }) {
  const viewer = useViewer();
  const withLocation = can.readLocation(viewer.role);
  const [{ data, error, fetching }, refetch] = useQuery({
    query: DeviceQuery,
    variables: { imei, withLocation, withPolicies: can.writeExemptions(viewer.role) },
  });
  const [unlocking, setUnlocking] = useState(false);
  const [notice, setNotice] = useState<string | null>(null);
  if (error) return <RequestError error={error} retry={() => refetch({ requestPolicy: 'network-only' })} />;
  if (!data && fetching) return <Loading what="the device" />;
  const device = data?.device;
  if (!device) {
    return (
      <div>
        <h1>Device {imei}</h1>
        <p role="alert">No device with IMEI {imei} is visible to your key.</p>
        <Link to="/devices">Back to devices</Link>
      </div>
    );
  }
  const lockEntry = device.statusHistory.nodes.find((entry) => entry.toStatus === 'LOCKED');
  return (
    <div className="device">
      <p>
        <Link to="/devices">Devices</Link> ›
      </p>
      <h1>
        Device {device.imei} <StatusBadge status={device.status} />
      </h1>
      {notice && (
        <p role="status" className="done">
          {notice}
        </p>
      )}
      <div className="split">
        <section className="panel" aria-labelledby="device-facts">
          <h2 id="device-facts">Device</h2>
          <dl className="facts">
            <dt>Model</dt>
            <dd>
              {device.model.marketingName} ({device.model.code})
            </dd>
            <dt>Partner</dt>
            <dd>{device.partner.name}</dd>
            <dt>Market region</dt>
            <dd>
              {device.marketRegion.name} ({device.marketRegion.code})
            </dd>
            <dt>Serial number</dt>
            <dd>{device.serialNumber}</dd>
            <dt>Registered</dt>
            <dd>
              <Time value={device.createdAt} />
            </dd>
            <dt>Activated</dt>
            <dd>
              <Time value={device.activatedAt} />
            </dd>
          </dl>
          {can.readAudit(viewer.role) && (
            <Link to={`/audit?target=${encodeURIComponent(device.id)}&type=Device`}>Audit events of this device</Link>
          )}
        </section>
        <section className="panel" aria-labelledby="device-status">
          <h2 id="device-status">Status: {device.status.replace('_', ' ')}</h2>
          {device.status === 'LOCKED' ? (
            <>
              <h3>Why it is locked</h3>
              <dl className="facts">
                <dt>Locked</dt>
                <dd>
                  <Time value={device.lockedAt} />
                </dd>
                <dt>Cause</dt>
                <dd>
                  {lockEntry
                    ? `${LOCK_CAUSES[lockEntry.cause] ?? lockEntry.cause} (${lockEntry.cause}), by ${lockEntry.actor}`
                    : device.lockedByAttempt
                      ? `${LOCK_CAUSES.DECISION} (DECISION): the locking attempt below`
                      : 'not recorded'}
                </dd>
                <dt>Reasons</dt>
                <dd>
                  {device.lockReason ? (
                    <ul className="inline-list reason-codes" aria-label="Reason codes">
                      {device.lockReason.split(',').map((code) => (
                        <li key={code}>
                          <code>{code.trim()}</code>
                        </li>
                      ))}
                    </ul>
                  ) : (
                    '—'
                  )}
                </dd>
                <dt>Policy version</dt>
                <dd>
                  {device.lockedByAttempt?.policyVersion
                    ? `${device.lockedByAttempt.policyVersion.policy.title} (${device.lockedByAttempt.policyVersion.policy.key} v${device.lockedByAttempt.policyVersion.number})`
                    : '—'}
                </dd>
                <dt>Locking attempt</dt>
                <dd>
                  {device.lockedByAttempt ? (
                    <>
                      <Time value={device.lockedByAttempt.occurredAt} /> in{' '}
                      {device.lockedByAttempt.resolvedRegion
                        ? `${device.lockedByAttempt.resolvedRegion.name} (${device.lockedByAttempt.resolvedRegion.code})`
                        : 'no region'}{' '}
                      (its evidence is under Activation attempts)
                    </>
                  ) : (
                    '—'
                  )}
                </dd>
              </dl>
              {can.resolve(viewer.role) && (
                <button type="button" className="danger" onClick={() => setUnlocking(true)}>
                  Unlock device…
                </button>
              )}
            </>
          ) : (
            <p>The device is not locked.</p>
          )}
          <h3>Status history</h3>
          <ol className="timeline" aria-label="Status history, newest first">
            {device.statusHistory.nodes.map((entry) => (
              <li key={entry.id}>
                <Time value={entry.occurredAt} /> — {entry.fromStatus} → <strong>{entry.toStatus}</strong> by{' '}
                {entry.cause.toLowerCase()}
                <br />
                <small>
                  {entry.reason} · {entry.actor}
                </small>
              </li>
            ))}
            {device.statusHistory.nodes.length === 0 && <li>No status change yet.</li>}
          </ol>
        </section>
      </div>
      {can.readExemptions(viewer.role) && (
        <Exemptions
          deviceId={device.id}
          policies={data?.policies?.nodes ?? []}
          canWrite={can.writeExemptions(viewer.role)}
        />
      )}
      <section aria-labelledby="attempts-title">
        <h2 id="attempts-title">Activation attempts, newest first</h2>
        <AttemptsPage connection={device.attempts} imei={device.imei} withLocation={withLocation} />
      </section>
      {unlocking && (
        <UnlockDialog
          deviceId={device.id}
          imei={device.imei}
          onClose={() => setUnlocking(false)}
          onUnlocked={(status) => {
            setUnlocking(false);
            setNotice(`Device ${device.imei} unlocked: now ${status}.`);
          }}
        />
      )}
    </div>
  );
}

/** One page of the device's attempts (one signature, so its result type can be named). */
function attemptsPage(connection: FragmentType<typeof DeviceAttemptsFragment>) {
  return readFragment(DeviceAttemptsFragment, connection);
}
type AttemptNode = ReturnType<typeof attemptsPage>['nodes'][number];

/** One page of attempts, then "Older attempts" loads the next page by its cursor. */
function AttemptsPage({
  connection,
  imei,
  withLocation,
}: {
  connection: FragmentType<typeof DeviceAttemptsFragment>;
  imei: string;
  withLocation: boolean;
}) {
  const page = attemptsPage(connection);
  const [more, setMore] = useState(false);
  return (
    <>
      <ul className="attempts">
        {page.nodes.map((attempt) => (
          <AttemptRow key={attempt.id} attempt={attempt} />
        ))}
        {page.nodes.length === 0 && <li>No activation attempt.</li>}
      </ul>
      {page.pageInfo.hasNextPage &&
        page.pageInfo.endCursor &&
        (more ? (
          <MoreAttempts imei={imei} after={page.pageInfo.endCursor} withLocation={withLocation} />
        ) : (
          <button type="button" onClick={() => setMore(true)}>
            Older attempts
          </button>
        ))}
    </>
  );
}

function AttemptRow({ attempt }: { attempt: AttemptNode }) {
  const [open, setOpen] = useState(false);
  return (
    <li>
      <details onToggle={(event) => setOpen((event.target as HTMLDetailsElement).open)}>
        <summary>
          <Time value={attempt.occurredAt} /> · <strong>{attempt.outcome}</strong>
          {attempt.enforced ? '' : ' (monitor)'} · {attempt.resolvedRegion?.code ?? 'no region'} ·{' '}
          {attempt.reasonCodes.join(', ')}
        </summary>
        {open && <AttemptEvidence attempt={attempt} />}
      </details>
    </li>
  );
}

function MoreAttempts({ imei, after, withLocation }: { imei: string; after: string; withLocation: boolean }) {
  const [{ data, error }, refetch] = useQuery({ query: MoreAttemptsQuery, variables: { imei, after, withLocation } });
  if (error) return <RequestError error={error} retry={() => refetch({ requestPolicy: 'network-only' })} />;
  if (!data?.device) return <Loading what="older attempts" />;
  return <AttemptsPage connection={data.device.attempts} imei={imei} withLocation={withLocation} />;
}

function UnlockDialog({
  deviceId,
  imei,
  onClose,
  onUnlocked,
}: {
  deviceId: string;
  imei: string;
  onClose: () => void;
  onUnlocked: (status: string) => void;
}) {
  const [reason, setReason] = useState('');
  const [missing, setMissing] = useState(false);
  const unlock = useMutationPayload(UnlockMutation, (data) => data.unlockDevice);
  return (
    <ConfirmDialog
      title={`Unlock device ${imei}`}
      confirm="Unlock"
      danger
      busy={unlock.fetching}
      userErrors={unlock.userErrors}
      fields={['reason']}
      error={unlock.error}
      onClose={onClose}
      onConfirm={async () => {
        setMissing(!reason.trim());
        if (!reason.trim()) return;
        const payload = await unlock.run({ input: { deviceId, reason } });
        if (payload?.device) onUnlocked(payload.device.status);
      }}
    >
      <p>The device will be able to activate again. The reason is kept in the audit trail.</p>
      <Field
        label="Reason (required)"
        errors={missing ? ['A reason is required'] : messagesFor(unlock.userErrors, 'reason')}
      >
        {(props) => <textarea {...props} rows={3} value={reason} onChange={(event) => setReason(event.target.value)} />}
      </Field>
    </ConfirmDialog>
  );
}

function Exemptions({
  deviceId,
  policies,
  canWrite,
}: {
  deviceId: string;
  policies: readonly { key: string; title: string }[];
  canWrite: boolean;
}) {
  const [{ data, error }, refetch] = useQuery({
    query: ExemptionsQuery,
    variables: { deviceId },
    context: EXEMPTION_CONTEXT,
  });
  const [revoking, setRevoking] = useState<string | null>(null);
  const [creating, create] = useMutation(CreateExemptionMutation);
  const [policyKey, setPolicyKey] = useState('');
  const [reason, setReason] = useState('');
  const [expiresAt, setExpiresAt] = useState('');
  const [userErrors, setUserErrors] = useState<readonly UserErrorLike[]>([]);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const result = await create({
      input: {
        deviceId,
        policyKey,
        reason,
        ...(expiresAt ? { expiresAt: new Date(expiresAt).toISOString() } : {}),
      },
    });
    const payload = result.data?.createExemption;
    if (!payload) return;
    setUserErrors(payload.userErrors);
    if (payload.exemption) {
      setReason('');
      setExpiresAt('');
    }
  };
  return (
    <section className="panel" aria-labelledby="exemptions-title">
      <h2 id="exemptions-title">Exemptions</h2>
      {error && <RequestError error={error} retry={() => refetch({ requestPolicy: 'network-only' })} />}
      {data && (
        <table aria-label="Exemptions of this device">
          <thead>
            <tr>
              <th scope="col">Policy</th>
              <th scope="col">Reason</th>
              <th scope="col">Granted</th>
              <th scope="col">Expires</th>
              <th scope="col">State</th>
            </tr>
          </thead>
          <tbody>
            {data.exemptions.nodes.map((exemption) => (
              <tr key={exemption.id}>
                <td>{exemption.policy.key}</td>
                <td>{exemption.reason}</td>
                <td>
                  <Time value={exemption.createdAt} /> by {exemption.grantedBy}
                </td>
                <td>{exemption.expiresAt ? <Time value={exemption.expiresAt} /> : 'until revoked'}</td>
                <td>
                  {exemption.revokedAt ? (
                    <>
                      revoked <Time value={exemption.revokedAt} />
                    </>
                  ) : canWrite ? (
                    <button type="button" onClick={() => setRevoking(exemption.id)}>
                      Revoke…
                    </button>
                  ) : (
                    'in force'
                  )}
                </td>
              </tr>
            ))}
            {data.exemptions.nodes.length === 0 && (
              <tr>
                <td colSpan={5}>This device has no exemption of its own.</td>
              </tr>
            )}
          </tbody>
        </table>
      )}
      {canWrite && (
        <form className="filters" aria-label="Grant an exemption" onSubmit={submit}>
          <Field label="Policy" errors={messagesFor(userErrors, 'policyKey')}>
            {(props) => (
              <select {...props} value={policyKey} onChange={(event) => setPolicyKey(event.target.value)}>
                <option value="">Choose…</option>
                {policies.map((policy) => (
                  <option key={policy.key} value={policy.key}>
                    {policy.title}
                  </option>
                ))}
              </select>
            )}
          </Field>
          <Field label="Reason" errors={messagesFor(userErrors, 'reason')}>
            {(props) => (
              <input {...props} value={reason} size={36} onChange={(event) => setReason(event.target.value)} />
            )}
          </Field>
          <Field label="Expires (optional)" errors={messagesFor(userErrors, 'expiresAt')}>
            {(props) => (
              <input
                {...props}
                type="datetime-local"
                value={expiresAt}
                onChange={(event) => setExpiresAt(event.target.value)}
              />
            )}
          </Field>
          <button type="submit" disabled={creating.fetching}>
            Grant exemption
          </button>
          <FormErrors userErrors={userErrors} fields={['policyKey', 'reason', 'expiresAt']} />
        </form>
      )}
      {revoking && <RevokeExemptionDialog id={revoking} onClose={() => setRevoking(null)} />}
    </section>
  );
}

function RevokeExemptionDialog({ id, onClose }: { id: string; onClose: () => void }) {
  const [reason, setReason] = useState('');
  const revoke = useMutationPayload(RevokeExemptionMutation, (data) => data.revokeExemption);
  return (
    <ConfirmDialog
      title="Revoke the exemption"
      confirm="Revoke"
      danger
      busy={revoke.fetching}
      userErrors={revoke.userErrors}
      fields={['reason']}
      error={revoke.error}
      onClose={onClose}
      onConfirm={async () => {
        if ((await revoke.run({ input: { id, reason } }))?.exemption) onClose();
      }}
    >
      <p>The policy applies to the device again from its next activation.</p>
      <Field label="Reason (required)" errors={messagesFor(revoke.userErrors, 'reason')}>
        {(props) => <textarea {...props} rows={2} value={reason} onChange={(event) => setReason(event.target.value)} />}
      </Field>
    </ConfirmDialog>
  );
}
