import { FormEvent, useState } from 'react';
import { useQuery } from 'urql';
import { graphql } from '../gql';
import type { ApiKeyFilter, Role } from '../gql/graphql';
import { Link, navigate, useLocation, withParams } from '../router';
import {
  ConfirmDialog,
  Dialog,
  Field,
  FormErrors,
  PageHeader,
  PagedTable,
  QueryStatus,
  RequestError,
  Time,
  messagesFor,
  useMutationPayload,
} from '../ui';

/** A list that may be empty still refreshes after a mutation returns this type (a stable object: urql compares it). */
const APIKEY_CONTEXT = { additionalTypenames: ['ApiKey'] };

const ApiKeysQuery = graphql(`
  query ApiKeysPage($filter: ApiKeyFilter, $after: String) {
    apiKeys(first: 25, after: $after, filter: $filter) {
      totalCount
      pageInfo {
        hasNextPage
        endCursor
      }
      nodes {
        id
        name
        role
        prefix
        createdAt
        createdBy
        lastUsedAt
        expiresAt
        revokedAt
        partner {
          name
        }
      }
    }
    partners(first: 100) {
      nodes {
        id
        name
      }
    }
  }
`);

const CreateApiKeyMutation = graphql(`
  mutation CreateApiKey($input: CreateApiKeyInput!) {
    createApiKey(input: $input) {
      apiKey {
        id
        name
        role
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

const RevokeApiKeyMutation = graphql(`
  mutation RevokeApiKey($input: RevokeApiKeyInput!) {
    revokeApiKey(input: $input) {
      apiKey {
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

const ROLES: Role[] = ['ADMIN', 'POLICY_AUTHOR', 'ANALYST', 'SUPPORT', 'GATEWAY', 'PARTNER'];

export function ApiKeysPage() {
  const location = useLocation();
  const state = location.params.get('state') ?? 'active';
  const role = location.params.get('role') ?? '';
  const filter: ApiKeyFilter = {
    ...(state === 'active' ? { active: true } : state === 'inactive' ? { active: false } : {}),
    ...(role ? { roles: [role as Role] } : {}),
  };
  const [{ data, error, fetching }, refetch] = useQuery({
    query: ApiKeysQuery,
    variables: { filter, after: location.params.get('after') },
    context: APIKEY_CONTEXT,
  });
  const [revoking, setRevoking] = useState<{ id: string; name: string } | null>(null);
  const [created, setCreated] = useState<{ name: string; role: string; secret: string } | null>(null);
  const setParam = (name: string, value: string) =>
    navigate(withParams(location, { [name]: value, after: null }), { replace: true });
  return (
    <div>
      <PageHeader title="API keys" />
      <CreateKeyForm partners={data?.partners.nodes ?? []} onCreated={setCreated} />
      <form className="filters" aria-label="Filters" onSubmit={(event) => event.preventDefault()}>
        <Field label="State">
          {(props) => (
            <select {...props} value={state} onChange={(event) => setParam('state', event.target.value)}>
              <option value="active">Active</option>
              <option value="inactive">Revoked or expired</option>
              <option value="all">All</option>
            </select>
          )}
        </Field>
        <Field label="Role">
          {(props) => (
            <select {...props} value={role} onChange={(event) => setParam('role', event.target.value)}>
              <option value="">Any</option>
              {ROLES.map((value) => (
                <option key={value} value={value}>
                  {value}
                </option>
              ))}
            </select>
          )}
        </Field>
      </form>
      <QueryStatus error={error} fetching={fetching} data={data} refetch={refetch} what="API keys" />
      {data && (
        <>
          <PagedTable
            total={{ count: data.apiKeys.totalCount, one: 'key', many: 'keys' }}
            label="API keys"
            columns={['Name', 'Role', 'Partner', 'Prefix', 'Created', 'Last used', 'Expires', 'State']}
            count={data.apiKeys.nodes.length}
            empty="No key matches."
            pageInfo={data.apiKeys.pageInfo}
          >
            {data.apiKeys.nodes.map((key) => (
              <tr key={key.id}>
                <td>
                  {key.name}
                  <br />
                  <small>
                    <Link to={`/audit?actorKey=${encodeURIComponent(key.id)}`}>its changes</Link>
                  </small>
                </td>
                <td>{key.role}</td>
                <td>{key.partner?.name ?? '—'}</td>
                <td>
                  <code>{key.prefix}…</code>
                </td>
                <td>
                  <Time value={key.createdAt} /> by {key.createdBy}
                </td>
                <td>{key.lastUsedAt ? <Time value={key.lastUsedAt} /> : 'never'}</td>
                <td>{key.expiresAt ? <Time value={key.expiresAt} /> : 'never'}</td>
                <td>
                  {key.revokedAt ? (
                    <>
                      revoked <Time value={key.revokedAt} />
                    </>
                  ) : (
                    <button type="button" onClick={() => setRevoking({ id: key.id, name: key.name })}>
                      Revoke {key.name}…
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </PagedTable>
        </>
      )}
      {created && <SecretDialog {...created} onClose={() => setCreated(null)} />}
      {revoking && <RevokeDialog {...revoking} onClose={() => setRevoking(null)} />}
    </div>
  );
}

function CreateKeyForm({
  partners,
  onCreated,
}: {
  partners: readonly { id: string; name: string }[];
  onCreated: (created: { name: string; role: string; secret: string }) => void;
}) {
  const [name, setName] = useState('');
  const [role, setRole] = useState<Role>('SUPPORT');
  const [partnerId, setPartnerId] = useState('');
  const [expiresAt, setExpiresAt] = useState('');
  const create = useMutationPayload(CreateApiKeyMutation, (data) => data.createApiKey);
  const userErrors = create.userErrors;
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const payload = await create.run({
      input: {
        name,
        role,
        ...(role === 'PARTNER' && partnerId ? { partnerId } : {}),
        ...(expiresAt ? { expiresAt: new Date(expiresAt).toISOString() } : {}),
      },
    });
    if (payload?.apiKey && payload.secret) {
      onCreated({ name: payload.apiKey.name, role: payload.apiKey.role, secret: payload.secret });
      setName('');
      setExpiresAt('');
    }
  };
  return (
    <form className="filters panel" aria-label="Create an API key" onSubmit={submit}>
      <Field label="Name" errors={messagesFor(userErrors, 'name')}>
        {(props) => <input {...props} value={name} onChange={(event) => setName(event.target.value)} />}
      </Field>
      <Field label="Role" errors={messagesFor(userErrors, 'role')}>
        {(props) => (
          <select {...props} value={role} onChange={(event) => setRole(event.target.value as Role)}>
            {ROLES.map((value) => (
              <option key={value} value={value}>
                {value}
              </option>
            ))}
          </select>
        )}
      </Field>
      {role === 'PARTNER' && (
        <Field label="Partner" errors={messagesFor(userErrors, 'partnerId')}>
          {(props) => (
            <select {...props} value={partnerId} onChange={(event) => setPartnerId(event.target.value)}>
              <option value="">Choose…</option>
              {partners.map((partner) => (
                <option key={partner.id} value={partner.id}>
                  {partner.name}
                </option>
              ))}
            </select>
          )}
        </Field>
      )}
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
      <button type="submit" disabled={create.fetching}>
        Create key
      </button>
      <FormErrors userErrors={userErrors} fields={['name', 'role', 'partnerId', 'expiresAt']} />
      {create.error && <RequestError error={create.error} retry={() => undefined} />}
    </form>
  );
}

function SecretDialog({
  name,
  role,
  secret,
  onClose,
}: {
  name: string;
  role: string;
  secret: string;
  onClose: () => void;
}) {
  const [copied, setCopied] = useState<string | null>(null);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(secret);
      setCopied('Copied to the clipboard.');
    } catch {
      setCopied('The browser refused the clipboard: select the key and copy it by hand.');
    }
  };
  return (
    <Dialog title={`Key ${name} (${role}) created`} onClose={onClose}>
      <p className="warning">
        This is the only time the secret is shown: it is not stored, only its digest. Copy it now.
      </p>
      <code className="secret" aria-label="The new key's secret">
        {secret}
      </code>
      <div className="actions">
        <button type="button" onClick={() => void copy()}>
          Copy the secret
        </button>
        <button type="button" onClick={onClose}>
          I have stored it
        </button>
      </div>
      {copied && <p role="status">{copied}</p>}
    </Dialog>
  );
}

function RevokeDialog({ id, name, onClose }: { id: string; name: string; onClose: () => void }) {
  const revoke = useMutationPayload(RevokeApiKeyMutation, (data) => data.revokeApiKey);
  return (
    <ConfirmDialog
      title={`Revoke the key ${name}?`}
      confirm="Revoke the key"
      danger
      busy={revoke.fetching}
      userErrors={revoke.userErrors}
      error={revoke.error}
      onClose={onClose}
      onConfirm={async () => {
        if ((await revoke.run({ input: { id } }))?.apiKey) onClose();
      }}
    >
      <p>Every request made with it is refused from now on. This cannot be undone.</p>
    </ConfirmDialog>
  );
}
