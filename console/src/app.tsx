import { ComponentType, FormEvent, Suspense, lazy, useCallback, useEffect, useMemo, useState } from 'react';
import { Provider, useQuery } from 'urql';
import { createConsoleClient } from './client';
import { graphql } from './gql';
import { ApiKeysPage } from './pages/api-keys';
import { AuditPage } from './pages/audit';
import { DevicePage } from './pages/device';
import { DevicesPage } from './pages/devices';
import { ReviewQueuePage } from './pages/review-queue';
import { can } from './roles';
import { BASE, NEW_POLICY_PATH, Link, navigate, useLocation } from './router';
import { developmentKey, forgetKey, signedOutReason, storedKey, storeKey } from './session';
import { Field, Loading, RequestError } from './ui';
import { ViewerContext, ViewerInfo } from './viewer';
import { isUnauthenticated } from './client';

/**
 * A page in a chunk of its own, which can be fetched ahead of its first render. React 19 holds back
 * the content of a Suspense boundary until 300 ms after its fallback showed (so that pages do not
 * flicker): a page whose chunk is already here must not suspend at all, so the lazy component's
 * thenable calls back at once when the module is loaded.
 */
function chunkedPage<Props>(load: () => Promise<ComponentType<Props>>) {
  let loaded: { default: ComponentType<Props> } | undefined;
  let loading: Promise<{ default: ComponentType<Props> }> | undefined;
  const preload = () =>
    (loading ??= load().then(
      (component) => (loaded = { default: component }),
      (error: unknown) => {
        // A chunk that failed to arrive is asked for again by the next render, not remembered.
        loading = undefined;
        throw error;
      },
    ));
  const Page = lazy(() =>
    loaded
      ? ({ then: (resolve: (module: { default: ComponentType<Props> }) => void) => resolve(loaded!) } as never)
      : preload(),
  );
  return Object.assign(Page, { preload });
}

// The analysts' and admins' pages and the policy pages are chunks of their own (the desk's first
// load does not carry the map, the charts or the editor); the page a URL opens is fetched beside the
// first GraphQL request, the other pages the key's role may open once the console is idle.
const OverviewPage = chunkedPage(() => import('./pages/overview').then((module) => module.OverviewPage));
const SweepsPage = chunkedPage(() => import('./pages/sweeps').then((module) => module.SweepsPage));
const PartnersPage = chunkedPage(() => import('./pages/partners').then((module) => module.PartnersPage));
const PoliciesPage = chunkedPage(() => import('./pages/policies').then((module) => module.PoliciesPage));
const PolicyHistoryPage = chunkedPage(() =>
  import('./pages/policy-history').then((module) => module.PolicyHistoryPage),
);
const PolicyEditorPage = chunkedPage(() => import('./pages/policy-editor').then((module) => module.PolicyEditorPage));
const PolicyChangesPage = chunkedPage(() =>
  import('./pages/policy-changes').then((module) => module.PolicyChangesPage),
);

/** The chunks of the pages of each section. */
const SECTION_CHUNKS: Record<string, { preload: () => Promise<unknown> }[]> = {
  '/overview': [OverviewPage],
  '/sweeps': [SweepsPage],
  '/partners': [PartnersPage],
  '/policies': [PoliciesPage, PolicyHistoryPage, PolicyEditorPage],
  '/changes': [PolicyChangesPage],
};

function preloadSection(path: string) {
  const section = path === NEW_POLICY_PATH ? '/policies' : '/' + (path.split('/')[1] ?? '');
  for (const chunk of SECTION_CHUNKS[section] ?? []) void chunk.preload().catch(() => undefined);
}
// The page this URL opens, while the console signs in and asks who the key is.
preloadSection(window.location.pathname.slice(BASE.length));

export function App() {
  const [apiKey, setApiKey] = useState(storedKey);
  const signOut = useCallback((reason?: string) => {
    forgetKey(reason);
    setApiKey(null);
  }, []);
  const client = useMemo(() => (apiKey ? createConsoleClient(apiKey, signOut) : null), [apiKey, signOut]);
  if (!client) {
    return (
      <SignIn
        onSignIn={(key) => {
          storeKey(key);
          setApiKey(key);
        }}
      />
    );
  }
  return (
    <Provider value={client}>
      <SignedIn signOut={signOut} />
    </Provider>
  );
}

function SignIn({ onSignIn }: { onSignIn: (key: string) => void }) {
  const [key, setKey] = useState(developmentKey);
  const [error, setError] = useState<string[]>([]);
  const reason = signedOutReason();
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const trimmed = key.trim();
    if (!trimmed) setError(['Enter an API key.']);
    else onSignIn(trimmed);
  };
  return (
    <main className="sign-in">
      <h1>compliance-graph console</h1>
      {reason && (
        <p role="alert" className="request-error">
          You were signed out: {reason}.
        </p>
      )}
      <form onSubmit={submit} aria-label="Sign in">
        <Field label="API key" errors={error} hint="Kept in this tab only, sent as Authorization: Bearer.">
          {(props) => (
            <input
              {...props}
              type="password"
              autoComplete="off"
              spellCheck={false}
              value={key}
              onChange={(event) => setKey(event.target.value)}
            />
          )}
        </Field>
        <button type="submit">Sign in</button>
      </form>
    </main>
  );
}

const ViewerQuery = graphql(`
  query ConsoleViewer {
    viewer {
      name
      role
      partnerId
    }
  }
`);

function SignedIn({ signOut }: { signOut: (reason?: string) => void }) {
  const [{ data, error, fetching }, refetch] = useQuery({ query: ViewerQuery });
  const viewer: ViewerInfo | null = useMemo(
    () => (data ? { ...data.viewer, signOut: () => signOut() } : null),
    [data, signOut],
  );
  if (error && !isUnauthenticated(error)) {
    return (
      <main>
        <RequestError error={error} retry={() => refetch({ requestPolicy: 'network-only' })} />
      </main>
    );
  }
  if (fetching || !viewer) return <Loading what="your key" />;
  return (
    <ViewerContext.Provider value={viewer}>
      <Shell viewer={viewer} />
    </ViewerContext.Provider>
  );
}

interface NavItem {
  path: string;
  label: string;
  allowed: boolean;
}

function Shell({ viewer }: { viewer: ViewerInfo }) {
  const location = useLocation();
  const items: NavItem[] = [
    { path: '/overview', label: 'Overview', allowed: can.readReports(viewer.role) },
    { path: '/reviews', label: 'Review queue', allowed: can.readReviews(viewer.role) },
    { path: '/devices', label: 'Devices', allowed: can.readDevices(viewer.role) },
    { path: '/audit', label: 'Audit log', allowed: can.readAudit(viewer.role) },
    { path: '/sweeps', label: 'Sweeps', allowed: can.readSweeps(viewer.role) },
    { path: '/partners', label: 'Partners', allowed: can.managePartners(viewer.role) },
    { path: '/policies', label: 'Policies', allowed: can.readPolicies(viewer.role) },
    { path: '/changes', label: 'Change requests', allowed: can.readPolicyChanges(viewer.role) },
    { path: '/keys', label: 'API keys', allowed: can.manageKeys(viewer.role) },
  ].filter((item) => item.allowed);
  // A new policy's editor belongs to the policies section (rights, navigation) without a path under
  // /policies/, where any word is a policy key ("new" included).
  const section = location.path === NEW_POLICY_PATH ? '/policies' : '/' + (location.path.split('/')[1] ?? '');
  const home = items[0]?.path;
  useEffect(() => {
    if (section === '/' && home) {
      preloadSection(home);
      navigate(home, { replace: true });
    }
  }, [section, home]);
  // The other pages this key may open, once the browser is idle: a later click does not wait for a chunk.
  const allowed = items.map((item) => item.path).join();
  useEffect(() => {
    const idle = window.requestIdleCallback ?? ((callback: () => void) => window.setTimeout(callback, 1000));
    idle(() => allowed.split(',').forEach(preloadSection));
  }, [allowed]);
  return (
    <>
      <header className="top">
        <nav aria-label="Console">
          <span className="brand">compliance-graph</span>
          <ul>
            {items.map((item) => (
              <li key={item.path}>
                <Link to={item.path} aria-current={section === item.path ? 'page' : undefined}>
                  {item.label}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
        <div className="who">
          <span>
            {viewer.name} · <strong>{viewer.role}</strong>
          </span>
          <button type="button" onClick={viewer.signOut}>
            Sign out
          </button>
        </div>
      </header>
      <main>
        <Suspense fallback={<Loading what="the page" />}>
          <Page section={section} items={items} />
        </Suspense>
      </main>
    </>
  );
}

function Page({ section, items }: { section: string; items: NavItem[] }) {
  const location = useLocation();
  if (!items.some((item) => item.path === section)) {
    return items.length ? (
      <p role="alert">This page is not available to your key&apos;s role.</p>
    ) : (
      <p role="alert">Your key&apos;s role has no console pages.</p>
    );
  }
  const imei = location.path.split('/')[2];
  switch (section) {
    case '/reviews':
      return <ReviewQueuePage />;
    case '/devices':
      return imei ? <DevicePage key={imei} imei={decodeURIComponent(imei)} /> : <DevicesPage />;
    case '/audit':
      return <AuditPage key={location.params.toString()} />;
    case '/overview':
      return <OverviewPage />;
    case '/sweeps':
      return <SweepsPage />;
    case '/partners':
      return <PartnersPage />;
    case '/policies':
    case '/changes':
      return (
        <Suspense fallback={<Loading what="the page" />}>
          <PolicyPage section={section} />
        </Suspense>
      );
    default:
      return <ApiKeysPage />;
  }
}

function PolicyPage({ section }: { section: string }) {
  const location = useLocation();
  if (section === '/changes') return <PolicyChangesPage />;
  if (location.path === NEW_POLICY_PATH) return <PolicyEditorPage key="new" policyKey={null} />;
  const [, , key, action] = location.path.split('/');
  if (!key) return <PoliciesPage />;
  const policyKey = decodeURIComponent(key);
  if (action === 'edit') return <PolicyEditorPage key={`edit-${policyKey}`} policyKey={policyKey} />;
  return <PolicyHistoryPage key={policyKey} policyKey={policyKey} />;
}
