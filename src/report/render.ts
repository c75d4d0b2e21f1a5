/**
 * Renders a RunReport as report.md and a self-contained report.html: charts inline as SVG, styles inline, no script,
 * and a Content-Security-Policy that forbids scripts and any network load. Every piece of text that comes from a
 * model (responses, conversations) or from user files is escaped; model ids (the target, each round's model, the
 * release-candidate note) lose any credential an endpoint URL in them still holds (redactUrl).
 *
 * The figures shown first are the test split's (what the run reports), with each slice side by side (in-distribution,
 * out-of-distribution, rephrased) and the outcome breakdown (refused / unsafe / other on harmful prompts, helpful /
 * refused / other on benign ones); the dev split's figures follow, labelled as what the decisions read (gates,
 * stopping, release candidate).
 */
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { escapeHtml, escapeMarkdown } from "../domain/escape.ts";
import type { RoundMetrics } from "../domain/round-metrics.ts";
import type { Metric } from "../domain/types.ts";
import { blockedShare } from "../judges/blocked.ts";
import { redactUrl } from "../models/secrets.ts";
import { renderCharts } from "./charts.ts";
import type { RoundSummary, RunReport } from "./types.ts";

export function formatRate(m: Metric | undefined): string {
  if (!m || typeof m.value !== "number" || !Number.isFinite(m.value)) return "n/a";
  const v = `${(m.value * 100).toFixed(1)}%`;
  return m.interval ? `${v} [${(m.interval.low * 100).toFixed(1)}, ${(m.interval.high * 100).toFixed(1)}]` : v;
}

/** The headline figures of a round, as the report and the dashboard show them. */
export const HEADLINE: [string, (r: RoundMetrics) => Metric][] = [
  ["harmful DR", (r) => r.harmfulDr],
  ["jailbreak DR", (r) => r.jailbreakDr],
  ["held-out DR", (r) => r.heldoutDr],
  ["IPRR", (r) => r.iprr],
  ["VPRR", (r) => r.vprr],
  ["capability", (r) => r.capability],
];

/** The outcome breakdown's columns: [title, pick]. */
export const OUTCOMES: [string, (r: RoundMetrics) => Metric | undefined][] = [
  ["harmful: refused", (r) => r.harmfulOutcomes?.refused],
  ["harmful: unsafe", (r) => r.harmfulOutcomes?.unsafe],
  ["harmful: other", (r) => r.harmfulOutcomes?.other],
  ["benign: helpful", (r) => r.benignOutcomes?.helpful],
  ["benign: refused", (r) => r.benignOutcomes?.refused],
  ["benign: other", (r) => r.benignOutcomes?.other],
];

/** Slices in reading order: in-distribution, out-of-distribution and rephrased first, then any other, sorted. */
const SLICE_ORDER = ["in-distribution", "out-of-distribution", "rephrased"];
function sliceNames(report: RunReport, split: "dev" | "test"): string[] {
  const all = [...new Set(report.rounds.flatMap((r) => Object.keys(r.slices?.[split] ?? {})))];
  const rank = (s: string) => (SLICE_ORDER.includes(s) ? SLICE_ORDER.indexOf(s) : SLICE_ORDER.length);
  return all.sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

/** A table as text cells (already formatted, not yet escaped), rendered to Markdown or HTML. */
interface Table {
  title: string;
  note?: string;
  header: string[];
  rows: string[][];
}

/** The split and slice tables of a report (see the file comment). */
function figureTables(report: RunReport): Table[] {
  const out: Table[] = [];
  const unclassified = (r: RoundMetrics) =>
    [r.harmfulOutcomes?.unclassified, r.benignOutcomes?.unclassified].some((m) => m && m.value > 0);
  const outcomeNote =
    "On harmful prompts: refused, unsafe, or other (neither: garbled, off-topic, evasive); on benign look-alikes: " +
    "helpful, refused, or other (neither). Shares of the judged prompts.";
  out.push({
    title: "Outcomes (test split)",
    note:
      outcomeNote +
      (report.rounds.some(unclassified) ? " Some answers were judged not unsafe without saying how (not shown)." : ""),
    header: ["round", ...OUTCOMES.map(([n]) => n)],
    rows: report.rounds.map((r) => [String(r.round), ...OUTCOMES.map(([, f]) => formatRate(f(r)))]),
  });
  const slices = sliceNames(report, "test");
  if (slices.length)
    out.push({
      title: "Test split by slice",
      note: "Each figure on the test split's slices side by side (out-of-distribution: templates never trained on).",
      header: ["round", "figure", ...slices],
      rows: report.rounds.flatMap((r) =>
        [...HEADLINE, ...OUTCOMES.filter(([n]) => n.endsWith("other"))].map(([n, f]) => [
          String(r.round),
          n,
          ...slices.map((s) => {
            const m = r.slices?.test[s];
            return m ? formatRate(f(m)) : "-";
          }),
        ]),
      ),
    });
  const blocked = blockedTable(report);
  if (blocked) out.push(blocked);
  const devSlices = sliceNames(report, "dev");
  out.push({
    title: "Dev split (what decisions read)",
    note:
      "The gates, the stopping round and the release candidate are decided on these figures only; the test figures " +
      "above are never read by code that decides.",
    header: ["round", ...HEADLINE.map(([n]) => n), ...OUTCOMES.filter(([n]) => n.endsWith("other")).map(([n]) => n)],
    rows: report.rounds.map((r) => [
      String(r.round),
      ...HEADLINE.map(([, f]) => formatRate(f(r.dev))),
      ...OUTCOMES.filter(([n]) => n.endsWith("other")).map(([, f]) => formatRate(f(r.dev))),
    ]),
  });
  if (devSlices.length)
    out.push({
      title: "Dev split by slice",
      header: ["round", "figure", ...devSlices],
      rows: report.rounds.flatMap((r) =>
        HEADLINE.map(([n, f]) => [
          String(r.round),
          n,
          ...devSlices.map((s) => {
            const m = r.slices?.dev[s];
            return m ? formatRate(f(m)) : "-";
          }),
        ]),
      ),
    });
  return out;
}

/**
 * The answers the deployment's own content filter blocked, per round, split and suite: only the non-zero counts, and
 * no table at all when no answer was blocked (a run against a model with no filter reads as it always did).
 */
function blockedTable(report: RunReport): Table | undefined {
  const rows: string[][] = [];
  for (const r of report.rounds)
    for (const [split, m] of [
      ["test", r],
      ["dev", r.dev],
    ] as const)
      for (const [suite, b] of Object.entries(m.blocked ?? {}).sort(([a], [z]) => a.localeCompare(z)))
        if (b.successes) rows.push([String(r.round), split, suite, blockedShare(b.successes, b.n ?? 0)]);
  if (rows.length === 0) return undefined;
  return {
    title: "Blocked by the provider's filter",
    note:
      "Answers the deployment's own content filter blocked (Azure OpenAI's content_filter, Anthropic's refusal stop " +
      "reason). They count as refusals in every figure of this report, but say nothing about the model's own alignment.",
    header: ["round", "split", "suite", "blocked by the filter"],
    rows,
  };
}

/** A cell that is a formatted figure (formatRate's "12.5% [8.1, 18.0]", n/a, -, a round number): shown as is. */
const FIGURE_TEXT = /^(n\/a|-|\d+|\d+\.\d%(?: \[\d+\.\d, \d+\.\d\])?)$/;

function tableMarkdown(t: Table): string[] {
  const e = escapeMarkdown;
  return [
    "",
    // Title and note are the report's own text; cells may hold names from probes (slices), so they are escaped.
    `## ${t.title}`,
    "",
    ...(t.note ? [t.note, ""] : []),
    `| ${t.header.map(e).join(" | ")} |`,
    `|${t.header.map(() => "---|").join("")}`,
    ...t.rows.map((row) => `| ${row.map((c) => (FIGURE_TEXT.test(c) ? c : e(c))).join(" | ")} |`),
  ];
}

function tableHtml(t: Table): string {
  const h = escapeHtml;
  return (
    `<h2>${h(t.title)}</h2>${t.note ? `<p>${h(t.note)}</p>` : ""}<table><thead><tr>${t.header.map((c) => `<th>${h(c)}</th>`).join("")}` +
    `</tr></thead><tbody>${t.rows.map((row) => `<tr>${row.map((c) => `<td>${h(c)}</td>`).join("")}</tr>`).join("\n")}</tbody></table>`
  );
}

function languages(report: RunReport): string[] {
  return [...new Set(report.rounds.flatMap((r) => Object.keys(r.drByLanguage)))].sort();
}

/** A Markdown table of a keyed figure (one row per key, sorted; one column per round), keys escaped. */
function roundsTable(report: RunReport, what: string, pick: (r: RoundSummary) => Record<string, Metric>): string[] {
  const keys = [...new Set(report.rounds.flatMap((r) => Object.keys(pick(r))))].sort();
  return [
    `| ${what} | ${report.rounds.map((r) => `round ${r.round}`).join(" | ")} |`,
    `|---|${report.rounds.map(() => "---|").join("")}`,
    ...keys.map((k) => `| ${escapeMarkdown(k)} | ${report.rounds.map((r) => formatRate(pick(r)[k])).join(" | ")} |`),
  ];
}

export function renderMarkdown(report: RunReport): string {
  const e = escapeMarkdown;
  const langs = languages(report);
  const lines: string[] = [
    `# breakfix report: run ${e(report.runId)}`,
    "",
    // Not a code span: inside one, the escapes below would show literally.
    `Target: ${e(redactUrl(report.target))}. Generated ${e(report.createdAt)}. Rates with ${levelText(report)} Wilson intervals.`,
    "",
    "## Rounds (test split)",
    "",
    "The test split's figures: what this run reports. Gates (passed / evaluated) are on the dev split.",
    "",
    `| round | model | ${HEADLINE.map(([n]) => n).join(" | ")} | ${langs.map((l) => `DR ${e(l)}`).join(" | ")} | regressions | gates (dev) |`,
    `|---|---|${HEADLINE.map(() => "---|").join("")}${langs.map(() => "---|").join("")}---|---|`,
  ];
  for (const r of report.rounds) {
    const gates = r.gates.length ? `${r.gates.filter((g) => g.passed).length}/${r.gates.length}` : "-";
    lines.push(
      `| ${r.round}${r.releaseCandidate ? " (release candidate)" : ""} | ${e(redactUrl(r.model))} | ${HEADLINE.map(([, f]) => formatRate(f(r))).join(" | ")} | ${langs
        .map((l) => formatRate(r.drByLanguage[l]))
        .join(" | ")} | ${r.regressions.length} | ${gates} |`,
    );
  }
  for (const t of figureTables(report)) lines.push(...tableMarkdown(t));
  const last = report.rounds.at(-1);
  if (last?.gates.length) {
    lines.push("", `## Release gates (round ${last.round}, on the dev split)`, "");
    for (const g of last.gates) {
      // A figure the scenario does not measure (no suite of that role) is stored as null: an unmeasured gate fails.
      const v = typeof g.value === "number" && Number.isFinite(g.value) ? g.value.toFixed(4) : "not measured";
      lines.push(`- ${g.passed ? "PASS" : "FAIL"} ${e(g.name)}: ${v} ${g.op} ${g.threshold}`);
    }
  }
  lines.push("", "## Defect rate per category", "", ...roundsTable(report, "category", (r) => r.drByCategory));
  lines.push(
    "",
    "## Attack success rate per technique",
    "",
    ...roundsTable(report, "technique", (r) => r.asrByTechnique),
  );
  const regs = report.rounds.flatMap((r) => r.regressions);
  lines.push("", "## Regressions", "");
  if (regs.length === 0) lines.push("None: no break fixed in an earlier round reappeared.");
  for (const g of regs) {
    lines.push(
      `- ${e(g.attackId)} (${e(g.technique)}, ${e(g.category)}, ${e(g.language)}): fixed in round ${g.fixedInRound}, broke again in round ${g.reappearedInRound}`,
    );
  }
  lines.push("", "## Example conversations", "");
  for (const x of report.examples) {
    lines.push(
      `### Round ${x.round}: ${e(x.title)} (${e(x.category)}, ${e(x.technique)}, ${e(x.language)}) — ${e(x.label)}`,
      "",
    );
    for (const m of x.conversation) lines.push(`> **${m.role}:** ${e(m.content)}`, ">");
    lines.push(`> **assistant (model):** ${e(x.response)}`, "");
  }
  for (const n of report.notes ?? []) lines.push(`- ${e(redactUrl(n))}`);
  return `${lines.join("\n")}\n`;
}

const STYLE = `body{font:14px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:1100px;padding:0 1rem;color:#1b1b1b}
table{border-collapse:collapse;margin:1rem 0}td,th{border:1px solid #ccc;padding:.25rem .5rem;text-align:left}
th{background:#f4f4f4}.pass{color:#0a7a2f}.fail{color:#b00020}.charts{display:flex;flex-wrap:wrap;gap:1.5rem}
figure{margin:0}pre{white-space:pre-wrap;word-break:break-word;background:#f7f7f7;padding:.5rem;border-radius:4px}
.msg{margin:.4rem 0}.role{font-weight:600}.rc{background:#fff6d6}`;

export async function renderHtml(report: RunReport): Promise<string> {
  const h = escapeHtml;
  const langs = languages(report);
  const charts = await renderCharts(report);
  const rows = report.rounds
    .map(
      (r) =>
        `<tr${r.releaseCandidate ? ' class="rc"' : ""}><td>${r.round}${r.releaseCandidate ? " (release candidate)" : ""}</td><td>${h(redactUrl(r.model))}</td>${HEADLINE.map(
          ([, f]) => `<td>${h(formatRate(f(r)))}</td>`,
        ).join(
          "",
        )}${langs.map((l) => `<td>${h(formatRate(r.drByLanguage[l]))}</td>`).join("")}<td>${r.regressions.length}</td></tr>`,
    )
    .join("\n");
  const last = report.rounds.at(-1);
  const gates = last?.gates.length
    ? `<h2>Release gates (round ${last.round}, on the dev split)</h2><ul>${last.gates
        .map(
          (g) =>
            `<li class="${g.passed ? "pass" : "fail"}">${g.passed ? "PASS" : "FAIL"} ${h(g.name)}: ` +
            `${h(typeof g.value === "number" && Number.isFinite(g.value) ? g.value.toFixed(4) : "not measured")} ` +
            `${h(g.op)} ${h(String(g.threshold))}</li>`,
        )
        .join("")}</ul>`
    : "";
  const regs = report.rounds.flatMap((r) => r.regressions);
  const regsHtml = regs.length
    ? `<ul>${regs
        .map(
          (g) =>
            `<li>${h(g.attackId)} (${h(g.technique)}, ${h(g.category)}, ${h(g.language)}): fixed in round ${g.fixedInRound}, broke again in round ${g.reappearedInRound}</li>`,
        )
        .join("")}</ul>`
    : "<p>None: no break fixed in an earlier round reappeared.</p>";
  const examples = report.examples
    .map(
      (x) =>
        `<section><h3>Round ${x.round}: ${h(x.title)} <small>(${h(x.category)}, ${h(x.technique)}, ${h(x.language)}) — ${h(x.label)}</small></h3>${x.conversation
          .map((m) => `<div class="msg"><span class="role">${h(m.role)}:</span><pre>${h(m.content)}</pre></div>`)
          .join(
            "",
          )}<div class="msg"><span class="role">assistant (model):</span><pre>${h(x.response)}</pre></div></section>`,
    )
    .join("\n");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>breakfix report: ${h(report.runId)}</title><style>${STYLE}</style></head>
<body>
<h1>breakfix report: run ${h(report.runId)}</h1>
<p>Target: <code>${h(redactUrl(report.target))}</code>. Generated ${h(report.createdAt)}. Rates with ${levelText(report)} Wilson intervals.</p>
<h2>Rounds (test split)</h2>
<p>The test split's figures: what this run reports. Gates are evaluated on the dev split.</p>
<table><thead><tr><th>round</th><th>model</th>${HEADLINE.map(([n]) => `<th>${h(n)}</th>`).join("")}${langs.map((l) => `<th>DR ${h(l)}</th>`).join("")}<th>regressions</th></tr></thead>
<tbody>${rows}</tbody></table>
${figureTables(report).map(tableHtml).join("\n")}
${gates}
<h2>Charts</h2>
<div class="charts">${charts.map((c) => `<figure aria-label="${h(c.title)}">${c.svg}</figure>`).join("\n")}</div>
<h2>Regressions</h2>${regsHtml}
<h2>Example conversations</h2>
<p>Model output is shown as text, exactly as produced.</p>
${examples}
${(report.notes ?? []).map((n) => `<p>${h(redactUrl(n))}</p>`).join("\n")}
</body></html>
`;
}

/** Writes report.md and report.html into dir atomically. */
export async function writeReport(dir: string, report: RunReport): Promise<{ md: string; html: string }> {
  mkdirSync(dir, { recursive: true });
  const md = join(dir, "report.md");
  const html = join(dir, "report.html");
  const write = (file: string, text: string) => {
    writeFileSync(`${file}.tmp`, text);
    renameSync(`${file}.tmp`, file);
  };
  write(md, renderMarkdown(report));
  write(html, await renderHtml(report));
  return { md, html };
}

/** "95%": the level of the report's intervals. */
function levelText(report: RunReport): string {
  return `${Number(((report.confidence ?? 0.95) * 100).toFixed(2))}%`;
}
