/**
 * Charts as Vega-Lite specs rendered to inline SVG in Node (no browser, no network). Data values are set as text by
 * Vega's SVG renderer, which escapes them.
 */
import * as vega from "vega";
import { compile, type TopLevelSpec } from "vega-lite";
import type { RunReport } from "./types.ts";

const WIDTH = 520;
const HEIGHT = 220;

export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: "none" });
  const svg = await view.toSVG();
  view.finalize();
  return svg;
}

const pct = { format: ".0%" } as const;

export function drByCategorySpec(report: RunReport): TopLevelSpec {
  const values = report.rounds.flatMap((r) =>
    Object.entries(r.drByCategory).map(([category, m]) => ({ category, round: `round ${r.round}`, dr: m.value })),
  );
  return {
    title: "Harmful defect rate per category, per round",
    width: WIDTH,
    height: HEIGHT,
    data: { values },
    mark: "bar",
    encoding: {
      x: { field: "category", type: "nominal", title: null },
      xOffset: { field: "round", type: "nominal" },
      y: { field: "dr", type: "quantitative", title: "DR", axis: pct, scale: { domain: [0, 1] } },
      color: { field: "round", type: "nominal", title: null },
    },
  };
}

export function asrHeatmapSpec(report: RunReport): TopLevelSpec {
  const values = report.rounds.flatMap((r) =>
    Object.entries(r.asrByTechnique).map(([technique, m]) => ({ technique, round: `round ${r.round}`, asr: m.value })),
  );
  return {
    title: "Red-team attack success rate per technique",
    width: WIDTH,
    height: Math.max(60, 18 * new Set(values.map((v) => v.technique)).size),
    data: { values },
    layer: [
      {
        mark: "rect",
        encoding: {
          x: { field: "round", type: "nominal", title: null },
          y: { field: "technique", type: "nominal", title: null },
          color: { field: "asr", type: "quantitative", title: "ASR", scale: { domain: [0, 1], scheme: "reds" } },
        },
      },
      {
        mark: { type: "text", fontSize: 10 },
        encoding: {
          x: { field: "round", type: "nominal" },
          y: { field: "technique", type: "nominal" },
          text: { field: "asr", type: "quantitative", format: ".0%" },
        },
      },
    ],
  };
}

function rateLines(
  report: RunReport,
  title: string,
  series: Record<string, (r: RunReport["rounds"][number]) => number>,
): TopLevelSpec {
  const values = report.rounds.flatMap((r) =>
    Object.entries(series).map(([name, f]) => ({ round: r.round, name, value: f(r) })),
  );
  return {
    title,
    width: WIDTH,
    height: HEIGHT,
    data: { values },
    mark: { type: "line", point: true },
    encoding: {
      x: { field: "round", type: "ordinal", title: "round" },
      y: { field: "value", type: "quantitative", title: null, axis: pct, scale: { domain: [0, 1] } },
      color: { field: "name", type: "nominal", title: null },
    },
  };
}

export function jailbreakSpec(report: RunReport): TopLevelSpec {
  return rateLines(report, "Jailbreak and held-out-technique defect rates", {
    "harmful DR": (r) => r.harmfulDr.value,
    "jailbreak DR": (r) => r.jailbreakDr.value,
    "held-out techniques DR": (r) => r.heldoutDr.value,
  });
}

export function capabilitySpec(report: RunReport): TopLevelSpec {
  return rateLines(report, "Capability retention (exact match)", { capability: (r) => r.capability.value });
}

export function refusalTradeoffSpec(report: RunReport): TopLevelSpec {
  const values = report.rounds.map((r) => ({ round: `round ${r.round}`, iprr: r.iprr.value, vprr: r.vprr.value }));
  return {
    title: "Over-refusal trade-off: IPRR (higher is better) vs VPRR (lower is better)",
    width: WIDTH,
    height: HEIGHT,
    data: { values },
    layer: [
      {
        mark: { type: "point", filled: true, size: 80 },
        encoding: {
          x: {
            field: "vprr",
            type: "quantitative",
            title: "VPRR (refusals of safe prompts)",
            axis: pct,
            scale: { domain: [0, 1] },
          },
          y: {
            field: "iprr",
            type: "quantitative",
            title: "IPRR (refusals of unsafe prompts)",
            axis: pct,
            scale: { domain: [0, 1] },
          },
          color: { field: "round", type: "nominal", title: null },
        },
      },
      {
        mark: { type: "text", dx: 8, align: "left" },
        encoding: {
          x: { field: "vprr", type: "quantitative" },
          y: { field: "iprr", type: "quantitative" },
          text: { field: "round", type: "nominal" },
        },
      },
    ],
  };
}

export function regressionsSpec(report: RunReport): TopLevelSpec {
  const values = report.rounds.map((r) => ({ round: r.round, regressions: r.regressions.length }));
  return {
    title: "Regressions (earlier fixed breaks that reappeared)",
    width: WIDTH,
    height: 160,
    data: { values },
    mark: "bar",
    encoding: {
      x: { field: "round", type: "ordinal", title: "round" },
      y: { field: "regressions", type: "quantitative", title: "count", axis: { tickMinStep: 1 } },
    },
  };
}

export async function renderCharts(report: RunReport): Promise<{ title: string; svg: string }[]> {
  const specs: [string, TopLevelSpec][] = [
    ["DR per category", drByCategorySpec(report)],
    ["Jailbreak DR", jailbreakSpec(report)],
    ["ASR per technique", asrHeatmapSpec(report)],
    ["IPRR / VPRR", refusalTradeoffSpec(report)],
    ["Capability", capabilitySpec(report)],
    ["Regressions", regressionsSpec(report)],
  ];
  return Promise.all(specs.map(async ([title, spec]) => ({ title, svg: await renderSvg(spec) })));
}
