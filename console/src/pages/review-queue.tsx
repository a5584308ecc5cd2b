import { FormEvent, useEffect, useMemo, useRef, useState } from 'react';
import { useMutation, useQuery, useSubscription } from 'urql';
import { AttemptEvidence } from '../evidence';
import { graphql } from '../gql';
import type { ReviewQueueFilter, ReviewResolution } from '../gql/graphql';
import { can } from '../roles';
import { Link, navigate, useLocation, withParams } from '../router';
import {
  Field,
  Loading,
  RequestError,
  StatusBadge,
  Time,
  UserErrorLike,
  age,
  messagesFor,
  FormErrors,
  QueryStatus,
  PageHeader,
  Pager,
} from '../ui';
import { useViewer } from '../viewer';

const ReviewQueueQuery = graphql(`
  query ReviewQueuePage($filter: ReviewQueueFilter, $after: String) {
    reviewQueue(first: 25, after: $after, filter: $filter) {
      totalCount
      pageInfo {
        hasNextPage
        endCursor
      }
      nodes {
        id
        occurredAt
        receivedAt
        reasonCodes
        resolvedRegion {
          code
          name
        }
        policyVersion {
          number
          policy {
            key
          }
        }
        device {
          id
          imei
          model {
            marketingName
          }
          partner {
            name
          }
        }
      }
    }
    partners(first: 100) {
      nodes {
        id
        name
      }
    }
    policies(first: 100) {
      nodes {
        key
        title
      }
    }
  }
`);

const ReviewQuery = graphql(`
  query ReviewEvidence($id: ID!, $withLocation: Boolean!) {
    node(id: $id) {
      __typename
      ... on ActivationAttempt {
        id
        reviewStatus
        ...AttemptEvidence
        device {
          id
          imei
          status
          model {
            marketingName
          }
          partner {
            name
          }
          attempts(first: 6) {
            nodes {
              id
              occurredAt
              outcome
              enforced
              reviewStatus
              reasonCodes
              resolvedRegion {
                code
              }
            }
          }
        }
      }
    }
  }
`);

const ResolveReviewMutation = graphql(`
  mutation ResolveReview($input: ResolveReviewInput!) {
    resolveReview(input: $input) {
      attempt {
        id
        reviewStatus
        device {
          id
          imei
          status
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

// The queue changes under the desk's eyes: each opened or resolved review re-reads the page's list
// and count (the event itself carries the whole queue's size, not this filter's).
const QueueChanged = graphql(`
  subscription ReviewQueueLive {
    reviewQueueChanged {
      change
      attempt {
        id
      }
      queue {
        waiting
      }
    }
  }
`);

const AGES: Record<string, { label: string; ms: number }> = {
  '1h': { label: 'over an hour', ms: 3_600_000 },
  '1d': { label: 'over a day', ms: 86_400_000 },
  '1w': { label: 'over a week', ms: 7 * 86_400_000 },
};

export function ReviewQueuePage() {
  const location = useLocation();
  const viewer = useViewer();
  const params = location.params;
  const olderThan = params.get('olderThan') ?? '';
  // The age filter is fixed when chosen (not on every render), so the query's variables stay put.
  const receivedBefore = useMemo(
    () => (AGES[olderThan] ? new Date(Date.now() - AGES[olderThan]!.ms).toISOString() : null),
    [olderThan],
  );
  // `without`: subdivisions left out of the region, as the overview's map draws them apart (UA without UA-43, UA-40).
  const without = params.get('region') ? (params.get('without') ?? '').split(',').filter(Boolean) : [];
  const filter: ReviewQueueFilter = {
    ...(params.get('region') ? { regionCodes: [params.get('region')!.toUpperCase()] } : {}),
    ...(without.length ? { excludeRegionCodes: without } : {}),
    ...(params.get('policy') ? { policyKeys: [params.get('policy')!] } : {}),
    ...(params.get('partner') ? { partnerIds: [params.get('partner')!] } : {}),
    ...(receivedBefore ? { receivedBefore } : {}),
  };
  const [resolved, setResolved] = useState<string | null>(null);
  const [{ data, error, fetching }, refetch] = useQuery({
    query: ReviewQueueQuery,
    variables: { filter, after: params.get('after') },
  });
  const [live] = useSubscription({ query: QueueChanged });
  const changedAt = live.data
    ? `${live.data.reviewQueueChanged.change}:${live.data.reviewQueueChanged.attempt.id}`
    : null;
  useEffect(() => {
    if (changedAt) refetch({ requestPolicy: 'network-only' });
  }, [changedAt, refetch]);
  const nodes = data?.reviewQueue.nodes ?? [];
  const selectedId = params.get('review') ?? null;
  const index = nodes.findIndex((node) => node.id === selectedId);
  const open = (id: string | null | undefined) => navigate(withParams(location, { review: id }), { replace: true });

  // The first review opens by itself; after a resolution the next one does.
  useEffect(() => {
    if (data && nodes.length && (!selectedId || (index < 0 && !fetching))) open(nodes[0]!.id);
  });

  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      const target = event.target as HTMLElement;
      if (event.ctrlKey || event.metaKey || event.altKey || ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName))
        return;
      if (event.key === 'j' && index < nodes.length - 1) open(nodes[index + 1]!.id);
      else if (event.key === 'k' && index > 0) open(nodes[index - 1]!.id);
      else return;
      event.preventDefault();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  });

  const setFilter = (name: string, value: string) =>
    navigate(
      withParams(location, {
        [name]: value,
        // A region typed anew is the whole region: what the overview left out of the previous one goes too.
        ...(name === 'region' && value.toUpperCase() !== (params.get('region') ?? '').toUpperCase()
          ? { without: null }
          : {}),
        after: null,
        review: null,
      }),
      { replace: true },
    );

  return (
    <div className="queue">
      <PageHeader title="Review queue" />
      <form className="filters" aria-label="Filters" onSubmit={(event) => event.preventDefault()}>
        <Field label="Region (ISO code)">
          {(props) => (
            <input
              {...props}
              defaultValue={params.get('region') ?? ''}
              placeholder="UA-43"
              size={8}
              onBlur={(event) => setFilter('region', event.target.value.trim())}
              onKeyDown={(event) => event.key === 'Enter' && setFilter('region', event.currentTarget.value.trim())}
            />
          )}
        </Field>
        <Field label="Policy">
          {(props) => (
            <select
              {...props}
              value={params.get('policy') ?? ''}
              onChange={(event) => setFilter('policy', event.target.value)}
            >
              <option value="">Any</option>
              {data?.policies.nodes.map((policy) => (
                <option key={policy.key} value={policy.key}>
                  {policy.title}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label="Partner">
          {(props) => (
            <select
              {...props}
              value={params.get('partner') ?? ''}
              onChange={(event) => setFilter('partner', event.target.value)}
            >
              <option value="">Any</option>
              {data?.partners.nodes.map((partner) => (
                <option key={partner.id} value={partner.id}>
                  {partner.name}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label="Waiting">
          {(props) => (
            <select {...props} value={olderThan} onChange={(event) => setFilter('olderThan', event.target.value)}>
              <option value="">Any time</option>
              {Object.entries(AGES).map(([value, { label }]) => (
                <option key={value} value={value}>
                  {label}
                </option>
              ))}
            </select>
          )}
        </Field>
      </form>
      {without.length > 0 && (
        <p className="hint" role="note">
          Leaves out {without.join(' and ')}, drawn on the overview's map as regions of their own.{' '}
          <button type="button" className="link" onClick={() => setFilter('without', '')}>
            Include them
          </button>
        </p>
      )}
      <QueryStatus error={error} fetching={fetching} data={data} refetch={refetch} what="the review queue" />
      {data && (
        <>
          <p className="summary" aria-live="polite">
            <strong>{data.reviewQueue.totalCount}</strong> open{' '}
            {data.reviewQueue.totalCount === 1 ? 'review' : 'reviews'}
            {nodes[0] && !params.get('after') && (
              <>
                {' '}
                · oldest waiting <strong>{age(nodes[0].receivedAt)}</strong> (received{' '}
                <Time value={nodes[0].receivedAt} />)
              </>
            )}
          </p>
          {resolved && (
            <p role="status" className="done">
              {resolved}
            </p>
          )}
          <p className="hint">
            Keys: <kbd>j</kbd>/<kbd>k</kbd> next/previous review, <kbd>a</kbd> allow, <kbd>l</kbd> lock.
          </p>
          <div className="split">
            <table aria-label="Open reviews, oldest first">
              <thead>
                <tr>
                  <th scope="col">Activated</th>
                  <th scope="col">Device</th>
                  <th scope="col">Region</th>
                  <th scope="col">Policy</th>
                  <th scope="col">Waiting</th>
                </tr>
              </thead>
              <tbody>
                {nodes.map((node) => (
                  <tr
                    key={node.id}
                    aria-selected={node.id === selectedId}
                    className={node.id === selectedId ? 'selected' : ''}
                  >
                    <td>
                      <Link
                        to={withParams(location, { review: node.id })}
                        aria-current={node.id === selectedId ? 'true' : undefined}
                      >
                        <Time value={node.occurredAt} />
                      </Link>
                    </td>
                    <td>
                      {node.device.imei}
                      <br />
                      <small>
                        {node.device.model.marketingName} · {node.device.partner.name}
                      </small>
                    </td>
                    <td>{node.resolvedRegion ? node.resolvedRegion.code : '—'}</td>
                    <td>
                      {node.policyVersion ? `${node.policyVersion.policy.key} v${node.policyVersion.number}` : '—'}
                    </td>
                    <td>{age(node.receivedAt)}</td>
                  </tr>
                ))}
                {nodes.length === 0 && (
                  <tr>
                    <td colSpan={5}>No open review matches these filters.</td>
                  </tr>
                )}
              </tbody>
            </table>
            {selectedId && index >= 0 && (
              <Review
                key={selectedId}
                id={selectedId}
                canResolve={can.resolve(viewer.role)}
                withLocation={can.readLocation(viewer.role)}
                onResolved={(message) => {
                  setResolved(message);
                  open(nodes[index + 1]?.id ?? nodes[index - 1]?.id ?? null);
                }}
              />
            )}
          </div>
          <Pager pageInfo={data.reviewQueue.pageInfo} reset={{ review: null }} />
        </>
      )}
    </div>
  );
}

function Review({
  id,
  canResolve,
  withLocation,
  onResolved,
}: {
  id: string;
  canResolve: boolean;
  withLocation: boolean;
  onResolved: (message: string) => void;
}) {
  const [{ data, error }, refetch] = useQuery({ query: ReviewQuery, variables: { id, withLocation } });
  const [resolution, resolve] = useMutation(ResolveReviewMutation);
  const [note, setNote] = useState('');
  const [userErrors, setUserErrors] = useState<readonly UserErrorLike[]>([]);
  const noteRef = useRef<HTMLTextAreaElement>(null);
  const attempt = data?.node?.__typename === 'ActivationAttempt' ? data.node : null;

  const submit = async (outcome: ReviewResolution) => {
    if (!note.trim()) {
      setUserErrors([{ field: ['note'], message: 'A reason is required', code: 'REQUIRED' }]);
      noteRef.current?.focus();
      return;
    }
    const result = await resolve({ input: { attemptId: id, outcome, note } });
    const payload = result.data?.resolveReview;
    if (!payload) return;
    setUserErrors(payload.userErrors);
    if (payload.attempt) {
      onResolved(
        `Resolved: device ${payload.attempt.device.imei} is now ${payload.attempt.device.status} (review ${payload.attempt.reviewStatus}).`,
      );
    }
  };

  useEffect(() => {
    if (!canResolve) return;
    const onKey = (event: KeyboardEvent) => {
      const target = event.target as HTMLElement;
      if (event.ctrlKey || event.metaKey || event.altKey || ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName))
        return;
      if (event.key === 'a') void submit('ALLOW');
      else if (event.key === 'l') void submit('LOCK');
      else return;
      event.preventDefault();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  });

  if (error) return <RequestError error={error} retry={() => refetch({ requestPolicy: 'network-only' })} />;
  if (!attempt) return <Loading what="the review" />;
  const device = attempt.device;
  return (
    <section className="review" aria-labelledby="review-title">
      <h2 id="review-title">
        Review of <Link to={`/devices/${device.imei}`}>{device.imei}</Link>
      </h2>
      <p>
        {device.model.marketingName} · {device.partner.name} · <StatusBadge status={device.status} />
      </p>
      {canResolve && attempt.reviewStatus === 'OPEN' && (
        <form
          className="resolve"
          aria-label="Resolve the review"
          onSubmit={(event: FormEvent) => event.preventDefault()}
        >
          <Field label="Reason (required)" errors={messagesFor(userErrors, 'note')}>
            {(props) => (
              <textarea
                {...props}
                ref={noteRef}
                rows={2}
                value={note}
                onChange={(event) => setNote(event.target.value)}
              />
            )}
          </Field>
          <FormErrors userErrors={userErrors} fields={['note']} />
          {resolution.error && <RequestError error={resolution.error} retry={() => undefined} />}
          <div className="actions">
            <button type="button" disabled={resolution.fetching} onClick={() => void submit('ALLOW')}>
              Allow activation
            </button>
            <button type="button" className="danger" disabled={resolution.fetching} onClick={() => void submit('LOCK')}>
              Lock device
            </button>
          </div>
        </form>
      )}
      <AttemptEvidence attempt={attempt} />
      <h3>Other attempts of this device, newest first</h3>
      <ul className="steps">
        {device.attempts.nodes
          .filter((previous) => previous.id !== attempt.id)
          .map((previous) => (
            <li key={previous.id}>
              <Time value={previous.occurredAt} /> · {previous.outcome}
              {previous.enforced ? '' : ' (monitor)'} · {previous.resolvedRegion?.code ?? 'no region'} ·{' '}
              {previous.reasonCodes.join(', ')}
            </li>
          ))}
      </ul>
    </section>
  );
}
