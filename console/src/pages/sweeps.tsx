// Re-screening sweeps: a dry run for a policy and an action counts what would change (by region,
// model and partner, with sample devices); the author then runs it for real and follows its
// progress live (sweepProgress, with polling while no event comes), and pauses, resumes or cancels
// it. The chosen policy, action and sweep are in the URL.
import { FormEvent, useEffect, useRef, useState } from 'react';
import { useMutation, useQuery, useSubscription } from 'urql';
import { FragmentType, graphql, readFragment } from '../gql';
import type { SweepAction, SweepBreakdownFieldsFragment } from '../gql/graphql';
import { can } from '../roles';
import { Link, navigate, useLocation, withParams } from '../router';
import {
  ConfirmDialog,
  Field,
  FormErrors,
  Loading,
  PageHeader,
  PagedTable,
  QueryStatus,
  RequestError,
  StatusBadge,
  Time,
  UserErrorLike,
  messagesFor,
  useMutationPayload,
} from '../ui';
import { useViewer } from '../viewer';

const SweepsQuery = graphql(`
  query SweepsPage {
    sweeps(first: 20) {
      totalCount
      nodes {
        id
        status
        action
        total
        processed
        changed
        failed
        startedAt
        startedBy
        finishedAt
        policy {
          key
          title
        }
      }
    }
    policies(first: 100) {
      nodes {
        key
        title
        status
        currentVersion {
          number
          mode
          action
        }
      }
    }
  }
`);

const SweepFields = graphql(`
  fragment SweepProgressFields on Sweep {
    id
    status
    action
    note
    total
    processed
    changed
    failed
    startedAt
    startedBy
    finishedAt
    updatedAt
    policy {
      key
      title
    }
    breakdown {
      ...SweepBreakdownFields
    }
  }
`);

const BreakdownFields = graphql(`
  fragment SweepBreakdownFields on SweepBreakdownCounts {
    byRegion {
      region {
        code
        name
      }
      devices
    }
    byModel {
      model {
        code
        marketingName
      }
      devices
    }
    byPartner {
      partner {
        id
        name
      }
      devices
    }
  }
`);

const SweepQuery = graphql(`
  query SweepDetail($id: ID!) {
    sweep(id: $id) {
      ...SweepProgressFields
    }
  }
`);

const SweepProgressSubscription = graphql(`
  subscription SweepProgress($id: ID!) {
    sweepProgress(id: $id) {
      ...SweepProgressFields
    }
  }
`);

const StartSweepMutation = graphql(`
  mutation StartSweep($input: StartSweepInput!) {
    startSweep(input: $input) {
      preview {
        action
        total
        changed
        breakdown {
          ...SweepBreakdownFields
        }
        sampleDevices {
          imei
          status
          model {
            marketingName
          }
          partner {
            name
          }
        }
      }
      sweep {
        id
        status
      }
      userErrors {
        field
        message
        code
      }
    }
  }
`);

const PauseSweepMutation = graphql(`
  mutation PauseSweep($input: SweepControlInput!) {
    pauseSweep(input: $input) {
      sweep {
        ...SweepProgressFields
      }
      userErrors {
        field
        message
        code
      }
    }
  }
`);
const ResumeSweepMutation = graphql(`
  mutation ResumeSweep($input: SweepControlInput!) {
    resumeSweep(input: $input) {
      sweep {
        ...SweepProgressFields
      }
      userErrors {
        field
        message
        code
      }
    }
  }
`);
const CancelSweepMutation = graphql(`
  mutation CancelSweep($input: SweepControlInput!) {
    cancelSweep(input: $input) {
      sweep {
        ...SweepProgressFields
      }
      userErrors {
        field
        message
        code
      }
    }
  }
`);

const ACTIONS: Record<SweepAction, string> = {
  LOCK_ACTIVE_DEVICES: 'Lock active devices the policy now locks',
  UNLOCK_RELEASED_DEVICES: 'Unlock devices the policy no longer locks',
};
/** Without an event for this long, a running sweep is read again (the socket may be down). */
const POLL_MS = 2_000;

type Breakdown = SweepBreakdownFieldsFragment;

export function SweepsPage() {
  const location = useLocation();
  const viewer = useViewer();
  const sweepId = location.params.get('sweep');
  const [{ data, error, fetching }, refetch] = useQuery({ query: SweepsQuery });
  return (
    <div className="sweeps">
      <PageHeader title="Sweeps" />
      {can.runSweeps(viewer.role) ? (
        <StartSweep
          policies={data?.policies.nodes ?? []}
          onStarted={() => refetch({ requestPolicy: 'network-only' })}
        />
      ) : (
        <p className="hint">
          Your key&apos;s role reads sweeps; starting and steering them needs POLICY_AUTHOR or ADMIN.
        </p>
      )}
      {sweepId && (
        <SweepProgress key={sweepId} id={sweepId} onStatus={() => refetch({ requestPolicy: 'network-only' })} />
      )}
      <section aria-labelledby="sweeps-heading" className="panel">
        <h2 id="sweeps-heading">Recent sweeps</h2>
        <QueryStatus error={error} fetching={fetching} data={data} refetch={refetch} what="the sweeps" />
        {data && (
          <PagedTable
            label="Sweeps, newest first"
            columns={['Started', 'Policy', 'Action', 'Status', 'Processed', 'Changed', 'Failed']}
            count={data.sweeps.nodes.length}
            empty="No sweep has run yet."
          >
            {data.sweeps.nodes.map((sweep) => (
              <tr key={sweep.id} className={sweep.id === sweepId ? 'selected' : ''}>
                <td>
                  <Link
                    to={withParams(location, { sweep: sweep.id })}
                    aria-current={sweep.id === sweepId ? 'true' : undefined}
                  >
                    <Time value={sweep.startedAt} />
                  </Link>{' '}
                  <small>by {sweep.startedBy}</small>
                </td>
                <td>{sweep.policy.key}</td>
                <td>{sweep.action === 'LOCK_ACTIVE_DEVICES' ? 'lock' : 'unlock'}</td>
                <td>
                  <StatusBadge status={sweep.status} />
                </td>
                <td>
                  {sweep.processed} / {sweep.status === 'COMPLETED' ? '' : '≈ '}
                  {sweep.total}
                </td>
                <td>{sweep.changed}</td>
                <td>{sweep.failed}</td>
              </tr>
            ))}
          </PagedTable>
        )}
      </section>
    </div>
  );
}

interface Preview {
  policyKey: string;
  action: SweepAction;
  note: string;
  total: number;
  changed: number;
  breakdown: Breakdown;
  sampleDevices: readonly {
    imei: string;
    status: string;
    model: { marketingName: string };
    partner: { name: string };
  }[];
}

function StartSweep({
  policies,
  onStarted,
}: {
  policies: readonly {
    key: string;
    title: string;
    currentVersion: { number: number; mode: string; action: string } | null;
  }[];
  onStarted: () => void;
}) {
  const location = useLocation();
  const policyKey = location.params.get('policy') ?? '';
  const action = (location.params.get('action') as SweepAction | null) ?? 'LOCK_ACTIVE_DEVICES';
  const [note, setNote] = useState('');
  const [preview, setPreview] = useState<Preview | null>(null);
  const start = useMutationPayload(StartSweepMutation, (data) => data.startSweep);
  const userErrors = start.userErrors;
  const set = (changes: Record<string, string | null>) => {
    setPreview(null);
    start.reset();
    navigate(withParams(location, changes), { replace: true });
  };
  const run = async (dryRun: boolean) => {
    const payload = await start.run({
      input: { policyKey, action, dryRun, ...(note.trim() ? { note: note.trim() } : {}) },
    });
    if (!payload || payload.userErrors.length) return;
    if (dryRun && payload.preview) {
      const { breakdown, ...rest } = payload.preview;
      setPreview({ ...rest, policyKey, note, breakdown: readFragment(BreakdownFields, breakdown) });
    } else if (payload.sweep) {
      // The dry run's counts stay in view beside the real run's progress.
      setPreview(null);
      lastDryRun.current = preview;
      onStarted();
      navigate(withParams(location, { sweep: payload.sweep.id }), { replace: false });
    }
  };
  const lastDryRun = useRef<Preview | null>(null);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    void run(true);
  };
  return (
    <section aria-labelledby="start-heading" className="panel">
      <h2 id="start-heading">Start a sweep</h2>
      <form aria-label="Start a sweep" onSubmit={submit} className="filters">
        <Field label="Policy" errors={messagesFor(userErrors, 'policyKey')}>
          {(props) => (
            <select {...props} value={policyKey} onChange={(event) => set({ policy: event.target.value })}>
              <option value="">Choose a policy…</option>
              {policies.map((policy) => (
                <option key={policy.key} value={policy.key}>
                  {policy.title} ({policy.key}
                  {policy.currentVersion
                    ? `, v${policy.currentVersion.number} ${policy.currentVersion.mode} ${policy.currentVersion.action}`
                    : ', no version in force'}
                  )
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label="Action" errors={messagesFor(userErrors, 'action')}>
          {(props) => (
            <select {...props} value={action} onChange={(event) => set({ action: event.target.value })}>
              {(Object.keys(ACTIONS) as SweepAction[]).map((value) => (
                <option key={value} value={value}>
                  {ACTIONS[value]}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label="Note (why)" errors={messagesFor(userErrors, 'note')}>
          {(props) => <input {...props} value={note} onChange={(event) => setNote(event.target.value)} size={40} />}
        </Field>
        <button type="submit" disabled={start.fetching}>
          Dry run
        </button>
      </form>
      {start.error && <RequestError error={start.error} retry={() => void run(true)} />}
      <FormErrors userErrors={userErrors} fields={['policyKey', 'action', 'note']} />
      {preview && (
        <div className="preview" role="region" aria-label="Dry run result">
          <p className="summary" role="status">
            Dry run of {preview.policyKey}: <strong>{preview.changed}</strong> of {preview.total} devices examined would
            change. Nothing was written.
          </p>
          <BreakdownTables breakdown={preview.breakdown} what="would change" />
          {preview.sampleDevices.length > 0 && (
            <>
              <h3>Sample devices</h3>
              <ul className="samples" aria-label="Sample devices">
                {preview.sampleDevices.map((device) => (
                  <li key={device.imei}>
                    <Link to={`/devices/${device.imei}`}>{device.imei}</Link> · {device.model.marketingName} ·{' '}
                    {device.partner.name} · <StatusBadge status={device.status} />
                  </li>
                ))}
              </ul>
            </>
          )}
          <p className="actions">
            <button
              type="button"
              className="danger"
              disabled={start.fetching || preview.changed === 0}
              onClick={() => void run(false)}
            >
              Run it for real ({preview.changed} devices)
            </button>
          </p>
        </div>
      )}
      {!preview && lastDryRun.current && (
        <p className="hint">
          The dry run before this sweep counted {lastDryRun.current.changed} of {lastDryRun.current.total} devices.
        </p>
      )}
    </section>
  );
}

function BreakdownTables({ breakdown, what }: { breakdown: Breakdown; what: string }) {
  const tables = [
    {
      label: 'By region',
      rows: breakdown.byRegion.map((row) => [`${row.region.name} (${row.region.code})`, row.devices] as const),
    },
    { label: 'By model', rows: breakdown.byModel.map((row) => [row.model.marketingName, row.devices] as const) },
    { label: 'By partner', rows: breakdown.byPartner.map((row) => [row.partner.name, row.devices] as const) },
  ];
  return (
    <div className="breakdown">
      {tables.map((table) => (
        <PagedTable
          key={table.label}
          label={`Devices that ${what}, ${table.label.toLowerCase()}`}
          className="numbers"
          columns={[table.label.replace('By ', '').replace(/^./, (first) => first.toUpperCase()), 'Devices']}
          count={table.rows.length}
          empty="None."
        >
          {table.rows.map(([label, devices]) => (
            <tr key={label}>
              <th scope="row">{label}</th>
              <td>{devices}</td>
            </tr>
          ))}
        </PagedTable>
      ))}
    </div>
  );
}

function SweepProgress({ id, onStatus }: { id: string; onStatus: () => void }) {
  const viewer = useViewer();
  const [{ data, error, fetching }, refetch] = useQuery({ query: SweepQuery, variables: { id } });
  const [live] = useSubscription({ query: SweepProgressSubscription, variables: { id } });
  const [confirmCancel, setConfirmCancel] = useState(false);
  const [pause, pauseSweep] = useMutation(PauseSweepMutation);
  const [resume, resumeSweep] = useMutation(ResumeSweepMutation);
  const [cancel, cancelSweep] = useMutation(CancelSweepMutation);
  const [controlErrors, setControlErrors] = useState<readonly UserErrorLike[]>([]);
  const lastEvent = useRef(0);
  useEffect(() => {
    if (live.data) lastEvent.current = Date.now();
  }, [live.data]);

  // The newest of what the query read and what the subscription delivered.
  const fromQuery = data?.sweep ? readSweep(data.sweep) : null;
  const fromEvent = live.data?.sweepProgress ? readSweep(live.data.sweepProgress) : null;
  const sweep =
    fromQuery && fromEvent
      ? fromEvent.updatedAt >= fromQuery.updatedAt
        ? fromEvent
        : fromQuery
      : (fromEvent ?? fromQuery);
  const running = sweep?.status === 'RUNNING';
  // The list of sweeps below shows each one's status too: read again when this one's changes (only then).
  const status = sweep?.status;
  useEffect(() => {
    if (status) onStatus();
  }, [status]);

  // Polling fallback: a running sweep with no event for a while is read again.
  useEffect(() => {
    if (!running) return;
    const timer = setInterval(() => {
      if (Date.now() - lastEvent.current > POLL_MS) refetch({ requestPolicy: 'network-only' });
    }, POLL_MS);
    return () => clearInterval(timer);
  }, [running, refetch]);

  const control = async (what: 'pause' | 'resume' | 'cancel') => {
    const run = { pause: pauseSweep, resume: resumeSweep, cancel: cancelSweep }[what];
    const result = await run({ input: { id } });
    const payload =
      result.data &&
      ('pauseSweep' in result.data
        ? result.data.pauseSweep
        : 'resumeSweep' in result.data
          ? result.data.resumeSweep
          : result.data.cancelSweep);
    setControlErrors(payload?.userErrors ?? []);
    refetch({ requestPolicy: 'network-only' });
  };

  if (error) return <RequestError error={error} retry={() => refetch({ requestPolicy: 'network-only' })} />;
  if (!sweep)
    return fetching ? <Loading what="the sweep" /> : <p role="alert">No sweep with this ID is visible to your key.</p>;
  const percent = sweep.total ? Math.floor((sweep.processed / sweep.total) * 100) : 100;
  const busy = pause.fetching || resume.fetching || cancel.fetching;
  return (
    <section aria-labelledby="sweep-heading" className="panel">
      <h2 id="sweep-heading">
        Sweep of {sweep.policy.key}: {sweep.action === 'LOCK_ACTIVE_DEVICES' ? 'lock' : 'unlock'}{' '}
        <StatusBadge status={sweep.status} />
      </h2>
      <p>
        Started <Time value={sweep.startedAt} /> by {sweep.startedBy}
        {sweep.note ? ` · “${sweep.note}”` : ''}
        {sweep.finishedAt && (
          <>
            {' '}
            · finished <Time value={sweep.finishedAt} />
          </>
        )}
      </p>
      <div className="progress">
        <progress
          id={`progress-${sweep.id}`}
          max={sweep.total || 1}
          value={sweep.total ? sweep.processed : 1}
          aria-label="Sweep progress"
        />
        <p role="status" className="progress-figures" aria-live="polite">
          {/* Until it completes, a large sweep's total is an estimate (Sweep.total); then it is the count examined. */}
          <strong>{percent}%</strong> · processed {sweep.processed} of {sweep.status === 'COMPLETED' ? '' : 'about '}
          {sweep.total} · changed <strong>{sweep.changed}</strong> · failed <strong>{sweep.failed}</strong>
        </p>
      </div>
      {can.runSweeps(viewer.role) && (
        <p className="actions">
          {sweep.status === 'RUNNING' && (
            <button type="button" disabled={busy} onClick={() => void control('pause')}>
              Pause
            </button>
          )}
          {sweep.status === 'PAUSED' && (
            <button type="button" disabled={busy} onClick={() => void control('resume')}>
              Resume
            </button>
          )}
          {(sweep.status === 'RUNNING' || sweep.status === 'PAUSED') && (
            <button type="button" className="danger" disabled={busy} onClick={() => setConfirmCancel(true)}>
              Cancel…
            </button>
          )}
        </p>
      )}
      <FormErrors userErrors={controlErrors} />
      <h3>Changed so far</h3>
      <BreakdownTables breakdown={sweep.breakdown} what="changed" />
      {confirmCancel && (
        <ConfirmDialog
          title="Cancel this sweep?"
          confirm="Cancel the sweep"
          cancel="Keep it"
          danger
          onClose={() => setConfirmCancel(false)}
          onConfirm={() => {
            setConfirmCancel(false);
            void control('cancel');
          }}
        >
          <p>
            The batches done stay done ({sweep.changed} devices changed); the remaining{' '}
            {Math.max(0, sweep.total - sweep.processed)} devices are not examined. A cancelled sweep cannot be resumed.
          </p>
        </ConfirmDialog>
      )}
    </section>
  );
}

/** A sweep's fields with its breakdown read out of their fragments. */
function readSweep(sweep: FragmentType<typeof SweepFields>) {
  const fields = readFragment(SweepFields, sweep);
  return { ...fields, breakdown: readFragment(BreakdownFields, fields.breakdown) };
}
