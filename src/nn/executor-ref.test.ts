import { executorConformance } from "./executor-conformance.ts";
import { RefExecutor } from "./executor-ref.ts";

executorConformance("reference f32", () => new RefExecutor("f32"));
