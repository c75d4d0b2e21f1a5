/**
 * `breakfix view`: a hono app over one workspace store, served on 127.0.0.1 only. Every response carries a strict
 * Content-Security-Policy (scripts and styles from this server only, no inline script, no plugins, no framing, no
 * request to any other origin); requests must name this server as Host (no DNS rebinding) and POSTs must come from
 * its own pages (hono's csrf check of Origin). The store is read through indexed, paged queries (queries.ts); the
 * only write is appending a human review.
 */
import { readFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { serve } from "@hono/node-server";
import { Hono } from "hono";
import { csrf } from "hono/csrf";
import { HTTPException } from "hono/http-exception";
import type { TopLevelSpec } from "vega-lite";
import { compareRuns } from "../benchmarks/compare.ts";
import type { ItemRecord } from "../benchmarks/types.ts";
import { buildRunReport } from "../cycle/report.ts";
import { STEP_KIND } from "../cycle/steps.ts";
import { isInvisible } from "../domain/escape.ts";
import { hostAllowed } from "../domain/host-header.ts";
import { reviveRoundMeasurement } from "../domain/round-metrics.ts";
import type { Finding, Vulnerability } from "../domain/types.ts";
import { redactModelIds } from "../models/secrets.ts";
import type { AttackRecord, CampaignManifest } from "../redteam/campaign/types.ts";
import { renderCharts, renderSvg } from "../report/charts.ts";
import type { RunReport } from "../report/types.ts";
import { keyHash, type ReviewTargetKind, Store, type TrainingRunRecord } from "../store/store.ts";
import { type Cell, toCsv, toJsonl } from "./csv.ts";
import { type Html, h } from "./html.ts";
import * as pages from "./pages.ts";
import {
  ATTACK_COLUMNS,
  benchRuns,
  facets,
  filterFromQuery,
  filterToQuery,
  heatmap,
  int,
  iterateAttacks,
  listAttacks,
  listRuns,
  storeStamp,
} from "./queries.ts";
import { addReview, latestReviews, reviewsOf } from "./reviews.ts";

export const PAGE_SIZE = 50;

export const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

const ASSETS = path.join(import.meta.dirname, "assets");
const STEPS = ["measure", "break", "curate", "train-sft", "train-dpo", "regression"];

export interface ViewAppOptions {
  /** The workspace folder (training metrics files are looked up under it). */
  workspace: string;
  /** Default reviewer name for the review form (else the last one used, from a cookie). */
  reviewer?: string;
}

function csvOrJsonl(
  format: string | undefined,
  name: string,
  columns: readonly string[],
  rows: () => Iterable<Record<string, Cell>>,
  jsonRows?: () => Iterable<unknown>,
): Response | undefined {
  // exports are data, exact but for the credentials model ids of old workspaces hold (redactModelIds)
  const redacted = function* <T>(it: Iterable<T>) {
    for (const r of it) yield redactModelIds(r);
  };
  if (format === "csv")
    return new Response(toCsv(columns, redacted(rows())), {
      headers: {
        "content-type": "text/csv; charset=utf-8",
        "content-disposition": `attachment; filename="${name}.csv"`,
      },
    });
  if (format === "jsonl")
    return new Response(toJsonl(redacted(jsonRows ? jsonRows() : rows())), {
      headers: {
        "content-type": "application/x-ndjson; charset=utf-8",
        "content-disposition": `attachment; filename="${name}.jsonl"`,
      },
    });
  return undefined;
}

function cookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? "").split(";")) {
    const [k, ...v] = part.trim().split("=");
    if (k === name) {
      try {
        return decodeURIComponent(v.join("="));
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

/** Training step metrics: metrics.jsonl in the training output folder (the folder holding the result model). */
function trainingMetrics(
  workspace: string,
  rec: TrainingRunRecord,
): { file: string; rows: Record<string, number>[] } | undefined {
  if (!rec.resultModel) return undefined;
  const model = path.resolve(workspace, rec.resultModel);
  for (const file of [path.join(path.dirname(model), "metrics.jsonl"), path.join(model, "metrics.jsonl")]) {
    let textContent: string;
    try {
      textContent = readFileSync(file, "utf8");
    } catch {
      continue;
    }
    const rows: Record<string, number>[] = [];
    for (const line of textContent.split("\n")) {
      if (!line.trim()) continue;
      try {
        const o = JSON.parse(line) as Record<string, unknown>;
        if (typeof o.step === "number") rows.push(o as Record<string, number>);
      } catch {
        // a torn last line of a running training: skip it
      }
    }
    return { file: path.relative(workspace, file), rows };
  }
  return undefined;
}

function curveSpec(title: string, rows: Record<string, number>[], names: string[]): TopLevelSpec | undefined {
  const values = rows.flatMap((r) =>
    names
      .filter((n) => typeof r[n] === "number" && Number.isFinite(r[n]))
      .map((n) => ({ step: r.step, name: n, value: r[n] })),
  );
  if (values.length === 0) return undefined;
  return {
    title,
    width: 520,
    height: 200,
    data: { values },
    mark: { type: "line", point: values.length < 80 },
    encoding: {
      x: { field: "step", type: "quantitative", title: "step" },
      y: { field: "value", type: "quantitative", title: null },
      color: { field: "name", type: "nominal", title: null },
    },
  };
}

/**
 * The review form's `back` as a path of this site to redirect to, else "/". Browsers read "\\" as "/" and drop tab
 * and newline from URLs ("/\t/evil.example" becomes "//evil.example", another site), so a path holding a backslash or
 * any control or invisible character is refused along with scheme-relative "//host".
 */
function localPath(back: string): string {
  const bad = [...back].some((ch) => ch === "\\" || ch.charCodeAt(0) < 0x20 || isInvisible(ch.codePointAt(0) ?? 0));
  return back.startsWith("/") && !back.startsWith("//") && !bad ? back : "/";
}

export function createViewApp(store: Store, opts: ViewAppOptions): Hono {
  const app = new Hono();
  // A Map, not an object literal: a name like "constructor" must not find Object.prototype's members.
  const assets = new Map<string, { body: string; type: string }>([
    ["view.js", { body: readFileSync(path.join(ASSETS, "view.js"), "utf8"), type: "text/javascript; charset=utf-8" }],
    ["view.css", { body: readFileSync(path.join(ASSETS, "view.css"), "utf8"), type: "text/css; charset=utf-8" }],
  ]);
  const page = (title: string, body: Html) => pages.layout(title, storeStamp(store), body).toString();

  app.use("*", async (c, next) => {
    if (!hostAllowed(c.req.header("host"), new URL(c.req.url).port))
      return c.text("breakfix view answers only to 127.0.0.1", 403);
    await next();
    c.header("Content-Security-Policy", CSP);
    c.header("X-Content-Type-Options", "nosniff");
    c.header("Referrer-Policy", "no-referrer");
    c.header("X-Frame-Options", "DENY");
    if (!c.res.headers.get("cache-control")) c.header("Cache-Control", "no-store");
  });
  app.use("*", csrf());

  app.get("/static/:file", (c) => {
    const a = assets.get(c.req.param("file"));
    if (!a) return c.notFound();
    return c.body(a.body, 200, { "content-type": a.type, "cache-control": "no-cache" });
  });
  app.get("/favicon.ico", (c) => c.body(null, 204));
  app.get("/api/stamp", (c) => c.text(storeStamp(store)));

  app.get("/", (c) => c.html(page("Runs", pages.runsPage(listRuns(store)))));

  app.get("/attacks", (c) => {
    const f = filterFromQuery((k) => c.req.query(k));
    const fmt = c.req.query("format");
    const out = csvOrJsonl(
      fmt,
      "attacks",
      ATTACK_COLUMNS,
      function* () {
        for (const { record: _r, ...row } of iterateAttacks(store, f)) yield row;
      },
      function* () {
        for (const { id: _id, prompt: _p, response: _resp, ...row } of iterateAttacks(store, f)) yield row;
      },
    );
    if (out) return out;
    const offset = Math.max(0, Number(c.req.query("offset") ?? 0) || 0);
    const cursor = Number(c.req.query("upto"));
    const upto = Number.isSafeInteger(cursor) && cursor >= 0 ? cursor : undefined;
    const t0 = performance.now();
    const list = listAttacks(store, f, { limit: PAGE_SIZE, offset, upto });
    const fs = facets(store);
    const ms = performance.now() - t0;
    const title = f.finding ? "Findings" : "Attack records";
    return c.html(page(title, pages.attacksPage({ filter: f, facets: fs, ...list, offset, limit: PAGE_SIZE, ms })));
  });

  app.get("/heatmap", (c) => {
    const round = c.req.query("round");
    const f = { round: int(round), campaign: c.req.query("campaign") || undefined };
    const out = csvOrJsonl(
      c.req.query("format"),
      "heatmap",
      ["category", "family", "language", "attempts", "successes"],
      () => heatmap(store, f).map((x) => ({ ...x })),
    );
    if (out) return out;
    return c.html(page("Heat map", pages.heatmapPage(heatmap(store, f), f, facets(store).round)));
  });

  const reviewer = (c: { req: { header(n: string): string | undefined } }) =>
    cookie(c.req.header("cookie"), "bf_reviewer") ?? opts.reviewer ?? "";

  const attackView = (id: string, reviewerName: string, error?: string): string | undefined => {
    const record = store.artifacts.get<AttackRecord>("redteam.record", { hash: id });
    if (!record) return undefined;
    const campaignIds = store.db
      .prepare("SELECT campaign_id FROM view_campaign_records WHERE record_id = ? ORDER BY rowid")
      .all(id) as { campaign_id: string }[];
    const campaigns = campaignIds.flatMap(
      (x) => store.artifacts.get<CampaignManifest>("redteam.campaign", { hash: x.campaign_id }) ?? [],
    );
    const findingRows = store.db
      .prepare("SELECT hash FROM findings WHERE json_extract(payload, '$.recordId') = ? ORDER BY seq")
      .all(id) as { hash: string }[];
    const findings = findingRows.flatMap((x) => store.findings.getRecord({ hash: x.hash }) ?? []);
    const findingIds = [...new Set(findings.map((x) => x.value.id))];
    const fixRows = findingIds.length
      ? (
          store.db
            .prepare(
              `SELECT round, payload FROM dataset_rows WHERE json_extract(payload, '$.row.provenance.findingId') IN (${findingIds.map(() => "?").join(",")}) ORDER BY seq`,
            )
            .all(...findingIds) as { round: number | null; payload: string }[]
        ).map((x) => {
          const p = JSON.parse(x.payload) as { dataset: string; kind: string; row: unknown };
          return { dataset: p.dataset, kind: p.kind, round: x.round, row: p.row };
        })
      : [];
    const replays = (
      store.db
        .prepare(
          "SELECT run_id, payload FROM artifacts WHERE kind = 'cycle.replay' AND json_extract(payload, '$.recordId') = ? ORDER BY rowid",
        )
        .all(id) as { run_id: string | null; payload: string }[]
    ).map((x) => {
      const p = JSON.parse(x.payload) as { round: number; foundInRound: number; success: boolean; label: string };
      return { runId: x.run_id, round: p.round, foundInRound: p.foundInRound, success: p.success, label: p.label };
    });
    const review = pages.reviewForm({
      targetKind: "redteam.record",
      target: id,
      back: `/attack/${id}`,
      reviewer: reviewerName,
      history: reviewsOf(store, id),
      error,
    });
    return page(
      `Attack ${id.slice(0, 12)}`,
      pages.attackPage({ record, campaigns, findings, fixRows, replays, review }),
    );
  };

  app.get("/attack/:id", (c) => {
    const out = attackView(c.req.param("id"), reviewer(c));
    return out ? c.html(out) : c.html(page("Not found", pages.notFound("No such attack record.")), 404);
  });

  const benchRecord = (hash: string) => store.artifacts.get<ItemRecord>("bench.record", { hash });
  const benchRecordView = (hash: string, reviewerName: string, error?: string): string | undefined => {
    const r = benchRecord(hash);
    if (!r) return undefined;
    const review = pages.reviewForm({
      targetKind: "bench.record",
      target: hash,
      back: `/bench-record/${hash}`,
      reviewer: reviewerName,
      history: reviewsOf(store, hash),
      error,
    });
    return page(`Bench record ${r.probeId}`, pages.benchRecordPage(r, review));
  };
  app.get("/bench-record/:hash", (c) => {
    const out = benchRecordView(c.req.param("hash"), reviewer(c));
    return out ? c.html(out) : c.html(page("Not found", pages.notFound("No such bench record.")), 404);
  });

  app.get("/bench/:runId", (c) => {
    const runId = c.req.param("runId");
    const run = benchRuns(store).find((r) => r.runId === runId);
    if (!run) return c.html(page("Not found", pages.notFound("No such bench run.")), 404);
    const outcome = c.req.query("outcome") || undefined;
    const cond =
      outcome === "true"
        ? " AND json_extract(payload, '$.outcome') = 1"
        : outcome === "false"
          ? " AND json_extract(payload, '$.outcome') = 0"
          : outcome === "null"
            ? " AND json_extract(payload, '$.outcome') IS NULL"
            : "";
    const base = `FROM artifacts WHERE kind = 'bench.record' AND run_id = ?${cond}`;
    const all = () =>
      store.db.prepare(`SELECT hash, payload ${base} ORDER BY rowid`).iterate(runId) as IterableIterator<{
        hash: string;
        payload: string;
      }>;
    const out = csvOrJsonl(
      c.req.query("format"),
      `bench-${runId.slice(0, 12)}`,
      [
        "hash",
        "probeId",
        "category",
        "language",
        "label",
        "variant",
        "judge",
        "judgeLabel",
        "severity",
        "outcome",
        "response",
      ],
      function* () {
        for (const x of all()) {
          const r = JSON.parse(x.payload) as ItemRecord;
          yield {
            hash: x.hash,
            probeId: r.probeId,
            category: r.category,
            language: r.language,
            label: r.label,
            variant: r.variant,
            judge: r.judge,
            judgeLabel: r.judgement.label,
            severity: r.judgement.severity,
            outcome: r.outcome,
            response: r.response,
          };
        }
      },
      function* () {
        for (const x of all()) yield JSON.parse(x.payload) as unknown;
      },
    );
    if (out) return out;
    const offset = Math.max(0, Number(c.req.query("offset") ?? 0) || 0);
    const total = (store.db.prepare(`SELECT COUNT(*) AS n ${base}`).get(runId) as { n: number }).n;
    const rows = (
      store.db
        .prepare(`SELECT hash, payload ${base} ORDER BY rowid LIMIT ? OFFSET ?`)
        .all(runId, PAGE_SIZE, offset) as {
        hash: string;
        payload: string;
      }[]
    ).map((x) => ({ hash: x.hash, record: JSON.parse(x.payload) as ItemRecord }));
    return c.html(
      page(
        `Bench run ${runId.slice(0, 12)}`,
        pages.benchRunPage({ run, rows, total, offset, limit: PAGE_SIZE, outcome }),
      ),
    );
  });

  app.get("/compare", (c) => {
    const runs = benchRuns(store);
    const a = c.req.query("a") || undefined;
    const b = c.req.query("b") || undefined;
    if (!a || !b) return c.html(page("Compare two runs", pages.comparePage({ runs, a, b })));
    const load = (id: string) => store.artifacts.list<ItemRecord>("bench.record", id).map((x) => x.value);
    let cmp: ReturnType<typeof compareRuns>;
    try {
      cmp = compareRuns(load(a), load(b));
    } catch (e) {
      return c.html(page("Compare two runs", pages.comparePage({ runs, a, b, error: (e as Error).message })));
    }
    const out = csvOrJsonl(
      c.req.query("format"),
      "flips",
      ["itemKey", "probeId", "category", "language", "variant", "a", "b"],
      () => cmp.flips.map((f) => ({ ...f })),
    );
    if (out) return out;
    return c.html(page("Compare two runs", pages.comparePage({ runs, a, b, cmp })));
  });

  app.get("/vulnerabilities", (c) => {
    const filter = {
      category: c.req.query("category") || undefined,
      family: c.req.query("family") || undefined,
      language: c.req.query("language") || undefined,
      campaign: c.req.query("campaign") || undefined,
    };
    const rows = store.vulnerabilities
      .list({ category: filter.category, family: filter.family, language: filter.language, run_id: filter.campaign })
      .sort((x, y) => y.value.score - x.value.score);
    const distinct = (col: string) =>
      (store.db.prepare(`SELECT DISTINCT ${col} AS v FROM vulnerabilities ORDER BY 1`).all() as { v: string }[]).map(
        (r) => r.v,
      );
    const flat = (v: (typeof rows)[number]) => ({
      id: v.value.id,
      campaign: v.runId,
      category: v.value.category,
      family: v.value.family,
      language: v.value.language,
      attempts: v.value.attempts,
      successes: v.value.successes,
      successRate: v.value.successRate,
      meanSeverity: v.value.meanSeverity,
      reach: v.value.reach,
      score: v.value.score,
      findings: v.value.findings.length,
    });
    const out = csvOrJsonl(
      c.req.query("format"),
      "vulnerabilities",
      [
        "id",
        "campaign",
        "category",
        "family",
        "language",
        "attempts",
        "successes",
        "successRate",
        "meanSeverity",
        "reach",
        "score",
        "findings",
      ],
      () => rows.map(flat),
      () => rows.map((v) => ({ campaign: v.runId, ...v.value }) as Vulnerability & { campaign: string | null }),
    );
    if (out) return out;
    return c.html(
      page(
        "Vulnerabilities",
        pages.vulnerabilitiesPage({
          rows,
          filter,
          facets: { category: distinct("category"), family: distinct("family"), language: distinct("language") },
        }),
      ),
    );
  });

  app.get("/reviews", (c) => {
    const all = store.reviews.list();
    const out = csvOrJsonl(
      c.req.query("format"),
      "reviews",
      ["at", "reviewer", "targetKind", "target", "judgeId", "judgeLabel", "judgeRefusal", "verdict", "label", "note"],
      () =>
        all.map((r) => ({
          at: r.value.at,
          reviewer: r.value.reviewer,
          targetKind: r.value.targetKind,
          target: r.value.target,
          judgeId: r.value.judged.judgeId,
          judgeLabel: r.value.judged.label,
          judgeRefusal: r.value.judged.refusal,
          verdict: r.value.verdict,
          label: r.value.label,
          note: r.value.note,
        })),
      () => all.map((r) => r.value),
    );
    if (out) return out;
    return c.html(page("Reviews", pages.reviewsPage(all)));
  });

  app.post("/review", async (c) => {
    const form = await c.req.parseBody();
    const get = (k: string) => (typeof form[k] === "string" ? (form[k] as string) : undefined);
    const kind = get("targetKind") as ReviewTargetKind | undefined;
    const target = get("target") ?? "";
    const back = get("back") ?? "/";
    const safeBack = localPath(back);
    const name = get("reviewer") ?? "";
    if (kind !== "redteam.record" && kind !== "bench.record") return c.text("unknown review target", 400);
    try {
      addReview(store, {
        targetKind: kind,
        target,
        reviewer: name,
        verdict: get("verdict") as "correct" | "wrong",
        label: get("label"),
        note: get("note"),
      });
    } catch (e) {
      const view =
        kind === "redteam.record"
          ? attackView(target, name, (e as Error).message)
          : benchRecordView(target, name, (e as Error).message);
      return view ? c.html(view, 400) : c.text((e as Error).message, 400);
    }
    c.header("Set-Cookie", `bf_reviewer=${encodeURIComponent(name.trim())}; Path=/; SameSite=Strict; HttpOnly`);
    return c.redirect(safeBack, 303);
  });

  app.get("/cycle/:runId", async (c) => {
    const runId = c.req.param("runId");
    const run = store.runs.getRecord({ hash: runId });
    if (run?.value.kind !== "cycle") return c.html(page("Not found", pages.notFound("No such cycle run.")), 404);
    let report: RunReport | undefined;
    let reportError: string | undefined;
    try {
      report = buildRunReport(store, runId);
    } catch (e) {
      reportError = (e as Error).message;
    }
    const charts = report?.rounds.length ? await renderCharts(report) : [];
    const steps: pages.CycleStepRow[] = [];
    for (let r = 0; r < 100; r++) {
      let any = false;
      for (const step of STEPS) {
        const key = { runId, round: r, step };
        const done = store.artifacts.get(STEP_KIND, key) !== undefined;
        const state = done ? "done" : store.states.current("cycle.step", keyHash(key))?.state;
        if (state) {
          any = true;
          steps.push({ round: r, step, state });
        }
      }
      if (!any && r > 0) break;
    }
    const rounds = store.rounds.list({ run_id: runId }).map((x) => x.value);
    const compareLinks: { round: number; suite: string; a: string; b: string }[] = [];
    // Suite run ids of a round's measurement (the same on dev and test: one suite run holds both splits' records).
    const runIdsOf = (round: number) => {
      const stored = store.artifacts.get<unknown>(STEP_KIND, { runId, round, step: "measure" });
      return stored
        ? reviveRoundMeasurement(stored, `run ${runId.slice(0, 16)} round ${round} measure step`).dev
        : undefined;
    };
    const m0 = runIdsOf(0);
    for (let r = 1; m0; r++) {
      const m = runIdsOf(r);
      if (!m) break;
      for (const [suite, b] of Object.entries(m.runIds)) {
        const a = m0.runIds[suite];
        if (a && a !== b) compareLinks.push({ round: r, suite, a, b });
      }
    }
    return c.html(
      page(
        `Cycle ${runId.slice(0, 12)}`,
        pages.cyclePage({
          runId,
          state: store.runState(runId) ?? "?",
          startedAt: run.value.startedAt,
          report,
          reportError,
          charts,
          steps,
          rounds,
          compareLinks,
        }),
      ),
    );
  });

  app.get("/training", async (c) => {
    const rows = store.trainingRuns.list();
    const runs = [];
    for (const t of rows.reverse()) {
      const m = trainingMetrics(opts.workspace, t.value);
      const specs = m
        ? [
            curveSpec("Loss", m.rows, ["loss", "eval_loss"]),
            curveSpec("DPO rewards", m.rows, ["rewards/chosen", "rewards/rejected", "rewards/margins"]),
            curveSpec("DPO accuracies", m.rows, ["rewards/accuracies", "eval_rewards/accuracies"]),
            curveSpec("Learning rate", m.rows, ["lr"]),
          ].filter((s): s is TopLevelSpec => s !== undefined)
        : [];
      const charts = await Promise.all(
        specs.map(async (s) => ({ title: String((s as { title?: string }).title ?? ""), svg: await renderSvg(s) })),
      );
      runs.push({
        id: t.hash,
        kind: t.value.kind,
        round: t.round,
        baseModel: t.value.baseModel,
        resultModel: t.value.resultModel,
        source: m?.file ?? null,
        steps: m?.rows.length ?? 0,
        charts,
      });
    }
    return c.html(page("Training runs", pages.trainingPage(runs)));
  });

  app.notFound((c) => c.html(page("Not found", pages.notFound("No such page.")), 404));
  app.onError((e, c) => {
    // hono's own refusals (csrf's 403 to a cross-site post, ...) are answers, not crashes
    if (e instanceof HTTPException) return e.getResponse();
    process.stderr.write(`breakfix view: ${c.req.method} ${c.req.path}: ${e.stack ?? e.message}\n`);
    return c.html(page("Error", h`<p class="error">${e.message}</p>`), 500);
  });
  return app;
}

export interface ViewOptions extends ViewAppOptions {
  /** 0 (default) picks a free port. */
  port?: number;
}

export interface ViewServer {
  url: string;
  port: number;
  store: Store;
  close(): Promise<void>;
}

/** Opens the workspace store (migrating it to the current schema) and serves the view on 127.0.0.1. */
export async function startView(o: ViewOptions): Promise<ViewServer> {
  const store = Store.open(o.workspace);
  const app = createViewApp(store, o);
  const server = serve({ fetch: app.fetch, hostname: "127.0.0.1", port: o.port ?? 0 });
  await new Promise<void>((resolve, reject) => {
    server.once("listening", () => resolve());
    server.once("error", (e) => reject(e));
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/`,
    port,
    store,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => {
          store.close();
          resolve();
        });
        (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
      }),
  };
}

export type { Finding };
export { filterToQuery, latestReviews };
