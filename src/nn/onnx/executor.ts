/**
 * The fast executor: compiles an IR graph (../ir.ts) into ONE ONNX model and runs it with onnxruntime-node (CPU).
 * Sessions are cached by the SHA-256 of the model bytes, so compiling the same graph for the same shape bucket twice
 * reuses the session. Thread pools do not spin (`allow_spinning` = "0") unless told otherwise: several sessions (one
 * per shape bucket, plus other processes) share two cores here, and spinning pools steal them from each other.
 */
import { createHash } from "node:crypto";
import * as ort from "onnxruntime-node";
import type { CompiledGraph, Executor, Graph, HostTensor, NodeId } from "../ir.ts";
import { type HalfFeed, halfTensor } from "./half.ts";
import { declareOutputs, encodeModel, type LoweredGraph, lowerGraph, type OnnxGraphBuilder } from "./lower.ts";

/** A graph input: f32 / i32 from a HostTensor, or a 16-bit frozen weight (half.ts) fed from another feed's tensor. */
export type FeedSpec = LoweredGraph["feeds"][number] | HalfFeed;

/** f32 weights given for 16-bit inputs are converted once per array (callers that keep only 16 bits pass ort tensors). */
const halfCache = new WeakMap<object, ort.Tensor>();
function halfFeed(name: string, want: HalfFeed, t: HostTensor | ort.Tensor): ort.Tensor {
  const type = "float16";
  if ("dims" in t) {
    if (t.type !== type) throw new Error(`feed "${want.from}": ${t.type} tensor, the compiled graph needs ${type}`);
    return t;
  }
  if (t.data.length !== want.shape.reduce((a, b) => a * b, 1))
    throw new Error(
      `feed "${name}": shape [${t.shape.join(", ")}], the compiled graph needs [${want.shape.join(", ")}]`,
    );
  const hit = halfCache.get(t.data);
  if (hit) return hit;
  const h = halfTensor(t, want.dtype);
  halfCache.set(t.data, h);
  return h;
}

export interface OnnxExecutorOptions {
  /** intra-op threads (default 2: the project's CI machine). */
  threads?: number;
  /** let idle pool threads spin (faster with one busy session, harmful with several). Default false. */
  spinning?: boolean;
  /** ORT graph optimisation level (default "all"). */
  optimization?: "disabled" | "basic" | "extended" | "all";
  /** Write the optimised model ORT runs to this path (debugging). */
  optimizedModelPath?: string;
  /**
   * ORT's CPU memory arena (default false). The arena grows in powers of two and keeps what it took: training the 30M
   * bench model peaked at 3.18 GB RSS with it and 2.03 GB without, at the same step time.
   */
  memArena?: boolean;
  /**
   * ORT's memory pattern (default false). With the arena off, the pattern is one planned block per run that is mapped
   * fresh every run: the 30M full step took ~280,000 page faults and ~0.5 s of kernel time per step with it, ~30,000
   * and <0.1 s without (glibc reuses the freed tensors), and its peak RSS fell from 2.32 to 2.07 GB.
   */
  memPattern?: boolean;
  /** Write an ORT profile (chrome trace JSON) with this file prefix (debugging; see `endProfiling`). */
  profilePrefix?: string;
}

interface CachedSession {
  session: Promise<ort.InferenceSession>;
  refs: number;
}

/** Build ort session options from ours. */
export function sessionOptions(o: OnnxExecutorOptions): ort.InferenceSession.SessionOptions {
  return {
    executionProviders: ["cpu"],
    intraOpNumThreads: o.threads ?? 2,
    interOpNumThreads: 1,
    executionMode: "sequential",
    graphOptimizationLevel: o.optimization ?? "all",
    enableCpuMemArena: o.memArena ?? false,
    enableMemPattern: o.memPattern ?? false,
    ...(o.optimizedModelPath ? { optimizedModelFilePath: o.optimizedModelPath } : {}),
    ...(o.profilePrefix ? { enableProfiling: true, profileFilePrefix: o.profilePrefix } : {}),
    extra: {
      session: {
        intra_op: { allow_spinning: o.spinning ? "1" : "0" },
        inter_op: { allow_spinning: o.spinning ? "1" : "0" },
      },
    },
  };
}

function toOrtTensor(
  name: string,
  want: { dtype: "f32" | "i32"; shape: readonly number[] },
  t: HostTensor,
): ort.Tensor {
  const n = want.shape.reduce((a, b) => a * b, 1);
  if (t.data.length !== n || t.shape.length !== want.shape.length || t.shape.some((d, i) => d !== want.shape[i])) {
    throw new Error(
      `feed "${name}": shape [${t.shape.join(", ")}], the compiled graph needs [${want.shape.join(", ")}]`,
    );
  }
  if (want.dtype === "i32") {
    const data = t.data instanceof Int32Array ? t.data : Int32Array.from(t.data);
    return new ort.Tensor("int32", data, [...want.shape]);
  }
  const data = t.data instanceof Float32Array ? t.data : Float32Array.from(t.data);
  return new ort.Tensor("float32", data, [...want.shape]);
}

/** A compiled ONNX graph: the session is created on first use (creation is async, `compile` is not). */
export class OnnxCompiled implements CompiledGraph {
  private disposed = false;

  constructor(
    private readonly executor: OnnxExecutor,
    readonly key: string,
    readonly feeds: readonly FeedSpec[],
    readonly outputNames: readonly string[],
    readonly outputShapes: readonly (readonly number[])[],
  ) {}

  async run(feeds: Readonly<Record<string, HostTensor | ort.Tensor>>): Promise<HostTensor[]> {
    const out = await this.runRaw(feeds);
    return this.outputNames.map((n, i) => {
      const t = out[n];
      return { shape: [...this.outputShapes[i]], data: t.data as Float32Array | Int32Array };
    });
  }

  /** Run and return ORT's output tensors by output name (no extra copies). */
  async runRaw(feeds: Readonly<Record<string, HostTensor | ort.Tensor>>): Promise<ort.InferenceSession.ReturnType> {
    if (this.disposed) throw new Error("OnnxCompiled: run after dispose");
    const session = await this.executor.session(this.key);
    const ortFeeds: Record<string, ort.Tensor> = {};
    for (const f of this.feeds) {
      const from = "from" in f ? f.from : f.name;
      const t = feeds[from];
      if (!t) throw new Error(`missing feed "${from}" (shape [${f.shape.join(", ")}], ${f.dtype})`);
      if ("from" in f) ortFeeds[f.name] = halfFeed(from, f, t);
      else ortFeeds[f.name] = "dims" in t ? t : toOrtTensor(f.name, f, t);
    }
    return session.run(ortFeeds);
  }

  /** Stop ORT profiling and write the trace (only with `profilePrefix`). */
  async endProfiling(): Promise<void> {
    (await this.executor.session(this.key)).endProfiling();
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await this.executor.release(this.key);
  }
}

export class OnnxExecutor implements Executor {
  readonly name = "onnxruntime";
  private readonly cache = new Map<string, CachedSession>();
  private readonly bytes = new Map<string, Uint8Array>();

  constructor(readonly options: OnnxExecutorOptions = {}) {}

  compile(graph: Graph, outputs: readonly NodeId[]): OnnxCompiled {
    const lowered = lowerGraph(graph, outputs);
    const outs = outputs.map((o, i) => ({
      name: lowered.outputNames[i],
      dtype: graph.node(o).dtype,
      shape: graph.node(o).shape,
    }));
    const names = declareOutputs(lowered.builder, outs);
    return this.compileBuilt(
      lowered.builder,
      lowered.feeds,
      names,
      outs.map((o) => o.shape),
    );
  }

  /** Compile a graph already lowered (and extended, e.g. with an optimizer) with outputs declared. */
  compileBuilt(
    builder: OnnxGraphBuilder,
    feeds: readonly FeedSpec[],
    outputNames: readonly string[],
    outputShapes: readonly (readonly number[])[],
  ): OnnxCompiled {
    const bytes = encodeModel(builder.model("breakfix"));
    const key = createHash("sha256").update(bytes).digest("hex");
    const hit = this.cache.get(key);
    if (hit) hit.refs++;
    else {
      this.bytes.set(key, bytes);
      this.cache.set(key, { session: ort.InferenceSession.create(bytes, sessionOptions(this.options)), refs: 1 });
    }
    return new OnnxCompiled(this, key, feeds, outputNames, outputShapes);
  }

  /** The ONNX bytes of a compiled graph (for saving/inspecting). */
  modelBytes(key: string): Uint8Array | undefined {
    return this.bytes.get(key);
  }

  /** Sessions alive in the cache. */
  get cachedSessions(): number {
    return this.cache.size;
  }

  /** @internal */
  session(key: string): Promise<ort.InferenceSession> {
    const c = this.cache.get(key);
    if (!c) throw new Error("OnnxExecutor: session was released");
    return c.session;
  }

  /** @internal drop one reference; the session is released when none remain. */
  async release(key: string): Promise<void> {
    const c = this.cache.get(key);
    if (!c) return;
    if (--c.refs > 0) return;
    this.cache.delete(key);
    this.bytes.delete(key);
    await (await c.session).release();
  }
}
