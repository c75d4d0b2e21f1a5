/**
 * A training run over a Hugging Face model folder and a JSONL file: what `breakfix train` and the cycle call.
 * Loads the model and tokenizer, tokenizes the conversational rows through the chat template, trains (resuming
 * when outDir holds a checkpoint of the run), and writes the exports.
 */
import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileSha256 } from "../domain/file-hash.ts";
import { seedFrom } from "../domain/random.ts";
import type { PreferencePair, SftExample } from "../domain/types.ts";
import { modelFolderFingerprint } from "../models/fingerprint.ts";
import { noChatTemplate } from "../nn/chat-template.ts";
import type { Executor } from "../nn/ir.ts";
import { loadModel } from "../nn/model.ts";
import { HfTokenizer } from "../nn/tokenizer.ts";
import { exportGgufLora, exportMerged, exportPeft } from "./export.ts";
import {
  claimOutputFolder,
  type FolderLockHolder,
  flatSettings,
  lockOutputFolder,
  type RunIdentity,
} from "./identity.ts";
import { DataFileError, type LinedRow, readPreferenceJsonlLines, readSftJsonlLines } from "./jsonl.ts";
import { type ChatTokenizer, type LossOn, tokenizeConversation, tokenizePreference } from "./render.ts";
import { type Example, type TrainEvents, type TrainOptions, type TrainResult, train } from "./trainer.ts";

/**
 * The trainer's view of a tokenizer. Dataset text is tokenised as text (issue 23): a row whose user or assistant turn
 * spells a control token (`<|end|>`, `<|user|>`, `<|endoftext|>`) must not teach the model a forged role boundary, so
 * every message is escaped (control-token spellings swapped for fixed placeholders) before the template renders it,
 * and the pieces of the render are encoded with encodeTemplated: the template's own markers become control ids, the
 * escaped spellings go back in as plain text. The escaping is the same for every prefix the trainer renders, so the
 * assistant spans it finds are unchanged.
 */
export function chatTokenizer(tok: HfTokenizer): ChatTokenizer {
  const pad = tok.padToken ?? tok.eosToken;
  const padId = pad === null ? undefined : tok.tokenId(pad);
  if (padId === undefined) throw new Error("tokenizer has neither a pad token nor an eos token to pad with");
  return {
    encode: (text) => tok.encodeTemplated(text),
    renderChat: (messages, addGenerationPrompt) =>
      tok.applyChatTemplate(
        messages.map((m) => ({ ...m, content: tok.escapeText(m.content) })),
        { addGenerationPrompt },
      ),
    padTokenId: padId,
    endOfText: tok.eosToken ? [tok.eosToken] : [],
  };
}

export interface RunOptions {
  method: "sft" | "dpo";
  modelDir: string;
  dataFile: string;
  outDir: string;
  evalFile?: string;
  /** Share of rows held out for evaluation when there is no eval file (by a hash of the row: stable). */
  evalFraction: number;
  /** Rows longer than this many tokens are dropped (and counted). */
  maxLength: number;
  lossOn: LossOn;
  train: TrainOptions;
  executor?: Executor;
  events?: TrainEvents;
  /** Also write the merged model folder under LoRA (it is always written for full fine-tuning). */
  exportMerged?: boolean;
  /**
   * outDir holds another run's outputs (different data, model or settings, or no recorded identity): delete them and
   * start clean instead of refusing with OutputFolderError.
   */
  overwrite?: boolean;
  /** Another process is training into outDir: this run waits for it (then resumes what it left). */
  onLockWait?: (holder: FolderLockHolder) => void;
}

/**
 * The identity of a run (see identity.ts): data and model contents plus every setting that decides the weights.
 * Left out, because they do not change the weights: checkpoint and evaluation intervals, the executor, exports.
 */
export function runIdentity(o: RunOptions): RunIdentity {
  const { checkpointEvery: _c, evalEvery: _e, ...weightsSettings } = o.train;
  return {
    version: 1,
    data: fileSha256(o.dataFile),
    evalData: o.evalFile ? fileSha256(o.evalFile) : null,
    model: modelFolderFingerprint(o.modelDir),
    settings: flatSettings({
      method: o.method,
      evalFraction: o.evalFile ? undefined : o.evalFraction,
      maxLength: o.maxLength,
      lossOn: o.lossOn,
      // full fine-tuning is recorded as lora: "none", so switching between the two names the change
      ...weightsSettings,
      lora: weightsSettings.lora ?? "none",
    }),
  };
}

export interface RunSummary {
  method: "sft" | "dpo";
  rows: number;
  trainRows: number;
  evalRows: number;
  droppedTooLong: number;
  steps: number;
  final: TrainResult["final"];
  outputs: { model?: string; adapter?: string; ggufAdapter?: string; metrics: string };
}

/** A data row with the file and line it came from. */
type FiledRow = LinedRow<SftExample | PreferencePair> & { file: string };

export async function runTraining(o: RunOptions): Promise<RunSummary> {
  const { config, weights } = loadModel(o.modelDir);
  const hfTok = HfTokenizer.fromDir(o.modelDir);
  // checked before the rows, so a folder without a template is not reported as every row failing to render
  if (!hfTok.hasChatTemplate) throw new Error(noChatTemplate(o.modelDir, "training renders every row through it"));
  const tok = chatTokenizer(hfTok);
  const toExample = (row: SftExample | PreferencePair): Example =>
    o.method === "sft"
      ? tokenizeConversation(tok, (row as SftExample).messages, o.lossOn)
      : tokenizePreference(tok, row as PreferencePair);
  // every row keeps its file and line, so a row that cannot be tokenized is named (DataFileError: exit 2 in the CLI)
  const readRows = (file: string): FiledRow[] =>
    (o.method === "sft" ? readSftJsonlLines(file) : readPreferenceJsonlLines(file)).map((r) => ({ ...r, file }));
  const rows = readRows(o.dataFile);
  let trainRows = rows;
  let evalRows: FiledRow[] = [];
  if (o.evalFile) evalRows = readRows(o.evalFile);
  else if (o.evalFraction > 0) {
    const isEval = (r: FiledRow) => seedFrom(`${o.train.seed}:${JSON.stringify(r.row)}`) / 4294967296 < o.evalFraction;
    evalRows = rows.filter(isEval);
    trainRows = rows.filter((r) => !isEval(r));
  }
  let droppedTooLong = 0;
  // rows that cannot be tokenized (a template that raises on them, a reserved private-use character, ...)
  const bad: { file: string; line: number; message: string }[] = [];
  const tokenize = (rs: FiledRow[]): Example[] => {
    const out: Example[] = [];
    for (const r of rs) {
      let e: Example;
      try {
        e = toExample(r.row);
      } catch (err) {
        bad.push({ file: r.file, line: r.line, message: (err as Error).message });
        continue;
      }
      const len = "chosen" in e ? Math.max(e.chosen.ids.length, e.rejected.ids.length) : e.ids.length;
      if (len <= o.maxLength) out.push(e);
      else droppedTooLong++;
    }
    return out;
  };
  const data = { train: tokenize(trainRows), eval: tokenize(evalRows) };
  if (bad.length > 0) {
    const file = bad[0].file;
    const lines = bad.filter((b) => b.file === file).sort((a, b) => a.line - b.line);
    throw new DataFileError(
      file,
      lines.map((b) => `${file}:${b.line}: ${b.message}`),
      "bad rows",
    );
  }
  if (data.train.length === 0)
    throw new DataFileError(o.dataFile, [
      rows.length === 0
        ? `${o.dataFile}: no rows`
        : trainRows.length === 0
          ? `${o.dataFile}: no training rows: all ${rows.length} are held out for evaluation (--eval-fraction)`
          : `${o.dataFile}: all ${trainRows.length} training rows are longer than the maximum length, ${o.maxLength} tokens (--max-length; training.sft.maxSeqLen in breakfix.yaml)`,
    ]);
  mkdirSync(o.outDir, { recursive: true });
  const release = await lockOutputFolder(o.outDir, { onWait: o.onLockWait });
  try {
    return await trainLocked(o, config, weights, tok, data, rows.length, () => droppedTooLong);
  } finally {
    release();
  }
}

async function trainLocked(
  o: RunOptions,
  config: ReturnType<typeof loadModel>["config"],
  weights: ReturnType<typeof loadModel>["weights"],
  tok: ChatTokenizer,
  data: { train: Example[]; eval: Example[] },
  rowCount: number,
  droppedTooLong: () => number,
): Promise<RunSummary> {
  // Resume only a checkpoint of this very run (issue 23: changed data or settings used to resume the old checkpoint,
  // and a LoRA checkpoint resumed as full fine-tuning exported stray LoRA tensors).
  claimOutputFolder(o.outDir, runIdentity(o), o.overwrite === true);
  const res = await train(config, weights, data, o.train, o.outDir, tok.padTokenId, o.executor, o.events);

  const outputs: RunSummary["outputs"] = { metrics: join(o.outDir, "metrics.jsonl") };
  if (res.adapter && o.train.lora) {
    outputs.adapter = join(o.outDir, "adapter");
    exportPeft(outputs.adapter, res.adapter, o.train.lora, o.modelDir, config);
    outputs.ggufAdapter = join(o.outDir, "adapter.gguf");
    exportGgufLora(outputs.ggufAdapter, config, res.adapter, o.train.lora);
    if (o.exportMerged) {
      outputs.model = join(o.outDir, "model");
      exportMerged(outputs.model, config, weights, o.modelDir, { weights: res.adapter, config: o.train.lora });
    }
  } else {
    outputs.model = join(o.outDir, "model");
    exportMerged(outputs.model, config, res.weights, o.modelDir);
    // A full fine-tune has no adapter: none may lie beside its model.
    for (const f of ["adapter", "adapter.gguf"]) rmSync(join(o.outDir, f), { recursive: true, force: true });
  }
  const summary: RunSummary = {
    method: o.method,
    rows: rowCount,
    trainRows: data.train.length,
    evalRows: data.eval.length,
    droppedTooLong: droppedTooLong(),
    steps: res.steps,
    final: res.final,
    outputs,
  };
  writeFileSync(join(o.outDir, "run.json"), `${JSON.stringify(summary, null, 2)}\n`);
  return summary;
}

export function hasCheckpoint(outDir: string): boolean {
  return existsSync(join(outDir, "checkpoints", "latest"));
}
