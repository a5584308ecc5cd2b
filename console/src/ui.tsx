// The pieces every page is made of: a page's header, a query's failure or loading line, tables paged
// by their cursors, a confirmation dialog, a mutation's user errors, form fields, times and badges.
// One component each, so a page looks and reads (to a screen reader too) like every other page.
import { FormEvent, ReactNode, useEffect, useId, useRef, useState } from 'react';
import { AnyVariables, CombinedError, OperationContext, TypedDocumentNode, useMutation } from 'urql';
import { Link, useLocation, withParams } from './router';

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

/** The input field a user error names: its path's first element after `input` (an array's index may follow). */
export function fieldOf(error: UserErrorLike): string {
  return (error.field[0] === 'input' ? error.field[1] : error.field[0]) ?? '';
}

/** The messages for one input field, each with the array position it names, if any ("#2: unknown region code"). */
export function messagesFor(userErrors: readonly UserErrorLike[], field: string): string[] {
  return userErrors
    .filter((error) => fieldOf(error) === field)
    .map((error) => {
      const rest = error.field.slice(error.field[0] === 'input' ? 2 : 1);
      return rest.length && /^\d+$/.test(rest[0]!) ? `#${Number(rest[0]) + 1}: ${error.message}` : error.message;
    });
}

/** User errors that name none of the form's fields, with their code. */
export function otherMessages(userErrors: readonly UserErrorLike[], fields: string[]): string[] {
  return userErrors
    .filter((error) => !fields.includes(fieldOf(error)))
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

/** A page's heading: a way back (when the page is one object of a list), its title, what sits under it. */
export function PageHeader({
  title,
  back,
  children,
}: {
  title: ReactNode;
  back?: { to: string; label: string };
  children?: ReactNode;
}) {
  return (
    <>
      {back && (
        <p>
          <Link to={back.to}>{back.label}</Link>
        </p>
      )}
      <h1>{title}</h1>
      {children}
    </>
  );
}

/** A query's failure (with a retry that asks the server again) or, before its first answer, a loading line. */
export function QueryStatus({
  error,
  fetching,
  data,
  refetch,
  what,
}: {
  error?: CombinedError | undefined;
  fetching: boolean;
  data: unknown;
  refetch: (options: { requestPolicy: 'network-only' }) => void;
  what: string;
}) {
  return (
    <>
      {error && <RequestError error={error} retry={() => refetch({ requestPolicy: 'network-only' })} />}
      {!data && fetching && <Loading what={what} />}
    </>
  );
}

/**
 * A page of a connection: the first page and the next one, by the `after` cursor in the URL (so a
 * page can be shared and reloaded); `reset` names the URL parameters a change of page clears.
 */
export function Pager({
  pageInfo,
  label = 'Pages',
  first = 'First page',
  next = 'Next page',
  reset = {},
}: {
  pageInfo: { hasNextPage: boolean; endCursor?: string | null };
  label?: string;
  first?: string;
  next?: string;
  reset?: Record<string, null>;
}) {
  const location = useLocation();
  return (
    <nav aria-label={label} className="pager">
      {location.params.get('after') && <Link to={withParams(location, { ...reset, after: null })}>{first}</Link>}
      {pageInfo.hasNextPage && <Link to={withParams(location, { ...reset, after: pageInfo.endCursor })}>{next}</Link>}
    </nav>
  );
}

/**
 * A table of rows with its column headings and a line saying so when there is no row; with
 * `pageInfo`, the connection's pager under it.
 */
export function PagedTable({
  label,
  columns,
  empty,
  count,
  pageInfo,
  pagerLabel,
  className,
  total,
  children,
}: {
  label: string;
  columns: ReactNode[];
  /** What the one row says when there is none. */
  empty: ReactNode;
  /** How many rows `children` renders. */
  count: number;
  pageInfo?: { hasNextPage: boolean; endCursor?: string | null };
  pagerLabel?: string;
  className?: string;
  /** The connection's total count and its noun, said above the table ("12 devices"). */
  total?: { count: number; one: string; many: string };
  children: ReactNode;
}) {
  return (
    <>
      {total && (
        <p className="summary">
          <strong>{total.count}</strong> {total.count === 1 ? total.one : total.many}
        </p>
      )}
      <table aria-label={label} className={className}>
        <thead>
          <tr>
            {columns.map((column, index) => (
              <th key={index} scope="col">
                {column}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {children}
          {count === 0 && (
            <tr>
              <td colSpan={columns.length}>{empty}</td>
            </tr>
          )}
        </tbody>
      </table>
      {pageInfo && <Pager pageInfo={pageInfo} {...(pagerLabel ? { label: pagerLabel } : {})} />}
    </>
  );
}

/** The user errors that name no field of the form (`fields`), each announced where it happened. */
export function FormErrors({ userErrors, fields = [] }: { userErrors: readonly UserErrorLike[]; fields?: string[] }) {
  return (
    <>
      {otherMessages(userErrors, fields).map((message) => (
        <p key={message} role="alert" className="field-error">
          {message}
        </p>
      ))}
    </>
  );
}

/**
 * A mutation whose payload carries userErrors: `run` sends it and keeps the payload's user errors
 * (cleared by the next run); the payload comes back (null when the request failed: `error` says why).
 */
export function useMutationPayload<
  Data,
  Variables extends AnyVariables,
  Payload extends { userErrors: readonly UserErrorLike[] },
>(
  document: TypedDocumentNode<Data, Variables>,
  payloadOf: (data: Data) => Payload | null | undefined,
  /** urql's operation context, such as the typenames whose cached lists the mutation makes stale. */
  context?: Partial<OperationContext>,
) {
  const [state, execute] = useMutation(document);
  const [userErrors, setUserErrors] = useState<readonly UserErrorLike[]>([]);
  const run = async (variables: Variables): Promise<Payload | null> => {
    setUserErrors([]);
    const result = await execute(variables, context);
    const payload = result.data ? (payloadOf(result.data) ?? null) : null;
    setUserErrors(payload?.userErrors ?? []);
    return payload;
  };
  return { run, userErrors, reset: () => setUserErrors([]), fetching: state.fetching, error: state.error };
}

/**
 * A destructive or weighty action asked once more: what it does (children, which may hold fields
 * such as a reason), the errors the server gave, the action's button and Cancel.
 */
export function ConfirmDialog({
  title,
  confirm,
  onConfirm,
  onClose,
  cancel = 'Cancel',
  busy = false,
  danger = false,
  userErrors = [],
  fields = [],
  error,
  retry,
  children,
}: {
  title: string;
  /** The confirming button's words ("Revoke the key"). */
  confirm: string;
  onConfirm: () => void | Promise<void>;
  onClose: () => void;
  /** The button that closes the dialog without acting. */
  cancel?: string;
  busy?: boolean;
  danger?: boolean;
  userErrors?: readonly UserErrorLike[];
  /** The fields of the dialog's own form, whose errors stand beside them. */
  fields?: string[];
  error?: CombinedError | undefined;
  retry?: () => void;
  children: ReactNode;
}) {
  const submit = (event: FormEvent) => {
    event.preventDefault();
    void onConfirm();
  };
  return (
    <Dialog title={title} onClose={onClose}>
      <form onSubmit={submit}>
        {children}
        <FormErrors userErrors={userErrors} fields={fields} />
        {error && <RequestError error={error} retry={retry ?? (() => void onConfirm())} />}
        <div className="actions">
          <button type="submit" className={danger ? 'danger' : undefined} disabled={busy}>
            {confirm}
          </button>
          <button type="button" onClick={onClose}>
            {cancel}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
