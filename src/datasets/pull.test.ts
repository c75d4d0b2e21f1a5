import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { fileSha256 } from "../domain/file-hash.ts";
import { harmbench } from "./loaders/harmbench.ts";
import { jailbreakbench } from "./loaders/jailbreakbench.ts";
import { multijail } from "./loaders/multijail.ts";
import { xstest } from "./loaders/xstest.ts";
import { sharedDatasetsDir } from "./paths.ts";
import { MANIFEST, type PullProgress, pullDataset, sourceUrl } from "./pull.ts";

const D = (name: string) => path.join(sharedDatasetsDir(), name);
const fileUrl = (dir: string) => `${pathToFileURL(dir).href}/`;
const tmp = () => mkdtempSync(path.join(tmpdir(), "bf-pull-"));

describe("data pull (file:// sources; no network in tests)", () => {
  it("downloads, verifies the pinned sha256, writes a manifest, loads; a second pull uses the cache", async () => {
    const cache = tmp();
    const progress: PullProgress[] = [];
    const r = await pullDataset(xstest, {
      cacheDir: cache,
      from: fileUrl(D("xstest")),
      onProgress: (p) => progress.push(p),
    });
    expect(r.rows).toBe(450);
    expect(r.dir).toBe(path.join(cache, "xstest"));
    expect(r.files.map((f) => [f.name, f.status])).toEqual([["xstest_prompts.csv", "downloaded"]]);
    const dest = path.join(cache, "xstest", "xstest_prompts.csv");
    expect(fileSha256(dest)).toBe(xstest.info.files[0].sha256);
    expect(readFileSync(dest)).toEqual(readFileSync(path.join(D("xstest"), "xstest_prompts.csv")));
    const manifest = JSON.parse(readFileSync(path.join(cache, "xstest", MANIFEST), "utf8"));
    expect(manifest["xstest_prompts.csv"]).toMatchObject({ sha256: xstest.info.files[0].sha256, bytes: 38719 });
    expect(progress.at(-1)).toEqual({ file: "xstest_prompts.csv", received: 38719, total: 38719 });
    // No temporary files are left behind.
    expect(readdirSync(path.join(cache, "xstest")).sort()).toEqual([MANIFEST, "xstest_prompts.csv"]);

    const again = await pullDataset(xstest, { cacheDir: cache, from: fileUrl(D("xstest")) });
    expect(again.files[0].status).toBe("cached");

    // A damaged cached file is noticed (sha differs from the manifest) and fetched again.
    writeFileSync(dest, "id,prompt\n");
    const repaired = await pullDataset(xstest, { cacheDir: cache, from: fileUrl(D("xstest")) });
    expect(repaired.files[0].status).toBe("downloaded");
    expect(fileSha256(dest)).toBe(xstest.info.files[0].sha256);
  });

  it("a checksum mismatch fails and writes nothing under the real name", async () => {
    const mirror = tmp();
    cpSync(D("multijail"), mirror, { recursive: true });
    const f = path.join(mirror, "MultiJail.csv");
    writeFileSync(f, `${readFileSync(f, "utf8")}`.replace("What", "Whot"));
    const cache = tmp();
    await expect(pullDataset(multijail, { cacheDir: cache, from: fileUrl(mirror) })).rejects.toThrow(
      /multijail: checksum mismatch for MultiJail\.csv from file:.*expected sha256 2798ed6f.*nothing was written/,
    );
    expect(readdirSync(path.join(cache, "multijail"))).toEqual([]);
    // --no-verify accepts it (and the loader still validates the content).
    const r = await pullDataset(multijail, { cacheDir: cache, from: fileUrl(mirror), verify: false });
    expect(r.rows).toBe(3150);
  });

  it("a checksum mismatch on a file from a moving branch says so: dataset, URL, both checksums, how to override", async () => {
    // HarmBench's URLs are on `main` (no upstream revision could be verified: sources.yaml); when upstream changes the
    // file, the error must say the URL is unpinned rather than look like a corrupt download.
    const f = harmbench.info.files[0];
    expect(f.url).toMatch(/\/HarmBench\/main\//);
    expect(f.moving).toBeTruthy();
    const body = `${readFileSync(path.join(D("harmbench"), f.name), "utf8")}`.replace("Give", "Gave");
    const fakeFetch = (async (url: string | URL | Request) => {
      expect(String(url)).toBe(f.url);
      return new Response(body, { status: 200 });
    }) as typeof fetch;
    const cache = tmp();
    const err = await pullDataset(harmbench, { cacheDir: cache, fetchImpl: fakeFetch }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    const msg = (err as Error).message;
    expect(msg).toContain(`harmbench: checksum mismatch for ${f.name} from ${f.url}`);
    expect(msg).toContain(`expected sha256 ${f.sha256}, got `);
    expect(msg).toMatch(/moving branch, not a pinned revision/);
    expect(msg).toContain(f.moving);
    expect(msg).toMatch(/--no-verify/);
    expect(msg).toMatch(/--from/);
    expect(readdirSync(path.join(cache, "harmbench"))).toEqual([]);
  });

  it("a pinned file's checksum mismatch does not claim a moving branch", async () => {
    const mirror = tmp();
    cpSync(D("multijail"), mirror, { recursive: true });
    const f = path.join(mirror, "MultiJail.csv");
    writeFileSync(f, `${readFileSync(f, "utf8")}`.replace("What", "Whot"));
    await expect(pullDataset(multijail, { cacheDir: tmp(), from: fileUrl(mirror) })).rejects.toThrow(
      /^(?![\s\S]*moving branch)[\s\S]*checksum mismatch/,
    );
  });

  it("a row-count failure of a file from a moving branch (no checksum) says the URL is unpinned", async () => {
    const mirror = tmp();
    cpSync(D("jailbreakbench"), mirror, { recursive: true });
    const f = path.join(mirror, "harmful-behaviors.csv");
    const lines = readFileSync(f, "utf8").trimEnd().split("\n");
    writeFileSync(f, `${lines.slice(0, -1).join("\n")}\n`);
    await expect(pullDataset(jailbreakbench, { cacheDir: tmp(), from: fileUrl(mirror) })).rejects.toThrow(
      /expected 200 rows, loaded 199[\s\S]*harmful-behaviors\.csv, benign-behaviors\.csv: registry URL on a moving branch, not a pinned revision/,
    );
  });

  it("a copy whose row count differs from the registry's fails, naming both counts, unless --no-verify", async () => {
    const mirror = tmp();
    cpSync(D("jailbreakbench"), mirror, { recursive: true });
    const f = path.join(mirror, "harmful-behaviors.csv");
    const lines = readFileSync(f, "utf8").trimEnd().split("\n");
    writeFileSync(f, `${lines.slice(0, -1).join("\n")}\n`); // upstream dropped a row (JBB's files are unpinned)
    const cache = tmp();
    await expect(pullDataset(jailbreakbench, { cacheDir: cache, from: fileUrl(mirror) })).rejects.toThrow(
      /^jailbreakbench: expected 200 rows, loaded 199 .*--no-verify/,
    );
    expect(readdirSync(path.join(cache, "jailbreakbench")).filter((n) => n.endsWith(".csv"))).toEqual([]);
    // the bad copy is not left behind as "cached" either: a second pull fails the same way
    await expect(pullDataset(jailbreakbench, { cacheDir: cache, from: fileUrl(mirror) })).rejects.toThrow(/loaded 199/);
    const r = await pullDataset(jailbreakbench, { cacheDir: cache, from: fileUrl(mirror), verify: false });
    expect(r.rows).toBe(199);
  });

  it("an unpinned file that does not parse is not kept as cached: the next pull downloads it again", async () => {
    // A gated or moved upstream file can come back as a 200 HTML page; with no pinned checksum only the loader
    // notices. The row-count failure removed what the pull downloaded, but a parse failure left the page in the cache
    // with its manifest entry, so every later pull reported it "cached" and failed the same way until --force.
    const mirror = tmp();
    cpSync(D("jailbreakbench"), mirror, { recursive: true });
    const f = path.join(mirror, "harmful-behaviors.csv");
    const good = readFileSync(f);
    writeFileSync(f, "<!doctype html><html><body>Sign in to continue</body></html>\n");
    const cache = tmp();
    await expect(pullDataset(jailbreakbench, { cacheDir: cache, from: fileUrl(mirror) })).rejects.toThrow(
      /harmful-behaviors\.csv:1: missing column/,
    );
    expect(readdirSync(path.join(cache, "jailbreakbench")).filter((n) => n.endsWith(".csv"))).toEqual([]);
    writeFileSync(f, good); // upstream is back
    const r = await pullDataset(jailbreakbench, { cacheDir: cache, from: fileUrl(mirror) });
    expect(r.rows).toBe(200);
    expect(r.files.map((x) => x.status)).toEqual(["downloaded", "downloaded"]);
  });

  it("a missing source file fails without leaving a partial file", async () => {
    const cache = tmp();
    await expect(pullDataset(xstest, { cacheDir: cache, from: fileUrl(tmp()) })).rejects.toThrow(
      /xstest_prompts\.csv: no such file/,
    );
    expect(readdirSync(path.join(cache, "xstest"))).toEqual([]);
  });

  it("files without a pinned checksum are recorded on first download (JBB)", async () => {
    const cache = tmp();
    const r = await pullDataset(jailbreakbench, { cacheDir: cache, from: fileUrl(D("jailbreakbench")) });
    expect(r.rows).toBe(200);
    expect(r.files.map((f) => f.status)).toEqual(["downloaded", "downloaded"]);
    expect(existsSync(path.join(cache, "jailbreakbench", MANIFEST))).toBe(true);
  });

  it("http sources go through fetch; HTTP errors name the URL; 5xx is retried", async () => {
    const body = readFileSync(path.join(D("xstest"), "xstest_prompts.csv"));
    let calls = 0;
    const fakeFetch = (async (url: string | URL | Request) => {
      calls++;
      expect(String(url)).toBe(xstest.info.files[0].url);
      if (calls === 1) return new Response("busy", { status: 503, statusText: "Service Unavailable" });
      return new Response(body, { status: 200, headers: { "content-length": String(body.length) } });
    }) as typeof fetch;
    const cache = tmp();
    const r = await pullDataset(xstest, { cacheDir: cache, fetchImpl: fakeFetch });
    expect(calls).toBe(2);
    expect(r.rows).toBe(450);

    const notFound = (async () => new Response("", { status: 404, statusText: "Not Found" })) as typeof fetch;
    await expect(pullDataset(xstest, { cacheDir: tmp(), fetchImpl: notFound })).rejects.toThrow(
      `${xstest.info.files[0].url}: HTTP 404 Not Found`,
    );
  });

  it("sourceUrl: --from replaces the URL with <from>/<file name>", () => {
    const f = { name: "a b.csv", url: "https://example.org/x/a%20b.csv" };
    expect(sourceUrl(f)).toBe(f.url);
    expect(sourceUrl(f, "file:///mirror")).toBe("file:///mirror/a%20b.csv");
  });
});
