// A small router over the History API: paths under /console, filters in the query string so that a
// link can be shared and reloaded.
import { AnchorHTMLAttributes, MouseEvent, useSyncExternalStore } from 'react';

export const BASE = '/console';
/** A new policy's editor: not under /policies/, where every name is a policy's key. */
export const NEW_POLICY_PATH = '/new-policy';
const listeners = new Set<() => void>();
const notify = () => listeners.forEach((listener) => listener());
window.addEventListener('popstate', notify);

function subscribe(listener: () => void) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export interface Location {
  path: string;
  params: URLSearchParams;
}

export function navigate(to: string, options: { replace?: boolean } = {}): void {
  const url = BASE + to;
  if (url === window.location.pathname + window.location.search) return;
  if (options.replace) window.history.replaceState(null, '', url);
  else window.history.pushState(null, '', url);
  notify();
}

export function useLocation(): Location {
  const href = useSyncExternalStore(subscribe, () => window.location.pathname + window.location.search);
  const url = new URL(href, window.location.origin);
  const path = url.pathname.startsWith(BASE) ? url.pathname.slice(BASE.length) || '/' : '/';
  return { path, params: url.searchParams };
}

/** The current path with some query parameters changed (null or '' removes one). */
export function withParams(location: Location, changes: Record<string, string | null | undefined>): string {
  const params = new URLSearchParams(location.params);
  for (const [name, value] of Object.entries(changes)) {
    if (value) params.set(name, value);
    else params.delete(name);
  }
  const query = params.toString();
  return location.path + (query ? `?${query}` : '');
}

export function Link({ to, ...rest }: { to: string } & AnchorHTMLAttributes<HTMLAnchorElement>) {
  const onClick = (event: MouseEvent<HTMLAnchorElement>) => {
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    navigate(to);
  };
  return <a href={BASE + to} onClick={onClick} {...rest} />;
}
