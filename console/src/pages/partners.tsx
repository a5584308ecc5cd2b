// Partners for an admin: the list, a partner's devices, its webhook endpoints (created with a
// signing secret shown once; disabled after confirming), and an endpoint's deliveries with every
// try's status and timing, each redeliverable. Partner, endpoint and status filter are in the URL.
import { FormEvent, useState } from 'react';
import { useMutation, useQuery } from 'urql';
import { graphql } from '../gql';
import type { DeliveryStatus, PartnerEventType } from '../gql/graphql';
import { Link, navigate, useLocation, withParams } from '../router';
import {
  ConfirmDialog,
  Dialog,
  Field,
  FormErrors,
  Loading,
  PageHeader,
  PagedTable,
  QueryStatus,
  RequestError,
  StatusBadge,
  Time,
  messagesFor,
  useMutationPayload,
} from '../ui';

const PartnersQuery = graphql(`
  query PartnersPage {
    partners(first: 100) {
      totalCount
      nodes {
        id
        name
        kind
        contactEmail
        createdAt
      }
    }
  }
`);

const PartnerQuery = graphql(`
  query PartnerDetail($id: ID!, $after: String) {
    node(id: $id) {
      __typename
      ... on Partner {
        id
        name
        kind
        contactEmail
        devices(first: 20, after: $after) {
          totalCount
          pageInfo {
            hasNextPage
            endCursor
          }
          nodes {
            id
            imei
            status
            activatedAt
            model {
              marketingName
            }
          }
        }
        locked: devices(first: 1, statuses: [LOCKED]) {
          totalCount
        }
      }
    }
    webhookEndpoints(first: 100) {
      nodes {
        id
        url
        description
        eventTypes
        createdAt
        createdBy
        disabledAt
        partner {
          id
        }
      }
    }
  }
`);

const DeliveriesQuery = graphql(`
  query EndpointDeliveries($filter: WebhookDeliveryFilter!) {
    webhookDeliveries(first: 25, filter: $filter) {
      totalCount
      nodes {
        id
        status
        attempts
        deliveredAt
        nextAttemptAt
        redeliveryOf {
          id
        }
        event {
          id
          type
          occurredAt
          device {
            imei
          }
        }
        attemptLog(first: 20) {
          nodes {
            id
            attemptedAt
            statusCode
            durationMs
            error
          }
        }
      }
    }
  }
`);

const CreateEndpointMutation = graphql(`
  mutation CreateWebhookEndpoint($input: CreateWebhookEndpointInput!) {
    createWebhookEndpoint(input: $input) {
      endpoint {
        id
        url
        eventTypes
        disabledAt
      }
      secret
      userErrors {
        field
        message
        code
      }
    }
  }
`);

const DisableEndpointMutation = graphql(`
  mutation DisableWebhookEndpoint($input: WebhookEndpointInput!) {
    disableWebhookEndpoint(input: $input) {
      endpoint {
        id
        disabledAt
      }
      userErrors {
        field
        message
        code
      }
    }
  }
`);

const RedeliverMutation = graphql(`
  mutation RedeliverWebhook($input: RedeliverWebhookInput!) {
    redeliverWebhook(input: $input) {
      delivery {
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

const EVENT_TYPES: Record<PartnerEventType, string> = {
  DEVICE_LOCKED: 'Device locked',
  DEVICE_UNLOCKED: 'Device unlocked',
  REVIEW_OPENED: 'Review opened',
  REVIEW_RESOLVED: 'Review resolved',
};
const STATUSES: DeliveryStatus[] = ['FAILED', 'PENDING', 'DELIVERED'];

export function PartnersPage() {
  const location = useLocation();
  const partnerId = location.params.get('partner');
  const [{ data, error, fetching }, refetch] = useQuery({ query: PartnersQuery });
  return (
    <div className="partners">
      <PageHeader title="Partners" />
      <QueryStatus error={error} fetching={fetching} data={data} refetch={refetch} what="the partners" />
      {data && (
        <div className="split">
          <PagedTable
            label="Partners"
            columns={['Name', 'Kind', 'Contact']}
            count={data.partners.nodes.length}
            empty="No partner."
          >
            {data.partners.nodes.map((partner) => (
              <tr key={partner.id} className={partner.id === partnerId ? 'selected' : ''}>
                <td>
                  <Link
                    to={withParams(location, { partner: partner.id, endpoint: null, status: null, after: null })}
                    aria-current={partner.id === partnerId ? 'true' : undefined}
                  >
                    {partner.name}
                  </Link>
                </td>
                <td>{partner.kind.toLowerCase()}</td>
                <td>{partner.contactEmail ?? '—'}</td>
              </tr>
            ))}
          </PagedTable>
          {partnerId ? <PartnerDetail key={partnerId} id={partnerId} /> : <p className="hint">Choose a partner.</p>}
        </div>
      )}
    </div>
  );
}

function PartnerDetail({ id }: { id: string }) {
  const location = useLocation();
  const after = location.params.get('after');
  const [{ data, error, fetching }, refetch] = useQuery({ query: PartnerQuery, variables: { id, after } });
  const [confirmDisable, setConfirmDisable] = useState<{ id: string; url: string } | null>(null);
  const disable = useMutationPayload(DisableEndpointMutation, (data) => data.disableWebhookEndpoint);
  if (error) return <RequestError error={error} retry={() => refetch({ requestPolicy: 'network-only' })} />;
  if (!data) return fetching ? <Loading what="the partner" /> : null;
  const partner = data.node?.__typename === 'Partner' ? data.node : null;
  if (!partner) return <p role="alert">No partner with this ID is visible to your key.</p>;
  const endpoints = data.webhookEndpoints.nodes.filter((endpoint) => endpoint.partner.id === partner.id);
  const endpointId = location.params.get('endpoint');
  return (
    <section className="panel" aria-labelledby="partner-heading">
      <h2 id="partner-heading">{partner.name}</h2>
      <p>
        {partner.kind.toLowerCase()} · {partner.contactEmail ?? 'no contact address'} ·{' '}
        <strong>{partner.devices.totalCount}</strong> devices, {partner.locked.totalCount} locked
      </p>

      <h3>Devices</h3>
      <PagedTable
        label={`Devices of ${partner.name}`}
        columns={['IMEI', 'Model', 'Status', 'Activated']}
        count={partner.devices.nodes.length}
        empty="No devices."
        pageInfo={partner.devices.pageInfo}
        pagerLabel="Device pages"
      >
        {partner.devices.nodes.map((device) => (
          <tr key={device.id}>
            <td>
              <Link to={`/devices/${device.imei}`}>{device.imei}</Link>
            </td>
            <td>{device.model.marketingName}</td>
            <td>
              <StatusBadge status={device.status} />
            </td>
            <td>
              <Time value={device.activatedAt} />
            </td>
          </tr>
        ))}
      </PagedTable>

      <h3>Webhook endpoints</h3>
      <PagedTable
        label={`Webhook endpoints of ${partner.name}`}
        columns={['URL', 'Events', 'Registered', 'State', <span className="visually-hidden">Actions</span>]}
        count={endpoints.length}
        empty="No endpoint registered."
      >
        {endpoints.map((endpoint) => (
          <tr key={endpoint.id} className={endpoint.id === endpointId ? 'selected' : ''}>
            <td>
              <Link
                to={withParams(location, { endpoint: endpoint.id, status: null })}
                aria-current={endpoint.id === endpointId ? 'true' : undefined}
              >
                {endpoint.url}
              </Link>
              {endpoint.description && (
                <>
                  <br />
                  <small>{endpoint.description}</small>
                </>
              )}
            </td>
            <td>{endpoint.eventTypes.map((type) => EVENT_TYPES[type]).join(', ')}</td>
            <td>
              <Time value={endpoint.createdAt} /> <small>by {endpoint.createdBy}</small>
            </td>
            <td>
              {endpoint.disabledAt ? (
                <>
                  disabled <Time value={endpoint.disabledAt} />
                </>
              ) : (
                'enabled'
              )}
            </td>
            <td>
              {!endpoint.disabledAt && (
                <button
                  type="button"
                  className="danger"
                  aria-label={`Disable ${endpoint.url}…`}
                  onClick={() => setConfirmDisable({ id: endpoint.id, url: endpoint.url })}
                >
                  Disable…
                </button>
              )}
            </td>
          </tr>
        ))}
      </PagedTable>
      <CreateEndpoint partnerId={partner.id} onCreated={() => refetch({ requestPolicy: 'network-only' })} />
      {endpointId && endpoints.some((endpoint) => endpoint.id === endpointId) && (
        <Deliveries
          key={endpointId}
          endpointId={endpointId}
          url={endpoints.find((endpoint) => endpoint.id === endpointId)!.url}
        />
      )}
      {confirmDisable && (
        <ConfirmDialog
          title={`Disable ${confirmDisable.url}?`}
          confirm="Disable the endpoint"
          cancel="Keep it"
          danger
          busy={disable.fetching}
          userErrors={disable.userErrors}
          error={disable.error}
          onClose={() => setConfirmDisable(null)}
          onConfirm={async () => {
            const payload = await disable.run({ input: { id: confirmDisable.id } });
            if (payload && payload.userErrors.length === 0) {
              setConfirmDisable(null);
              refetch({ requestPolicy: 'network-only' });
            }
          }}
        >
          <p>
            It receives no event after this; deliveries waiting for it stop. An endpoint cannot be enabled again:
            register a new one.
          </p>
        </ConfirmDialog>
      )}
    </section>
  );
}

function CreateEndpoint({ partnerId, onCreated }: { partnerId: string; onCreated: () => void }) {
  const [url, setUrl] = useState('');
  const [description, setDescription] = useState('');
  const [eventTypes, setEventTypes] = useState<PartnerEventType[]>(['DEVICE_LOCKED', 'DEVICE_UNLOCKED']);
  const [created, setCreated] = useState<{ url: string; secret: string } | null>(null);
  const [copied, setCopied] = useState(false);
  const create = useMutationPayload(CreateEndpointMutation, (data) => data.createWebhookEndpoint);
  const userErrors = create.userErrors;
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const payload = await create.run({
      input: {
        partnerId,
        url: url.trim(),
        eventTypes,
        ...(description.trim() ? { description: description.trim() } : {}),
      },
    });
    if (payload?.endpoint && payload.secret) {
      setCreated({ url: payload.endpoint.url, secret: payload.secret });
      setUrl('');
      setDescription('');
      onCreated();
    }
  };
  return (
    <>
      <form aria-label="Register a webhook endpoint" onSubmit={submit} className="panel">
        <h3>Register an endpoint</h3>
        <Field label="HTTPS URL" errors={messagesFor(userErrors, 'url')}>
          {(props) => (
            <input
              {...props}
              type="url"
              value={url}
              size={48}
              placeholder="https://partner.example/hooks"
              onChange={(event) => setUrl(event.target.value)}
            />
          )}
        </Field>
        <Field label="Description (optional)" errors={messagesFor(userErrors, 'description')}>
          {(props) => (
            <input {...props} value={description} size={48} onChange={(event) => setDescription(event.target.value)} />
          )}
        </Field>
        <fieldset>
          <legend>Events</legend>
          {(Object.keys(EVENT_TYPES) as PartnerEventType[]).map((type) => (
            <label key={type} className="check">
              <input
                type="checkbox"
                checked={eventTypes.includes(type)}
                onChange={(event) =>
                  setEventTypes(
                    event.target.checked ? [...eventTypes, type] : eventTypes.filter((value) => value !== type),
                  )
                }
              />{' '}
              {EVENT_TYPES[type]}
            </label>
          ))}
          {messagesFor(userErrors, 'eventTypes').length > 0 && (
            <span className="field-error" role="alert">
              {messagesFor(userErrors, 'eventTypes').join('; ')}
            </span>
          )}
        </fieldset>
        <FormErrors userErrors={userErrors} fields={['url', 'description', 'eventTypes']} />
        {create.error && <RequestError error={create.error} retry={() => undefined} />}
        <button type="submit" disabled={create.fetching}>
          Register endpoint
        </button>
      </form>
      {created && (
        <Dialog title={`Endpoint ${created.url} registered`} onClose={() => setCreated(null)}>
          <p className="warning">
            This is the only time the signing secret is shown. Give it to the partner now: it verifies the
            X-Compliance-Signature header of each delivery.
          </p>
          <p>
            <code className="secret" aria-label="The endpoint's signing secret">
              {created.secret}
            </code>
          </p>
          <p className="actions">
            <button
              type="button"
              onClick={() => {
                void navigator.clipboard?.writeText(created.secret).then(
                  () => setCopied(true),
                  () => setCopied(false),
                );
              }}
            >
              Copy the secret
            </button>
            <button type="button" onClick={() => setCreated(null)}>
              I have passed it on
            </button>
          </p>
          {copied && <p role="status">Copied.</p>}
        </Dialog>
      )}
    </>
  );
}

function Deliveries({ endpointId, url }: { endpointId: string; url: string }) {
  const location = useLocation();
  const status = STATUSES.find((value) => value === location.params.get('status')) ?? null;
  const [{ data, error, fetching }, refetch] = useQuery({
    query: DeliveriesQuery,
    variables: { filter: { endpointId, ...(status ? { statuses: [status] } : {}) } },
  });
  const [redeliver, redeliverWebhook] = useMutation(RedeliverMutation);
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  return (
    <section aria-labelledby="deliveries-heading">
      <h3 id="deliveries-heading">Deliveries to {url}</h3>
      <form className="filters" aria-label="Delivery filters" onSubmit={(event) => event.preventDefault()}>
        <Field label="Delivery status">
          {(props) => (
            <select
              {...props}
              value={status ?? ''}
              onChange={(event) => navigate(withParams(location, { status: event.target.value }), { replace: true })}
            >
              <option value="">Any</option>
              {STATUSES.map((value) => (
                <option key={value} value={value}>
                  {value.toLowerCase()}
                </option>
              ))}
            </select>
          )}
        </Field>
        <button type="button" onClick={() => refetch({ requestPolicy: 'network-only' })}>
          Refresh
        </button>
      </form>
      {message && (
        <p role={message.ok ? 'status' : 'alert'} className={message.ok ? 'done' : 'request-error'}>
          {message.text}
        </p>
      )}
      <QueryStatus error={error} fetching={fetching} data={data} refetch={refetch} what="the deliveries" />
      {data && (
        <>
          <p className="summary">
            <strong>{data.webhookDeliveries.totalCount}</strong>{' '}
            {data.webhookDeliveries.totalCount === 1 ? 'delivery' : 'deliveries'}
            {status ? ` ${status.toLowerCase()}` : ''}
          </p>
          <ol className="deliveries" aria-label="Deliveries, newest first">
            {data.webhookDeliveries.nodes.map((delivery) => (
              <li
                key={delivery.id}
                aria-label={`${EVENT_TYPES[delivery.event.type]} ${delivery.event.device.imei}: ${delivery.status}`}
              >
                <p>
                  <StatusBadge status={delivery.status} /> {EVENT_TYPES[delivery.event.type]}:{' '}
                  <Link to={`/devices/${delivery.event.device.imei}`}>{delivery.event.device.imei}</Link> ·{' '}
                  <Time value={delivery.event.occurredAt} /> · {delivery.attempts}{' '}
                  {delivery.attempts === 1 ? 'try' : 'tries'}
                  {delivery.redeliveryOf && ' · a redelivery'}
                  {delivery.status === 'DELIVERED' && (
                    <>
                      {' '}
                      · delivered <Time value={delivery.deliveredAt} />
                    </>
                  )}
                  {delivery.status === 'PENDING' && (
                    <>
                      {' '}
                      · next try <Time value={delivery.nextAttemptAt} />
                    </>
                  )}{' '}
                  <button
                    type="button"
                    disabled={redeliver.fetching}
                    onClick={async () => {
                      const result = await redeliverWebhook({ input: { deliveryId: delivery.id } });
                      const payload = result.data?.redeliverWebhook;
                      if (payload?.delivery)
                        setMessage({ ok: true, text: `Redelivery queued (${payload.delivery.status.toLowerCase()}).` });
                      else
                        setMessage({
                          ok: false,
                          text:
                            payload?.userErrors.map((userError) => userError.message).join('; ') ??
                            result.error?.message ??
                            'failed',
                        });
                      refetch({ requestPolicy: 'network-only' });
                    }}
                  >
                    Redeliver
                  </button>
                </p>
                <PagedTable
                  label={`Tries of the delivery of ${delivery.event.device.imei}`}
                  className="numbers"
                  columns={['Tried', 'HTTP status', 'Took', 'Error']}
                  count={delivery.attemptLog.nodes.length}
                  empty="Not tried yet."
                >
                  {delivery.attemptLog.nodes.map((attempt) => (
                    <tr key={attempt.id}>
                      <td>
                        <Time value={attempt.attemptedAt} />
                      </td>
                      <td>{attempt.statusCode ?? 'not reached'}</td>
                      <td>{attempt.durationMs} ms</td>
                      <td>{attempt.error ?? '—'}</td>
                    </tr>
                  ))}
                </PagedTable>
              </li>
            ))}
            {data.webhookDeliveries.nodes.length === 0 && <li>No delivery.</li>}
          </ol>
        </>
      )}
    </section>
  );
}
