/**
 * The training folder's lock (OUT/.lock) and a reused pid: a lock file naming this process's pid with a token this
 * process never took was left by an earlier process that had the same pid (node as PID 1 in a restarted container);
 * it is taken over, while a lock this process holds still makes a second taker wait.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { LOCK_FILE, lockOutputFolder } from "./identity.ts";

const dir = mkdtempSync(join(tmpdir(), "bf-folder-lock-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("lockOutputFolder and a reused pid", () => {
  it("takes over a lock with this pid and an unknown token; a lock this process holds makes others wait", async () => {
    const file = join(dir, LOCK_FILE);
    writeFileSync(file, JSON.stringify({ pid: process.pid, host: hostname(), at: "2020-01-01", token: "dead" }));
    const release = await Promise.race([
      lockOutputFolder(dir, { pollMs: 10 }),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error("waited on a stale lock")), 1000)),
    ]);
    expect(JSON.parse(readFileSync(file, "utf8")).token).not.toBe("dead");
    let waited = 0;
    const second = lockOutputFolder(dir, { pollMs: 10, onWait: () => waited++ });
    await new Promise((r) => setTimeout(r, 100));
    expect(waited).toBe(1);
    release();
    const releaseSecond = await second;
    releaseSecond();
  });
});
