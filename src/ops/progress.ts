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
      gracefulExit: true,
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
      bar.update(value, payload());
      bar.stop();
    },
  };
}
