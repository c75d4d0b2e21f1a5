/**
 * `breakfix world build --attacker`: the demo's attacker organism, a second small Llama-architecture model trained
 * with the same engine, tokenizer trainer and chat template as the target organism, on the attacker-side data of
 * `attacker-data.ts` (the real PAIR / TAP / Crescendo prompts answered by the world's templates; train and red-team
 * splits only). It writes JSON the attacks parse (`{"improvement", "prompt"}`, `{"question", "rationale"}`) and
 * answers TAP's on-topic check with [[YES]] / [[NO]], so the demo cycle's intermediate persona runs PAIR, Crescendo
 * and TAP offline. Committed in artifacts/demo-world/attacker/ (model/ = HF folder, model.gguf, build.json).
 */
import { contentHash } from "../domain/hash.ts";
import { Rng } from "../domain/random.ts";
import type { TrainEvents } from "../train/trainer.ts";
import { attackerExamples, type TeacherCall } from "./attacker-data.ts";
import { trainOrganism, type WorldBuildPreset, worldFingerprint, writeBuildRecord } from "./build.ts";
import { generateWorld, type World } from "./generate.ts";

export interface AttackerBuildPreset extends WorldBuildPreset {
  /** Attacks simulated per strategy (PAIR, TAP, Crescendo) when drawing the teacher's data. */
  attacksPerStrategy: number;
  /** At most this many TAP on-topic [[YES]] examples (TAP asks one per child; most are on topic). */
  onTopicYes: number;
  /** On-topic checks of a prompt that frames another goal ([[NO]]). */
  offTopicExamples: number;
}

export const ATTACKER_PRESET: AttackerBuildPreset = {
  vocabSize: 1024,
  model: {
    rmsNormEps: 1e-5,
    ropeTheta: 10000,
    tieWordEmbeddings: true,
    eosTokenId: 0,
    bosTokenId: 0,
    padTokenId: 0,
    hiddenSize: 128,
    intermediateSize: 320,
    numLayers: 3,
    numHeads: 4,
    numKvHeads: 2,
    headDim: 32,
    // RoPE has no position weights: 2,048 lets an attack ask for its usual 400-600 answer tokens after a ~700-token
    // prompt (the builtin engine refuses prompt + maxTokens beyond this); answers end with EOS long before.
    maxPositionEmbeddings: 2048,
  },
  corpusSize: 0,
  // 5, not 3 (session 10, on dev goals): eval loss 0.139 against 0.373, and more of its attacks succeed against the
  // base model (93 / 108 and 159 / 180 against 82 / 108 and 138 / 180) with as few unparseable-output stops.
  epochs: 5,
  lr: 3e-3,
  batchSize: 16,
  maxLength: 768,
  attacksPerStrategy: 160,
  onTopicYes: 300,
  offTopicExamples: 300,
};

export interface AttackerBuildOptions {
  outDir: string;
  seed?: number;
  preset?: Partial<AttackerBuildPreset>;
  events?: TrainEvents;
  log?: (line: string) => void;
}

export interface AttackerBuildSummary {
  seed: number;
  preset: AttackerBuildPreset;
  params: number;
  examples: Record<TeacherCall["kind"], number>;
  trainSteps: number;
  evalLoss?: number;
  seconds: number;
  modelDir: string;
  gguf: string;
  bytes: { safetensors: number; gguf: number };
  /**
   * Fingerprints of what it was trained on, as the target organism's build.json has (organism-freeze.test.ts): the
   * world's items with their splits (worldFingerprint) and the teacher's calls (attackerCorpus).
   */
  worldHash: string;
  dataHash: string;
}

/** The teacher's calls as SFT rows (on-topic [[YES]] capped), in a seeded order. */
export async function attackerCorpus(
  seed: number,
  preset: AttackerBuildPreset,
  world: World = generateWorld({ seed }),
): Promise<TeacherCall[]> {
  const calls = await attackerExamples(world, {
    seed,
    attacksPerStrategy: preset.attacksPerStrategy,
    offTopicExamples: preset.offTopicExamples,
  });
  const rng = Rng.derive(seed, "world-attacker-corpus");
  const yes = rng
    .shuffle(calls.filter((c) => c.kind === "on_topic" && c.content === "[[YES]]"))
    .slice(0, preset.onTopicYes);
  const rest = calls.filter((c) => c.kind !== "on_topic" || c.content !== "[[YES]]");
  return rng.shuffle([...rest, ...yes]);
}

/** Builds the attacker organism into outDir (model/, model.gguf, build.json); re-running resumes training. */
export async function buildAttackerModel(o: AttackerBuildOptions): Promise<AttackerBuildSummary> {
  const t0 = performance.now();
  const log = o.log ?? (() => {});
  const seed = o.seed ?? 1;
  const preset: AttackerBuildPreset = { ...ATTACKER_PRESET, ...o.preset };
  const world = generateWorld({ seed });
  const calls = await attackerCorpus(seed, preset, world);
  const examples = { pair: 0, tap: 0, crescendo: 0, on_topic: 0 };
  for (const c of calls) examples[c.kind]++;
  const rows = calls.map((c) => ({
    messages: [...c.messages, { role: "assistant" as const, content: c.content }],
    provenance: { round: 0, source: `world:attacker:${c.kind}` },
  }));
  log(`attacker data: ${rows.length} conversations (${JSON.stringify(examples)}); training the tokenizer`);
  const trained = await trainOrganism({
    outDir: o.outDir,
    seed,
    preset,
    tokenizerTexts: rows.flatMap((r) => r.messages.map((m) => m.content)),
    modelMaxLength: preset.model.maxPositionEmbeddings,
    rows,
    checkpointEvery: 50,
    ggufName: "breakfix-demo-world-attacker",
    events: o.events,
    onModel: (params) => log(`attacker model: ${(params / 1e6).toFixed(2)}M parameters; ${preset.epochs} epochs`),
  });
  const { params, modelDir, gguf } = trained;
  const out: AttackerBuildSummary = {
    seed,
    preset,
    params,
    examples,
    trainSteps: trained.trainSteps,
    evalLoss: trained.evalLoss,
    seconds: (performance.now() - t0) / 1000,
    modelDir,
    gguf,
    bytes: trained.bytes,
    worldHash: worldFingerprint(world),
    dataHash: contentHash(calls),
  };
  writeBuildRecord(o.outDir, out);
  return out;
}
