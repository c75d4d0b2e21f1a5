/**
 * `breakfix serve --model DIR|FILE.gguf [--adapter PATH] [--port N] [--host H]`: serve one of our models over an
 * OpenAI-compatible API (src/models/server.ts). A folder is served by the builtin engine, a .gguf file by llama.cpp.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import type { Command } from "commander";
import { createProvider } from "../../models/registry.ts";
import { resolveApiKey } from "../../models/secrets.ts";
import { startOpenAIServer } from "../../models/server.ts";
import { CliError, cliAction, intFlag, runFailed, withExitScheme } from "../errors.ts";

interface ServeFlags {
  model: string;
  adapter?: string;
  port: string;
  host: string;
  name?: string;
  sequences?: string;
  contextSize?: string;
  apiKeyEnv?: string;
}

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
    .action(
      cliAction(async (flags: ServeFlags) => {
        const port = intFlag("--port", flags.port, 0, 65535);
        const sequences = intFlag("--sequences", flags.sequences ?? "4", 1);
        const isGguf = /\.gguf$/i.test(flags.model);
        const name = flags.name ?? path.basename(flags.model).replace(/\.gguf$/i, "");
        let apiKey: string | undefined;
        try {
          apiKey = flags.apiKeyEnv ? resolveApiKey({ apiKeyEnv: flags.apiKeyEnv }) : undefined;
        } catch (err) {
          throw new CliError((err as Error).message);
        }
        if (!["127.0.0.1", "localhost", "::1"].includes(flags.host) && !apiKey)
          process.stderr.write(
            `breakfix serve: warning: binding ${flags.host} without --api-key-env exposes the model\n`,
          );
        let model: Awaited<ReturnType<typeof createProvider>>;
        try {
          model = await createProvider({
            provider: isGguf ? "llamacpp" : "builtin",
            model: flags.model,
            adapter: flags.adapter,
            sequences,
            contextSize: intFlag("--context-size", flags.contextSize ?? "2048", 16),
          });
        } catch (err) {
          // a path that is not there is a usage error (2); a model that fails to load is a failed run (1)
          if (!existsSync(flags.model)) throw new CliError(`--model: ${flags.model}: no such file or folder`);
          throw runFailed(`cannot load ${flags.model}: ${(err as Error).message}`);
        }
        const server = await startOpenAIServer(model, {
          modelName: name,
          port,
          host: flags.host,
          apiKey,
          concurrency: Math.max(sequences, 16),
        });
        process.stdout.write(`breakfix serve: listening on ${server.url} (model "${name}")\n`);
        await new Promise<void>((resolve) => {
          const stop = () => {
            process.off("SIGINT", stop);
            process.off("SIGTERM", stop);
            server
              .close()
              .then(() => model.close?.())
              .finally(resolve);
          };
          process.on("SIGINT", stop);
          process.on("SIGTERM", stop);
        });
      }),
    );
  // one exit-code scheme for every command (errors.ts)
  for (const c of program.commands.slice(before)) withExitScheme(c);
}
