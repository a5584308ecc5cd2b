// One policy: the version in force with its regions and lock messages, every version with who
// approved it and when, a diff between any two versions (chosen in the URL), its change requests,
// and — for POLICY_AUTHOR and ADMIN keys — edit, activate and retire.
import { useState } from 'react';
import { useQuery } from 'urql';
import { graphql } from '../gql';
import { can } from '../roles';
import { Link, navigate, useLocation, withParams } from '../router';
import {
  ConfirmDialog,
  Dialog,
  Field,
  Loading,
  PageHeader,
  RequestError,
  StatusBadge,
  Time,
  messagesFor,
  useMutationPayload,
} from '../ui';
import { useViewer } from '../viewer';
import {
  PhonePreview,
  RulesDiff,
  VersionRules,
  effectiveWindow,
  lockMessageFor,
  readVersion,
  rulesOfVersion,
} from './policy-rules';

const PolicyHistoryQuery = graphql(`
  query PolicyHistoryPage($key: String!, $withChanges: Boolean!) {
    policy(key: $key) {
      id
      key
      title
      status
      createdAt
      activatedAt
      retiredAt
      currentVersion {
        ...PolicyVersionRules
      }
      scheduledVersion {
        id
        number
      }
      versions(first: 100) {
        totalCount
        nodes {
          id
          number
          title
          mode
          action
          priority
          effectiveFrom
          effectiveUntil
          approvedAt
          approvedBy
          regions(first: 1) {
            totalCount
          }
        }
      }
      changeRequests(first: 20) @include(if: $withChanges) {
        totalCount
        nodes {
          id
          kind
          status
          note
          requestedBy
          requestedAt
          decidedBy
          decidedAt
          resultingVersion {
            number
          }
        }
      }
    }
  }
`);

// The two versions compared, in full (the list above holds only what its rows show).
const VersionsDiffQuery = graphql(`
  query PolicyVersionsDiff($from: ID!, $to: ID!) {
    from: node(id: $from) {
      __typename
      ... on PolicyVersion {
        ...PolicyVersionRules
      }
    }
    to: node(id: $to) {
      __typename
      ... on PolicyVersion {
        ...PolicyVersionRules
      }
    }
  }
`);

const ActivatePolicyMutation = graphql(`
  mutation ActivatePolicy($input: ActivatePolicyInput!) {
    activatePolicy(input: $input) {
      policy {
        id
        status
      }
      changeRequest {
        id
        status
        reasons
      }
      userErrors {
        field
        message
        code
      }
    }
  }
`);

const RetirePolicyMutation = graphql(`
  mutation RetirePolicy($input: RetirePolicyInput!) {
    retirePolicy(input: $input) {
      policy {
        id
        status
        retiredAt
      }
      userErrors {
        field
        message
        code
      }
    }
  }
`);

/** Policies and their change requests refetch after a policy mutation (a stable object: urql compares it). */
const POLICY_CONTEXT = { additionalTypenames: ['Policy', 'PolicyVersion', 'PolicyChangeRequest'] };

export function PolicyHistoryPage({ policyKey }: { policyKey: string }) {
  const viewer = useViewer();
  const location = useLocation();
  const withChanges = can.readPolicyChanges(viewer.role);
  const [{ data, error, fetching }, refetch] = useQuery({
    query: PolicyHistoryQuery,
    variables: { key: policyKey, withChanges },
    context: POLICY_CONTEXT,
  });
  const [dialog, setDialog] = useState<'activate' | 'retire' | null>(null);
  if (error) return <RequestError error={error} retry={() => refetch({ requestPolicy: 'network-only' })} />;
  if (!data && fetching) return <Loading what="the policy" />;
  const policy = data?.policy;
  if (!policy) return <p role="alert">No policy has the key {policyKey}.</p>;

  const versions = policy.versions.nodes;
  const byNumber = new Map(versions.map((version) => [version.number, version]));
  const current = readVersion(policy.currentVersion);
  const newest = versions[0]!;
  const toNumber = Number(location.params.get('to') ?? newest.number);
  const fromNumber = Number(location.params.get('from') ?? versions[1]?.number ?? newest.number);
  const writable = can.writePolicies(viewer.role);
  const mark = (version: { number: number; approvedAt?: string | null }) =>
    policy.status === 'DRAFT'
      ? 'draft'
      : version.number === current.number && policy.status === 'ACTIVE'
        ? 'in force'
        : version.number === policy.scheduledVersion?.number
          ? 'scheduled'
          : version.approvedAt
            ? ''
            : 'not approved';

  return (
    <div>
      <PageHeader
        back={{ to: '/policies', label: 'All policies' }}
        title={
          <>
            {policy.title} <StatusBadge status={policy.status} />
          </>
        }
      />
      <p>
        <code>{policy.key}</code> · created <Time value={policy.createdAt} />
        {policy.activatedAt && (
          <>
            {' '}
            · activated <Time value={policy.activatedAt} />
          </>
        )}
        {policy.retiredAt && (
          <>
            {' '}
            · retired <Time value={policy.retiredAt} />
          </>
        )}
      </p>
      {writable ? (
        policy.status !== 'RETIRED' && (
          <div className="actions">
            <Link className="button" to={`/policies/${encodeURIComponent(policy.key)}/edit`}>
              {policy.status === 'DRAFT' ? 'Edit draft' : 'Propose a change'}
            </Link>
            {policy.status === 'DRAFT' && (
              <button type="button" onClick={() => setDialog('activate')}>
                Activate…
              </button>
            )}
            <button type="button" className="danger" onClick={() => setDialog('retire')}>
              Retire…
            </button>
          </div>
        )
      ) : (
        <p className="read-only">
          Read only: a {viewer.role} key cannot change policies (POLICY_AUTHOR and ADMIN keys can).
        </p>
      )}

      <section className="panel" aria-labelledby="current-heading">
        <h2 id="current-heading">
          {policy.status === 'DRAFT' ? `Draft version ${current.number}` : `Version ${current.number} in force`}
        </h2>
        <VersionFacts version={current} />
      </section>

      <section aria-labelledby="versions-heading">
        <h2 id="versions-heading">History ({policy.versions.totalCount} versions)</h2>
        {policy.versions.totalCount > versions.length && (
          <p className="hint">The newest {versions.length} versions are shown.</p>
        )}
        <table aria-label="Versions">
          <thead>
            <tr>
              <th scope="col">Version</th>
              <th scope="col">Mode · action · priority</th>
              <th scope="col">Effective</th>
              <th scope="col">Regions</th>
              <th scope="col">Approved by</th>
              <th scope="col">Approved</th>
              <th scope="col">Compare</th>
            </tr>
          </thead>
          <tbody>
            {versions.map((version) => (
              <tr key={version.id} className={version.number === toNumber ? 'selected' : undefined}>
                <th scope="row">
                  v{version.number} {mark(version) && <span className="badge badge-new">{mark(version)}</span>}
                  <br />
                  {version.title}
                </th>
                <td>
                  {version.mode} · {version.action} · {version.priority}
                </td>
                <td>{effectiveWindow(version)}</td>
                <td>{version.regions.totalCount}</td>
                <td>{version.approvedBy ?? '—'}</td>
                <td>
                  <Time value={version.approvedAt} />
                </td>
                <td>
                  {byNumber.has(version.number - 1) && (
                    <Link
                      to={withParams(location, { from: String(version.number - 1), to: String(version.number) })}
                      aria-label={`Compare v${version.number - 1} with v${version.number}`}
                    >
                      with v{version.number - 1}
                    </Link>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>

      {versions.length > 1 && (
        <section aria-labelledby="diff-heading">
          <h2 id="diff-heading">Differences</h2>
          <form className="filters" aria-label="Versions to compare" onSubmit={(event) => event.preventDefault()}>
            {(['from', 'to'] as const).map((end) => (
              <Field key={end} label={end === 'from' ? 'From version' : 'To version'}>
                {(props) => (
                  <select
                    {...props}
                    value={end === 'from' ? fromNumber : toNumber}
                    onChange={(event) =>
                      navigate(withParams(location, { [end]: event.target.value }), { replace: true })
                    }
                  >
                    {versions.map((version) => (
                      <option key={version.number} value={version.number}>
                        v{version.number}
                      </option>
                    ))}
                  </select>
                )}
              </Field>
            ))}
          </form>
          <VersionsDiff fromId={byNumber.get(fromNumber)?.id} toId={byNumber.get(toNumber)?.id} />
        </section>
      )}

      {policy.changeRequests && (
        <section aria-labelledby="changes-heading">
          <h2 id="changes-heading">Change requests ({policy.changeRequests.totalCount})</h2>
          <ul className="timeline" aria-label="Change requests of this policy">
            {policy.changeRequests.nodes.map((request) => (
              <li key={request.id}>
                <Link to={`/changes?status=${request.status}&request=${encodeURIComponent(request.id)}`}>
                  {request.kind} <StatusBadge status={request.status} />
                </Link>{' '}
                by {request.requestedBy}, <Time value={request.requestedAt} />
                {request.decidedBy && (
                  <>
                    {' '}
                    — {request.status.toLowerCase()} by {request.decidedBy}, <Time value={request.decidedAt} />
                  </>
                )}
                {request.resultingVersion && <> → v{request.resultingVersion.number}</>}
                {request.note && <div className="hint">{request.note}</div>}
              </li>
            ))}
            {policy.changeRequests.nodes.length === 0 && <li>None.</li>}
          </ul>
        </section>
      )}

      {dialog === 'activate' && (
        <ActivateDialog policyId={policy.id} title={policy.title} onClose={() => setDialog(null)} />
      )}
      {dialog === 'retire' && (
        <RetireDialog policyId={policy.id} title={policy.title} onClose={() => setDialog(null)} />
      )}
    </div>
  );
}

function VersionsDiff({ fromId, toId }: { fromId: string | undefined; toId: string | undefined }) {
  const [{ data, error, fetching }, refetch] = useQuery({
    query: VersionsDiffQuery,
    variables: { from: fromId ?? '', to: toId ?? '' },
    pause: !fromId || !toId,
  });
  if (!fromId || !toId) return <p role="alert">Choose two versions of this policy.</p>;
  if (error) return <RequestError error={error} retry={() => refetch({ requestPolicy: 'network-only' })} />;
  if (!data || fetching) return <Loading what="the versions" />;
  if (data.from?.__typename !== 'PolicyVersion' || data.to?.__typename !== 'PolicyVersion')
    return <p role="alert">These versions are not visible to your key.</p>;
  const before = readVersion(data.from);
  const after = readVersion(data.to);
  return (
    <RulesDiff
      before={rulesOfVersion(before)}
      after={rulesOfVersion(after)}
      beforeLabel={`v${before.number}`}
      afterLabel={`v${after.number}`}
    />
  );
}

/** A version's rules, its regions and its lock message per locale, with the phone's preview. */
export function VersionFacts({ version }: { version: VersionRules }) {
  const translations = Object.fromEntries(
    version.lockMessageTranslations.map((message) => [message.locale, message.text]),
  );
  const locales = ['en', ...Object.keys(translations).sort()];
  const [locale, setLocale] = useState('en');
  return (
    <div className="split">
      <div>
        <dl className="facts">
          <dt>Mode</dt>
          <dd>{version.mode}</dd>
          <dt>Action</dt>
          <dd>{version.action}</dd>
          <dt>Priority</dt>
          <dd>{version.priority}</dd>
          <dt>Effective</dt>
          <dd>{effectiveWindow(version)}</dd>
          <dt>Models</dt>
          <dd>
            {version.productScope.nodes.length
              ? version.productScope.nodes.map((model) => `${model.marketingName} (${model.code})`).join(', ')
              : 'every model'}
          </dd>
          <dt>Approved</dt>
          <dd>
            {version.approvedBy ? (
              <>
                by {version.approvedBy}, <Time value={version.approvedAt} />
              </>
            ) : (
              'not yet'
            )}
          </dd>
          <dt>Legal basis</dt>
          <dd>{version.legalBasis}</dd>
        </dl>
        <h3>Regions ({version.regions.nodes.length})</h3>
        <ul className="inline-list" aria-label="Regions covered">
          {version.regions.nodes.map((region) => (
            <li key={region.code}>
              {region.name} ({region.code})
            </li>
          ))}
        </ul>
      </div>
      <div>
        <h3>Lock message</h3>
        <table aria-label="Lock messages per locale">
          <tbody>
            {locales.map((tag) => (
              <tr key={tag}>
                <th scope="row">{tag}</th>
                <td lang={tag}>{tag === 'en' ? version.lockMessage : translations[tag]}</td>
              </tr>
            ))}
          </tbody>
        </table>
        <Field label="Preview in">
          {(props) => (
            <select {...props} value={locale} onChange={(event) => setLocale(event.target.value)}>
              {locales.map((tag) => (
                <option key={tag} value={tag}>
                  {tag}
                </option>
              ))}
            </select>
          )}
        </Field>
        <PhonePreview locale={locale} message={lockMessageFor(version.lockMessage, translations, locale)} />
      </div>
    </div>
  );
}

function ActivateDialog({ policyId, title, onClose }: { policyId: string; title: string; onClose: () => void }) {
  const [note, setNote] = useState('');
  const [outcome, setOutcome] = useState<{ requestId: string | null } | null>(null);
  const activate = useMutationPayload(ActivatePolicyMutation, (data) => data.activatePolicy, POLICY_CONTEXT);
  if (outcome)
    return (
      <Dialog title={`Activate ${title}`} onClose={onClose}>
        <div role="status">
          {outcome.requestId ? (
            <p>
              A change request is waiting for a second POLICY_AUTHOR or ADMIN:{' '}
              <Link to={`/changes?request=${encodeURIComponent(outcome.requestId)}`}>open it</Link>.
            </p>
          ) : (
            <p className="done">Activated: the policy decides from now on (MONITOR mode records only).</p>
          )}
          <button type="button" onClick={onClose}>
            Close
          </button>
        </div>
      </Dialog>
    );
  return (
    <ConfirmDialog
      title={`Activate ${title}`}
      confirm="Activate"
      busy={activate.fetching}
      userErrors={activate.userErrors}
      fields={['note']}
      error={activate.error}
      onClose={onClose}
      onConfirm={async () => {
        const payload = await activate.run({ input: { id: policyId, ...(note.trim() ? { note: note.trim() } : {}) } });
        if (payload && !payload.userErrors.length) setOutcome({ requestId: payload.changeRequest?.id ?? null });
      }}
    >
      <p>A MONITOR policy activates at once; an ENFORCE policy opens a change request that a second person approves.</p>
      <Field label="Note for the reviewer" errors={messagesFor(activate.userErrors, 'note')}>
        {(props) => <textarea {...props} rows={3} value={note} onChange={(event) => setNote(event.target.value)} />}
      </Field>
    </ConfirmDialog>
  );
}

function RetireDialog({ policyId, title, onClose }: { policyId: string; title: string; onClose: () => void }) {
  const [reason, setReason] = useState('');
  const [missing, setMissing] = useState(false);
  const retire = useMutationPayload(RetirePolicyMutation, (data) => data.retirePolicy, POLICY_CONTEXT);
  return (
    <ConfirmDialog
      title={`Retire ${title}?`}
      confirm="Retire the policy"
      danger
      busy={retire.fetching}
      userErrors={retire.userErrors}
      fields={['reason']}
      error={retire.error}
      onClose={onClose}
      onConfirm={async () => {
        setMissing(!reason.trim());
        if (!reason.trim()) return;
        const payload = await retire.run({ input: { id: policyId, reason: reason.trim() } });
        if (payload && !payload.userErrors.length) onClose();
      }}
    >
      <p>It stops deciding at once; its versions stay for history. Waiting change requests lapse.</p>
      <Field
        label="Reason (required)"
        errors={missing ? ['A reason is required'] : messagesFor(retire.userErrors, 'reason')}
      >
        {(props) => <textarea {...props} rows={3} value={reason} onChange={(event) => setReason(event.target.value)} />}
      </Field>
    </ConfirmDialog>
  );
}
