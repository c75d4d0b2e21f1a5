/**
 * The executor training uses by default: ONNX Runtime (whole forward + backward graphs compiled per shape bucket),
 * about 25x faster than the plain-TypeScript reference on the trainer tests. BREAKFIX_EXECUTOR=reference selects the
 * reference executor (slow, obviously right; what the parity tests check the ONNX path against).
 *
 * BREAKFIX_TRAIN_THREADS sets ONNX Runtime's intra-op threads (default 2, the executor's). One thread is the better
 * choice where the cores are already busy with other work (several trainings or test files at once): measured on the
 * demo organism's quick-cycle SFT data (300 LoRA steps, 2 cores, idle machine), 2 threads took 33.8 s and 57.3
 * CPU-seconds, 1 thread 46.3 s and 48.4 CPU-seconds, with byte-identical adapters (ORT splits each kernel's output,
 * not its sums, across threads; `executor.threads.test.ts` checks it). `npm test` sets 1 (vitest.config.ts).
 */
import { RefExecutor } from "../nn/executor-ref.ts";
import type { Executor } from "../nn/ir.ts";
import { OnnxExecutor } from "../nn/onnx/executor.ts";

/** BREAKFIX_TRAIN_THREADS, or undefined when unset; anything but a whole number from 1 to 1024 is an error naming it. */
export function trainThreads(env: NodeJS.ProcessEnv = process.env): number | undefined {
  const raw = env.BREAKFIX_TRAIN_THREADS;
  if (raw === undefined || raw === "") return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 1024)
    throw new Error(`BREAKFIX_TRAIN_THREADS: expected a whole number of threads from 1 to 1024, got "${raw}"`);
  return n;
}

export function defaultExecutor(): Executor {
  const which = process.env.BREAKFIX_EXECUTOR ?? "onnx";
  if (which === "reference") return new RefExecutor();
  if (which !== "onnx") throw new Error(`BREAKFIX_EXECUTOR: expected onnx or reference, got "${which}"`);
  const threads = trainThreads();
  return new OnnxExecutor(threads === undefined ? {} : { threads });
}
