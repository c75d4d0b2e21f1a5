/**
 * Test helper run as a child process by store.crash.test.ts: writes `batches` batches of `size` records into the
 * store at `dir`, one transaction per batch, sleeping `delayMs` after each row so the parent can SIGKILL it mid-batch.
 * Records are derived deterministically from (batch, i), so a re-run produces the same keys.
 * Prints "mid B" halfway through batch B (inside the transaction), "committed B inserted=N skipped=M" after each
 * commit and "done" at the end.
 */
import { Store } from "../store.ts";

const [dir, batchesArg, sizeArg, delayArg, holdArg] = process.argv.slice(2);
/** Batch in which to stop halfway (inside the open transaction) and wait to be killed; -1: none. */
const holdBatch = Number(holdArg ?? -1);
const batches = Number(batchesArg);
const size = Number(sizeArg);
const delayMs = Number(delayArg);
const sleeper = new Int32Array(new SharedArrayBuffer(4));

const store = Store.open(dir);
for (let b = 0; b < batches; b++) {
  const result = store.transaction(() => {
    let inserted = 0;
    for (let i = 0; i < size; i++) {
      const producer = { writer: "crash-test", batch: b, i };
      const r = store.responses.put(producer, {
        id: `r-${b}-${i}`,
        model: "crash-test-model",
        conversation: [{ role: "user", content: `prompt ${b}/${i}` }],
        content: `answer ${b}/${i}`,
        finishReason: "stop",
      });
      if (r.inserted) inserted++;
      store.cache.put(store.cache.keyOf(producer), { b, i }, "crash-test-model");
      if (i === Math.floor(size / 2)) {
        process.stdout.write(`mid ${b}\n`);
        // Hold the transaction open so the parent's SIGKILL lands mid-batch however slow the machine is.
        if (b === holdBatch) Atomics.wait(sleeper, 0, 0, 60_000);
      }
      if (delayMs > 0) Atomics.wait(sleeper, 0, 0, delayMs);
    }
    return { inserted, skipped: size - inserted };
  });
  process.stdout.write(`committed ${b} inserted=${result.inserted} skipped=${result.skipped}\n`);
}
store.close();
process.stdout.write("done\n");
