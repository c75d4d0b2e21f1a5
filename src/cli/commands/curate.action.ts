/**
 * The action of `breakfix curate` (registered in curate.ts), loaded when it runs: findings -> judged safe responses,
 * SFT rows, DPO pairs, over-refusal counter-data, dedup + decontamination against every benchmark probe set the config
 * reports, balancing and a train/validation split, written as sft.jsonl, dpo.jsonl (TRL conversational formats),
 * sft.val.jsonl, dpo.val.jsonl, card.md, card.json and removed.jsonl.
 */
import path from "node:path";
import { loadConfigWithSource } from "../../config/load.ts";
import type { Config } from "../../config/schema.ts";
import { buildContaminationIndex, contaminationSourcesOf, probeDatasetsIn } from "../../curate/contamination.ts";
import { readFindingsJsonl, writeCuration } from "../../curate/io.ts";
import { ChatResponder, TemplateResponder } from "../../curate/responders.ts";
import { hygieneFrom, runCuration } from "../../curate/run.ts";
import { counterDataFrom, namedResponder, retentionFrom, safetySetFrom } from "../../curate/sources.ts";
import type { Responder } from "../../curate/types.ts";
import { defaultDatasetsDir } from "../../datasets/paths.ts";
import { etaText } from "../../domain/eta.ts";
import { createJudge, parseJudgeExpression } from "../../judges/registry.ts";
import { createChatModel } from "../../models/registry.ts";
import type { ChatModel } from "../../models/types.ts";
import { CliError, intFlag, numberFlag, usageOnError } from "../errors.ts";
import { NO_MODEL, parseModelSpec } from "../model-spec.ts";
import { progressReporter } from "../progress.ts";

export interface CurateOptions {
  findings?: string;
  out?: string;
  responder: string;
  judge: string;
  round: string;
  seed: string;
  counterRatio?: string;
  against?: string;
  config?: string;
  datasets?: string;
  json?: boolean;
  /** --no-progress: false. */
  progress?: boolean;
}

/** The benchmark sets curated rows are decontaminated against: the config's suites (as the cycle reads them) plus --against. */
export async function contaminationFor(o: CurateOptions, cfg: Config, datasetsDir: string) {
  const extra =
    o.against === "all"
      ? probeDatasetsIn(datasetsDir)
      : (o.against ?? "")
          .split(",")
          .map((s) => s.trim())
          .filter(Boolean);
  const contamination = await buildContaminationIndex(
    { ...contaminationSourcesOf(cfg.benchmarks.suites), datasets: extra, datasetsDir },
    hygieneFrom(cfg.curation),
  );
  if (contamination.missing.length)
    throw new CliError(
      `curate: benchmark sets to decontaminate against are missing: ${contamination.missing.join(", ")} (run \`breakfix data pull\` or pass --datasets DIR)`,
      2,
    );
  return contamination;
}

/** --responder: templates, a responder a plug-in registered (e.g. world), or a model spec (its model is returned to close). */
async function responderFor(o: CurateOptions, cfg: Config): Promise<{ responder: Responder; model?: ChatModel }> {
  if (o.responder === "templates") return { responder: new TemplateResponder() };
  if (!/[:/#]/.test(o.responder) && o.responder !== "config")
    return { responder: usageOnError("--responder: ", () => namedResponder(o.responder)) };
  const options = parseModelSpec(o.responder, "--responder", cfg.responder ?? NO_MODEL);
  const model = await usageOnError("--responder: ", () => createChatModel(options));
  return { responder: new ChatResponder(model), model };
}

export async function curateAction(o: CurateOptions): Promise<void> {
  if (!o.findings) throw new CliError("curate: --findings FILE is required", 2);
  if (!o.out) throw new CliError("curate: --out DIR is required", 2);
  const cfg = usageOnError("", () => loadConfigWithSource(o.config).config);
  const findingsFile = o.findings;
  const findings = usageOnError("--findings: ", () => readFindingsJsonl(findingsFile));
  const datasetsDir = o.datasets ? path.resolve(o.datasets) : defaultDatasetsDir(cfg.dataCache);
  const curation = {
    ...cfg.curation,
    ...(o.counterRatio !== undefined
      ? { counterDataRatio: numberFlag("counter-ratio", o.counterRatio, { min: 0 }) }
      : {}),
  };
  const contamination = await contaminationFor(o, cfg, datasetsDir);
  const { responder, model } = await responderFor(o, cfg);
  try {
    const judge = usageOnError("--judge: ", () => createJudge(parseJudgeExpression(o.judge), {}));
    const counterData = usageOnError("curation: ", () => counterDataFrom(cfg.curation.counterData));
    const retention = usageOnError("curation: ", () => retentionFrom(cfg.curation.retention));
    const safetySet = usageOnError("curation.safetySet: ", () => safetySetFrom(cfg.curation.safetySet));
    // progress with an ETA on stderr, as every long command (not with --json, as before; --no-progress: none)
    const started = Date.now();
    const progress = progressReporter<{ done: number; total: number }>(o.progress !== false && !o.json, {
      format: "curate [{bar}] {value}/{total} responses judged | ETA {eta_formatted}",
      done: (p) => p.done,
      total: (p) => p.total,
      payload: () => ({}),
      line: (p) =>
        `curate: ${p.done}/${p.total} responses judged, ETA ${etaText(p.done > 0 ? ((Date.now() - started) / p.done) * (p.total - p.done) : undefined)}`,
    });
    const res = await runCuration(findings, {
      round: intFlag("round", o.round, 0),
      responder,
      judge,
      counterData,
      retention,
      safetySet,
      contamination: contamination.index,
      curation,
      heldOutFamilies: cfg.cycle.heldOutFamilies,
      seed: intFlag("seed", o.seed, 0),
      onProgress: (done, total) => progress.update({ done, total }),
    });
    progress.stop();
    const files = writeCuration(o.out, res);
    const sets = Object.entries(contamination.sets)
      .map(([k, v]) => `${k} (${v})`)
      .join(", ");
    process.stdout.write(
      `curated ${findings.length} findings -> ${res.card.counts.sft} rows (${res.card.counts.train} train, ${res.card.counts.validation} validation; ` +
        `${res.card.counts.byKind.counter ?? 0} counter-data); dropped ${res.dropped.length}\n` +
        `decontaminated against ${sets}\nwrote ${files.sft}, ${files.dpo}, ${files.cardMd}, ${files.removed}\n`,
    );
    if (o.json)
      process.stdout.write(`${JSON.stringify({ card: res.card, files, decontamination: contamination.sets })}\n`);
  } finally {
    await model?.close?.();
  }
}
