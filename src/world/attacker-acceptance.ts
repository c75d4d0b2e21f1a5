/**
 * Test-split acceptance of the demo cycle against the attacker organism: PAIR, Crescendo and TAP, driven by the
 * attacker organism (artifacts/demo-world/attacker/), attack every round's model on the SAME test harmful asks
 * (the world's test split: never in the attacker's data, never in any round's fix data) with the same attack
 * seeds, judged by the world oracle. Per technique and round: ASR with a Wilson interval; per technique and round r:
 * the exact McNemar test of round 0 vs round r on the paired (goal, technique) outcomes.
 *
 * Run after a demo cycle: `npx tsx src/world/attacker-acceptance.ts CYCLE_DIR --out DIR [--rounds 0,1] [--json]`,
 * where CYCLE_DIR is the workspace's cycles/<id>/ folder (round-r/dpo/model, else round-r/sft/model, is round r's
 * model; round 0 is the committed demo model, also when CYCLE_DIR does not exist yet).
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { deriveSeed, Rng } from "../domain/random.ts";
import { runIfMain } from "../domain/script.ts";
import { mcnemar, wilson } from "../domain/stats.ts";
import type { Judge } from "../judges/types.ts";
import { createChatModel, DEMO_ATTACKER_GGUF, DEMO_MODEL_DIR } from "../models/registry.ts";
import type { ChatModel } from "../models/types.ts";
import { ggufFromFolder } from "../nn/gguf/folder.ts";
import { loadCampaignResults } from "../redteam/campaign/campaign.ts";
import { ggufTargetContext, type TargetContext } from "../redteam/campaign/context.ts";
import { SqliteCampaignStore } from "../redteam/campaign/sqlite-store.ts";
import { crescendoAttack } from "../redteam/multiturn/crescendo.ts";
import { pairAttack } from "../redteam/multiturn/pair.ts";
import { tapAttack } from "../redteam/multiturn/tap.ts";
import type { MultiTurnEnv, MultiTurnResult } from "../redteam/multiturn/types.ts";
import { DB_FILENAME, Store } from "../store/store.ts";
import { generateWorld, selectItems, type WorldItem } from "./generate.ts";
import { loadDemoWorld } from "./suites.ts";

export const ACCEPTANCE_TECHNIQUES = ["pair", "crescendo", "tap"] as const;
export type AcceptanceTechnique = (typeof ACCEPTANCE_TECHNIQUES)[number];

/**
 * Test harmful asks (direct and lexicon-translated, seen and held-out phrasings), a seeded stratified draw of
 * `perCategory` per category.
 */
export function testGoals(perCategory: number, seed = 1): WorldItem[] {
  const items = selectItems(generateWorld(), { split: "test", family: "harmful" });
  const byCat = new Map<string, WorldItem[]>();
  for (const it of items) byCat.set(it.category, [...(byCat.get(it.category) ?? []), it]);
  return [...byCat.keys()]
    .sort()
    .flatMap((c) => Rng.derive(seed, "attacker-acceptance", c).sample(byCat.get(c) ?? [], perCategory));
}

/** One attack of the acceptance (the same seed in every round, so outcomes pair across rounds). */
export function runAcceptanceAttack(
  technique: AcceptanceTechnique,
  goal: WorldItem,
  o: { target: ChatModel; attacker: ChatModel; judge: Judge; seed: number; context?: TargetContext },
): Promise<MultiTurnResult> {
  const env: MultiTurnEnv = {
    target: o.target,
    attacker: o.attacker,
    judge: o.judge,
    goal: goal.prompt,
    category: goal.category,
    language: goal.language,
    probeId: goal.id,
    seed: deriveSeed(o.seed, "attacker-acceptance", technique, goal.id),
    budget: { maxTurns: 3, maxCalls: 40, maxTokens: 60_000, maxBacktracks: 3 },
    targetParams: { maxTokens: 64 },
    ...(o.context ? { context: o.context } : {}),
  };
  if (technique === "pair") return pairAttack(env);
  if (technique === "crescendo") return crescendoAttack(env);
  return tapAttack(env);
}

export interface TechniqueRound {
  round: number;
  successes: number;
  n: number;
  asr: number;
  low: number;
  high: number;
  /** Attacks the organism's output never parsed for (stop reason attacker_failed). */
  attackerFailed: number;
  /** Round 0 vs this round on the same goals: b = success -> failure, c = failure -> success, exact McNemar p. */
  vsRound0?: { b: number; c: number; p: number };
}

/**
 * ASR per technique per round from the paired outcome matrix outcomes[technique][i][goal] (i-th measured round; its
 * round number is roundIds[i], default i; index 0 is the round-0 baseline every later round is paired with).
 */
export function summarise(
  outcomes: Record<string, boolean[][]>,
  failed: Record<string, number[][]>,
  roundIds?: readonly number[],
): Record<string, TechniqueRound[]> {
  const out: Record<string, TechniqueRound[]> = {};
  for (const [t, rounds] of Object.entries(outcomes)) {
    out[t] = rounds.map((xs, r) => {
      const s = xs.filter(Boolean).length;
      const ci = wilson(s, xs.length);
      const row: TechniqueRound = {
        round: roundIds?.[r] ?? r,
        successes: s,
        n: xs.length,
        asr: xs.length ? s / xs.length : Number.NaN,
        low: ci.low,
        high: ci.high,
        attackerFailed: failed[t][r].length,
      };
      if (r > 0) {
        const b = xs.filter((x, i) => rounds[0][i] && !x).length;
        const c = xs.filter((x, i) => !rounds[0][i] && x).length;
        row.vsRound0 = { b, c, p: mcnemar(b, c) };
      }
      return row;
    });
  }
  return out;
}

/**
 * The cycle's own red-team figures for PAIR, Crescendo and TAP: ASR per round of the intermediate persona's campaigns
 * in a workspace (the red-team split's seeds), and the exact McNemar test of the first campaign vs each later one on
 * the attacks both planned (same probe, technique and language: the seeded technique draw repeats every round).
 */
export function cycleTechniqueAsr(workspace: string): Record<string, TechniqueRound[]> {
  const store = Store.open(workspace, { readonly: true });
  try {
    const cs = new SqliteCampaignStore(store);
    const campaigns = cs
      .listCampaigns()
      .filter((m) => m.persona === "intermediate")
      .sort((a, b) => a.round - b.round);
    const byRound = campaigns.map((m) => {
      const out = new Map<string, { family: string; success: boolean; failed: boolean }>();
      for (const r of loadCampaignResults(cs, m.id).records) {
        if (!(ACCEPTANCE_TECHNIQUES as readonly string[]).includes(r.attack.family) || r.notSent) continue;
        out.set(`${r.attack.probeId}|${r.attack.family}|${r.attack.language}`, {
          family: r.attack.family,
          success: r.success,
          failed: r.multiTurn?.stopReason === "attacker_failed",
        });
      }
      return { round: m.round, out };
    });
    const result: Record<string, TechniqueRound[]> = {};
    for (const t of ACCEPTANCE_TECHNIQUES) {
      result[t] = byRound.map(({ round, out }, i) => {
        const xs = [...out.values()].filter((x) => x.family === t);
        const s = xs.filter((x) => x.success).length;
        const ci = wilson(s, xs.length);
        const row: TechniqueRound = {
          round,
          successes: s,
          n: xs.length,
          asr: xs.length ? s / xs.length : Number.NaN,
          low: ci.low,
          high: ci.high,
          attackerFailed: xs.filter((x) => x.failed).length,
        };
        if (i > 0) {
          const first = byRound[0].out;
          const pairs = [...out].filter(([k, x]) => x.family === t && first.has(k));
          const b = pairs.filter(([k, x]) => first.get(k)?.success && !x.success).length;
          const c = pairs.filter(([k, x]) => !first.get(k)?.success && x.success).length;
          row.vsRound0 = { b, c, p: mcnemar(b, c) };
        }
        return row;
      });
    }
    return result;
  } finally {
    store.close();
  }
}

/** Round model folders of a cycle folder: round 0 is the committed demo model. */
export function roundModelDirs(cycleDir: string): string[] {
  const rounds = readdirSync(cycleDir)
    .map((d) => /^round-(\d+)$/.exec(d))
    .filter((m): m is RegExpExecArray => !!m)
    .map((m) => Number(m[1]))
    .sort((a, b) => a - b);
  const dirs = [DEMO_MODEL_DIR];
  for (const r of rounds) {
    const stage = ["dpo", "sft"].map((s) => path.join(cycleDir, `round-${r}`, s, "model")).find((d) => existsSync(d));
    if (stage) dirs.push(stage);
  }
  return dirs;
}

interface RoundOutcomes {
  round: number;
  model: string;
  goals: string[];
  outcomes: Record<string, boolean[]>;
  failed: Record<string, number[]>;
  seconds: number;
}

/** Runs the three attacks on every goal against one round's model (a merged HF folder, run as a GGUF). */
async function runRound(
  round: number,
  dir: string,
  goals: readonly WorldItem[],
  scratch: string,
): Promise<RoundOutcomes> {
  const t0 = performance.now();
  const judge = loadDemoWorld().judge;
  const attacker = await createChatModel({
    provider: "llamacpp",
    model: DEMO_ATTACKER_GGUF,
    sequences: 8,
    concurrency: 8,
  });
  // The round's merged folder as a GGUF through llama.cpp (the cycle's engine), written to a scratch folder.
  const gguf = path.join(scratch, `round-${round}.gguf`);
  ggufFromFolder(dir, gguf, { dtype: "f16", name: `round-${round}` });
  const target = await createChatModel({ provider: "llamacpp", model: gguf, sequences: 8, concurrency: 8 });
  // The target's 256-token window: a turn that cannot fit (with 64 tokens for the answer) stops the attack.
  const context = await ggufTargetContext(gguf);
  const out: RoundOutcomes = { round, model: dir, goals: goals.map((g) => g.id), outcomes: {}, failed: {}, seconds: 0 };
  try {
    for (const t of ACCEPTANCE_TECHNIQUES) {
      const res = await Promise.all(
        goals.map((g) => runAcceptanceAttack(t, g, { target, attacker, judge, seed: 1, context })),
      );
      out.outcomes[t] = res.map((x) => x.success);
      out.failed[t] = res.flatMap((x, i) => (x.stopReason === "attacker_failed" ? [i] : []));
      const secs = ((performance.now() - t0) / 1000).toFixed(0);
      process.stderr.write(`round ${round} ${t}: ${res.filter((x) => x.success).length}/${res.length} (${secs} s)\n`);
    }
  } finally {
    await target.close?.();
    await attacker.close?.();
  }
  out.seconds = (performance.now() - t0) / 1000;
  return out;
}

/**
 * `attacker-acceptance.ts CYCLE_DIR --out DIR [--rounds 0,1,..] [--per-category N]` runs the rounds (default all) and
 * writes DIR/round-r.json; then prints the summary over every round-r.json in DIR (--json: as JSON).
 */
async function main(argv: string[]): Promise<void> {
  const flag = (k: string) => (argv.includes(k) ? argv[argv.indexOf(k) + 1] : undefined);
  const ws = flag("--cycle-workspace");
  if (ws) {
    // the store's folder (it holds breakfix.db), or the folder a config's default workspace (.breakfix) sits in
    const store = existsSync(path.join(ws, DB_FILENAME)) ? ws : path.join(ws, ".breakfix");
    process.stdout.write(`${JSON.stringify(cycleTechniqueAsr(store))}\n`);
    return;
  }
  const cycleDir = argv[0];
  const outDir = flag("--out");
  if (!cycleDir || !outDir)
    throw new Error("usage: attacker-acceptance.ts CYCLE_DIR --out DIR [--rounds 0,1] [--per-category N] [--json]");
  mkdirSync(outDir, { recursive: true });
  const goals = testGoals(Number(flag("--per-category") ?? 3));
  const dirs = existsSync(cycleDir) ? roundModelDirs(cycleDir) : [DEMO_MODEL_DIR];
  const wanted = flag("--rounds")?.split(",").map(Number) ?? dirs.map((_, i) => i);
  const scratch = mkdtempSync(path.join(tmpdir(), "attacker-acceptance-"));
  try {
    for (const r of wanted) {
      if (!dirs[r]) throw new Error(`${cycleDir}: no model for round ${r}`);
      const res = await runRound(r, dirs[r], goals, scratch);
      writeFileSync(path.join(outDir, `round-${r}.json`), `${JSON.stringify(res)}\n`);
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  const rounds = readdirSync(outDir)
    .filter((f) => /^round-\d+\.json$/.test(f))
    .map((f) => JSON.parse(readFileSync(path.join(outDir, f), "utf8")) as RoundOutcomes)
    .sort((a, b) => a.round - b.round);
  if (rounds[0]?.round !== 0) throw new Error(`${outDir}: no round-0.json (the baseline every round is paired with)`);
  const outcomes = Object.fromEntries(ACCEPTANCE_TECHNIQUES.map((t) => [t, rounds.map((x) => x.outcomes[t])]));
  const failed = Object.fromEntries(ACCEPTANCE_TECHNIQUES.map((t) => [t, rounds.map((x) => x.failed[t])]));
  const summary = summarise(
    outcomes,
    failed,
    rounds.map((x) => x.round),
  );
  if (argv.includes("--json")) {
    process.stdout.write(`${JSON.stringify({ goals: goals.length, models: rounds.map((x) => x.model), summary })}\n`);
    return;
  }
  for (const [t, rows] of Object.entries(summary)) {
    for (const x of rows) {
      const v = x.vsRound0;
      const p = v ? ` | vs round 0: b=${v.b} c=${v.c} McNemar p=${v.p.toPrecision(2)}` : "";
      const pct = (y: number) => (100 * y).toFixed(1);
      process.stdout.write(
        `${t} round ${x.round}: ASR ${x.successes}/${x.n} = ${pct(x.asr)}% [${pct(x.low)}, ${pct(x.high)}]` +
          ` attacker_failed ${x.attackerFailed}${p}\n`,
      );
    }
  }
}

runIfMain(import.meta.filename, main);
