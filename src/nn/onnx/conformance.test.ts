import { executorConformance } from "../executor-conformance.ts";
import { OnnxExecutor } from "./executor.ts";

executorConformance("onnxruntime", () => new OnnxExecutor({ threads: 2 }));
