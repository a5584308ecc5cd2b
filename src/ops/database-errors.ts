/**
 * Whether an error means the database could not be reached or answered too late — as opposed to
 * a query it refused. Such failures are reported as DATABASE_UNAVAILABLE: retryable, not a bug.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  const candidate = error as { code?: string; message?: string; driverError?: { code?: string; message?: string } };
  const code = candidate?.driverError?.code ?? candidate?.code ?? '';
  const message = `${candidate?.message ?? ''} ${candidate?.driverError?.message ?? ''}`;
  return (
    ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'SQLITE_BUSY', 'SQLITE_IOERR'].includes(
      code,
    ) ||
    code.startsWith('08') || // PostgreSQL connection exceptions
    ['57P01', '57P02', '57P03', '53300', '57014'].includes(code) || // shutdown, cannot connect now, too many clients, statement timeout
    /Connection terminated|timeout exceeded when trying to connect|Query read timeout|Client has encountered a connection error|connect ECONNREFUSED/i.test(
      message,
    )
  );
}
