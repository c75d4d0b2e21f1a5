import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { JsonlDirSink, MemorySink } from "./sink.ts";
import { record } from "./testing/fixtures.ts";

const dirs: string[] = [];
function tmp(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), "bf-sink-"));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

describe("results sinks", () => {
  it("memory sink never duplicates a key", async () => {
    const s = new MemorySink();
    await s.putMany([record("a", true), record("a", false)]);
    expect((await s.listRun("run")).map((r) => r.outcome)).toEqual([true]);
  });

  it("JSONL sink persists, reopens, and does not append a stored key twice", async () => {
    const dir = tmp();
    const s1 = new JsonlDirSink(dir);
    await s1.putMany([record("a", true), record("b", false)]);
    await s1.putMany([record("a", true)]);
    const s2 = new JsonlDirSink(dir);
    expect((await s2.listRun("run")).map((r) => r.itemKey)).toEqual(["a", "b"]);
    const got = await s2.getMany(["k-a-run", "k-zzz"], "run");
    expect([...got.keys()]).toEqual(["k-a-run"]);
    expect(fs.readFileSync(s2.runFile("run"), "utf8").trim().split("\n")).toHaveLength(2);
    expect(s2.listRunIds()).toEqual(["run"]);
  });

  it("cuts off a torn last line left by a kill, so the item is simply redone", async () => {
    const dir = tmp();
    const s1 = new JsonlDirSink(dir);
    await s1.putMany([record("a", true)]);
    fs.appendFileSync(s1.runFile("run"), '{"key":"k-b-run","runId":"run","outc');
    const s2 = new JsonlDirSink(dir);
    expect((await s2.listRun("run")).map((r) => r.itemKey)).toEqual(["a"]);
    await s2.putMany([record("b", false)]);
    const s3 = new JsonlDirSink(dir);
    expect((await s3.listRun("run")).map((r) => r.itemKey)).toEqual(["a", "b"]);
  });

  it("names the file and line of a corrupt record", async () => {
    const dir = tmp();
    const s1 = new JsonlDirSink(dir);
    await s1.putMany([record("a", true)]);
    fs.appendFileSync(s1.runFile("run"), "not json\n");
    await expect(new JsonlDirSink(dir).listRun("run")).rejects.toThrow(/run\.jsonl:2: not valid JSON/);
  });

  it("resolves run references by unique prefix and rejects ambiguous or unknown ones", async () => {
    const s = new JsonlDirSink(tmp());
    await s.putMany([
      record("a", true, { runId: "xstest@v1-aaaa" }),
      record("a", true, { runId: "xstest@v1-aabb" }),
      record("a", true, { runId: "harmbench@v1-cccc" }),
    ]);
    expect(s.resolveRun("harm")).toBe("harmbench@v1-cccc");
    expect(s.resolveRun("xstest@v1-aabb")).toBe("xstest@v1-aabb");
    expect(() => s.resolveRun("xstest@v1-aa")).toThrow(/ambiguous/);
    expect(() => s.resolveRun("nope")).toThrow(/no run 'nope'/);
    expect(() => s.runFile("../escape")).toThrow(/invalid run id/);
  });
});
