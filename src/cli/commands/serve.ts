/**
 * `breakfix serve --model DIR|FILE.gguf [--adapter PATH] [--port N] [--host H]`: serve one of our models over an
 * OpenAI-compatible API (src/models/server.ts). A folder is served by the builtin engine, a .gguf file by llama.cpp.
 * The action is in serve.action.ts, loaded when it runs.
 */
import type { Command } from "commander";
import { cliAction, lazyAction, withExitScheme } from "../errors.ts";

const actions = () => import("./serve.action.ts");

export function registerServe(program: Command): void {
  const before = program.commands.length;
  program
    .command("serve")
    .description("Serve a model (HF folder or .gguf) over an OpenAI-compatible API (/v1/chat/completions, /v1/models)")
    .requiredOption("--model <path>", "Hugging Face model folder (builtin engine) or .gguf file (llama.cpp)")
    .option("--adapter <path>", "LoRA adapter: a PEFT folder (builtin) or a GGUF adapter file (llama.cpp)")
    .option("--port <n>", "port (0 = a free port)", "8000")
    .option("--host <host>", "interface to bind (keep 127.0.0.1 unless you add --api-key-env)", "127.0.0.1")
    .option("--name <id>", "model id reported by /v1/models (default: the file or folder name)")
    .option("--sequences <n>", "parallel sequences (llama.cpp) / batch size (builtin)", "4")
    .option("--context-size <n>", "context length per sequence (llama.cpp)", "2048")
    .option("--api-key-env <NAME>", "require clients to send the key held in this environment variable")
    .action(cliAction(lazyAction(async () => (await actions()).serveAction)));
  // one exit-code scheme for every command (errors.ts)
  for (const c of program.commands.slice(before)) withExitScheme(c);
}
