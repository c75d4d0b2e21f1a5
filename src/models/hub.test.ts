/**
 * hf: downloads against a real local HTTP stand-in of the Hub (testing/hub-server.ts) with the demo model's real files:
 * the standard cache layout, a download interrupted mid-file and resumed with a Range request (final sha256 checked),
 * a cache hit that makes no request, HF_TOKEN sent as a Bearer token and never logged, and the loaded model.
 */
import { createHash } from "node:crypto";
import { existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { loadModel } from "../nn/model.ts";
import { downloadHubModel, parseHubSpec, resolveModelSpec } from "./hub.ts";
import { createProvider, DEMO_MODEL_DIR } from "./registry.ts";
import { type HubRequest, type HubServer, startHubServer } from "./testing/hub-server.ts";

const REPO = "breakfix-test/demo-llama";
const files: Record<string, Uint8Array> = Object.fromEntries(
  readdirSync(DEMO_MODEL_DIR).map((f) => [f, readFileSync(path.join(DEMO_MODEL_DIR, f))]),
);
const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

let server: HubServer | undefined;
const dirs: string[] = [];
afterEach(async () => {
  await server?.close();
  server = undefined;
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tmpHome(): string {
  const d = mkdtempSync(path.join(tmpdir(), "bf-hub-"));
  dirs.push(d);
  return d;
}

describe("parseHubSpec", () => {
  it("reads ORG/NAME and an optional revision; rejects malformed specs; ignores non-hf specs", () => {
    expect(parseHubSpec("hf:HuggingFaceTB/SmolLM2-135M")).toEqual({
      repo: "HuggingFaceTB/SmolLM2-135M",
      revision: "main",
    });
    expect(parseHubSpec("hf:Qwen/Qwen2.5-0.5B@v1.0")).toEqual({ repo: "Qwen/Qwen2.5-0.5B", revision: "v1.0" });
    expect(parseHubSpec("./models/x")).toBeUndefined();
    expect(() => parseHubSpec("hf:no-org")).toThrow(/hf:ORG\/NAME/);
    expect(() => parseHubSpec("hf:a/../b")).toThrow(/hf:ORG\/NAME/);
    // the revision is a file under the cache's refs/: it may not climb out of it
    expect(parseHubSpec("hf:a/b@refs/pr/1")).toEqual({ repo: "a/b", revision: "refs/pr/1" });
    for (const rev of ["../../../../tmp/x", "main/../../x", "..", "/etc/x", "a//b", "a\\..\\b"])
      expect(() => parseHubSpec(`hf:a/b@${rev}`), rev).toThrow(/hf:ORG\/NAME/);
  });
});

describe("downloadHubModel (stand-in Hub server)", () => {
  it("a file name the repository's owner chose is logged escaped: no escape sequence reaches the terminal", async () => {
    const evil = "notes\u001b]0;pwned\u0007\u001b[2J.json";
    server = await startHubServer(REPO, { [evil]: new TextEncoder().encode("{}"), ...files });
    const home = tmpHome();
    const logs: string[] = [];
    const o = { env: { HF_HOME: home, HF_ENDPOINT: server.url }, log: (l: string) => logs.push(l) };
    server.dropAfter(evil, 1); // a lost transfer: the next call logs that it resumes this file
    await expect(downloadHubModel({ repo: REPO, revision: "main" }, o)).rejects.toThrow(/run again to resume/);
    await downloadHubModel({ repo: REPO, revision: "main" }, o);
    expect(logs).toContain("hub: notes\\u{1b}]0;pwned\\u{7}\\u{1b}[2J.json: resuming at 1 of 2 bytes");
    for (const c of ["\u001b", "\u0007"]) expect(logs.join("\n")).not.toContain(c);
  });

  it("downloads into the HF cache layout, resumes an interrupted file with Range, then hits the cache with no request", async () => {
    const token = "hf_testtoken_0123456789abcdef";
    server = await startHubServer(REPO, files, { token });
    const home = tmpHome();
    const env = { HF_HOME: home, HF_ENDPOINT: server.url, HF_TOKEN: token };
    const logs: string[] = [];
    const progress: number[] = [];
    const o = { env, log: (l: string) => logs.push(l), onProgress: (p: { done: number }) => progress.push(p.done) };

    // 1. the weights' transfer is cut after 1 MB: the call fails and leaves blobs/SHA.incomplete
    const weights = files["model.safetensors"];
    server.dropAfter("model.safetensors", 1_000_000);
    await expect(downloadHubModel({ repo: REPO, revision: "main" }, o)).rejects.toThrow(/run again to resume/);
    const repoDir = path.join(home, "hub", "models--breakfix-test--demo-llama");
    const partial = path.join(repoDir, "blobs", `${sha256(weights)}.incomplete`);
    expect(statSync(partial).size).toBe(1_000_000);
    expect(existsSync(path.join(repoDir, "refs", "main"))).toBe(false);

    // 2. the second call asks only for the rest of the file
    const before = server.requests.length;
    const dir = await downloadHubModel({ repo: REPO, revision: "main" }, o);
    const ranged = server.requests.slice(before).filter((r) => r.range);
    // the Range header goes to /resolve and follows the Hub's redirect to the CDN (only the weights are fetched again)
    expect(ranged.map((r) => `${r.path.startsWith("/cdn/") ? "cdn" : "resolve"} ${r.range}`)).toEqual([
      "resolve bytes=1000000-",
      "cdn bytes=1000000-",
    ]);
    // files finished by the first call are not fetched again
    const fetchedPaths = (rs: HubRequest[]) => rs.filter((r) => r.path.includes("/resolve/")).map((r) => r.path);
    const first = fetchedPaths(server.requests.slice(0, before));
    const second = fetchedPaths(server.requests.slice(before));
    expect(second.filter((p) => first.includes(p))).toEqual(first.filter((p) => p.endsWith("model.safetensors")));
    expect(logs.some((l) => /resuming at 1000000/.test(l))).toBe(true);
    expect(dir).toBe(path.join(repoDir, "snapshots", server.commit));
    expect(readFileSync(path.join(repoDir, "refs", "main"), "utf8")).toBe(server.commit);
    for (const [f, b] of Object.entries(files)) {
      const p = path.join(dir, f);
      expect(lstatSync(p).isSymbolicLink()).toBe(true);
      expect(readlinkSync(p).startsWith("../../blobs/")).toBe(true);
      expect(sha256(readFileSync(p))).toBe(sha256(b));
    }
    expect(Math.max(...progress)).toBe(Object.values(files).reduce((a, b) => a + b.length, 0));

    // every request carried the token as a Bearer header (except the CDN's, as the Hub's redirect target)
    for (const r of server.requests.filter((q) => !q.path.startsWith("/cdn/")))
      expect(r.authorization).toBe(`Bearer ${token}`);
    expect(logs.join("\n")).not.toContain(token);

    // 3. cached: no request at all, same folder, and the model loads
    const count = server.requests.length;
    expect(await resolveModelSpec(`hf:${REPO}`, o)).toBe(dir);
    expect(await resolveModelSpec(`hf:${REPO}@${server.commit}`, o)).toBe(dir);
    expect(server.requests.length).toBe(count);
    const m = loadModel(dir);
    expect(m.weights.size).toBeGreaterThan(0);

    // the builtin provider takes the spec (process env: HF_HOME, HF_ENDPOINT), still with no request
    const saved = { ...process.env };
    Object.assign(process.env, env);
    try {
      const model = await createProvider({ provider: "builtin", model: `hf:${REPO}` });
      const r = await model.chat({ messages: [{ role: "user", content: "Hello" }], maxTokens: 4, temperature: 0 });
      expect(r.usage.completionTokens).toBeGreaterThan(0);
      await model.close?.();
    } finally {
      for (const k of Object.keys(env)) if (saved[k] === undefined) delete process.env[k];
      Object.assign(process.env, saved);
    }
    expect(server.requests.length).toBe(count);
  }, 60_000);

  it("names the problem: a wrong token (401) and an unknown repo, without printing the token", async () => {
    server = await startHubServer(REPO, files, { token: "hf_right_token_abcdefgh" });
    const env = { HF_HOME: tmpHome(), HF_ENDPOINT: server.url, HF_TOKEN: "hf_wrong_token_abcdefgh" };
    const err = await downloadHubModel({ repo: REPO, revision: "main" }, { env, log: () => {} }).catch((e) => e);
    expect(String(err)).toMatch(/hf:breakfix-test\/demo-llama@main: cannot read the model's revision/);
    expect(String(err)).not.toContain("hf_wrong_token_abcdefgh");
    const env2 = { ...env, HF_TOKEN: "hf_right_token_abcdefgh" };
    await expect(
      downloadHubModel({ repo: "nobody/none", revision: "main" }, { env: env2, log: () => {} }),
    ).rejects.toThrow(/nobody\/none/);
    const offline = { HF_HOME: tmpHome(), HF_HUB_OFFLINE: "1", HF_ENDPOINT: server.url };
    await expect(downloadHubModel({ repo: REPO, revision: "main" }, { env: offline })).rejects.toThrow(
      /HF_HUB_OFFLINE/,
    );
  });
});
