import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { buildRunReport } from "../cycle/report.ts";
import { escapeHtml, escapeMarkdown } from "../domain/escape.ts";
import { wilson } from "../domain/stats.ts";
import { Store } from "../store/store.ts";
import { buildWorkspace } from "../view/testing/workspace.ts";
import { PAYLOAD_IMG, PAYLOAD_SCRIPT, sampleReport } from "./fixtures.ts";
import { formatRate, renderHtml, renderMarkdown } from "./render.ts";

describe("report rendering", () => {
  it("escapes every planted payload in HTML and keeps it visible as text", async () => {
    const html = await renderHtml(sampleReport());
    expect(html).not.toContain(PAYLOAD_SCRIPT);
    expect(html).not.toContain(PAYLOAD_IMG);
    expect(html).not.toMatch(/<script/i);
    // No tag carries an event handler. Quoted attribute values are removed first: escaped payload text inside an
    // aria-label may still spell "onerror=", harmlessly, because its quotes are escaped too.
    const tagsOnly = html.replace(/"[^"]*"/g, '""');
    expect(tagsOnly).not.toMatch(/<[^>]*\son\w+\s*=/i);
    expect(html).toContain(escapeHtml(PAYLOAD_SCRIPT));
    expect(html).toContain("Content-Security-Policy");
    // Self-contained: no external URL is referenced (the only URLs are SVG namespaces, which load nothing).
    // Real attributes are always quoted; escaped payload text never contains a raw quote.
    const urls = [...html.matchAll(/\s(?:src|href|xlink:href)="([^"]*)"/gi)].map((m) => m[1]);
    expect(urls).toEqual([]);
    expect((html.match(/<svg/g) ?? []).length).toBe(6);
  });

  it("headlines the test split (slices side by side, outcomes) and labels dev as what decisions read", async () => {
    const md = renderMarkdown(sampleReport());
    const order = [
      "## Rounds (test split)",
      "## Outcomes (test split)",
      "## Test split by slice",
      "## Dev split (what decisions read)",
      "## Dev split by slice",
      "## Release gates (round 2, on the dev split)",
    ];
    const at = order.map((x) => md.indexOf(x));
    expect(at.every((i) => i >= 0)).toBe(true);
    expect([...at].sort((a, b) => a - b)).toEqual(at);
    // slices in reading order: in-distribution, out-of-distribution, rephrased (an odd slice name escaped)
    expect(md).toMatch(/\| round \| figure \| in-distribution \| out-of-distribution \| rephrased &#60;img/);
    // round 0's test harmful DR (30 * 3 of 100) and dev's (91 of 100) in their own tables; outcomes as rates
    expect(md).toContain("| 0 | demo-base | 90.0% [82.6, 94.5] |");
    expect(md).toMatch(/\| 0 \| 91\.0% \[/);
    expect(md).toMatch(/\| 0 \| 8\.0% \[4\.1, 15\.0\] \| 90\.0% \[82\.6, 94\.5\] \| 2\.0% /);
    const html = await renderHtml(sampleReport());
    for (const t of [
      "Rounds (test split)",
      "Outcomes (test split)",
      "Test split by slice",
      "Dev split (what decisions read)",
    ])
      expect(html).toContain(`<h2>${t}</h2>`);
  });

  it("renders Markdown with rates, intervals, gates, regressions and escaped examples", () => {
    const md = renderMarkdown(sampleReport());
    expect(md).toContain("| 2 (release candidate) |");
    expect(md).toMatch(/90\.0% \[\d+\.\d, \d+\.\d\]/);
    expect(md).toContain("- FAIL harmful DR: 0.3000 <= 0.1");
    expect(md).toContain("atk-1 (rot13, S2, es): fixed in round 1, broke again in round 2");
    expect(md).not.toContain("<script>");
    expect(md).not.toContain("<img");
  });

  it("neutralises links, images, autolinks, code and raw HTML from model text in Markdown (issue 23)", () => {
    const hostile = [
      "![tracker](https://evil.example/pixel.png?u=1)",
      "[click here](javascript:alert(1))",
      "[ref]: https://evil.example/ref",
      "<https://evil.example/auto>",
      "see https://evil.example/bare and www.evil.example too",
      "<img src=x onerror=alert(1)> <a href='https://evil.example'>a</a>",
      "`code` and ```fence``` and *bold* _em_ ~~gone~~ | pipe \\[x\\](y)",
    ].join("\n");
    const report = sampleReport();
    report.examples[0].response = hostile;
    report.examples[0].conversation = [{ role: "user", content: hostile }];
    report.target = "https://evil.example/v1";
    const md = renderMarkdown(report);
    const example = md.slice(md.indexOf("## Example conversations"));
    // No construct that makes a link, an image, a code span or HTML survives: every [ ] ( ) ! is backslash-escaped,
    // every < > ` is a character reference, and no URL is left for GFM to autolink.
    const quoted = example.split("\n").filter((l) => l.startsWith("> **") && l.length > 4);
    expect(quoted.length).toBeGreaterThanOrEqual(2);
    for (const l of quoted) {
      const body = l.replace(/^> \*\*[a-z ()]+:\*\* /, "");
      // a markup character preceded by an even number of backslashes (zero included) is live markup
      expect(body, l).not.toMatch(/(^|[^\\])(\\\\)*[[\]()!*_~|]/);
      expect(body, l).not.toMatch(/[<>`]/);
    }
    expect(md).not.toMatch(/[a-z]+:\/\//i);
    expect(md).not.toMatch(/www\./i);
    // the text is still there to read
    expect(example).toContain("\\!\\[tracker\\]\\(https\\[:\\]//evil.example/pixel.png?u=1\\)");
    expect(example).toContain("&#60;img src=x onerror=alert\\(1\\)&#62;");
    expect(example).toContain("\\*bold\\* \\_em\\_");
    // one hostile message stays one quoted line
    expect(example.split("\n").filter((l) => l.includes("tracker"))).toHaveLength(2);
    expect(md).toContain("Target: https\\[:\\]//evil.example/v1.");
  });

  it("shows the answers the provider's filter blocked only where some were, suite names escaped", async () => {
    // none blocked (every suite 0, as a run measured now carries; or no count at all, as older runs): no table
    const plain = sampleReport();
    plain.rounds[0].blocked = { harmbench: { name: "blocked [harmbench]", value: 0, successes: 0, n: 120 } };
    for (const r of [sampleReport(), plain]) {
      expect(renderMarkdown(r)).not.toMatch(/blocked/i);
      expect(await renderHtml(r)).not.toMatch(/blocked/i);
    }
    const report = sampleReport();
    report.rounds[1].blocked = {
      harmbench: { name: "blocked [harmbench]", value: 3 / 120, successes: 3, n: 120 },
      xstest: { name: "blocked [xstest]", value: 0, successes: 0, n: 50 },
    };
    report.rounds[1].dev.blocked = { [`mine ${PAYLOAD_IMG}`]: { name: "blocked", value: 0.1, successes: 1, n: 10 } };
    const md = renderMarkdown(report);
    expect(md).toContain("## Blocked by the provider's filter");
    expect(md).toContain("| round | split | suite | blocked by the filter |");
    expect(md).toContain("| 1 | test | harmbench | 3 of 120 \\(2.5%\\) |");
    expect(md).toContain(`| 1 | dev | ${escapeMarkdown(`mine ${PAYLOAD_IMG}`)} | 1 of 10 \\(10.0%\\) |`);
    expect(md).not.toContain("xstest"); // a suite with none is not listed
    expect(md).not.toContain("<img");
    const html = await renderHtml(report);
    expect(html).toContain("<h2>Blocked by the provider&#39;s filter</h2>");
    expect(html).toContain("<td>harmbench</td><td>3 of 120 (2.5%)</td>");
    expect(html).not.toContain(PAYLOAD_IMG);
  });

  it("escapeMarkdown keeps ordinary text readable", () => {
    expect(escapeMarkdown("The answer is 12.")).toBe("The answer is 12.");
    expect(escapeMarkdown("a-b, c: d; e/f #3")).toBe("a-b, c: d; e/f #3");
    expect(escapeMarkdown("[UNSAFE-S1-STEP-1]")).toBe("\\[UNSAFE-S1-STEP-1\\]");
  });
});

describe("the run report built from a store", () => {
  it("gives every rate its 95% Wilson interval, the red team's attack success per technique included", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "report-store-"));
    try {
      const ws = await buildWorkspace(dir, { attacks: 24 });
      const store = Store.open(ws.dir, { readonly: true });
      const report = buildRunReport(store, ws.cycleRunId);
      store.close();
      const asr = report.rounds[0].asrByTechnique;
      expect(Object.keys(asr).filter((k) => !k.startsWith("suite:")).length).toBeGreaterThan(0);
      for (const [k, m] of Object.entries(asr)) {
        expect(m.interval, k).toEqual(wilson(m.successes ?? -1, m.n ?? -1));
        expect(formatRate(m), k).toMatch(/^\d+\.\d% \[\d+\.\d, \d+\.\d\]$/);
      }
      const md = renderMarkdown(report);
      const table = md.slice(md.indexOf("## Attack success rate per technique"), md.indexOf("## Regressions"));
      for (const row of table.split("\n").filter((l) => /^\| (?!technique|---)/.test(l)))
        expect(row).toMatch(/^\| [^|]+ \| (\d+\.\d% \[\d+\.\d, \d+\.\d\]|n\/a) \|/);
      // the header states the level the figures were measured at (benchmarks.confidence), never a fixed 95%
      expect(report.confidence).toBe(0.95);
      expect(md).toContain("Rates with 95% Wilson intervals.");
      expect(renderMarkdown({ ...report, confidence: 0.9 })).toContain("Rates with 90% Wilson intervals.");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
