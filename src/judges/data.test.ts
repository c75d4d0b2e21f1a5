import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { defaultDataPath, loadCalibrationData } from "./data.ts";

const cwd = process.cwd();
const dir = mkdtempSync(path.join(tmpdir(), "bf-judge-data-"));
afterAll(() => {
  process.chdir(cwd);
  rmSync(dir, { recursive: true, force: true });
});

describe("calibration data: reviews are read from a workspace the caller names", () => {
  it("no code path silently reads ./.breakfix: reviews have no default folder", () => {
    process.chdir(dir);
    expect(() => defaultDataPath("reviews")).toThrow(/'reviews' is read from a workspace store/);
    expect(() => loadCalibrationData("reviews")).toThrow(/'reviews' is read from a workspace store/);
    expect(defaultDataPath("xstest")).toMatch(/xstest/);
  });
});
