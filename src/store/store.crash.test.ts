import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { MIGRATIONS } from "./migrations.ts";
import { Store } from "./store.ts";

const WRITER = path.join(import.meta.dirname, "testing", "crash-writer.ts");
const BATCHES = 6;
const SIZE = 40;

function startWriter(
  dir: string,
  delayMs: number,
  holdBatch = -1,
): { child: ChildProcess; lines: string[]; exited: Promise<number | null> } {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", WRITER, dir, String(BATCHES), String(SIZE), String(delayMs), String(holdBatch)],
    {
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  const lines: string[] = [];
  let buf = "";
  let err = "";
  child.stdout?.setEncoding("utf8").on("data", (d: string) => {
    buf += d;
    const parts = buf.split("\n");
    buf = parts.pop() ?? "";
    lines.push(...parts);
    child.emit("lines");
  });
  child.stderr?.setEncoding("utf8").on("data", (d: string) => {
    err += d;
  });
  const exited = new Promise<number | null>((resolve) =>
    child.on("exit", (code) => {
      if (code !== 0 && code !== null) process.stderr.write(err);
      resolve(code);
    }),
  );
  return { child, lines, exited };
}

function waitForLine(w: ReturnType<typeof startWriter>, line: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const check = () => {
      if (w.lines.includes(line)) {
        w.child.off("lines", check);
        resolve();
      }
    };
    w.child.on("lines", check);
    w.exited.then(() => reject(new Error(`writer exited before printing '${line}': ${w.lines.join(" | ")}`)));
    check();
  });
}

function batchCounts(store: Store): Map<number, number> {
  const counts = new Map<number, number>();
  for (const r of store.responses.iterate()) {
    const b = Number(r.value.id.split("-")[1]);
    counts.set(b, (counts.get(b) ?? 0) + 1);
  }
  return counts;
}

describe("store crash safety (real child process, SIGKILL)", () => {
  it("a writer killed mid-batch leaves no partial batch and no duplicates; a re-run completes exactly", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "bf-crash-"));

    // 1. Start writing slowly; kill the process while it is inside batch 3's transaction.
    const w1 = startWriter(dir, 5, 3);
    await waitForLine(w1, "mid 3");
    w1.child.kill("SIGKILL");
    expect(await w1.exited).toBeNull();
    expect(w1.child.signalCode).toBe("SIGKILL");
    expect(w1.lines).toContain("committed 2 inserted=40 skipped=0");
    expect(w1.lines.some((l) => l.startsWith("committed 3"))).toBe(false);

    // 2. Reopen: exactly the committed batches 0-2, none of batch 3, no duplicates, a sound database.
    const s1 = Store.open(dir);
    expect(s1.db.pragma("integrity_check", { simple: true })).toBe("ok");
    expect(s1.journalMode()).toBe("wal");
    expect(s1.responses.count()).toBe(3 * SIZE);
    expect(s1.cache.count()).toBe(3 * SIZE);
    expect([...batchCounts(s1).entries()].sort()).toEqual([
      [0, SIZE],
      [1, SIZE],
      [2, SIZE],
    ]);
    const distinct = s1.db.prepare("SELECT COUNT(DISTINCT hash) AS n FROM responses").get() as { n: number };
    expect(distinct.n).toBe(3 * SIZE);
    s1.close();

    // 3. Re-run the same writer to completion: finished batches are skipped, the rest written once.
    const w2 = startWriter(dir, 0);
    expect(await w2.exited).toBe(0);
    expect(w2.lines.filter((l) => l.startsWith("committed"))).toEqual([
      "committed 0 inserted=0 skipped=40",
      "committed 1 inserted=0 skipped=40",
      "committed 2 inserted=0 skipped=40",
      "committed 3 inserted=40 skipped=0",
      "committed 4 inserted=40 skipped=0",
      "committed 5 inserted=40 skipped=0",
    ]);
    const s2 = Store.open(dir);
    expect(s2.responses.count()).toBe(BATCHES * SIZE);
    expect(s2.cache.count()).toBe(BATCHES * SIZE);
    expect([...batchCounts(s2).values()]).toEqual(Array(BATCHES).fill(SIZE));
    s2.close();

    // 4. A third run writes nothing.
    const w3 = startWriter(dir, 0);
    expect(await w3.exited).toBe(0);
    expect(w3.lines.filter((l) => l.includes("inserted=0 skipped=40")).length).toBe(BATCHES);
    const s3 = Store.open(dir);
    expect(s3.responses.count()).toBe(BATCHES * SIZE);
    s3.close();
  });

  it("concurrent writers on a fresh workspace: migrated once, every record written exactly once", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "bf-concurrent-"));
    const writers = [0, 1, 2].map(() => startWriter(dir, 0));
    const codes = await Promise.all(writers.map((w) => w.exited));
    expect(codes).toEqual([0, 0, 0]);
    const inserted = writers
      .flatMap((w) => w.lines)
      .filter((l) => l.startsWith("committed"))
      .reduce((n, l) => n + Number(/inserted=(\d+)/.exec(l)?.[1]), 0);
    expect(inserted).toBe(BATCHES * SIZE);
    const s = Store.open(dir);
    expect(s.responses.count()).toBe(BATCHES * SIZE);
    expect(s.db.prepare("SELECT COUNT(*) AS n FROM schema_migrations").get()).toEqual({ n: MIGRATIONS.length });
    s.close();
  });
});
