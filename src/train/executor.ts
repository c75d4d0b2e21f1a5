/**
 * The executor training uses by default: ONNX Runtime (whole forward + backward graphs compiled per shape bucket),
 * about 25x faster than the plain-TypeScript reference on the trainer tests. BREAKFIX_EXECUTOR=reference selects the
 * reference executor (slow, obviously right; what the parity tests check the ONNX path against).
 */
import { RefExecutor } from "../nn/executor-ref.ts";
import type { Executor } from "../nn/ir.ts";
import { OnnxExecutor } from "../nn/onnx/executor.ts";

export function defaultExecutor(): Executor {
  const which = process.env.BREAKFIX_EXECUTOR ?? "onnx";
  if (which === "reference") return new RefExecutor();
  if (which !== "onnx") throw new Error(`BREAKFIX_EXECUTOR: expected onnx or reference, got "${which}"`);
  return new OnnxExecutor();
}
