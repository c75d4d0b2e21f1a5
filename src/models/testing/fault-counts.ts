/**
 * The send-count check shared by the fault-server tests (issue 23): a request reaches the server 1 + its planned faults
 * times, except that a real client timeout on an answer that had already arrived (an event-loop stall on a loaded
 * machine longer than the timeout) sends it once more. Such re-sends are allowed only as often as the client really
 * timed out, less the hangs, which always time out.
 */
import { expect } from "vitest";
import type { ModelEvent } from "../reliability/reliable.ts";
import type { FaultServer } from "./fault-server.ts";

/** The client's own timeouts (retried or final), from the reliability layer's events; `n` is reset between runs. */
export class Timeouts {
  n = 0;
  readonly onEvent = (e: ModelEvent) => {
    if (e.kind === "timeout") this.n++;
  };
}

/**
 * Checks the server's log against the plan: each key arrived as often as planned in this run (faults + 1, or
 * `maxSends` for a key that never got an answer), its arrivals following the plan (its faults, then answers), plus one
 * more for each answer the client did not take, and those extra sends are matched by client timeouts that were not
 * hangs (`timeouts`: this run's timeout events). Returns the keys that failed.
 */
export function checkCounts(
  server: FaultServer,
  faultsOf: (key: string) => string[],
  maxSends: number,
  timeouts: number,
) {
  const dead = new Set<string>();
  let expectedTotal = 0;
  let resent = 0;
  for (const [key, list] of server.countsByKey()) {
    const faults = faultsOf(key).length;
    if (faults >= maxSends) dead.add(key);
    const okAt = list.findIndex((a) => a.outcome === "ok");
    // every answer before the last was given up on by the client (a stall past the timeout), so it was sent again
    const again = okAt >= 0 ? list.length - 1 - okAt : 0;
    if (okAt >= 0) {
      expect(okAt).toBe(faults);
      expect(list.slice(okAt).every((a) => a.outcome === "ok")).toBe(true);
    }
    const expected = Math.min(faults + 1, maxSends) + again;
    resent += again;
    expectedTotal += expected;
    expect({ key, prompt: list[0].prompt, sends: list.length }).toEqual({
      key,
      prompt: list[0].prompt,
      sends: expected,
    });
  }
  expect(server.arrivals.length).toBe(expectedTotal);
  // a paid request is sent again only after a real timeout: a hang always costs one, the rest cover the re-sends
  expect(timeouts).toBeGreaterThanOrEqual(server.count("hang") + resent);
  return dead;
}
