/**
 * Progress for long CLI jobs: a cli-progress bar with an ETA on a terminal, otherwise one plain line at most every
 * two seconds (and at the end), on stderr so stdout stays machine-readable.
 */
import cliProgress from "cli-progress";

export interface ProgressView<P> {
  /** cli-progress format; payload keys are available as {key}. */
  format: string;
  done(p: P): number;
  total(p: P): number;
  payload(p: P): Record<string, string | number>;
  /** The plain line for non-terminals (without a newline). */
  line(p: P): string;
}

export interface ProgressReporter<P> {
  update(p: P): void;
  stop(): void;
}

export function progressReporter<P>(enabled: boolean, view: ProgressView<P>): ProgressReporter<P> {
  if (!enabled) return { update() {}, stop() {} };
  if (process.stderr.isTTY) {
    const bar = new cliProgress.SingleBar(
      { format: view.format, stream: process.stderr },
      cliProgress.Presets.shades_classic,
    );
    let started = false;
    return {
      update(p) {
        if (!started) {
          bar.start(view.total(p), view.done(p), view.payload(p));
          started = true;
        }
        bar.update(view.done(p), view.payload(p));
      },
      stop() {
        if (started) bar.stop();
      },
    };
  }
  let last = 0;
  return {
    update(p) {
      const now = Date.now();
      if (now - last < 2000 && view.done(p) < view.total(p)) return;
      last = now;
      process.stderr.write(`${view.line(p)}\n`);
    },
    stop() {},
  };
}
