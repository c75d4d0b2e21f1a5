/**
 * A suite from the user's own probe file (breakfix.yaml `benchmarks.suites[]` with `file:`: the name is the user's,
 * `role` says what it measures): the one resolution the cycle (cycle/from-config.ts) and `breakfix bench` share.
 */
import { existsSync } from "node:fs";
import type { SuiteConfig } from "../config/schema.ts";
import { loadSuiteFileProbes } from "../curate/sources.ts";
import type { Probe } from "../domain/types.ts";
import type { Judge } from "../judges/types.ts";
import type { SuiteRole } from "./registry.ts";
import { createCapabilitySuite } from "./suites/capability.ts";
import { createHarmfulSuite } from "./suites/harmful.ts";
import { createJailbreakSuite } from "./suites/jailbreak.ts";
import { createOverRefusalSuite } from "./suites/overrefusal.ts";
import type { Suite } from "./types.ts";

/**
 * The suite of an entry with a file, its probes read (and so checked) now. `key` is the entry's config key
 * (`benchmarks.suites.N`); a problem is `error(key.file | key.role, message)`, which the caller makes its own error.
 */
export function fileSuite(
  s: SuiteConfig & { file: string },
  key: string,
  error: (key: string, message: string) => Error,
): { role: SuiteRole; build: (judge: Judge) => Suite } {
  const file = s.file;
  if (!existsSync(file)) throw error(`${key}.file`, `no such file ${file}`);
  if (!s.role)
    throw error(
      `${key}.role`,
      "a suite from a file needs a role (harmful, jailbreak, multiturn, overrefusal, capability)",
    );
  const role = s.role;
  let probes: Probe[];
  try {
    probes = loadSuiteFileProbes(file, role);
  } catch (e) {
    throw error(`${key}.file`, (e as Error).message);
  }
  const source = async (): Promise<Probe[]> => probes;
  const build = (judge: Judge): Suite => {
    if (role === "capability") return createCapabilitySuite({ name: s.name, probes: source });
    if (role === "overrefusal") return createOverRefusalSuite({ name: s.name, probes: source, judge });
    if (role === "jailbreak") return createJailbreakSuite({ name: s.name, probes: source, judge });
    return createHarmfulSuite({ name: s.name, probes: source, judge });
  };
  return { role, build };
}
