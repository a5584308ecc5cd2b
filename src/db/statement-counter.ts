import { AbstractLogger, LogLevel, LogMessage } from 'typeorm';

/**
 * Counts every SQL statement the data source sends, so tests can assert what a GraphQL request
 * costs (the way dataloader's tests assert which batches reached the back end). Statements are
 * printed only when SQL_LOG=true.
 */
export class StatementCounter extends AbstractLogger {
  count = 0;
  readonly statements: string[] = [];
  /** Keep statement texts only while a test is recording, to bound memory in long runs. */
  recording = false;

  /** `print`: the SQL_LOG setting. */
  constructor(private readonly print = false) {
    super();
  }

  logQuery(query: string): void {
    this.count += 1;
    if (this.recording) this.statements.push(query);
    if (this.print) console.log(`[sql] ${query}`);
  }

  protected writeLog(level: LogLevel, logMessage: LogMessage | LogMessage[]): void {
    if (!this.print) return;
    for (const message of Array.isArray(logMessage) ? logMessage : [logMessage]) {
      console.log(`[typeorm ${level}] ${String(message.message)}`);
    }
  }

  /** Runs `work` and returns how many statements it sent. */
  async measure<T>(work: () => Promise<T>): Promise<{ result: T; statements: string[] }> {
    const startIndex = this.statements.length;
    this.recording = true;
    try {
      const result = await work();
      return { result, statements: this.statements.slice(startIndex) };
    } finally {
      this.recording = false;
    }
  }
}
