/**
 * `breakfix world build`: reproduces the demo model organism from the world's seed. A byte-level BPE tokenizer
 * trained on the world's text, a small Llama-architecture model initialised with the seed, full fine-tuning on the
 * base corpus (train split only: harmful asks answered with placeholders, framings followed, look-alikes and
 * capability tasks answered helpfully), then exports: a Hugging Face folder and a GGUF file.
 */
import { mkdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { contentHash } from "../domain/hash.ts";
import type { SftExample } from "../domain/index.ts";
import { PHI3_CHAT_TEMPLATE, PHI3_SPECIAL_TOKENS, saveTokenizer, trainBpe } from "../nn/bpe.ts";
import { ggufFromFolder } from "../nn/gguf/folder.ts";
import { countParams, initWeights, type LlamaConfig } from "../nn/llama.ts";
import { loadModel, saveModel } from "../nn/model.ts";
import { copyTokenizerFiles } from "../train/export.ts";
import { writeJsonl } from "../train/jsonl.ts";
import { runTraining } from "../train/run.ts";
import { DEFAULT_TRAIN, type TrainEvents } from "../train/trainer.ts";
import { baseCorpus, DEFAULT_CORPUS_CONFIG, QUICK_CORPUS_CONFIG, tokenizerTexts } from "./corpus.ts";
import { generateWorld, type World } from "./generate.ts";

export interface WorldBuildPreset {
  vocabSize: number;
  model: Omit<LlamaConfig, "vocabSize">;
  corpusSize: number;
  epochs: number;
  lr: number;
  batchSize: number;
  maxLength: number;
  /**
   * A second training stage on a fresh base corpus (its own seed) with more benign rephrasings, continuing from the
   * first stage's weights (issue #19 item 3: capability under rephrasing). Omitted: one stage.
   */
  noiseStage?: NoiseStage;
  /**
   * Mixture weight of benign asks (benign-asks.ts: everyday goals in the seen harmful-ask phrasings) in both stages'
   * corpora, beside the families' default weights (sum 1). Off in the committed build.
   */
  benignAsks?: number;
}

export interface NoiseStage {
  /** CorpusConfig.rephraseShare of the stage's corpus. */
  rephraseShare: number;
  /** Conversations in the stage's corpus (default: the first stage's corpusSize). */
  corpusSize?: number;
  epochs: number;
  lr: number;
  /** Mixture weight of world lore (lore.ts) in the stage's corpus, beside the families' default weights (sum 1). */
  lore?: number;
  /** CorpusConfig.drillRephraseShare of the stage's corpus (capability drills rephrased); default 0. */
  drillRephraseShare?: number;
}

const base = {
  rmsNormEps: 1e-5,
  ropeTheta: 10000,
  tieWordEmbeddings: true,
  eosTokenId: 0,
  bosTokenId: 0,
  padTokenId: 0,
};

/** The committed demo model (<= 25 MB) and the --quick one for tests. */
export const WORLD_PRESETS: Record<"full" | "quick", WorldBuildPreset> = {
  full: {
    vocabSize: 1024,
    model: {
      ...base,
      hiddenSize: 192,
      intermediateSize: 512,
      numLayers: 4,
      numHeads: 6,
      numKvHeads: 2,
      headDim: 32,
      maxPositionEmbeddings: 256,
    },
    corpusSize: 28_000,
    epochs: 3,
    lr: 2e-3,
    batchSize: 32,
    maxLength: 256,
    // Decided on dev (seen-pool rephrasings of dev capability tasks, plus context sentences written for the
    // experiment that neither pool holds; src/world/README.md "Two training stages"): continuing the one-stage
    // organism for 3 epochs at 80% rephrasings (1 + 2, warm restarts) raised dev capability 85.5% -> 94.3% plain,
    // 60.4% -> 79.9% with a seen context sentence before the task, 52.8% -> 66.7% with an unseen one, and helpful
    // look-alike answers 56.9% -> 62.5%. This two-stage build from scratch: 90.6%, 74.8%, 61.0%, 63.9%.
    // A 3x or 6x larger noise corpus (noiseStage.corpusSize, one epoch) moved dev capability within noise (paired
    // McNemar p >= 0.44) and left the plain-rephrased gap at 18 points (src/world/README.md), so it is not the default;
    // a 4.8M-parameter organism did not close the gap either.
    // World lore in this stage (noiseStage.lore 0.05: every word of the held-out templates in narrative) was tried on
    // dev in session 11 and not adopted: the fixed models refused fewer unsafe twins (src/world/README.md, "Lore").
    // Benign asks in both stages (benignAsks 0.05: everyday goals in the seen harmful-ask phrasings) were tried in
    // session 12 and not adopted: the base organism misread as many benign dev look-alikes (src/world/README.md).
    // Rephrased capability drills in this stage (noiseStage.drillRephraseShare 0.8) were tried in session 13: on dev the
    // base organism gained on every noise slice (dev-noise.ts: plain 90.6 -> 97.5%, seen-pool rephrasings 72.3 ->
    // 87.4%), but its fixes refused fewer unsafe twins in round 1 (IPRR 87.0% against 93.1%), so it was not adopted;
    // session 14's retest beside the committed organism, same seeds: 90.7% against 94.4%, not adopted again; session
    // 15's with counterDataRatio 1.5: seed 0 passed every dev gate in no round, not adopted.
    noiseStage: { rephraseShare: 0.8, epochs: 3, lr: 1e-3 },
  },
  quick: {
    // 1,024 symbols: with 512, most escalation conversations exceed 256 tokens and would be dropped from training.
    vocabSize: 1024,
    model: {
      ...base,
      hiddenSize: 96,
      intermediateSize: 256,
      numLayers: 2,
      numHeads: 4,
      numKvHeads: 2,
      headDim: 24,
      maxPositionEmbeddings: 256,
    },
    corpusSize: QUICK_CORPUS_CONFIG.size,
    epochs: 4,
    lr: 3e-3,
    batchSize: 32,
    maxLength: 256,
    // one short noise stage, so the tests exercise the full build's two stages
    noiseStage: { rephraseShare: 0.8, epochs: 1, lr: 1.5e-3 },
  },
};

export interface WorldBuildOptions {
  outDir: string;
  quick?: boolean;
  seed?: number;
  /** Overrides of the preset (for experiments). */
  preset?: Partial<WorldBuildPreset>;
  events?: TrainEvents;
  log?: (line: string) => void;
}

export interface WorldBuildSummary {
  seed: number;
  preset: WorldBuildPreset;
  params: number;
  corpusConversations: number;
  trainSteps: number;
  evalLoss?: number;
  seconds: number;
  modelDir: string;
  gguf: string;
  bytes: { safetensors: number; gguf: number };
  /**
   * Fingerprints of what the organism was trained on (worldFingerprint): the world's items with their splits and the
   * base corpus. A later change to the world's generation makes them differ, and organism-freeze.test.ts fails until
   * the organism is rebuilt: a held-out template or object can never drift into what the committed model saw.
   */
  worldHash: string;
  corpusHash: string;
  /** The noise stage's corpus, when the preset has one. */
  noiseCorpusHash?: string;
}

/**
 * The base corpora an organism of this world is trained on: the first stage's and, when the preset has a noise stage,
 * a second one (the first one's size unless noiseStage.corpusSize says) drawn with its own seed (seed + 1000) and the
 * stage's rephrasing share.
 */
export function organismCorpora(
  world: World,
  seed: number,
  preset: WorldBuildPreset,
): { corpus: SftExample[]; noiseCorpus?: SftExample[] } {
  // the opt-in sources' weights default to 0, as in DEFAULT_CORPUS_CONFIG: the committed corpora are unchanged
  const benignAsks = preset.benignAsks ?? 0;
  const corpus = baseCorpus(world, {
    seed,
    size: preset.corpusSize,
    weights: { ...DEFAULT_CORPUS_CONFIG.weights, benignAsks },
  });
  if (!preset.noiseStage) return { corpus };
  const noiseCorpus = baseCorpus(world, {
    seed: seed + 1000,
    size: preset.noiseStage.corpusSize ?? preset.corpusSize,
    rephraseShare: preset.noiseStage.rephraseShare,
    drillRephraseShare: preset.noiseStage.drillRephraseShare ?? 0,
    weights: { ...DEFAULT_CORPUS_CONFIG.weights, lore: preset.noiseStage.lore ?? 0, benignAsks },
  });
  return { corpus, noiseCorpus };
}

/** The world's items as the splits and probes see them (id, split, template hold-out), hashed. */
export function worldFingerprint(world: World): string {
  return contentHash(world.items.map((it) => [it.id, it.split, it.ood]));
}

/**
 * Builds the demo model into outDir (model/ = HF folder, model.gguf). Re-running resumes the training run from its
 * last checkpoint (under outDir/work).
 */
export async function buildWorldModel(o: WorldBuildOptions): Promise<WorldBuildSummary> {
  const t0 = performance.now();
  const log = o.log ?? (() => {});
  const seed = o.seed ?? 1;
  const preset: WorldBuildPreset = { ...WORLD_PRESETS[o.quick ? "quick" : "full"], ...o.preset };
  const world = generateWorld({ seed });
  log(`world: ${world.items.length} items; training a ${preset.vocabSize}-symbol byte-level BPE tokenizer`);
  const { corpus, noiseCorpus } = organismCorpora(world, seed, preset);
  const trained = await trainOrganism({
    outDir: o.outDir,
    seed,
    preset,
    tokenizerTexts: tokenizerTexts(world),
    modelMaxLength: preset.maxLength,
    rows: corpus,
    noiseRows: noiseCorpus,
    checkpointEvery: 100,
    ggufName: "breakfix-demo-world",
    events: o.events,
    onModel: (params) =>
      log(
        `model: ${(params / 1e6).toFixed(2)}M parameters; corpus: ${corpus.length} conversations; ${preset.epochs} epochs` +
          (preset.noiseStage
            ? `, then ${preset.noiseStage.epochs} on ${noiseCorpus?.length} more at ${preset.noiseStage.rephraseShare * 100}% rephrased`
            : ""),
      ),
  });
  const { params, modelDir, gguf } = trained;
  const summaryOut: WorldBuildSummary = {
    seed,
    preset,
    params,
    corpusConversations: corpus.length,
    trainSteps: trained.trainSteps,
    evalLoss: trained.evalLoss,
    seconds: (performance.now() - t0) / 1000,
    modelDir,
    gguf,
    bytes: trained.bytes,
    worldHash: worldFingerprint(world),
    corpusHash: contentHash(corpus),
    ...(noiseCorpus ? { noiseCorpusHash: contentHash(noiseCorpus) } : {}),
  };
  writeBuildRecord(o.outDir, summaryOut);
  return summaryOut;
}

/**
 * Writes an organism's build.json: its build summary with the paths relative to the output folder (the record travels
 * with the committed artefacts).
 */
export function writeBuildRecord(outDir: string, summary: { modelDir: string; gguf: string }): void {
  const record = { ...summary, modelDir: "model", gguf: "model.gguf" };
  writeFileSync(join(outDir, "build.json"), `${JSON.stringify(record, null, 2)}\n`);
}

/** What training one of the demo's organisms (the target, the attacker) takes beyond its preset. */
export interface OrganismTraining {
  /** Final artefacts land here (model/, model.gguf); the work folder (tokenizer, init, checkpoints) under work/. */
  outDir: string;
  seed: number;
  preset: WorldBuildPreset;
  /** What the byte-level BPE tokenizer is trained on. */
  tokenizerTexts: readonly string[];
  /** The tokenizer's model_max_length. */
  modelMaxLength: number;
  /** SFT rows (TRL conversational), loss on the assistant turns. */
  rows: readonly unknown[];
  /** The noise stage's rows (required when preset.noiseStage is set). */
  noiseRows?: readonly unknown[];
  checkpointEvery: number;
  /** general.name of the GGUF. */
  ggufName: string;
  events?: TrainEvents;
  /** Called once the initial model exists, with its parameter count (for the builder's log line). */
  onModel?: (params: number) => void;
}

export interface OrganismTrained {
  params: number;
  trainSteps: number;
  evalLoss: number | undefined;
  modelDir: string;
  gguf: string;
  bytes: { safetensors: number; gguf: number };
}

/**
 * One organism's build: tokenizer, seeded initial weights, SFT from scratch with our engine (resumes from the last
 * checkpoint under outDir/work), then the HF folder (F16 safetensors + tokenizer) and a GGUF of the same weights.
 */
export async function trainOrganism(t: OrganismTraining): Promise<OrganismTrained> {
  const { preset, seed } = t;
  const work = join(t.outDir, "work");
  const init = join(work, "init");
  mkdirSync(init, { recursive: true });
  const bpe = trainBpe(t.tokenizerTexts, { vocabSize: preset.vocabSize, specialTokens: [...PHI3_SPECIAL_TOKENS] });
  saveTokenizer(init, bpe, {
    eosToken: "<|endoftext|>",
    padToken: "<|endoftext|>",
    chatTemplate: PHI3_CHAT_TEMPLATE,
    modelMaxLength: t.modelMaxLength,
  });
  const config: LlamaConfig = { ...preset.model, vocabSize: bpe.vocab.size };
  saveModel(init, config, initWeights(config, seed));
  const params = countParams(config);
  t.onModel?.(params);

  const data = join(work, "corpus.jsonl");
  writeJsonl(data, t.rows);
  const stage = (modelDir: string, dataFile: string, outDir: string, lr: number, epochs: number) =>
    runTraining({
      method: "sft",
      modelDir,
      dataFile,
      outDir,
      evalFraction: 0.02,
      maxLength: preset.maxLength,
      lossOn: "assistant",
      train: {
        ...DEFAULT_TRAIN,
        objective: { kind: "sft" },
        lora: undefined,
        lr,
        epochs,
        batchSize: preset.batchSize,
        warmupRatio: 0.03,
        minLrRatio: 0.05,
        // the schedule the committed organisms were trained with (warmup from lr / W, not transformers' 0), so
        // `breakfix world build` keeps making artifacts/demo-world/
        legacySchedule: true,
        weightDecay: 0.01,
        seed,
        checkpointEvery: t.checkpointEvery,
      },
      events: t.events,
    });
  const first = await stage(init, data, join(work, "train"), preset.lr, preset.epochs);
  let summary = first;
  let steps = first.steps;
  if (preset.noiseStage) {
    if (!t.noiseRows) throw new Error("trainOrganism: the preset has a noise stage but no noiseRows were given");
    const noiseData = join(work, "noise-corpus.jsonl");
    writeJsonl(noiseData, t.noiseRows);
    const { lr, epochs } = preset.noiseStage;
    summary = await stage(first.outputs.model!, noiseData, join(work, "train-noise"), lr, epochs);
    steps += summary.steps;
  }

  const modelDir = join(t.outDir, "model");
  rmSync(modelDir, { recursive: true, force: true });
  const trained = loadModel(summary.outputs.model!);
  saveModel(modelDir, trained.config, trained.weights, { dtype: "F16" });
  copyTokenizerFiles(init, modelDir);
  const gguf = join(t.outDir, "model.gguf");
  ggufFromFolder(modelDir, gguf, { dtype: "f16", name: t.ggufName });
  return {
    params,
    trainSteps: steps,
    evalLoss: summary.final.eval_loss,
    modelDir,
    gguf,
    bytes: { safetensors: statSync(join(modelDir, "model.safetensors")).size, gguf: statSync(gguf).size },
  };
}
