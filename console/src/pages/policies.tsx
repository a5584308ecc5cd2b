import { useQuery } from 'urql';
import { graphql } from '../gql';
import type { PolicyStatus } from '../gql/graphql';
import { can } from '../roles';
import { Link, NEW_POLICY_PATH, navigate, useLocation, withParams } from '../router';
import { Field, PageHeader, PagedTable, QueryStatus, StatusBadge, Time } from '../ui';
import { useViewer } from '../viewer';
import { fromLocalInput, toLocalInput } from './policy-rules';

const PoliciesQuery = graphql(`
  query PoliciesPage($asOf: DateTime, $filter: PolicyFilter, $withChanges: Boolean!, $after: String) {
    policies(first: 25, after: $after, asOf: $asOf, filter: $filter) {
      totalCount
      pageInfo {
        hasNextPage
        endCursor
      }
      nodes {
        id
        key
        title
        status
        mode
        action
        currentVersion {
          id
          number
          priority
          effectiveFrom
          effectiveUntil
        }
        scheduledVersion {
          id
          number
          effectiveFrom
          mode
          action
        }
        regions(first: 50) {
          totalCount
          nodes {
            code
            name
          }
        }
        changeRequests(statuses: [PENDING], first: 1) @include(if: $withChanges) {
          totalCount
        }
      }
    }
  }
`);

const STATUSES: PolicyStatus[] = ['ACTIVE', 'DRAFT', 'RETIRED'];

/** The policies with the version in force (now, or as of a chosen instant), a scheduled one, and their regions. */
export function PoliciesPage() {
  const viewer = useViewer();
  const location = useLocation();
  const asOf = location.params.get('asOf');
  const status = location.params.get('status') ?? '';
  const asOfValid = asOf && !Number.isNaN(Date.parse(asOf)) ? new Date(asOf).toISOString() : null;
  const withChanges = can.readPolicyChanges(viewer.role);
  const [{ data, error, fetching }, refetch] = useQuery({
    query: PoliciesQuery,
    variables: {
      asOf: asOfValid,
      filter: status ? { statuses: [status as PolicyStatus] } : null,
      withChanges,
      after: location.params.get('after'),
    },
  });
  return (
    <div>
      <PageHeader title="Policies" />
      {can.writePolicies(viewer.role) ? (
        <p>
          <Link to={NEW_POLICY_PATH} className="button">
            New policy
          </Link>
        </p>
      ) : (
        <p className="read-only">
          Read only: a {viewer.role} key cannot change policies (POLICY_AUTHOR and ADMIN keys can).
        </p>
      )}
      <form className="filters" aria-label="Which policies" onSubmit={(event) => event.preventDefault()}>
        <Field label="As of" hint="The rules and regions in force at this instant (your time zone); empty: now">
          {(props) => (
            <input
              {...props}
              type="datetime-local"
              value={toLocalInput(asOfValid)}
              onChange={(event) =>
                navigate(withParams(location, { asOf: fromLocalInput(event.target.value), after: null }), {
                  replace: true,
                })
              }
            />
          )}
        </Field>
        {asOf && (
          <button
            type="button"
            onClick={() => navigate(withParams(location, { asOf: null, after: null }), { replace: true })}
          >
            Back to now
          </button>
        )}
        <Field label="Status">
          {(props) => (
            <select
              {...props}
              value={status}
              onChange={(event) =>
                navigate(withParams(location, { status: event.target.value, after: null }), { replace: true })
              }
            >
              <option value="">Any</option>
              {STATUSES.map((value) => (
                <option key={value} value={value}>
                  {value}
                </option>
              ))}
            </select>
          )}
        </Field>
      </form>
      {asOfValid && (
        <p className="as-of" role="status">
          As of <Time value={asOfValid} />: each policy as its version in force then described it; drafts and policies
          not in force then are not listed. Statuses are today&apos;s.
        </p>
      )}
      <QueryStatus error={error} fetching={fetching} data={data} refetch={refetch} what="policies" />
      {data && (
        <PagedTable
          label="Policies"
          total={{ count: data.policies.totalCount, one: 'policy', many: 'policies' }}
          columns={[
            'Policy',
            'Status',
            asOfValid ? 'Version in force then' : 'Version in force',
            'Scheduled',
            'Mode',
            'Action',
            'Priority',
            'Regions',
            ...(withChanges ? ['Waiting changes'] : []),
          ]}
          count={data.policies.nodes.length}
          empty={asOfValid ? 'No policy was in force then.' : 'No policy.'}
          pageInfo={data.policies.pageInfo}
        >
          {data.policies.nodes.map((policy) => (
            <tr key={policy.id}>
              <td>
                <Link to={`/policies/${encodeURIComponent(policy.key)}`}>{policy.title}</Link>
                <br />
                <code>{policy.key}</code>
              </td>
              <td>
                <StatusBadge status={policy.status} />
              </td>
              <td>
                {policy.status === 'DRAFT' ? 'draft ' : ''}v{policy.currentVersion.number}, from{' '}
                <Time value={policy.currentVersion.effectiveFrom} />
                {policy.currentVersion.effectiveUntil && (
                  <>
                    {' '}
                    until <Time value={policy.currentVersion.effectiveUntil} />
                  </>
                )}
              </td>
              <td>
                {policy.scheduledVersion ? (
                  <>
                    v{policy.scheduledVersion.number} from <Time value={policy.scheduledVersion.effectiveFrom} /> (
                    {policy.scheduledVersion.mode}, {policy.scheduledVersion.action})
                  </>
                ) : (
                  'none'
                )}
              </td>
              <td>{policy.mode}</td>
              <td>{policy.action}</td>
              <td>{policy.currentVersion.priority}</td>
              <td>
                <ul className="inline-list" aria-label={`Regions of ${policy.key}`}>
                  {policy.regions.nodes.map((region) => (
                    <li key={region.code} title={region.name}>
                      {region.code}
                    </li>
                  ))}
                  {policy.regions.totalCount > policy.regions.nodes.length && (
                    <li>and {policy.regions.totalCount - policy.regions.nodes.length} more</li>
                  )}
                </ul>
              </td>
              {withChanges && (
                <td>
                  {policy.changeRequests && policy.changeRequests.totalCount > 0 ? (
                    <Link to={`/changes?policy=${encodeURIComponent(policy.key)}`}>
                      {policy.changeRequests.totalCount} waiting
                    </Link>
                  ) : (
                    'none'
                  )}
                </td>
              )}
            </tr>
          ))}
        </PagedTable>
      )}
    </div>
  );
}
