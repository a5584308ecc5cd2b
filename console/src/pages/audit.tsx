import { FormEvent, useState } from 'react';
import { useQuery } from 'urql';
import { graphql } from '../gql';
import type { AuditEventFilter, Role } from '../gql/graphql';
import { Link, navigate, useLocation, withParams } from '../router';
import { Field, Time, QueryStatus, PageHeader, Pager } from '../ui';

const AuditQuery = graphql(`
  query AuditPage($filter: AuditEventFilter, $after: String) {
    auditEvents(first: 25, after: $after, filter: $filter) {
      totalCount
      pageInfo {
        hasNextPage
        endCursor
      }
      nodes {
        id
        occurredAt
        actor
        actorRole
        actorKeyId
        action
        targetType
        targetId
        requestId
        before
        after
      }
    }
  }
`);

const ROLES: Role[] = ['ADMIN', 'POLICY_AUTHOR', 'ANALYST', 'SUPPORT', 'GATEWAY', 'PARTNER'];
const TYPES = [
  'Device',
  'ActivationAttempt',
  'Exemption',
  'Policy',
  'PolicyChangeRequest',
  'ApiKey',
  'Partner',
  'DeviceModel',
  'Sweep',
  'WebhookEndpoint',
];

/** A datetime-local value (the browser's zone) as an instant, or undefined. */
const instant = (local: string | null) => (local ? new Date(local).toISOString() : undefined);

export function AuditPage() {
  const location = useLocation();
  const params = location.params;
  const filter: AuditEventFilter = {
    ...(params.get('actorKey') ? { actorKeyId: params.get('actorKey') } : {}),
    ...(params.get('role') ? { actorRoles: [params.get('role') as Role] } : {}),
    ...(params.get('action')
      ? {
          actions: params
            .get('action')!
            .split(',')
            .map((action) => action.trim()),
        }
      : {}),
    ...(params.get('type') ? { targetTypes: [params.get('type')!] } : {}),
    ...(params.get('target') ? { targetId: params.get('target') } : {}),
    ...(params.get('from') ? { occurredFrom: instant(params.get('from')) } : {}),
    ...(params.get('to') ? { occurredBefore: instant(params.get('to')) } : {}),
  };
  const [{ data, error, fetching }, refetch] = useQuery({
    query: AuditQuery,
    variables: { filter, after: params.get('after') },
  });
  const [draft, setDraft] = useState(() => Object.fromEntries(params.entries()));
  const apply = (event: FormEvent) => {
    event.preventDefault();
    navigate(
      withParams(location, {
        actorKey: draft.actorKey,
        role: draft.role,
        action: draft.action,
        type: draft.type,
        target: draft.target,
        from: draft.from,
        to: draft.to,
        after: null,
      }),
    );
  };
  const text = (name: string, label: string, hint?: string, type = 'text') => (
    <Field label={label} hint={hint}>
      {(props) => (
        <input
          {...props}
          type={type}
          value={draft[name] ?? ''}
          onChange={(event) => setDraft({ ...draft, [name]: event.target.value })}
        />
      )}
    </Field>
  );
  const select = (name: string, label: string, options: string[]) => (
    <Field label={label}>
      {(props) => (
        <select
          {...props}
          value={draft[name] ?? ''}
          onChange={(event) => setDraft({ ...draft, [name]: event.target.value })}
        >
          <option value="">Any</option>
          {options.map((option) => (
            <option key={option} value={option}>
              {option}
            </option>
          ))}
        </select>
      )}
    </Field>
  );
  return (
    <div>
      <PageHeader title="Audit log" />
      <form className="filters" aria-label="Filters" onSubmit={apply}>
        {text('actorKey', 'Actor key (ID)')}
        {select('role', 'Actor role', ROLES)}
        {text('action', 'Action', 'e.g. device.unlock')}
        {select('type', 'Entity type', TYPES)}
        {text('target', 'Entity (ID)')}
        {text('from', 'From', undefined, 'datetime-local')}
        {text('to', 'Before', undefined, 'datetime-local')}
        <button type="submit">Apply filters</button>
      </form>
      <QueryStatus error={error} fetching={fetching} data={data} refetch={refetch} what="the audit log" />
      {data && (
        <>
          <p className="summary">
            <strong>{data.auditEvents.totalCount}</strong> {data.auditEvents.totalCount === 1 ? 'event' : 'events'},
            newest first
          </p>
          <ol className="audit" aria-label="Audit events">
            {data.auditEvents.nodes.map((event) => (
              <li key={event.id} className="panel">
                <p>
                  <Time value={event.occurredAt} /> · <strong>{event.action}</strong> on {event.targetType}{' '}
                  <TargetLink type={event.targetType} id={event.targetId} after={event.after} before={event.before} />{' '}
                  by {event.actor}
                  {event.actorKeyId && (
                    <>
                      {' '}
                      (
                      <Link to={`/audit?actorKey=${encodeURIComponent(event.actorKeyId)}`}>this key&apos;s events</Link>
                      )
                    </>
                  )}
                  {event.requestId && <small> · request {event.requestId}</small>}
                </p>
                <Diff before={event.before} after={event.after} />
              </li>
            ))}
            {data.auditEvents.nodes.length === 0 && <li>No event matches these filters.</li>}
          </ol>
          <Pager pageInfo={data.auditEvents.pageInfo} first="Newest" next="Older events" />
        </>
      )}
    </div>
  );
}

function TargetLink({ type, id, before, after }: { type: string; id: string; before: unknown; after: unknown }) {
  const imei = (after as { imei?: unknown } | null)?.imei ?? (before as { imei?: unknown } | null)?.imei;
  if (type === 'Device' && typeof imei === 'string') return <Link to={`/devices/${imei}`}>{imei}</Link>;
  return <Link to={`/audit?target=${encodeURIComponent(id)}`}>{id}</Link>;
}

/** Flattens an object to "a.b.c" → value, for a field-by-field comparison. */
function flatten(value: unknown, prefix = '', into: Map<string, string> = new Map()): Map<string, string> {
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    for (const [key, inner] of Object.entries(value)) flatten(inner, prefix ? `${prefix}.${key}` : key, into);
  } else if (prefix) {
    into.set(prefix, JSON.stringify(value));
  }
  return into;
}

/** Before and after as a table of the fields that differ (all fields for a creation). */
export function Diff({ before, after }: { before: unknown; after: unknown }) {
  const old = flatten(before);
  const now = flatten(after);
  const fields = [...new Set([...old.keys(), ...now.keys()])].filter((field) => old.get(field) !== now.get(field));
  if (fields.length === 0) return <p className="hint">No field changed.</p>;
  return (
    <table className="diff" aria-label="Changes">
      <thead>
        <tr>
          <th scope="col">Field</th>
          <th scope="col">Before</th>
          <th scope="col">After</th>
        </tr>
      </thead>
      <tbody>
        {fields.map((field) => (
          <tr key={field}>
            <th scope="row">{field}</th>
            <td className={old.has(field) ? 'removed' : ''}>{old.get(field) ?? '—'}</td>
            <td className={now.has(field) ? 'added' : ''}>{now.get(field) ?? '—'}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
