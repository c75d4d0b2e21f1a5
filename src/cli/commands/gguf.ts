/**
 * `breakfix gguf export <modelDir>`: a Hugging Face Llama / Phi-3 folder (config.json, safetensors, tokenizer.json,
 * tokenizer_config.json) -> one llama-architecture GGUF (F32 or F16) that llama.cpp / node-llama-cpp load.
 * `breakfix gguf inspect <file.gguf>`: what a GGUF holds (architecture, sizes, tokenizer, tensors).
 * The actions are in gguf.action.ts, loaded when one runs.
 */
import type { Command } from "commander";
import { cliAction, lazyAction, withExitScheme } from "../errors.ts";

const actions = () => import("./gguf.action.ts");

export function registerGguf(program: Command): void {
  const before = program.commands.length;
  const gguf = program.command("gguf").description("GGUF files for llama.cpp: export our models, inspect files");
  gguf
    .command("export <modelDir>")
    .description("Export a Hugging Face Llama/Phi-3 folder (with tokenizer.json) to a llama-architecture GGUF")
    .option("--out <file>", "output .gguf (default: <modelDir>/model.gguf)")
    .option("--dtype <dtype>", "f32 or f16 storage of the weight matrices", "f32")
    .option("--name <name>", "general.name in the file")
    .action(cliAction(lazyAction(async () => (await actions()).exportAction)));
  gguf
    .command("inspect <file>")
    .description("Show a GGUF's metadata and tensors")
    .option("--json", "print one JSON object")
    .action(cliAction(lazyAction(async () => (await actions()).inspectAction)));
  // one exit-code scheme for every command (errors.ts)
  for (const c of program.commands.slice(before)) withExitScheme(c);
}
