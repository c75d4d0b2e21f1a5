/**
 * The CLI's one model-spec parser. A spec names a model on the command line: `URL#model` or
 * `openai-compatible:URL#model` (any OpenAI-compatible endpoint: vLLM, Ollama, llama.cpp server, `breakfix serve`),
 * `builtin:DIR` (a Hugging Face folder on our engine), `llamacpp:FILE.gguf`, or `config` (the model section of
 * breakfix.yaml). Models are built by the models registry (limits, retries, timeouts); an API key is read from the
 * environment variable a config or --api-key-env names, never printed or stored.
 */
import { createChatModel, type ModelOptions, type ModelRuntime } from "../models/registry.ts";
import type { ChatModel } from "../models/types.ts";
import { CliError } from "./errors.ts";

/** The options a spec builds on when breakfix.yaml has no section for that model (`config` is then an error). */
export const NO_MODEL: ModelOptions = { provider: "openai-compatible", model: "default" };

/**
 * The model options of a spec. Settings of `base` (a config section: limits, retries, token caps, key variable) are
 * kept; the spec replaces provider, model and endpoint. `what` names the flag in errors (exit 2).
 */
export function parseModelSpec(spec: string, what: string, base: ModelOptions = NO_MODEL): ModelOptions {
  if (spec === "config") {
    if (base === NO_MODEL) throw new CliError(`${what} config: breakfix.yaml has no section for this model`, 2);
    return base;
  }
  const local = /^(builtin|llamacpp):(.+)$/.exec(spec);
  if (local) return { ...base, provider: local[1] as "builtin" | "llamacpp", model: local[2], baseUrl: undefined };
  const s = spec.replace(/^openai-compatible:/, "");
  const hash = s.lastIndexOf("#");
  const url = hash > 0 ? s.slice(0, hash) : s;
  if (!/^https?:\/\//.test(url)) {
    throw new CliError(
      `${what}: '${spec}' is not URL#model, builtin:DIR, llamacpp:FILE.gguf or 'config' (e.g. http://127.0.0.1:8000/v1#demo)`,
      2,
    );
  }
  return { ...base, provider: "openai-compatible", baseUrl: url, model: hash > 0 ? s.slice(hash + 1) : "default" };
}

/** A model from options, through the models registry; a failure to build it is a usage error naming the flag. */
export async function buildModel(o: ModelOptions, what: string, rt: ModelRuntime = {}): Promise<ChatModel> {
  try {
    return await createChatModel(o, rt);
  } catch (e) {
    const hint =
      o.provider === "builtin" && o.model === "demo"
        ? " (the demo model is not built yet; pass --target URL#model)"
        : "";
    throw new CliError(`${what}: ${(e as Error).message}${hint}`, 2);
  }
}
