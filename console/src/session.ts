// The API key lives in this tab's sessionStorage only: never in a URL, a cookie or a log.
const KEY_ITEM = 'compliance-console:api-key';
const REASON_ITEM = 'compliance-console:signed-out-because';

export function storedKey(): string | null {
  return sessionStorage.getItem(KEY_ITEM);
}

export function storeKey(key: string): void {
  sessionStorage.setItem(KEY_ITEM, key);
  sessionStorage.removeItem(REASON_ITEM);
}

/** Forgets the key; `reason` is shown on the sign-in page (e.g. "the API key was revoked"). */
export function forgetKey(reason?: string): void {
  sessionStorage.removeItem(KEY_ITEM);
  if (reason) sessionStorage.setItem(REASON_ITEM, reason);
  else sessionStorage.removeItem(REASON_ITEM);
}

export function signedOutReason(): string | null {
  return sessionStorage.getItem(REASON_ITEM);
}

/**
 * The server puts the local admin key in the page it serves to a browser on its own machine outside
 * production (as it does for the GraphQL IDE); the sign-in form starts with it.
 */
export function developmentKey(): string {
  return document.querySelector<HTMLMetaElement>('meta[name="compliance-development-key"]')?.content ?? '';
}
