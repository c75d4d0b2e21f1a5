/**
 * Finite-difference gradient checking in float64 (the reference executor in "f64" precision): the analytic gradient
 * from `appendGradients` against central differences of the same graph.
 */
import { appendGradients } from "./autodiff.ts";
import { RefExecutor } from "./executor-ref.ts";
import type { Graph, HostTensor, NodeId } from "./ir.ts";

export interface GradCheckResult {
  /** max over all checked entries of |analytic - numeric| / max(1, |numeric|) */
  maxError: number;
  worst: { param: string; index: number; analytic: number; numeric: number } | null;
  checked: number;
}

/**
 * `graph` must have a scalar `loss` node. `params` maps param names to float64 values; `inputs` feeds the rest.
 * Checks every entry of every param, or `maxPerParam` evenly spaced entries of each.
 */
export function gradCheck(
  graph: Graph,
  loss: NodeId,
  params: Record<string, Float64Array>,
  inputs: Record<string, HostTensor>,
  opts: { eps?: number; maxPerParam?: number } = {},
): GradCheckResult {
  const eps = opts.eps ?? 1e-6;
  const names = Object.keys(params);
  const ids = names.map((n) => {
    const id = graph.byName(n);
    if (id === undefined) throw new Error(`gradCheck: no param ${n}`);
    return id;
  });
  const gradIds = appendGradients(graph, loss, ids);
  const ex = new RefExecutor("f64");
  const withGrads = ex.compile(graph, [loss, ...gradIds]);
  const lossOnly = ex.compile(graph, [loss]);
  const feeds: Record<string, HostTensor> = { ...inputs };
  names.forEach((n, i) => {
    feeds[n] = { shape: graph.node(ids[i]).shape, data: params[n] };
  });
  const outs = withGrads.runSync(feeds);
  const evalLoss = () => lossOnly.runSync(feeds)[0].data[0];
  let maxError = 0;
  let worst: GradCheckResult["worst"] = null;
  let checked = 0;
  names.forEach((n, pi) => {
    const p = params[n];
    const g = outs[pi + 1].data;
    const count = Math.min(p.length, opts.maxPerParam ?? p.length);
    for (let c = 0; c < count; c++) {
      const i = count === p.length ? c : Math.floor((c * p.length) / count);
      const orig = p[i];
      p[i] = orig + eps;
      const up = evalLoss();
      p[i] = orig - eps;
      const down = evalLoss();
      p[i] = orig;
      const numeric = (up - down) / (2 * eps);
      const err = Math.abs(g[i] - numeric) / Math.max(1, Math.abs(numeric));
      checked++;
      if (err > maxError || Number.isNaN(err)) {
        maxError = Number.isNaN(err) ? Number.POSITIVE_INFINITY : err;
        worst = { param: n, index: i, analytic: g[i], numeric };
      }
    }
  });
  return { maxError, worst, checked };
}
