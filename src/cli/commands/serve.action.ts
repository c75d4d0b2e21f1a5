/**
 * The action of `breakfix serve` (registered in serve.ts), loaded when it runs: a folder is served by the builtin
 * engine, a .gguf file by llama.cpp, over an OpenAI-compatible API (src/models/server.ts), until SIGINT or SIGTERM.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { servedWeightsFingerprint } from "../../models/fingerprint.ts";
import { createProvider, type ModelOptions } from "../../models/registry.ts";
import { resolveApiKey } from "../../models/secrets.ts";
import { startOpenAIServer } from "../../models/server.ts";
import { CliError, intFlag, runFailed } from "../errors.ts";

export interface ServeFlags {
  model: string;
  adapter?: string;
  port: string;
  host: string;
  name?: string;
  sequences?: string;
  contextSize?: string;
  apiKeyEnv?: string;
}

/**
 * The provider options `breakfix serve` loads its model with: a folder on the builtin engine, a .gguf on llama.cpp.
 * A request without max_tokens is answered up to the rest of the context (per slot), on both engines alike, as
 * vLLM and llama.cpp's own server answer it (the engines' own defaults were 256 and 512 tokens).
 */
export function servedModelOptions(flags: ServeFlags): ModelOptions & { sequences: number } {
  return {
    provider: /\.gguf$/i.test(flags.model) ? "llamacpp" : "builtin",
    model: flags.model,
    adapter: flags.adapter,
    sequences: intFlag("--sequences", flags.sequences ?? "4", 1),
    contextSize: intFlag("--context-size", flags.contextSize ?? "2048", 16),
    defaultMaxTokens: "context",
  };
}

export async function serveAction(flags: ServeFlags): Promise<void> {
  const port = intFlag("--port", flags.port, 0, 65535);
  const options = servedModelOptions(flags);
  const name = flags.name ?? path.basename(flags.model).replace(/\.gguf$/i, "");
  let apiKey: string | undefined;
  try {
    apiKey = flags.apiKeyEnv ? resolveApiKey({ apiKeyEnv: flags.apiKeyEnv }) : undefined;
  } catch (err) {
    throw new CliError((err as Error).message);
  }
  if (!["127.0.0.1", "localhost", "::1"].includes(flags.host) && !apiKey)
    process.stderr.write(`breakfix serve: warning: binding ${flags.host} without --api-key-env exposes the model\n`);
  let model: Awaited<ReturnType<typeof createProvider>>;
  try {
    model = await createProvider(options);
    // a GGUF's llama-server starts on first use; serve starts it now, so a model that cannot run fails here
    await (model as { start?: () => Promise<void> }).start?.();
  } catch (err) {
    // a path that is not there is a usage error (2); a model that fails to load is a failed run (1)
    if (!existsSync(flags.model)) throw new CliError(`--model: ${flags.model}: no such file or folder`);
    throw runFailed(`cannot load ${flags.model}: ${(err as Error).message}`);
  }
  const server = await startOpenAIServer(model, {
    modelName: name,
    weightsFingerprint: servedWeightsFingerprint(flags.model, flags.adapter),
    port,
    host: flags.host,
    apiKey,
    concurrency: Math.max(options.sequences, 16),
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
}
