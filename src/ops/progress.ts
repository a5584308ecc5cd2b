import { Presets, SingleBar } from 'cli-progress';

/** How often a line is written when the output is not a terminal (a log file, CI). */
const LINE_EVERY_MS = 5_000;

export interface Progress {
  /** Counts `done` more items (rows, pages) as finished. */
  advance(done: number): void;
  /** Sets the expected total, when it is known only after the start. */
  setTotal(total: number): void;
  /** Ends the bar (or the lines) with the final count. */
  stop(): void;
}

export interface ProgressOptions {
  /** What the items are, for the line: "attempts", "pages". */
  unit: string;
  /** Where to write; the default is stderr, so a command's own output on stdout stays clean. */
  stream?: NodeJS.WriteStream;
}

/** A progress display that shows nothing: for library callers and tests. */
export const silentProgress: Progress = { advance: () => undefined, setTotal: () => undefined, stop: () => undefined };

function formatCount(value: number): string {
  return Math.round(value).toLocaleString('en');
}

/**
 * A progress bar for a long command (cli-progress): the count, the rate and the time left, redrawn
 * in place on a terminal; when the output is not a terminal, one line every few seconds instead of
 * a bar nobody sees. The rate is over the whole run so far, not the last instant, so a pause
 * (a checkpoint, a slow batch) does not make the estimate swing.
 */
export function startProgress(label: string, total: number, options: ProgressOptions): Progress {
  const stream = options.stream ?? process.stderr;
  const bar = new SingleBar(
    {
      stream,
      format: `${label} {bar} {percentage}% | {done}/{all} ${options.unit} | {rate}/s | {eta_formatted} left`,
      noTTYOutput: true,
      notTTYSchedule: LINE_EVERY_MS,
      hideCursor: true,
      etaBuffer: 50,
      // cli-progress's own handler stops the bar and nothing else: its listener alone kept a seed
      // running for minutes after SIGTERM or Ctrl-C. Ours below stops the bar, then ends the process.
      gracefulExit: false,
    },
    Presets.shades_classic,
  );
  const started = Date.now();
  let value = 0;
  let expected = Math.max(total, 1);
  const payload = () => {
    const seconds = Math.max((Date.now() - started) / 1000, 0.001);
    return { done: formatCount(value), all: formatCount(expected), rate: formatCount(value / seconds) };
  };
  bar.start(expected, 0, payload());
  const signals = ['SIGINT', 'SIGTERM'] as const;
  const onSignal = (signal: NodeJS.Signals) => {
    bar.stop(); // gives the cursor back (hideCursor)
    for (const name of signals) process.removeListener(name, onSignal);
    // A command with its own clean stop keeps it; otherwise the signal does what it would have done
    // without a bar: the process ends with it (work in a transaction is rolled back by the database).
    if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
  };
  for (const name of signals) process.once(name, onSignal);
  return {
    advance(done) {
      value += done;
      bar.update(value, payload());
    },
    setTotal(newTotal) {
      expected = Math.max(newTotal, 1);
      bar.setTotal(expected);
      bar.update(value, payload());
    },
    stop() {
      for (const name of signals) process.removeListener(name, onSignal);
      bar.update(value, payload());
      bar.stop();
    },
  };
}
