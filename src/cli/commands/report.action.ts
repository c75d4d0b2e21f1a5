/**
 * The action of `breakfix report [RUN]` (registered in report.ts), loaded when it runs: rebuilds a cycle run's
 * report.md and report.html from the store alone.
 */
import path from "node:path";
import { runDirOf } from "../../cycle/cycle.ts";
import { listCycleRuns, writeRunReport } from "../../cycle/report.ts";
import { CliError } from "../errors.ts";
import { existingStore, workspaceOf } from "../workspace.ts";

export async function reportAction(run: string | undefined, o: { config?: string; workspace?: string; out?: string }) {
  const workspace = workspaceOf(o);
  // read only (the report's files are written beside the run, not into the store): nothing is created
  const store = existingStore(
    workspace,
    (file) =>
      `report: no cycle run in ${workspace}: no store at ${file} (run \`breakfix cycle\` first, or pass --workspace DIR)`,
  );
  try {
    const runs = listCycleRuns(store);
    if (runs.length === 0) throw new CliError(`report: no cycle run in ${workspace} (run \`breakfix cycle\` first)`, 2);
    const hits = run ? runs.filter((r) => r.runId.startsWith(run)) : [runs[runs.length - 1]];
    if (hits.length !== 1)
      throw new CliError(
        `report: run '${run}' ${hits.length ? "is ambiguous" : "not found"}; runs: ${runs.map((r) => r.runId.slice(0, 16)).join(", ")}`,
        2,
      );
    const id = hits[0].runId;
    const out = o.out ? path.resolve(o.out) : runDirOf(workspace, id);
    const files = await writeRunReport(store, id, out);
    process.stdout.write(
      `report of cycle run ${id.slice(0, 16)} (${hits[0].state ?? "unknown"}): ${files.md}, ${files.html}\n`,
    );
  } finally {
    store.close();
  }
}
