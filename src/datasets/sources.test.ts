/**
 * The download registry (sources.yaml): every file `data pull` fetches is pinned to an immutable revision (a git
 * commit for GitHub raw URLs, a commit for Hugging Face `resolve/` URLs) or is an explicit exception there (`moving:`
 * with the reason), and the reviewed copies in ../shared/datasets are the files the registry's checksums describe.
 */
import path from "node:path";
import { describe, expect, it } from "vitest";
import { fileSha256 } from "../domain/file-hash.ts";
import { sharedDatasetsDir } from "./paths.ts";
import { folderOf, LOADERS } from "./registry.ts";
import { isPinnedUrl, registryEntries, sourceOf } from "./sources.ts";

const shared = (folder: string, name: string) => path.join(sharedDatasetsDir(), folder, ...name.split("/"));

describe("dataset sources (sources.yaml)", () => {
  it("isPinnedUrl: a 40-hex commit in a GitHub raw or Hugging Face resolve URL; branches and tags are not", () => {
    const sha = "d7bb5bd738c1fcbc36edd83d5e7d1b71a3e2d84d";
    expect(isPinnedUrl(`https://raw.githubusercontent.com/o/r/${sha}/a/b.csv`)).toBe(true);
    expect(isPinnedUrl(`https://huggingface.co/datasets/o/r/resolve/${sha}/data/x.csv`)).toBe(true);
    expect(isPinnedUrl("https://raw.githubusercontent.com/o/r/main/a.csv")).toBe(false);
    expect(isPinnedUrl("https://raw.githubusercontent.com/o/r/master/a.csv")).toBe(false);
    expect(isPinnedUrl("https://raw.githubusercontent.com/o/r/v1.0/a.csv")).toBe(false);
    expect(isPinnedUrl("https://huggingface.co/datasets/o/r/resolve/main/data/x.csv")).toBe(false);
    expect(isPinnedUrl(`https://example.org/${sha}/x.csv`)).toBe(false);
    expect(isPinnedUrl(`https://raw.githubusercontent.com/o/r/${sha.slice(0, 12)}/a.csv`)).toBe(false);
  });

  it("every registered file comes from sources.yaml: pinned to a commit, or an explicit exception with a reason", () => {
    for (const l of LOADERS) {
      for (const f of l.info.files) {
        const s = sourceOf(folderOf(l.info.name), f.name);
        expect(f.url, `${l.info.name}/${f.name}`).toBe(s.url);
        expect(f.sha256, `${l.info.name}/${f.name}`).toBe(s.sha256);
        if (isPinnedUrl(f.url)) expect(s.moving, `${l.info.name}/${f.name} is pinned`).toBeUndefined();
        else expect(s.moving, `${l.info.name}/${f.name}: ${f.url} is a moving branch`).toMatch(/^.{20,}$/);
        expect(f.moving).toBe(s.moving);
      }
    }
  });

  it("the exceptions are exactly the files no upstream revision could be verified for", () => {
    const moving = registryEntries()
      .filter((e) => e.moving)
      .map((e) => `${e.folder}/${e.name}`);
    expect(moving.sort()).toEqual([
      "do-not-answer/do_not_answer_en.csv",
      "harmbench/harmbench_behaviors_text_all.csv",
      "harmbench/harmbench_behaviors_text_test.csv",
      "harmbench/harmbench_behaviors_text_val.csv",
      "harmbench/harmbench_targets_text.json",
      "jailbreakbench/benign-behaviors.csv",
      "jailbreakbench/harmful-behaviors.csv",
      "strongreject/strongreject_dataset.csv",
      "strongreject/strongreject_small_dataset.csv",
    ]);
  });

  it("every entry is used by a loader (no stale rows in sources.yaml)", () => {
    const used = new Set(LOADERS.flatMap((l) => l.info.files.map((f) => `${folderOf(l.info.name)}/${f.name}`)));
    expect(
      registryEntries()
        .map((e) => `${e.folder}/${e.name}`)
        .filter((k) => !used.has(k)),
    ).toEqual([]);
  });

  it("the reviewed shared copy of every file with a recorded checksum is that file", () => {
    for (const e of registryEntries()) {
      if (e.sha256) expect(fileSha256(shared(e.folder, e.name)), `${e.folder}/${e.name}`).toBe(e.sha256);
    }
  });

  it("every pinned file records the fetched revision it was verified at: the URL's commit, the recorded sha256", () => {
    for (const e of registryEntries().filter((x) => isPinnedUrl(x.url))) {
      const key = `${e.folder}/${e.name}`;
      expect(e.verified, key).toBeDefined();
      expect(e.url, key).toContain(`/${e.verified?.commit}/`);
      expect(e.verified?.sha256, key).toBe(e.sha256);
    }
  });

  it("HarmBench and StrongREJECT: the shared copy is the file at a recorded revision of a fetched repository", () => {
    // No upstream copy could be fetched (their URLs stay on main), so each records where the reviewed copy was
    // verified instead: the sha256 of `git show <commit>:<path>` there.
    for (const e of registryEntries().filter((x) => x.folder === "harmbench" || x.folder === "strongreject")) {
      const key = `${e.folder}/${e.name}`;
      expect(e.verified, key).toBeDefined();
      expect(e.verified?.commit, key).toMatch(/^[0-9a-f]{40}$/);
      expect(fileSha256(shared(e.folder, e.name)), key).toBe(e.verified?.sha256);
      if (e.sha256) expect(e.verified?.sha256, key).toBe(e.sha256);
    }
  });
});
