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
import { Store } from "../store/store.ts";
import { createViewApp } from "./server.ts";
import { buildWorkspace, type TestWorkspace } from "./testing/workspace.ts";

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
