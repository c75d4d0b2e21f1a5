/**
 * The break step is a function of the config and the model's weights, not of where the workspace lies: the demo
 * scenario's round-1 campaigns (both personas, single- and multi-turn, through llama.cpp on the committed organism)
 * run in two fresh workspaces must store the same attack records (ids, conversations, answers, judgements) and keep
 * the same findings. Session 13 found two identical `breakfix cycle` runs 56 findings apart: the round model's id held
 * the workspace's GGUF path, and attack ids and the seeds drawn from them hash that id.
 *
 * The target decodes one sequence at a time (`target.sequences: 1`, `target.concurrency: 1`): llama.cpp's batched
 * decoding is not batch-invariant (a row's logits move in the last bits with the batch it shares, so a near tie can
 * break either way), and with 16 sequences which requests share a batch depends on timing. That made this test fail
 * in 2 of about 6 clean-clone CI runs (sessions 21-22: one answer of 120 differed, a Spanish ask decoded to one
 * placeholder or another). One request at a time, in the order the campaign issues them, every answer is a function
 * of its prompt and the cached prefix the single slot holds, and both are the same in every workspace.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { budgetsFromConfig } from "../cli/commands/cycle.action.ts";
import { parseConfig } from "../config/load.ts";
import { breakStep } from "../cycle/break.ts";
import { scenarioFromConfig } from "../cycle/from-config.ts";
import { SqliteCampaignStore } from "../redteam/campaign/sqlite-store.ts";
import type { AttackRecord } from "../redteam/campaign/types.ts";
import { Store } from "../store/store.ts";
import { registerWorldPlugin } from "./plugin.ts";

registerWorldPlugin();

/** The demo scenario, its target decoding one request at a time (see above). */
const SERIAL_TARGET = "extends: demo\ntarget:\n  sequences: 1\n  concurrency: 1\n";

/** Attacks per persona: enough for every persona's technique families, multi-turn included. */
const ATTACKS = 60;

async function roundOneBreak(folder: string) {
  const cfg = parseConfig(SERIAL_TARGET, path.join(folder, "breakfix.yaml"), folder);
  const workspace = cfg.workspace;
  const budgets = budgetsFromConfig(cfg);
  const store = Store.open(workspace);
  const scenario = await scenarioFromConfig(cfg, { store, workspace, log: () => {} });
  const target = await scenario.models.open({ ref: scenario.models.base, adapters: [] }, 0);
  try {
    const res = await breakStep(target, {
      store,
      redteam: scenario.redteam,
      config: cfg,
      round: 1,
      seed: cfg.training.seed * 1000 + 1,
      personas: budgets.personas,
      seedsPerCategory: budgets.seedsPerCategory,
      maxAttacksPerPersona: ATTACKS,
      maxTokens: budgets.maxTokens,
      log: () => {},
    });
    const campaigns = new SqliteCampaignStore(store);
    const records = res.campaigns.flatMap((c) =>
      (campaigns.getCampaign(c.id)?.recordIds ?? []).map((id) => campaigns.getRecord(id) as AttackRecord),
    );
    return { targetId: target.model.id, campaigns: res.campaigns, records };
  } finally {
    await target.model.close?.();
    await scenario.close();
    store.close();
  }
}

describe("the demo break step", () => {
  it("sends the same attacks, gets the same answers and keeps the same findings in two workspaces", async () => {
    const root = mkdtempSync(path.join(tmpdir(), "break-repro-"));
    const a = await roundOneBreak(path.join(root, "a"));
    const b = await roundOneBreak(path.join(root, "b"));
    expect(a.targetId).not.toContain(root);
    expect(b.targetId).toBe(a.targetId);
    expect(a.campaigns.map((c) => c.persona)).toEqual(["low_skilled", "intermediate"]);
    expect(a.records.length).toBe(2 * ATTACKS);
    const multiTurn = a.records.filter((r) => r.multiTurn).length;
    expect(multiTurn).toBeGreaterThan(0);
    expect(a.records.filter((r) => r.success).length).toBeGreaterThan(0);
    // Record for record: the same ids in the same order, and the same content.
    expect(b.records.map((r) => r.id)).toEqual(a.records.map((r) => r.id));
    expect(b.records).toEqual(a.records);
    expect(b.campaigns.map((c) => c.findings)).toEqual(a.campaigns.map((c) => c.findings));
    process.stdout.write(
      `break step in two workspaces: ${a.records.length} records (${multiTurn} multi-turn, ` +
        `${a.records.filter((r) => r.success).length} successes), ` +
        `${a.campaigns.reduce((n, c) => n + c.findings.length, 0)} findings, identical\n`,
    );
  }, 300_000);
});
