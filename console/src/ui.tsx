import { ReactNode, useEffect, useId, useRef } from 'react';
import type { CombinedError } from 'urql';

const localFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });

/** An instant in the browser's zone; the UTC instant on hover. */
export function Time({ value }: { value: string | null | undefined }) {
  if (!value) return <span>—</span>;
  const date = new Date(value);
  return (
    <time dateTime={date.toISOString()} title={`${date.toISOString().replace('.000Z', 'Z')} (UTC)`}>
      {localFormat.format(date)}
    </time>
  );
}

/** "3 d 4 h", "2 h 10 min", "5 min": how long ago, in the two largest units. */
export function age(since: string, now = Date.now()): string {
  const minutes = Math.max(0, Math.floor((now - new Date(since).getTime()) / 60_000));
  const days = Math.floor(minutes / 1440);
  const hours = Math.floor((minutes % 1440) / 60);
  if (days > 0) return `${days} d ${hours} h`;
  if (hours > 0) return `${hours} h ${minutes % 60} min`;
  return `${minutes} min`;
}

export function errorCode(error: CombinedError): string {
  const code = error.graphQLErrors[0]?.extensions?.code;
  if (typeof code === 'string') return code;
  if (error.response?.status) return `HTTP ${error.response.status}`;
  return error.networkError ? 'NETWORK_ERROR' : 'ERROR';
}

/** A failed request: its code, what the server said, and a retry — never a blank page. */
export function RequestError({ error, retry }: { error: CombinedError; retry: () => void }) {
  const message = error.graphQLErrors[0]?.message ?? error.networkError?.message ?? error.message;
  return (
    <div role="alert" className="request-error">
      <p>
        <strong>The request failed ({errorCode(error)})</strong>: {message}
      </p>
      <button type="button" onClick={retry}>
        Retry
      </button>
    </div>
  );
}

export interface UserErrorLike {
  field: readonly string[];
  message: string;
  code: string;
}

/** The messages of the user errors that name `field` (the last element of their path). */
export function messagesFor(userErrors: readonly UserErrorLike[], field: string): string[] {
  return userErrors.filter((error) => error.field[error.field.length - 1] === field).map((error) => error.message);
}

/** Errors that name no field of the form. */
export function otherMessages(userErrors: readonly UserErrorLike[], fields: string[]): string[] {
  return userErrors
    .filter((error) => !fields.includes(error.field[error.field.length - 1] ?? ''))
    .map((error) => `${error.message} (${error.code})`);
}

/** A labelled form control with its errors beside it (and announced). */
export function Field({
  label,
  errors = [],
  hint,
  children,
}: {
  label: string;
  errors?: string[];
  hint?: string;
  children: (props: { id: string; 'aria-invalid': boolean; 'aria-describedby'?: string }) => ReactNode;
}) {
  const id = useId();
  const describedBy = [hint ? `${id}-hint` : '', errors.length ? `${id}-errors` : ''].filter(Boolean).join(' ');
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      {children({ id, 'aria-invalid': errors.length > 0, ...(describedBy ? { 'aria-describedby': describedBy } : {}) })}
      {hint && (
        <span id={`${id}-hint`} className="hint">
          {hint}
        </span>
      )}
      {errors.length > 0 && (
        <span id={`${id}-errors`} className="field-error" role="alert">
          {errors.join('; ')}
        </span>
      )}
    </div>
  );
}

/** A modal dialog (the browser's own <dialog>: focus is trapped and Escape closes it). */
export function Dialog({ title, onClose, children }: { title: string; onClose: () => void; children: ReactNode }) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  useEffect(() => {
    const dialog = ref.current;
    if (dialog && !dialog.open) dialog.showModal();
    return () => dialog?.close();
  }, []);
  return (
    <dialog ref={ref} aria-labelledby={titleId} onClose={onClose} onCancel={onClose}>
      <h2 id={titleId}>{title}</h2>
      {children}
    </dialog>
  );
}

export function Loading({ what }: { what: string }) {
  return (
    <p role="status" className="loading">
      Loading {what}…
    </p>
  );
}

export function StatusBadge({ status }: { status: string }) {
  return <span className={`badge badge-${status.toLowerCase()}`}>{status.replace('_', ' ')}</span>;
}
