/**
 * Step records of a cycle run. Each step (round, name) of a run is keyed by the content hash of (run id, round,
 * step); its result is written once to the store's append-only artefact table when the step finishes, so a re-run
 * returns the recorded result instead of redoing it. The state log records every start, so a report can say which
 * steps were interrupted and resumed. Work inside a step is itself resumable (suite records, campaign records and
 * training checkpoints are content-keyed), so a step killed half-way loses at most its last unit of work.
 */
import type { Store } from "../store/store.ts";
import { keyHash } from "../store/store.ts";

export const STEP_KIND = "cycle.step";

export interface StepKey {
  runId: string;
  round: number;
  step: string;
}

export interface StepEvent {
  round: number;
  step: string;
  /** "start", "resume" (it had started before and not finished), "skip" (already done), "done". */
  event: "start" | "resume" | "skip" | "done";
  seconds?: number;
}

export class Steps {
  constructor(
    private readonly store: Store,
    readonly runId: string,
    private readonly onEvent: (e: StepEvent) => void = () => {},
  ) {}

  key(round: number, step: string): StepKey {
    return { runId: this.runId, round, step };
  }

  get<T>(round: number, step: string): T | undefined {
    return this.store.artifacts.get<T>(STEP_KIND, this.key(round, step));
  }

  done(round: number, step: string): boolean {
    return this.get(round, step) !== undefined;
  }

  /** Runs fn unless the step already finished; records its (JSON) result when it does. */
  async run<T>(round: number, step: string, fn: () => Promise<T>): Promise<T> {
    const key = this.key(round, step);
    const hit = this.store.artifacts.get<T>(STEP_KIND, key);
    if (hit !== undefined) {
      this.onEvent({ round, step, event: "skip" });
      return hit;
    }
    const h = keyHash(key);
    const before = this.store.states.current("cycle.step", h);
    this.store.states.set("cycle.step", h, "running", { round, step });
    this.onEvent({ round, step, event: before ? "resume" : "start" });
    const t0 = performance.now();
    const value = await fn();
    this.store.transaction(() => {
      this.store.artifacts.put(STEP_KIND, key, value, this.runId);
      this.store.states.set("cycle.step", h, "done", { round, step });
    });
    this.onEvent({ round, step, event: "done", seconds: (performance.now() - t0) / 1000 });
    return value;
  }
}
