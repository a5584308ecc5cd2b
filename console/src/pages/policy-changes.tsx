// Change requests: those waiting (or closed), with why they need approval, the author's note and the
// impact replayed over a chosen window; a second POLICY_AUTHOR or ADMIN approves or rejects with a
// comment, the author withdraws, and whoever cannot approve reads the API's own reason before trying.
import { FormEvent, useState } from 'react';
import { useMutation, useQuery } from 'urql';
import { graphql } from '../gql';
import type { PolicyChangeStatus } from '../gql/graphql';
import { can } from '../roles';
import { Link, navigate, useLocation, withParams } from '../router';
import {
  Field,
  Loading,
  RequestError,
  StatusBadge,
  Time,
  UserErrorLike,
  messagesFor,
  FormErrors,
  QueryStatus,
  PageHeader,
} from '../ui';
import { useViewer } from '../viewer';
import { PolicyRules, RulesDiff, fromLocalInput, readVersion, rulesOfVersion, toLocalInput } from './policy-rules';
import { SimulationView } from './policy-simulation';

const ChangeRequestsQuery = graphql(`
  query PolicyChangesPage($filter: PolicyChangeRequestFilter) {
    policyChangeRequests(first: 50, filter: $filter) {
      totalCount
      nodes {
        id
        kind
        status
        reasons
        requestedBy
        requestedAt
        decidedAt
        policy {
          key
          title
        }
      }
    }
  }
`);

const ChangeRequestQuery = graphql(`
  query PolicyChangeRequestDetail($id: ID!, $from: DateTime, $to: DateTime, $withImpact: Boolean!) {
    node(id: $id) {
      ... on PolicyChangeRequest {
        id
        kind
        status
        note
        reasons
        requestedBy
        requestedAt
        decidedBy
        decidedAt
        decisionComment
        viewerCanApprove
        viewerCannotApproveReason
        viewerCanWithdraw
        policy {
          id
          key
          title
        }
        baseVersion {
          ...PolicyVersionRules
        }
        resultingVersion {
          number
        }
        proposed {
          title
          action
          mode
          priority
          effectiveFrom
          effectiveUntil
          lockMessage
          regionCodes
          productScope
        }
        impact(from: $from, to: $to) @include(if: $withImpact) {
          ...PolicySimulationView
        }
        impactAtApproval {
          ...PolicySimulationView
        }
      }
    }
  }
`);

const RegionNamesQuery = graphql(`
  query ChangeRequestRegions($codes: [String!]!) {
    regions(first: 100, filter: { codes: $codes }) {
      nodes {
        code
        name
      }
    }
  }
`);

const ApproveMutation = graphql(`
  mutation ApprovePolicyChange($input: ApprovePolicyChangeInput!) {
    approvePolicyChange(input: $input) {
      changeRequest {
        id
        status
        resultingVersion {
          number
        }
      }
      userErrors {
        field
        message
        code
      }
    }
  }
`);

const RejectMutation = graphql(`
  mutation RejectPolicyChange($input: ClosePolicyChangeInput!) {
    rejectPolicyChange(input: $input) {
      changeRequest {
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

const WithdrawMutation = graphql(`
  mutation WithdrawPolicyChange($input: ClosePolicyChangeInput!) {
    withdrawPolicyChange(input: $input) {
      changeRequest {
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

const CHANGE_CONTEXT = { additionalTypenames: ['PolicyChangeRequest', 'Policy', 'PolicyVersion'] };
const STATUSES: PolicyChangeStatus[] = ['PENDING', 'APPROVED', 'REJECTED', 'WITHDRAWN', 'SUPERSEDED'];
const DAY_MS = 86_400_000;

export function PolicyChangesPage() {
  const location = useLocation();
  const status = location.params.get('status') ?? 'PENDING';
  const policyKey = location.params.get('policy') ?? '';
  const selected = location.params.get('request');
  const [{ data, error, fetching }, refetch] = useQuery({
    query: ChangeRequestsQuery,
    variables: {
      filter: {
        ...(status !== 'ANY' ? { statuses: [status as PolicyChangeStatus] } : {}),
        ...(policyKey ? { policyKey } : {}),
      },
    },
    context: CHANGE_CONTEXT,
  });
  return (
    <div>
      <PageHeader title="Change requests" />
      <form className="filters" aria-label="Which change requests" onSubmit={(event) => event.preventDefault()}>
        <Field label="Status">
          {(props) => (
            <select
              {...props}
              value={status}
              onChange={(event) => navigate(withParams(location, { status: event.target.value }), { replace: true })}
            >
              {STATUSES.map((value) => (
                <option key={value} value={value}>
                  {value}
                </option>
              ))}
              <option value="ANY">Any</option>
            </select>
          )}
        </Field>
        {policyKey && (
          <p>
            Policy <code>{policyKey}</code>{' '}
            <button type="button" onClick={() => navigate(withParams(location, { policy: null }), { replace: true })}>
              Every policy
            </button>
          </p>
        )}
      </form>
      <QueryStatus error={error} fetching={fetching} data={data} refetch={refetch} what="change requests" />
      <div className="split">
        <div>
          {data && (
            <>
              <p className="summary">
                <strong>{data.policyChangeRequests.totalCount}</strong>{' '}
                {status === 'ANY' ? '' : `${status.toLowerCase()} `}
                {data.policyChangeRequests.totalCount === 1 ? 'request' : 'requests'}
              </p>
              <table aria-label="Change requests">
                <thead>
                  <tr>
                    <th scope="col">Policy</th>
                    <th scope="col">Kind</th>
                    <th scope="col">Why it needs approval</th>
                    <th scope="col">Requested</th>
                    <th scope="col">Status</th>
                  </tr>
                </thead>
                <tbody>
                  {data.policyChangeRequests.nodes.map((request) => (
                    <tr key={request.id} className={request.id === selected ? 'selected' : undefined}>
                      <td>
                        <Link
                          to={withParams(location, { request: request.id })}
                          aria-current={request.id === selected ? 'true' : undefined}
                        >
                          {request.policy.title}
                        </Link>
                      </td>
                      <td>{request.kind}</td>
                      <td>{request.reasons.join(', ')}</td>
                      <td>
                        {request.requestedBy}, <Time value={request.requestedAt} />
                      </td>
                      <td>
                        <StatusBadge status={request.status} />
                      </td>
                    </tr>
                  ))}
                  {data.policyChangeRequests.nodes.length === 0 && (
                    <tr>
                      <td colSpan={5}>No change request.</td>
                    </tr>
                  )}
                </tbody>
              </table>
            </>
          )}
        </div>
        <div>{selected && <ChangeRequestDetail key={selected} id={selected} />}</div>
      </div>
    </div>
  );
}

function ChangeRequestDetail({ id }: { id: string }) {
  const viewer = useViewer();
  const location = useLocation();
  const from = location.params.get('from');
  const to = location.params.get('to');
  const [{ data, error, fetching }, refetch] = useQuery({
    query: ChangeRequestQuery,
    variables: { id, from, to, withImpact: can.simulatePolicies(viewer.role) },
    context: CHANGE_CONTEXT,
  });
  const request = data?.node && 'kind' in data.node ? data.node : null;
  const [{ data: names }] = useQuery({
    query: RegionNamesQuery,
    variables: { codes: request?.proposed.regionCodes ?? [] },
    pause: !request,
  });
  if (error) return <RequestError error={error} retry={() => refetch({ requestPolicy: 'network-only' })} />;
  if (!data && fetching) return <Loading what="the change request" />;
  if (!request) return <p role="alert">No change request has this ID.</p>;

  const base = readVersion(request.baseVersion);
  const baseRules: PolicyRules = { ...rulesOfVersion(base), translations: undefined };
  const nameOf = new Map([
    ...base.regions.nodes.map((region) => [region.code, region.name] as const),
    ...(names?.regions.nodes ?? []).map((region) => [region.code, region.name] as const),
  ]);
  const modelName = new Map(base.productScope.nodes.map((model) => [model.code, model.marketingName]));
  const proposed: PolicyRules = {
    title: request.proposed.title,
    mode: request.proposed.mode,
    action: request.proposed.action,
    priority: request.proposed.priority,
    effectiveFrom: request.proposed.effectiveFrom ?? null,
    effectiveUntil: request.proposed.effectiveUntil ?? null,
    regions: request.proposed.regionCodes.map((code) => ({ code, name: nameOf.get(code) ?? code })),
    models: request.proposed.productScope.map((code) => ({ code, name: modelName.get(code) ?? code })),
    lockMessage: request.proposed.lockMessage,
  };
  const impactFrom = from ?? new Date(Date.now() - 30 * DAY_MS).toISOString();
  const impactTo = to ?? new Date().toISOString();
  const decidedAt = request.decidedAt ?? request.requestedAt;

  return (
    <section className="review" aria-label={`Change request for ${request.policy.title}`}>
      <h2>
        {request.kind === 'ACTIVATE' ? 'Activate' : 'Change'} {request.policy.title}{' '}
        <StatusBadge status={request.status} />
      </h2>
      <dl className="facts">
        <dt>Policy</dt>
        <dd>
          <Link to={`/policies/${encodeURIComponent(request.policy.key)}`}>{request.policy.key}</Link>, proposed against
          v{base.number}
          {request.resultingVersion && <> → made v{request.resultingVersion.number}</>}
        </dd>
        <dt>Requested</dt>
        <dd>
          by {request.requestedBy}, <Time value={request.requestedAt} />
        </dd>
        <dt>Why it needs approval</dt>
        <dd>{request.reasons.join(', ')}</dd>
        <dt>Author&apos;s note</dt>
        <dd className="note">{request.note || '—'}</dd>
        {request.decidedBy && (
          <>
            <dt>Decided</dt>
            <dd>
              {request.status.toLowerCase()} by {request.decidedBy}, <Time value={request.decidedAt} />
              {request.decisionComment && <>: &ldquo;{request.decisionComment}&rdquo;</>}
            </dd>
          </>
        )}
      </dl>
      <h3>What it changes</h3>
      {request.kind === 'ACTIVATE' && <p className="hint">An activation proposes the draft&apos;s own rules.</p>}
      <RulesDiff before={baseRules} after={proposed} beforeLabel={`v${base.number}`} afterLabel="proposed" />

      {request.status === 'PENDING' && request.impact && (
        <>
          <form className="filters" aria-label="Impact window" onSubmit={(event) => event.preventDefault()}>
            {(['from', 'to'] as const).map((end) => (
              <Field key={end} label={end === 'from' ? 'Impact from' : 'Impact to'}>
                {(props) => (
                  <input
                    {...props}
                    type="datetime-local"
                    value={toLocalInput(end === 'from' ? impactFrom : impactTo)}
                    onChange={(event) =>
                      navigate(withParams(location, { [end]: fromLocalInput(event.target.value) }), { replace: true })
                    }
                  />
                )}
              </Field>
            ))}
          </form>
          <SimulationView simulation={request.impact} from={impactFrom} to={impactTo} title="Impact, replayed now" />
        </>
      )}
      {request.impactAtApproval && (
        <SimulationView
          simulation={request.impactAtApproval}
          from={new Date(new Date(decidedAt).getTime() - 30 * DAY_MS).toISOString()}
          to={decidedAt}
          title="Impact the approver was shown"
        />
      )}
      {request.status === 'PENDING' && (
        <Decide
          id={request.id}
          canApprove={request.viewerCanApprove}
          cannotApproveReason={request.viewerCannotApproveReason ?? null}
          canWithdraw={request.viewerCanWithdraw}
          reviewer={can.writePolicies(viewer.role)}
        />
      )}
    </section>
  );
}

function Decide({
  id,
  canApprove,
  cannotApproveReason,
  canWithdraw,
  reviewer,
}: {
  id: string;
  canApprove: boolean;
  cannotApproveReason: string | null;
  canWithdraw: boolean;
  reviewer: boolean;
}) {
  const viewer = useViewer();
  const [comment, setComment] = useState('');
  const [userErrors, setUserErrors] = useState<readonly UserErrorLike[]>([]);
  const [approveState, approve] = useMutation(ApproveMutation);
  const [rejectState, reject] = useMutation(RejectMutation);
  const [withdrawState, withdraw] = useMutation(WithdrawMutation);
  const busy = approveState.fetching || rejectState.fetching || withdrawState.fetching;
  const failure = approveState.error ?? rejectState.error ?? withdrawState.error;
  const needComment = () => {
    if (comment.trim()) return false;
    setUserErrors([{ field: ['input', 'comment'], message: 'A comment is required', code: 'REQUIRED' }]);
    return true;
  };
  const act = async (event: FormEvent, action: 'approve' | 'reject' | 'withdraw') => {
    event.preventDefault();
    if (action !== 'approve' && needComment()) return;
    const input = { id, comment: comment.trim() };
    const result =
      action === 'approve'
        ? (await approve({ input: comment.trim() ? input : { id } }, CHANGE_CONTEXT)).data?.approvePolicyChange
        : action === 'reject'
          ? (await reject({ input }, CHANGE_CONTEXT)).data?.rejectPolicyChange
          : (await withdraw({ input }, CHANGE_CONTEXT)).data?.withdrawPolicyChange;
    if (!result) return;
    // Once decided, the request above shows who closed it and why, and this form leaves with its PENDING state.
    setUserErrors(result.userErrors);
  };
  if (!reviewer) {
    return (
      <p className="read-only">
        Read only: a {viewer.role} key cannot approve, reject or withdraw change requests (POLICY_AUTHOR and ADMIN keys
        can).
      </p>
    );
  }
  return (
    <form className="decide" aria-label="Decide the change request" onSubmit={(event) => act(event, 'approve')}>
      <h3>Decide</h3>
      {!canApprove && cannotApproveReason && (
        <p className="warning" role="note">
          You cannot approve this request: {cannotApproveReason}.
        </p>
      )}
      <Field
        label={canApprove ? 'Comment (required to reject or withdraw)' : 'Comment (required)'}
        errors={messagesFor(userErrors, 'comment')}
      >
        {(props) => (
          <textarea {...props} rows={2} value={comment} onChange={(event) => setComment(event.target.value)} />
        )}
      </Field>
      <FormErrors userErrors={userErrors} fields={['comment']} />
      {failure && <p role="alert">The request failed: {failure.message}</p>}
      <div className="actions">
        {canApprove && (
          <>
            <button type="submit" disabled={busy}>
              Approve
            </button>
            <button type="button" disabled={busy} onClick={(event) => act(event, 'reject')}>
              Reject
            </button>
          </>
        )}
        {canWithdraw && (
          <button type="button" className="danger" disabled={busy} onClick={(event) => act(event, 'withdraw')}>
            Withdraw
          </button>
        )}
      </div>
    </form>
  );
}
