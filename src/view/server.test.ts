/**
 * The dashboard's review form under hostile requests (app.request, no browser): a cross-site form post is refused
 * with hono's 403 (not a 500 with a stack trace) and stores nothing; the redirect after a review stays on this site
 * whatever `back` says: scheme-relative, backslash, and tab or newline tricks that browsers would turn into another
 * host all go to "/".
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildRunReport } from "../cycle/report.ts";
import { mulberry32 } from "../domain/random.ts";
import { SqliteCampaignStore } from "../redteam/campaign/sqlite-store.ts";
import { renderHtml, renderMarkdown } from "../report/render.ts";
import { Store } from "../store/store.ts";
import { createViewApp, PAGE_SIZE } from "./server.ts";
import { buildWorkspace, makeRecord, type TestWorkspace } from "./testing/workspace.ts";

const ORIGIN = "http://127.0.0.1:7777";
let dir = "";
let ws: TestWorkspace;
let store: Store;
let app: ReturnType<typeof createViewApp>;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), "view-server-"));
  ws = await buildWorkspace(dir, { attacks: 10 });
  store = Store.open(ws.dir);
  app = createViewApp(store, { workspace: ws.dir });
});
afterAll(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

const review = (back: string, origin = ORIGIN) =>
  app.request(`${ORIGIN}/review`, {
    method: "POST",
    headers: { host: "127.0.0.1:7777", origin, "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      targetKind: "redteam.record",
      target: ws.records[0].id,
      back,
      reviewer: "ann",
      verdict: "correct",
    }).toString(),
  });

describe("POST /review", () => {
  it("refuses a cross-site form post with 403, without a stack trace, storing nothing", async () => {
    const before = store.reviews.count();
    const res = await review("/", "http://evil.example");
    expect(res.status).toBe(403);
    const body = await res.text();
    expect(body).not.toMatch(/at .*\.(ts|js):\d+/);
    expect(body).not.toContain("HTTPException");
    expect(res.headers.get("content-security-policy")).toBeTruthy();
    expect(store.reviews.count()).toBe(before);
  });

  it("redirects back to a path of this site, and to / for anything a browser would read as another host", async () => {
    const ok = await review(`/attack/${ws.records[0].id}?tab=1`);
    expect(ok.status).toBe(303);
    expect(ok.headers.get("location")).toBe(`/attack/${ws.records[0].id}?tab=1`);
    for (const back of [
      "/\t/evil.example/x",
      "/\n/evil.example/x",
      "/\r/evil.example/x",
      "//evil.example/x",
      "/\\evil.example/x",
      "https://evil.example/x",
      "/\u0000/evil.example",
      "/\u202e/evil.example",
    ]) {
      const res = await review(back);
      expect(res.status, JSON.stringify(back)).toBe(303);
      expect(res.headers.get("location"), JSON.stringify(back)).toBe("/");
    }
  });
});

describe("GET /static/FILE", () => {
  it("serves the two assets and answers 404 (not a 500) to any other name, Object.prototype's included", async () => {
    const get = (f: string) => app.request(`${ORIGIN}/static/${f}`, { headers: { host: "127.0.0.1:7777" } });
    expect((await get("view.js")).status).toBe(200);
    for (const f of ["constructor", "__proto__", "toString", "hasOwnProperty", "..%2Fserver.ts", "nope.js"])
      expect((await get(f)).status, f).toBe(404);
  });
});

describe("GET /heatmap?round=R", () => {
  it("ignores a round that is not an integer, as the attack filters do, instead of showing an empty map", async () => {
    const get = async (q: string) =>
      (
        await app.request(`${ORIGIN}/heatmap${q}?format=csv`.replace("?format", q ? "&format" : "?format"), {
          headers: { host: "127.0.0.1:7777" },
        })
      ).text();
    const all = await get("");
    expect(all.split("\n").filter(Boolean).length).toBeGreaterThan(1);
    for (const q of ["?round=abc", "?round=1.5", "?round="]) expect(await get(q), q).toBe(all);
  });
});

describe("model ids that hold a key (a workspace written before keys were taken out of target URLs)", () => {
  const KEY = "sk-userinfo-5ecret-0001";
  const QKEY = "qs-5ecret-0002";
  const TARGET = `openai-compatible:https://ann:${KEY}@gw.example/v1?api-version=2024-06-01&api-key=${QKEY}#gpt-x`;

  it("never shows the key on a page, in a CSV or JSONL export, or in the cycle report", async () => {
    const d = mkdtempSync(path.join(tmpdir(), "view-secret-"));
    const w = await buildWorkspace(d, { attacks: 8, target: TARGET });
    const s = Store.open(w.dir);
    try {
      const a = createViewApp(s, { workspace: w.dir });
      const benchHash = (
        s.db.prepare("SELECT hash FROM artifacts WHERE kind = 'bench.record' LIMIT 1").get() as {
          hash: string;
        }
      ).hash;
      const paths = [
        "/",
        "/attacks",
        "/attacks?format=csv",
        "/attacks?format=jsonl",
        `/attack/${w.records[0].id}`,
        `/bench/${w.benchRuns[0]}?format=csv`,
        `/bench/${w.benchRuns[0]}?format=jsonl`,
        "/vulnerabilities?format=jsonl",
        "/reviews?format=jsonl",
        `/bench/${w.benchRuns[0]}`,
        `/bench-record/${benchHash}`,
        "/compare",
        `/compare?a=${w.benchRuns[0]}&b=${w.benchRuns[1]}`,
        `/cycle/${w.cycleRunId}`,
        "/training",
      ];
      for (const p of paths) {
        const res = await a.request(`${ORIGIN}${p}`, { headers: { host: "127.0.0.1:7777" } });
        expect(res.status, p).toBe(200);
        const body = await res.text();
        expect(body, p).not.toContain(KEY);
        expect(body, p).not.toContain(QKEY);
        // the endpoint is still named, without its credentials
        if (!p.includes("format=") && !["/attacks", "/training", "/compare"].includes(p))
          expect(body, p).toContain("gw.example/v1");
        // an export stays data: every JSONL line still parses
        if (p.endsWith("format=jsonl")) for (const l of body.split("\n").filter(Boolean)) JSON.parse(l);
      }
      const report = buildRunReport(s, w.cycleRunId);
      for (const out of [renderMarkdown(report), await renderHtml(report)]) {
        expect(out).not.toContain(KEY);
        expect(out).not.toContain(QKEY);
        expect(out).toContain("gw.example");
      }
    } finally {
      s.close();
      rmSync(d, { recursive: true, force: true });
    }
  });
});

describe("paging the attack records while a cycle writes new ones", () => {
  it("the next page continues the list the first page showed: no record twice, the count unchanged", async () => {
    const d = mkdtempSync(path.join(tmpdir(), "view-paging-"));
    const w = await buildWorkspace(d, { attacks: 70 });
    const s = Store.open(w.dir);
    try {
      const a = createViewApp(s, { workspace: w.dir });
      const get = async (p: string) =>
        (await a.request(`${ORIGIN}${p}`, { headers: { host: "127.0.0.1:7777" } })).text();
      const shown = (body: string) => [...body.matchAll(/<tr data-record="([0-9a-f]+)"/g)].map((m) => m[1]);
      const total = (body: string) => Number(/data-total="(\d+)"/.exec(body)?.[1]);
      const first = await get("/attacks");
      expect(shown(first)).toHaveLength(PAGE_SIZE);
      expect(total(first)).toBe(70);
      // another process (the running cycle) writes 5 more records before the reader clicks "next"
      const rand = mulberry32(11);
      const cs = new SqliteCampaignStore(s);
      for (let i = 0; i < 5; i++) cs.putRecord(makeRecord({ i: 1000 + i, rand }));
      const next = /<a rel="next" href="([^"]+)"/.exec(first)?.[1]?.replaceAll("&#38;", "&").replaceAll("&amp;", "&");
      expect(next).toBeDefined();
      const second = await get(next ?? "");
      expect(total(second)).toBe(70);
      const page2 = shown(second);
      expect(page2).toHaveLength(20);
      expect(page2.filter((id) => shown(first).includes(id))).toEqual([]);
      expect(new Set([...shown(first), ...page2]).size).toBe(70);
      // the newer records are announced, and the first page (no cursor) shows them
      expect(second).toMatch(/5 newer records/);
      expect(total(await get("/attacks"))).toBe(75);
    } finally {
      s.close();
      rmSync(d, { recursive: true, force: true });
    }
  });
});
