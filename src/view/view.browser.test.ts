/**
 * `breakfix view` in headless Chromium (Debian's chromium via playwright-core) over a workspace written through the
 * stores' own writers (testing/workspace.ts): every page renders with no console error and no request leaving
 * 127.0.0.1; filters, search and exports return the counts the store holds; model output carrying <script>,
 * onerror=, javascript: links and Unicode tag characters stays inert text under the CSP; a review made in the browser
 * survives a server restart and changes `breakfix judge calibrate --data reviews`. With BREAKFIX_VIEW_SCREENSHOTS=DIR
 * it also saves screenshots of the main pages to DIR (docs/ holds the committed ones).
 */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { parse } from "csv-parse/sync";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BREAKFIX_BIN, runBreakfix } from "../cli/testing.ts";
import { mulberry32 } from "../domain/random.ts";
import { SqliteCampaignStore } from "../redteam/campaign/sqlite-store.ts";
import type { AttackRecord } from "../redteam/campaign/types.ts";
import { Store } from "../store/store.ts";
import { addReview } from "./reviews.ts";
import { startView, type ViewServer } from "./server.ts";
import { buildWorkspace, makeRecord, PAYLOADS, type TestWorkspace } from "./testing/workspace.ts";

/** The little of the DOM these tests touch inside the page (the project's TypeScript has no DOM library). */
interface Dom {
  document: {
    scripts: ArrayLike<{ src: string }>;
    body: { insertAdjacentHTML(where: string, markup: string): void };
    addEventListener(type: string, listener: (e: { violatedDirective: string }) => void): void;
  };
}

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const SHOTS = process.env.BREAKFIX_VIEW_SCREENSHOTS;

let ws: TestWorkspace;
let server: ViewServer;
let browser: Browser;
let records: AttackRecord[];
const external: string[] = [];
const consoleErrors: string[] = [];

async function newPage(): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
  page.on("console", (m) => {
    if (m.type() === "error") consoleErrors.push(`${page.url()}: ${m.text()}`);
  });
  page.on("pageerror", (e) => consoleErrors.push(`${page.url()}: ${e.message}`));
  page.on("request", (r) => {
    if (new URL(r.url()).hostname !== "127.0.0.1") external.push(r.url());
  });
  return page;
}

const total = async (page: Page) => Number(await page.locator("#match-count").getAttribute("data-total"));

/** The text the FTS index holds for a record (what the search looks in). */
const searchable = (r: AttackRecord) =>
  [
    r.probe.prompt,
    ...r.attack.conversation.map((m) => m.content),
    r.response.content,
    r.judgement.rationale ?? "",
    r.techniqueId,
  ].join("\n");

beforeAll(async () => {
  expect(existsSync(CHROMIUM), `${CHROMIUM} missing: install Debian's chromium`).toBe(true);
  const dir = mkdtempSync(path.join(tmpdir(), "bf-view-"));
  ws = await buildWorkspace(path.join(dir, "ws"));
  server = await startView({ workspace: ws.dir, reviewer: "tester" });
  records = server.store.artifacts.list<AttackRecord>("redteam.record").map((r) => r.value);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  if (ws) rmSync(path.dirname(ws.dir), { recursive: true, force: true });
});

describe("breakfix view in headless Chromium", () => {
  it("renders every page with no console error and no request leaving 127.0.0.1", async () => {
    const benchRecord = server.store.artifacts.list("bench.record", ws.benchRuns[0])[0].hash;
    const multiTurn = records.find((r) => r.multiTurn)?.id;
    const pages: [string, string][] = [
      ["/", "Runs"],
      ["/attacks", "Attack records"],
      ["/attacks?finding=1", "Findings"],
      ["/heatmap", "Heat map"],
      ["/vulnerabilities", "Vulnerabilities"],
      [`/attack/${ws.payloadRecordId}`, "Attack"],
      [`/attack/${multiTurn}`, "Attack"],
      [`/cycle/${ws.cycleRunId}`, "Cycle"],
      ["/compare", "Compare two runs"],
      [`/compare?a=${ws.benchRuns[0]}&b=${ws.benchRuns[1]}`, "Compare two runs"],
      ["/training", "Training runs"],
      ["/reviews", "Reviews"],
      [`/bench/${ws.benchRuns[0]}`, "Bench run"],
      [`/bench-record/${benchRecord}`, "Bench record"],
    ];
    const page = await newPage();
    for (const [p, title] of pages) {
      const res = await page.goto(new URL(p, server.url).href, { waitUntil: "load" });
      expect(res?.status(), p).toBe(200);
      expect(await page.locator("h1").textContent(), p).toContain(title);
      const csp = res?.headers()["content-security-policy"] ?? "";
      expect(csp).toContain("script-src 'self'");
      expect(csp).not.toContain("unsafe-inline");
      expect(await page.locator("script:not([src])").count(), p).toBe(0);
      if (SHOTS) {
        const name = p === "/" ? "runs" : p.split(/[/?]/)[1];
        if (
          ["runs", "attacks", "heatmap", "cycle", "compare", "training"].includes(name) ||
          p.startsWith("/attack/" + ws.payloadRecordId)
        )
          await page.screenshot({
            path: path.join(SHOTS, `view-${name}${p.includes("finding=1") ? "-findings" : ""}.png`),
            fullPage: false,
          });
      }
    }
    // the cycle page shows the report's charts (SVG rendered in Node), the training page the curves
    await page.goto(new URL(`/cycle/${ws.cycleRunId}`, server.url).href);
    expect(await page.locator("figure svg").count()).toBeGreaterThanOrEqual(6);
    await page.goto(new URL("/training", server.url).href);
    expect(await page.locator("figure svg").count()).toBeGreaterThanOrEqual(4);
    // compare: McNemar on the paired flips of round 0 vs round 1
    await page.goto(new URL(`/compare?a=${ws.benchRuns[0]}&b=${ws.benchRuns[1]}`, server.url).href);
    expect(await page.locator("table.compare").textContent()).toContain("overall");
    await page.close();
    expect(consoleErrors).toEqual([]);
    expect(external).toEqual([]);
  }, 60_000);

  it("filters and search return the counts the store holds, from shareable URLs, and export them", async () => {
    const cases: [string, (r: AttackRecord) => boolean][] = [
      ["", () => true],
      ["category=S1", (r) => r.probe.category === "S1"],
      ["technique=crescendo", (r) => r.techniqueId === "crescendo"],
      ["persona=intermediate", (r) => r.attack.persona === "intermediate"],
      ["language=es", (r) => r.attack.language === "es"],
      ["round=1", () => true],
      ["label=refusal", (r) => r.judgement.label === "refusal"],
      ["severity=5", (r) => (r.judgement.severity ?? -1) >= 5],
      ["outcome=success", (r) => r.success],
      ["q=archivist", (r) => /\barchivist\b/i.test(searchable(r))],
      [
        "category=S9&language=en&q=device",
        (r) => r.probe.category === "S9" && r.attack.language === "en" && /\bdevice\b/i.test(searchable(r)),
      ],
    ];
    const page = await newPage();
    for (const [q, pred] of cases) {
      await page.goto(new URL(`/attacks?${q}`, server.url).href);
      const expected = records.filter(pred).length;
      expect(await total(page), q).toBe(expected);
      expect(await page.locator("table.attacks tbody tr").count(), q).toBe(Math.min(50, expected));
    }
    expect(records.filter((r) => r.success).length).toBeGreaterThan(0);
    // findings: the records the findings table points at
    const findingRecords = new Set(
      server.store.findings.list().map((f) => (f.value as unknown as { recordId: string }).recordId),
    );
    await page.goto(new URL("/attacks?finding=1", server.url).href);
    expect(await total(page)).toBe(findingRecords.size);
    // the menus apply on change and put the filter in the URL; the URL alone gives the same view
    await page.goto(new URL("/attacks", server.url).href);
    await Promise.all([page.waitForURL(/category=S2/), page.selectOption("select[name=category]", "S2")]);
    await page.fill("input[name=q]", "device");
    await Promise.all([page.waitForURL(/q=device/), page.press("input[name=q]", "Enter")]);
    const shown = await total(page);
    expect(shown).toBe(records.filter((r) => r.probe.category === "S2" && /\bdevice\b/i.test(searchable(r))).length);
    const shared = await newPage();
    await shared.goto(page.url());
    expect(await total(shared)).toBe(shown);
    await shared.close();
    // exports of the filtered table
    const csv = await (await fetch(new URL("/attacks?category=S1&format=csv", server.url))).text();
    const rows = parse(csv, { columns: true }) as Record<string, string>[];
    expect(rows.length).toBe(records.filter((r) => r.probe.category === "S1").length);
    expect(new Set(rows.map((r) => r.category))).toEqual(new Set(["S1"]));
    const jsonl = await (await fetch(new URL("/attacks?outcome=refused&format=jsonl", server.url))).text();
    const lines = jsonl
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { record: AttackRecord });
    expect(lines.length).toBe(records.filter((r) => r.refused).length);
    expect(lines.every((l) => l.record.refused)).toBe(true);
    const heat = parse(await (await fetch(new URL("/heatmap?format=csv", server.url))).text(), { columns: true }) as {
      category: string;
      successes: string;
      attempts: string;
    }[];
    const s9 = heat.filter((x) => x.category === "S9");
    expect(s9.reduce((a, x) => a + Number(x.attempts), 0)).toBe(
      records.filter((r) => r.probe.category === "S9").length,
    );
    expect(s9.reduce((a, x) => a + Number(x.successes), 0)).toBe(
      records.filter((r) => r.probe.category === "S9" && r.success).length,
    );
    await page.close();
    expect(consoleErrors).toEqual([]);
    expect(external).toEqual([]);
  }, 60_000);

  it("shows <script>, onerror=, javascript: links and tag characters in model output as inert text", async () => {
    const page = await newPage();
    const violations: string[] = [];
    await page.exposeFunction("__cspViolation", (v: string) => violations.push(v));
    await page.addInitScript(() =>
      (globalThis as unknown as Dom).document.addEventListener("securitypolicyviolation", (e) =>
        (globalThis as unknown as { __cspViolation(v: string): void }).__cspViolation(e.violatedDirective),
      ),
    );
    for (const p of [`/attack/${ws.payloadRecordId}`, "/attacks?q=archivist", `/bench/${ws.benchRuns[0]}`]) {
      await page.goto(new URL(p, server.url).href, { waitUntil: "load" });
      await page.waitForTimeout(200);
      expect(await page.evaluate(() => (globalThis as { __pwned?: string }).__pwned), p).toBeUndefined();
      expect(await page.locator("img").count(), p).toBe(0);
      expect(await page.locator('a[href^="javascript:" i]').count(), p).toBe(0);
      expect(await page.locator("[onerror]").count(), p).toBe(0);
      expect(
        await page.evaluate(() =>
          Array.from((globalThis as unknown as Dom).document.scripts).map((s) => new URL(s.src).pathname),
        ),
        p,
      ).toEqual(["/static/view.js"]);
    }
    await page.goto(new URL(`/attack/${ws.payloadRecordId}`, server.url).href);
    // biome-ignore lint/performance/useDomNodeTextContent: the text as rendered and shown to a person.
    const text = await page.locator("main").innerText();
    for (const p of [PAYLOADS.script, PAYLOADS.img, PAYLOADS.link, PAYLOADS.mdLink]) expect(text).toContain(p);
    // tag characters are shown as visible marks, never passed through as invisible text
    expect(text).toContain("ok\\u{e0049}\\u{e0047}\\u{e004e}\\u{e004f}\\u{e0052}\\u{e0045}");
    expect(/[\u{E0000}-\u{E007F}]/u.test(text)).toBe(false);
    expect(await page.locator(".cp").count()).toBeGreaterThan(0);
    expect(violations).toEqual([]);
    // and were markup ever to slip through, the CSP would still refuse to run it
    const errorsBefore = consoleErrors.length;
    await page.evaluate(
      (p) => (globalThis as unknown as Dom).document.body.insertAdjacentHTML("beforeend", p),
      PAYLOADS.img.replace("src=x", "src=/x"),
    );
    await page.waitForTimeout(300);
    expect(await page.evaluate(() => (globalThis as { __pwned?: string }).__pwned)).toBeUndefined();
    expect(violations.some((v) => v.startsWith("script-src"))).toBe(true);
    for (const e of consoleErrors.splice(errorsBefore)) expect(e).toMatch(/Content Security Policy|404/);
    await page.close();
    expect(consoleErrors).toEqual([]);
    expect(external).toEqual([]);
  }, 60_000);

  it("keeps a review across a server restart, and the review changes judge calibrate --data reviews", async () => {
    const calibrate = async () => {
      const run = await runBreakfix(
        [
          "judge",
          "calibrate",
          "--judge",
          "refusal-patterns",
          "--data",
          "reviews",
          "--workspace",
          ws.dir,
          "--baseline",
          "none",
          "--no-store",
          "--json",
        ],
        { cwd: path.dirname(ws.dir) },
      );
      expect(run.code, run.stderr).toBe(0);
      return JSON.parse(run.stdout.trim().split("\n").at(-1) ?? "{}") as {
        n: number;
        accuracy: number;
        confusion: number[][];
      };
    };
    // one review written directly, so there is data to calibrate on before the browser adds one
    const success = records.find((r) => r.success && r.id !== ws.payloadRecordId);
    const refused = records.find((r) => r.refused);
    expect(success && refused).toBeTruthy();
    addReview(server.store, {
      targetKind: "redteam.record",
      target: success!.id,
      reviewer: "alice",
      verdict: "correct",
    });
    const before = await calibrate();
    expect(before.n).toBe(1);

    const page = await newPage();
    await page.goto(new URL(`/attack/${refused!.id}`, server.url).href);
    await page.fill("input[name=reviewer]", "bob");
    await page.check("input[name=verdict][value=wrong]");
    await page.selectOption("select[name=label]", "partial_refusal");
    await page.fill("textarea[name=note]", `hedged, then lectured ${PAYLOADS.script}`);
    await Promise.all([page.waitForURL(new RegExp(`/attack/${refused!.id}$`)), page.click("button[type=submit]")]);
    expect(await page.locator("table.reviews").textContent()).toContain("bob");

    // restart the server on the same workspace (the page leaves first: its live poll would log the refused connection)
    await page.goto("about:blank");
    await server.close();
    server = await startView({ workspace: ws.dir });
    await page.goto(new URL(`/attack/${refused!.id}`, server.url).href);
    const reviews = await page.locator("table.reviews").textContent();
    expect(reviews).toContain("bob");
    expect(reviews).toContain("wrong");
    expect(reviews).toContain("partial_refusal");
    expect(reviews).toContain(PAYLOADS.script);
    await page.goto(new URL("/attacks?review=wrong", server.url).href);
    expect(await total(page)).toBe(1);
    if (SHOTS) {
      await page.goto(new URL("/reviews", server.url).href);
      await page.screenshot({ path: path.join(SHOTS, "view-reviews.png") });
    }
    await page.close();

    const after = await calibrate();
    expect(after.n).toBe(2);
    expect(after).not.toEqual(before);
    // the store refuses to change a review: it is append-only
    const s = Store.open(ws.dir);
    try {
      expect(() => s.db.prepare("DELETE FROM reviews").run()).toThrow(/append-only/);
      expect(s.reviews.count()).toBe(2);
    } finally {
      s.close();
    }
    expect(consoleErrors).toEqual([]);
    expect(external).toEqual([]);
  }, 60_000);

  it("`breakfix view` serves the workspace on 127.0.0.1 and prints the URL", async () => {
    const child = spawn(process.execPath, [BREAKFIX_BIN, "view", "--workspace", ws.dir, "--port", "0"], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = "";
        let err = "";
        child.stdout.on("data", (d) => {
          out += d;
          const m = /(http:\/\/127\.0\.0\.1:\d+\/)/.exec(out);
          if (m) resolve(m[1]);
        });
        child.stderr.on("data", (d) => {
          err += d;
        });
        child.on("exit", (code) => reject(new Error(`breakfix view exited ${code}: ${err}`)));
      });
      const res = await fetch(url);
      expect(res.status).toBe(200);
      expect(await res.text()).toContain("breakfix view");
      // requests naming another host are refused (DNS rebinding)
      const status = await new Promise<number | undefined>((resolve, reject) => {
        const req = request(url, { headers: { host: "evil.example" } }, (res) => {
          res.resume();
          resolve(res.statusCode);
        });
        req.on("error", reject);
        req.end();
      });
      expect(status).toBe(403);
    } finally {
      child.kill("SIGTERM");
    }
  }, 30_000);

  it("follows new records live while another process writes them", async () => {
    const page = await newPage();
    await page.goto(new URL("/attacks?outcome=success", server.url).href);
    const before = await total(page);
    // a campaign writing through its own connection, as `breakfix redteam` or the cycle would
    const writer = Store.open(ws.dir);
    try {
      const r = makeRecord({ i: 4, rand: mulberry32(99), target: "live-target", outcome: "success" });
      expect(new SqliteCampaignStore(writer).putRecord(r)).toBe(true);
    } finally {
      writer.close();
    }
    await expect.poll(() => total(page).catch(() => -1), { timeout: 10_000, interval: 250 }).toBe(before + 1);
    await page.close();
    expect(consoleErrors).toEqual([]);
    expect(external).toEqual([]);
  }, 30_000);
});
