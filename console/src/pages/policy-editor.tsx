// Drafting a new policy or a change to one: regions (the region picker), models, mode, action,
// priority, effective window and lock messages per locale with the phone's preview; the draft is
// replayed over a chosen window (simulatePolicy) and submitted with that simulation in view. A change
// to an ACTIVE policy that could lock someone becomes a change request for a second person; the
// API's userErrors stand beside the fields they name.
import { FormEvent, useMemo, useState } from 'react';
import { useClient, useMutation, useQuery } from 'urql';
import { FragmentType, graphql } from '../gql';
import type { PolicyAction, PolicyMode, SimulatedPolicyInput, UpdatePolicyInput } from '../gql/graphql';
import { RegionPicker } from '../region-picker';
import { can } from '../roles';
import { Link, navigate } from '../router';
import { Field, Loading, RequestError, UserErrorLike, messagesFor, FormErrors, fieldOf } from '../ui';
import { useViewer } from '../viewer';
import {
  PhonePreview,
  RegionRef,
  VersionRules,
  fromLocalInput,
  lockMessageFor,
  readVersion,
  toLocalInput,
} from './policy-rules';
import { PolicySimulationFragment, SimulationView, simulationSummary } from './policy-simulation';

const PolicyEditorQuery = graphql(`
  query PolicyEditorPage($key: String!, $existing: Boolean!) {
    policy(key: $key) @include(if: $existing) {
      id
      key
      status
      title
      versions(first: 1) {
        nodes {
          ...PolicyVersionRules
        }
      }
      changeRequests(statuses: [PENDING], first: 1) {
        nodes {
          id
          requestedBy
        }
      }
    }
    deviceModels(first: 100) {
      nodes {
        code
        marketingName
      }
    }
  }
`);

const SimulateDraftQuery = graphql(`
  query SimulateDraft($input: SimulatePolicyInput!) {
    simulatePolicy(input: $input) {
      ...PolicySimulationView
    }
  }
`);

const CreatePolicyMutation = graphql(`
  mutation CreatePolicy($input: CreatePolicyInput!) {
    createPolicy(input: $input) {
      policy {
        id
        key
      }
      userErrors {
        field
        message
        code
      }
    }
  }
`);

const UpdatePolicyMutation = graphql(`
  mutation UpdatePolicy($input: UpdatePolicyInput!) {
    updatePolicy(input: $input) {
      policy {
        id
        key
        currentVersion {
          id
          number
        }
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

const POLICY_CONTEXT = { additionalTypenames: ['Policy', 'PolicyVersion', 'PolicyChangeRequest'] };
const DAY_MS = 86_400_000;

interface Translation {
  locale: string;
  text: string;
}

interface Draft {
  key: string;
  title: string;
  description: string;
  legalBasis: string;
  mode: PolicyMode;
  action: PolicyAction;
  priority: string;
  /** datetime-local values; an ACTIVE policy's empty effectiveFrom means "from the moment it applies". */
  effectiveFrom: string;
  effectiveUntil: string;
  regions: RegionRef[];
  models: string[];
  lockMessage: string;
  translations: Translation[];
}

/** The input field a draft field is sent as, where the names differ. */
const INPUT_FIELDS: Partial<Record<keyof Draft, string>> = {
  regions: 'regionCodes',
  models: 'productScope',
  translations: 'lockMessageTranslations',
};

function draftOf(version: VersionRules | null, isActive: boolean): Draft {
  if (!version) {
    return {
      key: '',
      title: '',
      description: '',
      legalBasis: '',
      mode: 'MONITOR',
      action: 'LOCK',
      priority: '0',
      effectiveFrom: toLocalInput(new Date().toISOString()),
      effectiveUntil: '',
      regions: [],
      models: [],
      lockMessage: '',
      translations: [],
    };
  }
  return {
    key: '',
    title: version.title,
    description: version.description,
    legalBasis: version.legalBasis,
    mode: version.mode,
    action: version.action,
    priority: String(version.priority),
    effectiveFrom: isActive ? '' : toLocalInput(version.effectiveFrom),
    effectiveUntil: toLocalInput(version.effectiveUntil),
    regions: version.regions.nodes.map((region) => ({ code: region.code, name: region.name })),
    models: version.productScope.nodes.map((model) => model.code),
    lockMessage: version.lockMessage,
    translations: version.lockMessageTranslations.map((message) => ({ locale: message.locale, text: message.text })),
  };
}

const sameSet = (a: string[], b: string[]) => a.length === b.length && [...a].sort().join() === [...b].sort().join();

/** What simulatePolicy replays for the draft (lock texts change no outcome). */
function simulationInput(draft: Draft, policyKey: string | null): SimulatedPolicyInput {
  const from = fromLocalInput(draft.effectiveFrom);
  const until = fromLocalInput(draft.effectiveUntil);
  return {
    ...(policyKey || draft.key ? { policyKey: policyKey ?? draft.key.trim() } : {}),
    action: draft.action,
    mode: draft.mode,
    priority: Number(draft.priority),
    regionCodes: draft.regions.map((region) => region.code),
    productScope: draft.models,
    ...(from ? { effectiveFrom: from } : {}),
    // Always said: an empty end is open-ended (null), where an omitted one would keep the changed
    // policy's end, and a draft that clears it would be replayed as still ending.
    effectiveUntil: until,
  };
}

/** The changes an ACTIVE (or DRAFT) policy's update sends: only what differs from its latest version. */
function updateOf(draft: Draft, base: VersionRules, id: string, note: string): UpdatePolicyInput {
  const input: UpdatePolicyInput = { id };
  if (draft.title !== base.title) input.title = draft.title;
  if (draft.description !== base.description) input.description = draft.description;
  if (draft.legalBasis !== base.legalBasis) input.legalBasis = draft.legalBasis;
  if (draft.mode !== base.mode) input.mode = draft.mode;
  if (draft.action !== base.action) input.action = draft.action;
  if (Number(draft.priority) !== base.priority) input.priority = Number(draft.priority);
  const regionCodes = draft.regions.map((region) => region.code);
  if (
    !sameSet(
      regionCodes,
      base.regions.nodes.map((region) => region.code),
    )
  )
    input.regionCodes = regionCodes;
  if (
    !sameSet(
      draft.models,
      base.productScope.nodes.map((model) => model.code),
    )
  )
    input.productScope = draft.models;
  if (draft.lockMessage !== base.lockMessage) input.lockMessage = draft.lockMessage;
  const translations = draft.translations.filter((row) => row.locale.trim() || row.text.trim());
  const baseTranslations = base.lockMessageTranslations.map((row) => `${row.locale}\u0000${row.text}`);
  if (
    !sameSet(
      translations.map((row) => `${row.locale.trim()}\u0000${row.text}`),
      baseTranslations,
    )
  )
    input.lockMessageTranslations = translations.map((row) => ({ locale: row.locale.trim(), text: row.text }));
  const from = fromLocalInput(draft.effectiveFrom);
  if (from && from !== base.effectiveFrom) input.effectiveFrom = from;
  const until = fromLocalInput(draft.effectiveUntil);
  if (until && until !== base.effectiveUntil) input.effectiveUntil = until;
  if (!until && base.effectiveUntil) input.clearEffectiveUntil = true;
  if (note.trim()) input.note = note.trim();
  return input;
}

const FORM_FIELDS = [
  'key',
  'title',
  'description',
  'legalBasis',
  'mode',
  'action',
  'priority',
  'effectiveFrom',
  'effectiveUntil',
  'clearEffectiveUntil',
  'regionCodes',
  'productScope',
  'lockMessage',
  'lockMessageTranslations',
  'note',
];

interface Simulated {
  fingerprint: string;
  from: string;
  to: string;
  result: FragmentType<typeof PolicySimulationFragment>;
}

/** `policyKey` null: a new policy. */
export function PolicyEditorPage({ policyKey }: { policyKey: string | null }) {
  const viewer = useViewer();
  const [{ data, error, fetching }, refetch] = useQuery({
    query: PolicyEditorQuery,
    variables: { key: policyKey ?? '', existing: policyKey !== null },
    requestPolicy: 'network-only',
  });
  if (!can.writePolicies(viewer.role)) {
    return (
      <p role="alert">
        A {viewer.role} key cannot change policies (POLICY_AUTHOR and ADMIN keys can).{' '}
        {policyKey && <Link to={`/policies/${encodeURIComponent(policyKey)}`}>Back to the policy</Link>}
      </p>
    );
  }
  if (error) return <RequestError error={error} retry={() => refetch({ requestPolicy: 'network-only' })} />;
  if (!data || fetching) return <Loading what="the policy" />;
  if (policyKey !== null && !data.policy) return <p role="alert">No policy has the key {policyKey}.</p>;
  if (data.policy?.status === 'RETIRED') return <p role="alert">A retired policy cannot be changed.</p>;
  const base = data.policy ? readVersion(data.policy.versions.nodes[0]!) : null;
  return (
    <Editor
      key={base?.id ?? 'new'}
      policy={
        data.policy
          ? { id: data.policy.id, key: data.policy.key, status: data.policy.status, title: data.policy.title }
          : null
      }
      base={base}
      pendingRequest={data.policy?.changeRequests.nodes[0] ?? null}
      models={data.deviceModels.nodes}
    />
  );
}

function Editor({
  policy,
  base,
  pendingRequest,
  models,
}: {
  policy: { id: string; key: string; status: string; title: string } | null;
  base: VersionRules | null;
  pendingRequest: { id: string; requestedBy: string } | null;
  models: readonly { code: string; marketingName: string }[];
}) {
  const client = useClient();
  const isActive = policy?.status === 'ACTIVE';
  const [draft, setDraft] = useState<Draft>(() => draftOf(base, isActive));
  const [userErrors, setUserErrors] = useState<readonly UserErrorLike[]>([]);
  // A field's errors go once it is edited: an error beside a value that no longer has it misleads.
  const set = <K extends keyof Draft>(field: K, value: Draft[K]) => {
    setDraft((old) => ({ ...old, [field]: value }));
    const input = INPUT_FIELDS[field] ?? field;
    setUserErrors((errors) => errors.filter((error) => fieldOf(error) !== input));
  };
  const now = useMemo(() => new Date(), []);
  const [windowFrom, setWindowFrom] = useState(toLocalInput(new Date(now.getTime() - 30 * DAY_MS).toISOString()));
  const [windowTo, setWindowTo] = useState(toLocalInput(now.toISOString()));
  const [simulated, setSimulated] = useState<Simulated | null>(null);
  const [simulating, setSimulating] = useState(false);
  const [simulationError, setSimulationError] = useState<string | null>(null);
  const [note, setNote] = useState('');
  const [submitted, setSubmitted] = useState<{ requestId: string | null; reasons: string[] } | null>(null);
  const [previewLocale, setPreviewLocale] = useState('en');
  const [createState, create] = useMutation(CreatePolicyMutation);
  const [updateState, update] = useMutation(UpdatePolicyMutation);

  const simInput = simulationInput(draft, policy?.key ?? null);
  const fingerprint = JSON.stringify([simInput, windowFrom, windowTo]);
  const fresh = simulated !== null && simulated.fingerprint === fingerprint;
  const errorsOf = (field: string) => messagesFor(userErrors, field);
  const translationMap = Object.fromEntries(
    draft.translations.filter((row) => row.locale.trim()).map((row) => [row.locale.trim(), row.text]),
  );
  const previewLocales = ['en', ...Object.keys(translationMap)];

  const simulate = async () => {
    const from = fromLocalInput(windowFrom);
    const to = fromLocalInput(windowTo);
    if (!from || !to) {
      setSimulationError('Give the window both a start and an end.');
      return;
    }
    setSimulating(true);
    setSimulationError(null);
    const result = await client
      .query(SimulateDraftQuery, { input: { policy: simInput, from, to } }, { requestPolicy: 'network-only' })
      .toPromise();
    setSimulating(false);
    if (result.error) {
      setSimulationError(result.error.graphQLErrors[0]?.message ?? result.error.message);
      return;
    }
    if (result.data) setSimulated({ fingerprint, from, to, result: result.data.simulatePolicy });
  };

  const noteWithImpact = () => {
    const impact = fresh && simulated ? simulationSummary(simulated.result, simulated.from, simulated.to) : '';
    return [note.trim(), impact].filter(Boolean).join('\n');
  };

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setSubmitted(null);
    if (!/^-?\d+$/.test(draft.priority.trim())) {
      setUserErrors([{ field: ['input', 'priority'], message: 'priority must be a whole number', code: 'INVALID' }]);
      return;
    }
    if ((!policy || !isActive) && !fromLocalInput(draft.effectiveFrom)) {
      setUserErrors([
        {
          field: ['input', 'effectiveFrom'],
          message: 'Give the instant from which the policy applies',
          code: 'REQUIRED',
        },
      ]);
      return;
    }
    const translations = draft.translations
      .filter((row) => row.locale.trim() || row.text.trim())
      .map((row) => ({ locale: row.locale.trim(), text: row.text }));
    if (!policy) {
      const result = await create(
        {
          input: {
            key: draft.key.trim(),
            title: draft.title,
            description: draft.description,
            legalBasis: draft.legalBasis,
            mode: draft.mode,
            action: draft.action,
            priority: Number(draft.priority),
            effectiveFrom: fromLocalInput(draft.effectiveFrom) ?? '',
            ...(fromLocalInput(draft.effectiveUntil) ? { effectiveUntil: fromLocalInput(draft.effectiveUntil) } : {}),
            regionCodes: draft.regions.map((region) => region.code),
            productScope: draft.models,
            lockMessage: draft.lockMessage,
            lockMessageTranslations: translations,
          },
        },
        POLICY_CONTEXT,
      );
      const payload = result.data?.createPolicy;
      if (!payload) return;
      setUserErrors(payload.userErrors);
      if (payload.policy) navigate(`/policies/${encodeURIComponent(payload.policy.key)}`);
      return;
    }
    const input = updateOf(draft, base!, policy.id, isActive ? noteWithImpact() : note);
    if (Object.keys(input).filter((field) => field !== 'id' && field !== 'note').length === 0) {
      setUserErrors([
        { field: ['input', 'id'], message: 'Nothing changed: the draft says what the policy says.', code: 'INVALID' },
      ]);
      return;
    }
    const result = await update({ input }, POLICY_CONTEXT);
    const payload = result.data?.updatePolicy;
    if (!payload) return;
    setUserErrors(payload.userErrors);
    if (payload.userErrors.length) return;
    if (payload.changeRequest)
      setSubmitted({ requestId: payload.changeRequest.id, reasons: [...payload.changeRequest.reasons] });
    else navigate(`/policies/${encodeURIComponent(policy.key)}`);
  };

  const submitting = createState.fetching || updateState.fetching;
  const requestError = createState.error ?? updateState.error;
  const heading = !policy
    ? 'New policy'
    : policy.status === 'DRAFT'
      ? `Edit the draft of ${policy.title}`
      : `Propose a change to ${policy.title}`;

  return (
    <form onSubmit={submit} aria-label={heading} noValidate>
      <p>
        {policy ? (
          <Link to={`/policies/${encodeURIComponent(policy.key)}`}>Back to the policy</Link>
        ) : (
          <Link to="/policies">All policies</Link>
        )}
      </p>
      <h1>{heading}</h1>
      {isActive && (
        <p className="hint">
          Based on version {base!.number}. A change that could lock someone (more regions or models, ENFORCE, LOCK, a
          higher priority, a wider window) waits for a second POLICY_AUTHOR or ADMIN; one that narrows applies at once.
        </p>
      )}
      {pendingRequest && (
        <p className="warning" role="status">
          A change request by {pendingRequest.requestedBy} is waiting for this policy:{' '}
          <Link to={`/changes?request=${encodeURIComponent(pendingRequest.id)}`}>decide or withdraw it</Link> before
          proposing another.
        </p>
      )}
      <div className="split">
        <div>
          {!policy && (
            <Field
              label="Key"
              errors={errorsOf('key')}
              hint="Stable, never changes: lower-case letters, digits, dashes"
            >
              {(props) => (
                <input
                  {...props}
                  value={draft.key}
                  onChange={(event) => set('key', event.target.value)}
                  spellCheck={false}
                />
              )}
            </Field>
          )}
          <Field label="Title" errors={errorsOf('title')}>
            {(props) => <input {...props} value={draft.title} onChange={(event) => set('title', event.target.value)} />}
          </Field>
          <Field label="Description" errors={errorsOf('description')}>
            {(props) => (
              <textarea
                {...props}
                rows={2}
                value={draft.description}
                onChange={(event) => set('description', event.target.value)}
              />
            )}
          </Field>
          <Field label="Legal basis" errors={errorsOf('legalBasis')}>
            {(props) => (
              <textarea
                {...props}
                rows={2}
                value={draft.legalBasis}
                onChange={(event) => set('legalBasis', event.target.value)}
              />
            )}
          </Field>
          <div className="filters">
            <Field label="Mode" errors={errorsOf('mode')}>
              {(props) => (
                <select
                  {...props}
                  value={draft.mode}
                  onChange={(event) => set('mode', event.target.value as PolicyMode)}
                >
                  <option value="MONITOR">MONITOR (record only)</option>
                  <option value="ENFORCE">ENFORCE</option>
                </select>
              )}
            </Field>
            <Field label="Action" errors={errorsOf('action')}>
              {(props) => (
                <select
                  {...props}
                  value={draft.action}
                  onChange={(event) => set('action', event.target.value as PolicyAction)}
                >
                  <option value="LOCK">LOCK</option>
                  <option value="REVIEW">REVIEW</option>
                </select>
              )}
            </Field>
            <Field label="Priority" errors={errorsOf('priority')} hint="-1000 to 1000; higher wins">
              {(props) => (
                <input
                  {...props}
                  inputMode="numeric"
                  size={6}
                  value={draft.priority}
                  onChange={(event) => set('priority', event.target.value)}
                />
              )}
            </Field>
          </div>
          <div className="filters">
            <Field
              label="Effective from"
              errors={errorsOf('effectiveFrom')}
              hint={
                isActive
                  ? 'Empty: from the moment it applies (now, or on approval); later: scheduled'
                  : 'Your time zone'
              }
            >
              {(props) => (
                <input
                  {...props}
                  type="datetime-local"
                  value={draft.effectiveFrom}
                  onChange={(event) => set('effectiveFrom', event.target.value)}
                />
              )}
            </Field>
            <Field
              label="Effective until"
              errors={[...errorsOf('effectiveUntil'), ...errorsOf('clearEffectiveUntil')]}
              hint="Empty: open-ended"
            >
              {(props) => (
                <input
                  {...props}
                  type="datetime-local"
                  value={draft.effectiveUntil}
                  onChange={(event) => set('effectiveUntil', event.target.value)}
                />
              )}
            </Field>
          </div>
          <RegionPicker
            value={draft.regions}
            onChange={(regions) => set('regions', regions)}
            errors={errorsOf('regionCodes')}
          />
          <fieldset className="models">
            <legend>Models</legend>
            <p className="hint">None checked: every model.</p>
            {models.map((model) => (
              <label key={model.code}>
                <input
                  type="checkbox"
                  checked={draft.models.includes(model.code)}
                  onChange={() =>
                    set(
                      'models',
                      draft.models.includes(model.code)
                        ? draft.models.filter((code) => code !== model.code)
                        : [...draft.models, model.code],
                    )
                  }
                />{' '}
                {model.marketingName} ({model.code})
              </label>
            ))}
            {errorsOf('productScope').length > 0 && (
              <span className="field-error" role="alert">
                {errorsOf('productScope').join('; ')}
              </span>
            )}
          </fieldset>
        </div>
        <div>
          <fieldset className="lock-messages">
            <legend>Lock message per locale</legend>
            <Field label="English (en)" errors={errorsOf('lockMessage')}>
              {(props) => (
                <textarea
                  {...props}
                  rows={3}
                  lang="en"
                  value={draft.lockMessage}
                  onChange={(event) => set('lockMessage', event.target.value)}
                />
              )}
            </Field>
            {draft.translations.map((row, index) => (
              <div className="translation" key={index}>
                <Field label={`Locale #${index + 1}`} hint="BCP 47, e.g. ru, pt-BR">
                  {(props) => (
                    <input
                      {...props}
                      size={8}
                      value={row.locale}
                      onChange={(event) =>
                        set(
                          'translations',
                          draft.translations.map((item, at) =>
                            at === index ? { ...item, locale: event.target.value } : item,
                          ),
                        )
                      }
                    />
                  )}
                </Field>
                <Field label={`Message in ${row.locale || `locale #${index + 1}`}`}>
                  {(props) => (
                    <textarea
                      {...props}
                      rows={2}
                      lang={row.locale || undefined}
                      dir="auto"
                      value={row.text}
                      onChange={(event) =>
                        set(
                          'translations',
                          draft.translations.map((item, at) =>
                            at === index ? { ...item, text: event.target.value } : item,
                          ),
                        )
                      }
                    />
                  )}
                </Field>
                <button
                  type="button"
                  onClick={() =>
                    set(
                      'translations',
                      draft.translations.filter((_item, at) => at !== index),
                    )
                  }
                >
                  Remove {row.locale || `locale #${index + 1}`}
                </button>
              </div>
            ))}
            <button
              type="button"
              onClick={() => set('translations', [...draft.translations, { locale: '', text: '' }])}
            >
              Add a translation
            </button>
            {errorsOf('lockMessageTranslations').length > 0 && (
              <span className="field-error" role="alert">
                {errorsOf('lockMessageTranslations').join('; ')}
              </span>
            )}
          </fieldset>
          <Field label="Preview in">
            {(props) => (
              <select {...props} value={previewLocale} onChange={(event) => setPreviewLocale(event.target.value)}>
                {previewLocales.map((tag) => (
                  <option key={tag} value={tag}>
                    {tag}
                  </option>
                ))}
              </select>
            )}
          </Field>
          <PhonePreview
            locale={previewLocale}
            message={lockMessageFor(draft.lockMessage, translationMap, previewLocale) || '(no message yet)'}
          />
        </div>
      </div>

      <section className="panel" aria-labelledby="simulate-heading">
        <h2 id="simulate-heading">Simulate</h2>
        <p className="hint">
          Replays the recorded attempts of a window with this draft in place (simulatePolicy); nothing is written.
        </p>
        <div className="filters">
          <Field label="Replay from">
            {(props) => (
              <input
                {...props}
                type="datetime-local"
                value={windowFrom}
                onChange={(event) => setWindowFrom(event.target.value)}
              />
            )}
          </Field>
          <Field label="Replay to">
            {(props) => (
              <input
                {...props}
                type="datetime-local"
                value={windowTo}
                onChange={(event) => setWindowTo(event.target.value)}
              />
            )}
          </Field>
          <button type="button" onClick={simulate} disabled={simulating}>
            {simulating ? 'Simulating…' : 'Simulate'}
          </button>
        </div>
        {simulationError && (
          <p role="alert" className="field-error">
            The simulation failed: {simulationError}
          </p>
        )}
        {simulated && !fresh && (
          <p className="warning" role="status">
            The draft or the window changed since this simulation: simulate again before submitting.
          </p>
        )}
        {simulated && (
          <SimulationView
            simulation={simulated.result}
            from={simulated.from}
            to={simulated.to}
            title="Simulated impact"
          />
        )}
      </section>

      <section className="panel" aria-labelledby="submit-heading">
        <h2 id="submit-heading">{!policy ? 'Save' : isActive ? 'Submit' : 'Save the draft'}</h2>
        {policy && (
          <Field
            label={isActive ? 'Why (kept with the change request)' : 'Note'}
            errors={errorsOf('note')}
            hint={isActive && fresh ? 'The simulation summary above is added to the note.' : undefined}
          >
            {(props) => <textarea {...props} rows={2} value={note} onChange={(event) => setNote(event.target.value)} />}
          </Field>
        )}
        <FormErrors userErrors={userErrors} fields={FORM_FIELDS} />
        {userErrors.length > 0 && <p role="alert">The API refused the draft: see the fields marked above.</p>}
        {requestError && <p role="alert">The request failed: {requestError.message}</p>}
        {isActive && !fresh && (
          <p className="hint">Simulate the draft first: the change is submitted with its impact in view.</p>
        )}
        <button type="submit" disabled={submitting || (isActive && !fresh)}>
          {!policy ? 'Save draft' : isActive ? 'Submit change' : 'Save draft'}
        </button>
        {submitted?.requestId && (
          <p className="done" role="status">
            Change request opened ({submitted.reasons.join(', ')}): it waits for a second POLICY_AUTHOR or ADMIN.{' '}
            <Link to={`/changes?request=${encodeURIComponent(submitted.requestId)}`}>Open the change request</Link>
          </p>
        )}
      </section>
    </form>
  );
}
