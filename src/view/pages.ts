/**
 * The view's pages, rendered on the server with hono's html helper (see html.ts: every interpolated value is escaped;
 * model output goes through `text`, which also makes invisible characters visible). No inline script or style: the
 * page loads /static/view.css and /static/view.js (live reload, filter menus that apply on change).
 */
import type { Comparison } from "../benchmarks/compare.ts";
import type { ItemRecord } from "../benchmarks/types.ts";
import { percent } from "../domain/format.ts";
import type { Finding, Vulnerability } from "../domain/types.ts";
import type { AttackRecord, CampaignManifest } from "../redteam/campaign/types.ts";
import { formatRate, HEADLINE } from "../report/render.ts";
import type { RunReport } from "../report/types.ts";
import type { Review, Stored } from "../store/store.ts";
import { type Html, h, modelId, text, trusted, url } from "./html.ts";
import {
  type AttackFilter,
  type AttackRow,
  type BenchRunRow,
  type Facet,
  filterToQuery,
  type HeatCell,
  OUTCOMES,
  type RunRow,
} from "./queries.ts";
import { REVIEW_LABELS } from "./reviews.ts";

const NAV: [string, string][] = [
  ["/", "Runs"],
  ["/attacks", "Attacks"],
  ["/attacks?finding=1", "Findings"],
  ["/heatmap", "Heat map"],
  ["/vulnerabilities", "Vulnerabilities"],
  ["/compare", "Compare"],
  ["/training", "Training"],
  ["/reviews", "Reviews"],
];

export function layout(title: string, stamp: string, body: Html): Html {
  return h`<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · breakfix view</title>
<link rel="stylesheet" href="/static/view.css">
<script src="/static/view.js" defer></script>
</head>
<body data-stamp="${stamp}">
<header><strong>breakfix view</strong>
<nav>${NAV.map(([href, name]) => h`<a href="${href}">${name}</a>`)}</nav>
<label class="live"><input type="checkbox" id="live" checked> live</label>
</header>
<main>
<h1>${title}</h1>
${body}
</main>
</body></html>`;
}

export function notFound(what: string): Html {
  return h`<p class="empty">${what}</p><p><a href="/">back to the runs</a></p>`;
}

const time = (iso: string | null | undefined) => (iso ? iso.replace("T", " ").replace(/\.\d+Z$/, "Z") : "");
const short = (id: string | null | undefined) => (id ? id.slice(0, 12) : "");

function exportLinks(path: string, query: Record<string, string | number | undefined>): Html {
  return h`<span class="export">export: <a href="${url(path, { ...query, format: "csv" })}">CSV</a> · <a href="${url(path, { ...query, format: "jsonl" })}">JSONL</a></span>`;
}

export function runsPage(rows: RunRow[]): Html {
  if (rows.length === 0)
    return h`<p class="empty">The store holds no runs yet. Start <code>breakfix cycle</code>, <code>breakfix redteam</code> or <code>breakfix bench</code>; this page updates while they run.</p>`;
  return h`<table class="runs"><thead><tr><th>kind</th><th>run</th><th>what</th><th>started</th><th>status</th><th>progress</th></tr></thead><tbody>
${rows.map(
  (r) =>
    h`<tr><td>${r.kind}</td><td><code>${r.href ? h`<a href="${r.href}">${short(r.id)}</a>` : short(r.id)}</code></td>
<td>${text(r.label)}</td><td>${time(r.createdAt)}</td><td class="state-${r.state}">${r.state}</td><td>${r.progress}</td></tr>`,
)}
</tbody></table>`;
}

function select(name: string, values: readonly string[], current: string | number | undefined, all = "any"): Html {
  const cur = current === undefined ? "" : String(current);
  return h`<label>${name} <select name="${name}"><option value="">${all}</option>${values.map(
    (v) => h`<option value="${v}"${v === cur ? h` selected` : ""}>${text(v)}</option>`,
  )}</select></label>`;
}

export function attacksPage(o: {
  filter: AttackFilter;
  facets: Record<Facet, string[]>;
  rows: AttackRow[];
  total: number;
  /** The newest record the pages count (pager links keep it, so a page never shifts as records arrive). */
  upto: number;
  /** Matching records written since. */
  newer: number;
  offset: number;
  limit: number;
  ms: number;
}): Html {
  const f = o.filter;
  const q = filterToQuery(f);
  const paged = { ...q, upto: o.upto };
  const form = h`<form method="get" action="/attacks" class="filters" data-autosubmit>
${select("category", o.facets.category, f.category)}
${select("technique", o.facets.technique, f.technique)}
${select("family", o.facets.family, f.family)}
${select("persona", o.facets.persona, f.persona)}
${select("language", o.facets.language, f.language)}
${select("round", o.facets.round, f.round)}
${select("label", o.facets.label, f.label)}
${select("severity", ["0", "1", "2", "3", "4", "5", "6", "7"], f.severity, "any (at least)")}
${select("outcome", OUTCOMES, f.outcome)}
${select("review", ["correct", "wrong", "none"], f.review)}
<label><input type="checkbox" name="finding" value="1"${f.finding ? h` checked` : ""}> findings only</label>
${f.campaign ? h`<input type="hidden" name="campaign" value="${f.campaign}"><span>campaign <code>${short(f.campaign)}</code></span>` : ""}
<label>search <input type="search" name="q" value="${f.q ?? ""}" placeholder="words in prompt, response, rationale"></label>
<button type="submit">apply</button> <a href="/attacks">reset</a>
</form>`;
  const from = o.total === 0 ? 0 : o.offset + 1;
  const to = Math.min(o.offset + o.limit, o.total);
  const pager = h`<p class="pager"><span id="match-count" data-total="${o.total}">${o.total}</span> records match; showing ${from}-${to} (${o.ms.toFixed(0)} ms)
${o.offset > 0 ? h` <a rel="prev" href="${url("/attacks", { ...paged, offset: Math.max(0, o.offset - o.limit) || undefined })}">previous</a>` : ""}
${to < o.total ? h` <a rel="next" href="${url("/attacks", { ...paged, offset: o.offset + o.limit })}">next</a>` : ""}
${exportLinks("/attacks", q)}</p>
${o.newer > 0 ? h`<p class="newer">${o.newer} newer records since this list was first shown: <a href="${url("/attacks", q)}">show them</a></p>` : ""}`;
  const table = h`<table class="attacks"><thead><tr><th>time</th><th>round</th><th>category</th><th>technique</th><th>persona</th>
<th>lang</th><th>judge label</th><th>sev</th><th>outcome</th><th>review</th><th>last prompt</th><th>response</th></tr></thead><tbody>
${o.rows.map(
  (r) =>
    h`<tr data-record="${r.recordId}"><td class="time"><a href="/attack/${r.recordId}">${time(r.createdAt)}</a></td>
<td>${r.round ?? ""}</td><td>${text(r.category)}</td><td>${text(r.technique)}</td><td>${text(r.persona)}</td>
<td>${text(r.language)}</td><td>${text(r.judgeLabel)}</td><td>${r.severity ?? ""}</td>
<td class="o-${r.outcome}">${r.outcome}${r.finding ? h` <span class="badge">finding</span>` : ""}</td>
<td class="rv-${r.review ?? "none"}">${r.review ?? ""}</td><td class="snip">${text(r.prompt)}</td><td class="snip">${text(r.response)}</td></tr>`,
)}
</tbody></table>`;
  return h`${form}${pager}${o.rows.length ? table : h`<p class="empty">No record matches.</p>`}`;
}

export function heatmapPage(cells: HeatCell[], f: { round?: number; campaign?: string }, rounds: string[]): Html {
  const langs = [...new Set(cells.map((c) => c.language))].sort();
  const families = [...new Set(cells.map((c) => c.family))].sort();
  const cats = [...new Set(cells.map((c) => c.category))].sort();
  const table = (lang: string | null) => {
    const pick = (cat: string, fam: string) => {
      const cs = cells.filter((c) => c.category === cat && c.family === fam && (lang === null || c.language === lang));
      return { n: cs.reduce((a, c) => a + c.attempts, 0), s: cs.reduce((a, c) => a + c.successes, 0) };
    };
    return h`<h2>${lang === null ? "all languages" : h`language ${text(lang)}`}</h2>
<table class="heat"><thead><tr><th>category \\ technique</th>${families.map((x) => h`<th>${text(x)}</th>`)}</tr></thead><tbody>
${cats.map(
  (cat) =>
    h`<tr><th>${text(cat)}</th>${families.map((fam) => {
      const { n, s } = pick(cat, fam);
      if (n === 0) return h`<td class="h-none"></td>`;
      const level = Math.min(10, Math.round((10 * s) / n));
      const href = url("/attacks", {
        category: cat,
        family: fam,
        language: lang ?? undefined,
        round: f.round,
        campaign: f.campaign,
        outcome: s > 0 ? "success" : undefined,
      });
      return h`<td class="h-${level}"><a href="${href}">${s}/${n}</a></td>`;
    })}</tr>`,
)}</tbody></table>`;
  };
  const campaign = f.campaign ? h`<input type="hidden" name="campaign" value="${f.campaign}">` : "";
  const form = h`<form method="get" action="/heatmap" class="filters" data-autosubmit>${select("round", rounds, f.round, "all rounds")}${campaign}<button type="submit">apply</button></form>`;
  if (cells.length === 0) return h`${form}<p class="empty">No judged attack records yet.</p>`;
  const exports = exportLinks("/heatmap", { round: f.round, campaign: f.campaign });
  const byLanguage = langs.length > 1 ? langs.map((l) => table(l)) : "";
  return h`${form}<p>Attack success (successes / judged attempts) per harm category and technique family; a cell opens its records. ${exports}</p>${table(null)}${byLanguage}`;
}

function message(role: string, content: string, extra?: Html): Html {
  return h`<div class="msg role-${role}"><div class="role">${role}${extra ?? ""}</div><pre>${text(content)}</pre></div>`;
}

function judgementBlock(j: AttackRecord["judgement"]): Html {
  return h`<dl class="judgement">
<dt>judge</dt><dd><code>${modelId(j.judgeId)}</code> (${j.status})</dd>
<dt>label</dt><dd>${text(j.label)}</dd>
${j.severity !== undefined ? h`<dt>severity</dt><dd>${j.severity}</dd>` : ""}
${j.refusal ? h`<dt>refusal class</dt><dd>${j.refusal}</dd>` : ""}
${j.category ? h`<dt>category</dt><dd>${text(j.category)}</dd>` : ""}
${j.scores ? h`<dt>scores</dt><dd>${Object.entries(j.scores).map(([k, v]) => h`${text(k)} ${v} `)}</dd>` : ""}
<dt>rationale</dt><dd><pre>${text(j.rationale ?? "(none given)")}</pre></dd>
</dl>`;
}

export function reviewForm(o: {
  targetKind: string;
  target: string;
  back: string;
  reviewer: string;
  history: Stored<Review>[];
  error?: string;
}): Html {
  const last = o.history.at(-1)?.value;
  return h`<section class="review"><h2>Human review</h2>
${
  o.history.length
    ? h`<table class="reviews"><thead><tr><th>time</th><th>reviewer</th><th>verdict</th><th>label</th><th>note</th></tr></thead><tbody>${o.history.map(
        (r) =>
          h`<tr><td>${time(r.value.at)}</td><td>${text(r.value.reviewer)}</td><td class="rv-${r.value.verdict}">${r.value.verdict}</td>
<td>${r.value.label ?? ""}</td><td>${text(r.value.note ?? "")}</td></tr>`,
      )}</tbody></table><p>Current: <strong class="rv-${last?.verdict}">${last?.verdict}</strong> (the latest review counts; reviews are never changed, only added).</p>`
    : h`<p>Not reviewed yet.</p>`
}
${o.error ? h`<p class="error">${o.error}</p>` : ""}
<form method="post" action="/review" class="review-form">
<input type="hidden" name="targetKind" value="${o.targetKind}">
<input type="hidden" name="target" value="${o.target}">
<input type="hidden" name="back" value="${o.back}">
<label>reviewer <input name="reviewer" required maxlength="100" value="${o.reviewer}"></label>
<fieldset><legend>the judge's verdict is</legend>
<label><input type="radio" name="verdict" value="correct" required> correct</label>
<label><input type="radio" name="verdict" value="wrong"> wrong</label></fieldset>
<label>right label <select name="label"><option value="">(the judge's, if correct)</option>${REVIEW_LABELS.map((l) => h`<option value="${l}">${l}</option>`)}</select></label>
<label>note <textarea name="note" rows="2" maxlength="5000"></textarea></label>
<button type="submit">save review</button>
</form></section>`;
}

export function attackPage(o: {
  record: AttackRecord;
  campaigns: CampaignManifest[];
  findings: Stored<Finding>[];
  fixRows: { dataset: string; kind: string; round: number | null; row: unknown }[];
  replays: { runId: string | null; round: number; foundInRound: number; success: boolean; label: string }[];
  review: Html;
}): Html {
  const r = o.record;
  const chain = r.attack.chain.length
    ? r.attack.chain.map(
        (s, i) =>
          h`${i ? " → " : ""}<span class="step">${s.kind}:${text(s.name)}${s.params ? h` <small>${text(JSON.stringify(s.params))}</small>` : ""}</span>`,
      )
    : h`(none: the seed as is)`;
  const regressed = o.replays.some((x) => x.success && x.round > x.foundInRound);
  return h`<p class="o-${r.notSent ? "not_sent" : r.success ? "success" : r.refused ? "refused" : "resisted"}">
<strong>${r.notSent ? "not sent (does not fit the target's context)" : r.success ? "attack succeeded" : r.refused ? "target refused" : "attack failed"}</strong>
· target <code>${modelId(r.target)}</code> · record <code>${r.id}</code></p>
<dl class="meta">
<dt>seed</dt><dd><code>${text(r.probe.id)}</code> (${text(r.probe.source)}) · category ${text(r.probe.category)} · language ${text(r.probe.language)}</dd>
<dt>seed prompt</dt><dd><pre>${text(r.probe.prompt)}</pre></dd>
<dt>persona</dt><dd>${text(r.attack.persona)}</dd>
<dt>technique</dt><dd>${text(r.techniqueId)} (family ${text(r.attack.family)}, language ${text(r.attack.language)})</dd>
<dt>converter chain</dt><dd class="chain">${chain}</dd>
${r.decodedVia ? h`<dt>judged after decoding via</dt><dd>${text(r.decodedVia)}</dd>` : ""}
<dt>campaigns</dt><dd>${o.campaigns.length ? o.campaigns.map((c) => h`<a href="/attacks?campaign=${c.id}">${short(c.id)}</a> (round ${c.round}) `) : "none recorded"}</dd>
<dt>cost</dt><dd>${r.calls} model calls, ${r.tokens} tokens</dd>
</dl>
<h2>Conversation</h2>
${r.attack.conversation.map((m) => message(m.role, m.content))}
${message("assistant", r.response.content, h` <small>(target's response, finish: ${r.response.finishReason})</small>`)}
${
  r.multiTurn
    ? h`<h2>Multi-turn transcript (${text(r.multiTurn.strategy)}, stop: ${text(r.multiTurn.stopReason)}, ${r.multiTurn.backtracks} backtracks)</h2>
${r.multiTurn.turns.map(
  (t) =>
    h`<div class="turn${t.backtracked ? " backtracked" : ""}"><div class="turn-head">turn ${t.index}${t.backtracked ? " (backtracked)" : ""} · judge: ${text(
      t.judgement.label,
    )}${t.judgement.severity !== undefined ? h` sev ${t.judgement.severity}` : ""}${t.success ? " · success" : ""}${t.refused ? " · refused" : ""}</div>
${t.proposal !== t.prompt ? message("attacker", t.proposal) : ""}${message("user", t.prompt)}${message("assistant", t.response)}</div>`,
)}`
    : ""
}
<h2>Judgement</h2>
${judgementBlock(r.judgement)}
<h2>Findings and fixes</h2>
${
  o.findings.length
    ? h`<ul>${o.findings.map((f) => h`<li>finding <code>${short(f.value.id)}</code>, round ${f.value.round}, category ${text(f.value.category)}, severity ${f.value.severity}</li>`)}</ul>`
    : h`<p>Not a finding.</p>`
}
${
  o.fixRows.length
    ? h`<p>${o.fixRows.length} fix rows curated from it:</p>${o.fixRows.map((x) => {
        const round = x.round !== null ? ` · round ${x.round}` : "";
        return h`<details><summary>${text(x.dataset)} · ${x.kind}${round}</summary><pre>${text(JSON.stringify(x.row, null, 2))}</pre></details>`;
      })}`
    : h`<p>No fix rows curated from it.</p>`
}
<h2>Regression replays</h2>
${
  o.replays.length
    ? h`<p>${regressed ? h`<strong class="fail">It broke a later round's model again.</strong>` : "It did not break a later round's model."}</p>
<table><thead><tr><th>found in round</th><th>replayed on round</th><th>success</th><th>label</th></tr></thead><tbody>${o.replays.map(
        (x) =>
          h`<tr><td>${x.foundInRound}</td><td>${x.round}</td><td>${x.success ? "yes" : "no"}</td><td>${text(x.label)}</td></tr>`,
      )}</tbody></table>`
    : h`<p>Not replayed (only successful attacks are replayed against later rounds).</p>`
}
${o.review}`;
}

export function benchRecordPage(r: ItemRecord, review: Html): Html {
  const conv = r.conversation.at(-1)?.role === "assistant" ? r.conversation.slice(0, -1) : r.conversation;
  const outcome = r.outcome === null ? "ungraded" : String(r.outcome);
  const variant = r.variant ? h` · variant ${text(r.variant)}` : "";
  return h`<p>suite ${text(r.suite)} · run <a href="/bench/${encodeURIComponent(r.runId)}">${short(r.runId)}</a> · target <code>${modelId(r.target)}</code> · outcome <strong>${outcome}</strong></p>
<dl class="meta"><dt>probe</dt><dd><code>${text(r.probeId)}</code> · category ${text(r.category)} · language ${text(r.language)} · label ${r.label}${variant}</dd></dl>
<h2>Conversation</h2>
${conv.map((m) => message(m.role, m.content))}
${message("assistant", r.response, h` <small>(graded answer, finish: ${r.finishReason})</small>`)}
<h2>Judgement</h2>
${judgementBlock(r.judgement)}
${review}`;
}

export function benchRunPage(o: {
  run: BenchRunRow;
  rows: { hash: string; record: ItemRecord }[];
  total: number;
  offset: number;
  limit: number;
  outcome?: string;
}): Html {
  const q = { outcome: o.outcome };
  const path = `/bench/${encodeURIComponent(o.run.runId)}`;
  const status = `${o.run.finished ? "finished" : "running"}${o.run.headline ? ` · ${o.run.headline}` : ""}`;
  const previous =
    o.offset > 0
      ? h`<a href="${url(path, { ...q, offset: Math.max(0, o.offset - o.limit) || undefined })}">previous</a>`
      : "";
  const next =
    o.offset + o.limit < o.total ? h`<a href="${url(path, { ...q, offset: o.offset + o.limit })}">next</a>` : "";
  return h`<p>${text(o.run.suite)} on <code>${modelId(o.run.target)}</code>, judge <code>${modelId(o.run.judge)}</code> · ${o.run.records} records · ${status}</p>
<form method="get" class="filters" data-autosubmit>${select("outcome", ["true", "false", "null"], o.outcome)}<button type="submit">apply</button></form>
<p class="pager">${o.total} records match ${previous} ${next} ${exportLinks(path, q)}</p>
<table><thead><tr><th>probe</th><th>category</th><th>lang</th><th>variant</th><th>judge label</th><th>outcome</th><th>response</th></tr></thead><tbody>
${o.rows.map(
  ({ hash, record: r }) =>
    h`<tr><td><a href="/bench-record/${hash}">${text(r.probeId)}</a></td><td>${text(r.category)}</td><td>${text(r.language)}</td>
<td>${text(r.variant ?? "")}</td><td>${text(r.judgement.label)}</td><td>${r.outcome === null ? "ungraded" : String(r.outcome)}</td>
<td class="snip">${text(r.response.slice(0, 200))}</td></tr>`,
)}</tbody></table>`;
}

const pval = (p: number) => (p < 0.0001 ? p.toExponential(1) : p.toFixed(4));

export function comparePage(o: {
  runs: BenchRunRow[];
  a?: string;
  b?: string;
  cmp?: Comparison;
  error?: string;
}): Html {
  const opts = (cur: string | undefined) =>
    o.runs.map(
      (r) =>
        h`<option value="${r.runId}"${r.runId === cur ? h` selected` : ""}>${text(r.suite)} · ${modelId(r.target)} · ${short(r.runId)}</option>`,
    );
  const form = h`<form method="get" action="/compare" class="filters"><label>run A <select name="a"><option value="">choose</option>${opts(o.a)}</select></label>
<label>run B <select name="b"><option value="">choose</option>${opts(o.b)}</select></label><button type="submit">compare</button></form>`;
  if (o.error) return h`${form}<p class="error">${o.error}</p>`;
  const c = o.cmp;
  if (!c)
    return h`${form}<p>Pick two runs of the same suite (two models, or the same suite in two rounds of a cycle).
Items are paired; the exact McNemar test runs on the discordant pairs, per slice with Holm's adjustment.</p>`;
  const row = (name: Html | string, s: Comparison["overall"]) =>
    h`<tr><td>${name}</td><td>${s.n}</td><td>${formatRate(s.rateA)}</td><td>${formatRate(s.rateB)}</td><td>${percent(s.delta)}</td>
<td>${s.aOnly}</td><td>${s.bOnly}</td><td>${pval(s.pValue)}</td><td>${pval(s.pAdjusted)}</td>
<td class="${s.significant ? "fail" : ""}">${s.significant ? "yes" : "no"}</td></tr>`;
  return h`${form}
<p>${text(c.suite)}: A = <code>${modelId(c.targetA)}</code>, B = <code>${modelId(c.targetB)}</code> · α = ${c.alpha} ·
unpaired: ${c.unpaired.onlyA} only in A, ${c.unpaired.onlyB} only in B, ${c.unpaired.noOutcome} without outcome ${exportLinks("/compare", { a: o.a, b: o.b })}</p>
<table class="compare"><thead><tr><th>slice</th><th>pairs</th><th>rate A</th><th>rate B</th><th>Δ</th><th>A only</th><th>B only</th>
<th>p (McNemar)</th><th>p (Holm)</th><th>significant</th></tr></thead><tbody>
${row(h`<strong>overall</strong>`, c.overall)}
${c.groups.map((g) => row(`${g.by} = ${g.value}`, g))}
</tbody></table>
<h2>Paired flips (${c.flips.length})</h2>
<table><thead><tr><th>probe</th><th>category</th><th>language</th><th>variant</th><th>A</th><th>B</th></tr></thead><tbody>
${c.flips.map((f) => h`<tr><td>${text(f.probeId)}</td><td>${text(f.category)}</td><td>${text(f.language)}</td><td>${text(f.variant ?? "")}</td><td>${String(f.a)}</td><td>${String(f.b)}</td></tr>`)}
</tbody></table>`;
}

export function vulnerabilitiesPage(o: {
  rows: Stored<Vulnerability>[];
  filter: { category?: string; family?: string; language?: string; campaign?: string };
  facets: { category: string[]; family: string[]; language: string[] };
}): Html {
  const f = o.filter;
  const selects = h`${select("category", o.facets.category, f.category)}${select("family", o.facets.family, f.family)}${select("language", o.facets.language, f.language)}`;
  const campaign = f.campaign ? h`<input type="hidden" name="campaign" value="${f.campaign}">` : "";
  return h`<form method="get" action="/vulnerabilities" class="filters" data-autosubmit>${selects}${campaign}<button type="submit">apply</button> <a href="/vulnerabilities">reset</a></form>
<p><span id="match-count" data-total="${o.rows.length}">${o.rows.length}</span> vulnerabilities, ranked by severity × success rate × reach ${exportLinks("/vulnerabilities", f)}</p>
<table><thead><tr><th>score</th><th>category</th><th>family</th><th>language</th><th>successes / attempts</th><th>mean severity</th><th>reach</th><th>findings</th><th>campaign</th></tr></thead><tbody>
${o.rows.map(
  (v) =>
    h`<tr><td>${v.value.score.toFixed(2)}</td><td>${text(v.value.category)}</td><td>${text(v.value.family)}</td><td>${text(v.value.language)}</td>
<td>${v.value.successes}/${v.value.attempts} (${percent(v.value.successRate)})</td><td>${v.value.meanSeverity.toFixed(1)}</td><td>${v.value.reach}</td>
<td><a href="${url("/attacks", {
      category: v.value.category,
      family: v.value.family,
      language: v.value.language,
      campaign: v.runId ?? undefined,
      finding: 1,
    })}">${v.value.findings.length}</a></td><td><code>${short(v.runId)}</code></td></tr>`,
)}</tbody></table>`;
}

export function reviewsPage(rows: Stored<Review>[]): Html {
  if (rows.length === 0)
    return h`<p class="empty">No reviews yet. Open a record (Attacks, or a bench run) and mark its judgement correct or wrong.</p>`;
  return h`<p>${rows.length} reviews (all of them, oldest first; the latest review of a record is its current one). ${exportLinks("/reviews", {})}</p>
<table><thead><tr><th>time</th><th>reviewer</th><th>record</th><th>judge</th><th>judge said</th><th>verdict</th><th>right label</th><th>note</th></tr></thead><tbody>
${rows.map(
  (r) =>
    h`<tr><td>${time(r.value.at)}</td><td>${text(r.value.reviewer)}</td>
<td><a href="${r.value.targetKind === "redteam.record" ? `/attack/${r.value.target}` : `/bench-record/${r.value.target}`}">${short(r.value.target)}</a></td>
<td><code>${modelId(r.value.judged.judgeId)}</code></td><td>${text(r.value.judged.label)}${r.value.judged.refusal ? ` (${r.value.judged.refusal})` : ""}</td>
<td class="rv-${r.value.verdict}">${r.value.verdict}</td><td>${r.value.label ?? ""}</td><td>${text(r.value.note ?? "")}</td></tr>`,
)}</tbody></table>`;
}

export interface CycleStepRow {
  round: number;
  step: string;
  state: string;
}

export function cyclePage(o: {
  runId: string;
  state: string;
  startedAt: string;
  report?: RunReport;
  reportError?: string;
  charts: { title: string; svg: string }[];
  steps: CycleStepRow[];
  rounds: { index: number; status: string; startModel: string; resultModel?: string }[];
  compareLinks: { round: number; suite: string; a: string; b: string }[];
}): Html {
  const rep = o.report;
  const headline = HEADLINE;
  const rounds = [...new Set(o.steps.map((s) => s.round))].sort((a, b) => a - b);
  return h`<p>run <code>${o.runId}</code> · started ${time(o.startedAt)} · status <strong class="state-${o.state}">${o.state}</strong> ·
<a href="${url("/attacks", {})}">attacks</a> · <a href="/heatmap">heat map</a></p>
<h2>Rounds (test split)</h2>
${
  rep?.rounds.length
    ? h`<p>The test split's figures (what the run reports); the gates, the stopping round and the release candidate were decided on the dev split
(report.md shows both).</p><table><thead><tr><th>round</th><th>model</th>${headline.map(([n]) => h`<th>${n}</th>`)}<th>regressions</th><th>gates (dev)</th></tr></thead><tbody>
${rep.rounds.map(
  (r) =>
    h`<tr${r.releaseCandidate ? h` class="rc"` : ""}><td>${r.round}${r.releaseCandidate ? " (release candidate)" : ""}</td><td>${modelId(r.model)}</td>
${headline.map(([, f]) => h`<td>${formatRate(f(r))}</td>`)}<td>${r.regressions.length}</td>
<td>${r.gates.length ? `${r.gates.filter((g) => g.passed).length}/${r.gates.length} passed` : "-"}</td></tr>`,
)}</tbody></table>`
    : h`<p class="empty">No round measured yet${o.reportError ? h` (${o.reportError})` : ""}.</p>`
}
<h2>Steps</h2>
<table class="steps"><thead><tr><th>round</th>${["measure", "break", "curate", "train-sft", "train-dpo", "regression"].map((s) => h`<th>${s}</th>`)}<th>round record</th></tr></thead><tbody>
${rounds.map((r) => {
  const rr = o.rounds.find((x) => x.index === r);
  return h`<tr><td>${r}</td>${["measure", "break", "curate", "train-sft", "train-dpo", "regression"].map((s) => {
    const st = o.steps.find((x) => x.round === r && x.step === s)?.state ?? "";
    return h`<td class="state-${st}">${st}</td>`;
  })}<td>${rr ? h`${rr.status}: ${modelId(rr.resultModel ?? rr.startModel)}` : ""}</td></tr>`;
})}
</tbody></table>
${
  o.compareLinks.length
    ? h`<h2>Compare rounds</h2><ul>${o.compareLinks.map((l) => h`<li><a href="${url("/compare", { a: l.a, b: l.b })}">${text(l.suite)}: round 0 vs round ${l.round}</a></li>`)}</ul>`
    : ""
}
${o.charts.length ? h`<h2>Charts</h2><div class="charts">${o.charts.map((c) => h`<figure aria-label="${c.title}">${trusted(c.svg)}</figure>`)}</div>` : ""}`;
}

export function trainingPage(
  runs: {
    id: string;
    kind: string;
    round: number | null;
    baseModel?: string;
    resultModel?: string;
    source: string | null;
    steps: number;
    charts: { title: string; svg: string }[];
  }[],
): Html {
  if (runs.length === 0) return h`<p class="empty">No training runs in the store.</p>`;
  const metrics = (r: (typeof runs)[number]) =>
    r.source
      ? h`${r.steps} steps from <code>${text(r.source)}</code>`
      : "no step metrics found (metrics.jsonl beside the model)";
  return h`${runs.map(
    (r) => h`<section id="t-${r.id}"><h2>${r.kind}${r.round !== null ? ` · round ${r.round}` : ""}</h2>
<p>${modelId(r.baseModel ?? "?")} → ${modelId(r.resultModel ?? "?")} · ${metrics(r)}</p>
${r.charts.length ? h`<div class="charts">${r.charts.map((c) => h`<figure aria-label="${c.title}">${trusted(c.svg)}</figure>`)}</div>` : ""}</section>`,
  )}`;
}
