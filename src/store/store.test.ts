import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { contentHash, type Probe } from "../domain/index.ts";
import { pidStartTime } from "../domain/shell.ts";
import { MIGRATIONS, SCHEMA_VERSION } from "./migrations.ts";
import { DB_FILENAME, keyHash, migrate, Store } from "./store.ts";

const probe = (i: number): Probe => ({
  id: `t:${i}`,
  prompt: `prompt ${i}`,
  category: "S2",
  label: "unsafe",
  language: "en",
  source: "test",
  license: "MIT",
});

function tmp(): string {
  return mkdtempSync(path.join(tmpdir(), "bf-store-"));
}

describe("Store", () => {
  it("creates <workspace>/breakfix.db in WAL mode with all migrations recorded", () => {
    const dir = path.join(tmp(), ".breakfix");
    const s = Store.open(dir);
    expect(s.db.name).toBe(path.join(dir, DB_FILENAME));
    expect(s.journalMode()).toBe("wal");
    expect(s.schemaVersion()).toBe(SCHEMA_VERSION);
    const rows = s.db.prepare("SELECT version, name FROM schema_migrations").all();
    expect(rows).toEqual(MIGRATIONS.map((m) => ({ version: m.version, name: m.name })));
    s.close();
    // Reopening applies nothing twice.
    const s2 = Store.open(dir);
    expect(s2.db.prepare("SELECT COUNT(*) AS n FROM schema_migrations").get()).toEqual({ n: MIGRATIONS.length });
    s2.close();
  });

  it("refuses a database written by a newer schema", () => {
    const file = path.join(tmp(), "x.db");
    const db = new Database(file);
    migrate(db);
    db.prepare("INSERT INTO schema_migrations VALUES (?, 'future', 'now')").run(SCHEMA_VERSION + 1);
    db.close();
    expect(() => Store.openFile(file)).toThrow(
      new RegExp(`schema version ${SCHEMA_VERSION + 1} but this breakfix knows only up to ${SCHEMA_VERSION}`),
    );
  });

  it("keys records by the content hash of their producer and never overwrites", () => {
    const s = Store.openFile(":memory:");
    const producer = { model: "m", conversation: [{ role: "user", content: "hi" }], seed: 1 };
    const resp = {
      id: "r1",
      model: "m",
      conversation: [{ role: "user" as const, content: "hi" }],
      content: "hello",
      finishReason: "stop" as const,
    };
    const a = s.responses.put(producer, resp, { runId: "run1", round: 0 });
    expect(a).toEqual({ hash: contentHash(producer), inserted: true });
    // Same producer with keys in another order: same hash, skipped, old value kept.
    const b = s.responses.put(
      { seed: 1, conversation: producer.conversation, model: "m" },
      { ...resp, content: "other" },
    );
    expect(b).toEqual({ hash: a.hash, inserted: false });
    expect(s.responses.get(producer)?.content).toBe("hello");
    expect(s.responses.getRecord({ hash: a.hash })).toMatchObject({ runId: "run1", round: 0, value: resp });
    expect(s.responses.count()).toBe(1);
    expect(s.responses.count({ model: "m" })).toBe(1);
    expect(s.responses.count({ model: "x" })).toBe(0);
    s.close();
  });

  it("putMany is atomic: an invalid record rolls back the whole batch", () => {
    const s = Store.openFile(":memory:");
    const good = [0, 1, 2].map((i) => ({ key: { probe: i }, value: probe(i) }));
    expect(s.probes.putMany(good)).toMatchObject({ inserted: 3, skipped: 0 });
    const bad = { key: { probe: 99 }, value: { ...probe(99), category: "nope" } as unknown as Probe };
    const more = [3, 4].map((i) => ({ key: { probe: i }, value: probe(i) }));
    expect(() => s.probes.putMany([...more, bad])).toThrow(/store: probes: invalid record: category/);
    expect(s.probes.count()).toBe(3);
    expect(s.probes.putMany([...good, ...more])).toMatchObject({ inserted: 2, skipped: 3 });
    expect(s.probes.list({ category: "S2" }).map((r) => r.value.id)).toEqual(["t:0", "t:1", "t:2", "t:3", "t:4"]);
    expect(s.probes.list({}, { limit: 2, offset: 1 }).map((r) => r.value.id)).toEqual(["t:1", "t:2"]);
    expect(() => s.probes.list({ nosuch: 1 } as never)).toThrow(/no filter column 'nosuch'/);
    s.close();
  });

  it("links records to their parent and run", () => {
    const s = Store.openFile(":memory:");
    const p = s.probes.put({ probe: 1 }, probe(1));
    s.attacks.put(
      { attack: 1 },
      {
        id: "a1",
        probeId: "t:1",
        persona: "low_skilled",
        chain: [{ kind: "converter", name: "base64" }],
        family: "encoding",
        language: "en",
        conversation: [{ role: "user", content: "x" }],
        seed: 0,
      },
      { parentHash: p.hash, runId: "r", round: 1 },
    );
    expect(s.attacks.list({ parent_hash: p.hash, round: 1 }).map((r) => r.value.id)).toEqual(["a1"]);
    expect(s.attacks.count({ family: "encoding", run_id: "r" })).toBe(1);
    s.close();
  });

  it("response cache: first write wins", () => {
    const s = Store.openFile(":memory:");
    const key = s.cache.keyOf({ model: "m", prompt: "p" });
    expect(s.cache.get(key)).toBeUndefined();
    expect(s.cache.put(key, { content: "a" }, "m")).toBe(true);
    expect(s.cache.put(key, { content: "b" }, "m")).toBe(false);
    expect(s.cache.get(key)).toEqual({ content: "a" });
    expect(s.cache.count()).toBe(1);
    s.close();
  });

  it("artifacts and the append-only state log", () => {
    const s = Store.openFile(":memory:");
    expect(s.artifacts.put("report", { round: 1 }, { html: "x" }, "run1").inserted).toBe(true);
    expect(s.artifacts.put("report", { round: 1 }, { html: "y" }).inserted).toBe(false);
    expect(s.artifacts.put("plot", { round: 1 }, { svg: "z" }).inserted).toBe(true);
    expect(s.artifacts.get("report", { round: 1 })).toEqual({ html: "x" });
    expect(s.artifacts.list("report", "run1").map((a) => a.value)).toEqual([{ html: "x" }]);
    const h = keyHash({ train: 1 });
    s.states.set("training_run", h, "running");
    s.states.set("training_run", h, "done", { loss: 0.5 });
    expect(s.states.current("training_run", h)).toMatchObject({ state: "done", detail: { loss: 0.5 } });
    expect(s.states.history("training_run", h).map((r) => r.state)).toEqual(["running", "done"]);
    s.close();
  });

  it("the database itself refuses UPDATE and DELETE of results", () => {
    const s = Store.openFile(":memory:");
    s.probes.put({ probe: 1 }, probe(1));
    s.cache.put("k", { a: 1 });
    expect(() => s.db.prepare("UPDATE probes SET label = 'safe'").run()).toThrow(
      "breakfix store: probes is append-only (UPDATE refused)",
    );
    expect(() => s.db.prepare("DELETE FROM probes").run()).toThrow(
      "breakfix store: probes is append-only (DELETE refused)",
    );
    expect(() => s.db.prepare("UPDATE cache SET value = '{}'").run()).toThrow(/cache is append-only/);
    expect(s.probes.count()).toBe(1);
    s.close();
  });

  it("a precomputed { hash } key is used verbatim", () => {
    const h = contentHash("x");
    expect(keyHash({ hash: h })).toBe(h);
    expect(keyHash({ hash: "short" })).toBe(contentHash({ hash: "short" }));
  });

  it("readonly open does not create or migrate", () => {
    expect(() => Store.open(path.join(tmp(), "missing"), { readonly: true })).toThrow();
  });

  it("runs: the same kind/config/args resume the same run; states are appended", () => {
    const s = Store.openFile(":memory:");
    const a = s.beginRun("redteam", { configHash: "c1", args: { round: 1 } });
    expect(a).toMatchObject({ resumed: false, previousState: undefined });
    expect(s.runState(a.runId)).toBe("running");
    s.endRun(a.runId, "failed", { error: "killed" });
    const b = s.beginRun("redteam", { configHash: "c1", args: { round: 1 } });
    expect(b).toEqual({ runId: a.runId, resumed: true, previousState: "failed" });
    s.endRun(b.runId, "done");
    expect(s.states.history("run", a.runId).map((h) => h.state)).toEqual(["running", "failed", "running", "done"]);
    expect(s.beginRun("redteam", { configHash: "c2", args: { round: 1 } }).runId).not.toBe(a.runId);
    expect(s.runs.count({ kind: "redteam" })).toBe(2);
    s.close();
  });

  it("forWorkspace opens <config.workspace>/breakfix.db", () => {
    const dir = path.join(tmp(), "ws");
    const s = Store.forWorkspace({ workspace: dir });
    expect(s.db.name).toBe(path.join(dir, DB_FILENAME));
    s.close();
  });
});

describe("run locks: a reused pid", () => {
  it("a lock row with this process's pid but a token it never took is stale (pid reuse: PID 1 in a restarted container)", async () => {
    const ws = tmp();
    const a = Store.open(ws);
    const b = Store.open(ws);
    try {
      // left by a killed earlier process that had this process's pid
      a.db
        .prepare("INSERT INTO locks (name, pid, host, token, acquired_at) VALUES (?, ?, ?, ?, ?)")
        .run("cycle:x", process.pid, hostname(), "a-token-of-the-dead-process", "2020-01-01T00:00:00Z");
      const taken = await a.waitLock("cycle:x", { pollMs: 10, timeoutMs: 200 });
      expect(taken.stale).toBe(true);
      // a lock this process holds (through another Store) is live: the other waits
      expect(b.tryLock("cycle:x")).toMatchObject({ acquired: false, holder: { pid: process.pid } });
      taken.release();
      const again = b.tryLock("cycle:x");
      expect(again).toMatchObject({ acquired: true, lock: { stale: false } });
      if (again.acquired) again.lock.release();
      expect(b.lockHolder("cycle:x")).toBeUndefined();
    } finally {
      a.close();
      b.close();
    }
  });
});

describe("run locks: a dead holder's pid now run by another process", () => {
  it("is stale when the process with that pid started after the holder did; a live holder is still waited for", async () => {
    // Found by review: tryLock checked the pid alone, so after a crash (kill -9, a container restart) a lock whose pid
    // now belonged to any other process was taken for live, and every run of that cycle waited for good.
    const other = spawn("sleep", ["30"], { stdio: "ignore" });
    const ws = tmp();
    const a = Store.open(ws);
    try {
      const pid = other.pid as number;
      const start = pidStartTime(pid);
      expect(start).not.toBeNull();
      const leave = (name: string, pidStart: string | null) =>
        a.db
          .prepare("INSERT INTO locks (name, pid, pid_start, host, token, acquired_at) VALUES (?, ?, ?, ?, ?, ?)")
          .run(name, pid, pidStart, hostname(), "the-holder's-token", "2020-01-01T00:00:00Z");
      // the holder started at another time: the live `sleep` only got its pid
      leave("cycle:reused", String(Number(start) - 1));
      const taken = await a.waitLock("cycle:reused", { pollMs: 10, timeoutMs: 200 });
      expect(taken.stale).toBe(true);
      taken.release();
      // the holder is that very process: live, waited for
      leave("cycle:live", start);
      expect(a.tryLock("cycle:live")).toMatchObject({ acquired: false, holder: { pid } });
      // a row written before start times were recorded: the pid alone decides, as it did
      leave("cycle:old-row", null);
      expect(a.tryLock("cycle:old-row")).toMatchObject({ acquired: false, holder: { pid } });
      // this process's own lock records its start time
      const mine = a.tryLock("cycle:mine");
      expect(a.db.prepare("SELECT pid_start FROM locks WHERE name = 'cycle:mine'").get()).toEqual({
        pid_start: pidStartTime(process.pid),
      });
      if (mine.acquired) mine.lock.release();
    } finally {
      other.kill();
      a.close();
    }
  });

  it("a version-4 workspace with a held lock migrates to version 5 keeping the lock", () => {
    const file = path.join(tmp(), DB_FILENAME);
    const db = new Database(file);
    migrate(
      db,
      MIGRATIONS.filter((m) => m.version <= 4),
    );
    db.prepare("INSERT INTO locks (name, pid, host, token, acquired_at) VALUES (?, ?, ?, ?, ?)").run(
      "cycle:held",
      process.pid,
      hostname(),
      "t",
      "2020-01-01T00:00:00Z",
    );
    db.close();
    const s = Store.openFile(file);
    try {
      expect(s.schemaVersion()).toBe(SCHEMA_VERSION);
      expect(s.db.prepare("SELECT name, pid, pid_start FROM locks").all()).toEqual([
        { name: "cycle:held", pid: process.pid, pid_start: null },
      ]);
      expect(migrate(s.db)).toBe(SCHEMA_VERSION); // applied once: a second open adds nothing
      expect(s.db.prepare("SELECT COUNT(*) AS n FROM schema_migrations").get()).toEqual({ n: MIGRATIONS.length });
    } finally {
      s.close();
    }
  });
});
