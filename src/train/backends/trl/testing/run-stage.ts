/**
 * A cycle's train call in its own process, for the re-attach test (the test SIGKILLs it while the job runs):
 *   tsx run-stage.ts '{"storeFile", "outDir", "from", "sft", "dpo", "training", "runId", "round", "stage"}'
 */
import { Store } from "../../../../store/store.ts";
import type { BackendJob } from "../../types.ts";
import { TrlBackend } from "../index.ts";

const a = JSON.parse(process.argv[2] ?? "{}") as {
  storeFile: string;
  outDir: string;
  from: string;
  sft: string;
  dpo: string;
  training: BackendJob["training"];
  runId: string;
  round: number;
  stage: "sft" | "dpo";
};
const store = Store.openFile(a.storeFile);
const result = await new TrlBackend({ pollMs: 50 }).train(a.stage, {
  runId: a.runId,
  round: a.round,
  from: { kind: "folder", dir: a.from },
  data: { sft: a.sft, dpo: a.dpo },
  outDir: a.outDir,
  training: a.training,
  store,
  log: (l) => process.stdout.write(`${l}\n`),
});
process.stdout.write(`${JSON.stringify(result.model)}\n`);
store.close();
