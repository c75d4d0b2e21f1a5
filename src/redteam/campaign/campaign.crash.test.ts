/**
 * A campaign killed with SIGKILL midway (a real child process writing to the SQLite workspace store) and re-run
 * yields exactly the findings of an uninterrupted run, with no duplicate records.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { Store } from "../../store/store.ts";
import { loadCampaignResults } from "./campaign.ts";
import { CAMPAIGN_KIND, RECORD_KIND, SqliteCampaignStore } from "./sqlite-store.ts";

const CHILD = path.resolve(import.meta.dirname, "../testing/campaign-child.ts");
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function tmp(): string {
  const d = mkdtempSync(path.join(tmpdir(), "redteam-crash-"));
  dirs.push(d);
  return d;
}

function runChild(
  dir: string,
  delayMs: number,
  killAfterRecords?: number,
): Promise<{ code: number | null; signal: string | null; stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", CHILD, dir, String(delayMs)], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (b) => {
      stdout += b;
    });
    child.stderr.on("data", (b) => {
      stderr += b;
    });
    let timer: NodeJS.Timeout | undefined;
    if (killAfterRecords !== undefined) {
      timer = setInterval(() => {
        let n = 0;
        try {
          const s = Store.open(dir, { readonly: true });
          n = s.artifacts.list(RECORD_KIND).length;
          s.close();
        } catch {
          return; // database not created yet
        }
        if (n >= killAfterRecords) {
          clearInterval(timer);
          child.kill("SIGKILL");
        }
      }, 20);
    }
    child.on("error", reject);
    child.on("exit", (code, signal) => {
      if (timer) clearInterval(timer);
      if (code !== 0 && signal !== "SIGKILL") reject(new Error(`child failed (${code}): ${stderr}`));
      else resolve({ code, signal, stdout });
    });
  });
}

describe("campaign crash safety", () => {
  it("SIGKILL midway + re-run gives the uninterrupted run's findings and no duplicates", async () => {
    const clean = tmp();
    const first = await runChild(clean, 0);
    const summary = JSON.parse(first.stdout.trim()) as { campaign: string; total: number; complete: boolean };
    expect(summary.complete).toBe(true);

    const crashed = tmp();
    const killed = await runChild(crashed, 40, 10);
    expect(killed.signal).toBe("SIGKILL");
    const mid = Store.open(crashed, { readonly: true });
    const partial = mid.artifacts.list(RECORD_KIND).length;
    mid.close();
    expect(partial).toBeGreaterThanOrEqual(10);
    expect(partial).toBeLessThan(summary.total);

    const again = await runChild(crashed, 0);
    const s2 = JSON.parse(again.stdout.trim()) as {
      campaign: string;
      ran: number;
      fromStore: number;
      total: number;
      complete: boolean;
    };
    expect(s2.campaign).toBe(summary.campaign);
    expect(s2.complete).toBe(true);
    expect(s2.fromStore).toBe(partial);
    expect(s2.ran).toBe(summary.total - partial);

    const a = Store.open(clean, { readonly: true });
    const b = Store.open(crashed, { readonly: true });
    const ra = loadCampaignResults(new SqliteCampaignStore(a), summary.campaign);
    const rb = loadCampaignResults(new SqliteCampaignStore(b), summary.campaign);
    expect(rb.missing).toBe(0);
    expect(rb.identified).toEqual(ra.identified);
    expect(rb.identified.vulnerabilities.length).toBeGreaterThan(0);
    // No duplicates anywhere: one record, attack, response and judgement per planned attack; one manifest.
    for (const s of [a, b]) {
      expect(s.artifacts.list(RECORD_KIND)).toHaveLength(summary.total);
      expect(s.artifacts.list(CAMPAIGN_KIND)).toHaveLength(1);
      expect(s.attacks.count()).toBe(summary.total);
      expect(s.responses.count()).toBe(summary.total);
      expect(s.judgements.count()).toBe(summary.total);
      expect(s.findings.count({ run_id: summary.campaign })).toBe(ra.identified.findings.length);
      expect(s.vulnerabilities.count({ run_id: summary.campaign })).toBe(ra.identified.vulnerabilities.length);
    }
    a.close();
    b.close();
  });
});
