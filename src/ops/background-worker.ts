import { Logger } from 'pino';

/**
 * A loop that runs in the background of an instance: `wake()` starts a round unless one is under
 * way, `startPolling()` wakes it now and then (work left by a restart or another instance),
 * `idle()` waits for the round in flight, `stop()` ends it for good. A failed round is logged and
 * tried again on the next wake.
 */
export abstract class BackgroundWorker {
  private running: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  protected stopped = false;

  constructor(
    protected readonly logger: Logger | undefined,
    private readonly name: string,
  ) {}

  /** One round: does what there is to do and returns. */
  protected abstract work(): Promise<void>;

  wake(): void {
    if (this.stopped || this.running) return;
    this.running = this.work()
      .catch((error) => this.logger?.error({ err: error }, `${this.name} failed; it retries on its next round`))
      .finally(() => {
        this.running = null;
      });
  }

  /** Resolves once no round is under way (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  startPolling(intervalMs: number): void {
    this.timer = setInterval(() => this.wake(), intervalMs);
    this.timer.unref();
    this.wake();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.idle();
  }
}
