import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { defaultDatasetsDir, sharedDatasetsDir } from "./paths.ts";

const dir = mkdtempSync(path.join(tmpdir(), "bf-paths-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("defaultDatasetsDir: the one rule for the datasets folder every command reads", () => {
  it("the config's dataCache wherever it exists (what `data pull` filled, with or without a breakfix.yaml), else the shared copy", () => {
    expect(defaultDatasetsDir(dir)).toBe(dir);
    expect(defaultDatasetsDir(path.join(dir, "not-pulled"))).toBe(sharedDatasetsDir());
  });
});
