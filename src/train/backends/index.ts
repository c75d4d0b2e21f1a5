/** The training backends by name (training.backend): local, command, trl, openai. */
import type { Config } from "../../config/schema.ts";
import { CommandBackend } from "./command.ts";
import { LocalBackend } from "./local.ts";
import type { TrainingBackend } from "./types.ts";

export type { BackendJob, ModelRef, StageResult, TrainingBackend, TrainingData } from "./types.ts";

/** The backend a config names; trl and openai are loaded on demand. */
export async function backendFor(t: Config["training"]): Promise<TrainingBackend> {
  switch (t.backend) {
    case "local":
      return new LocalBackend();
    case "command":
      return new CommandBackend();
    case "trl": {
      const { TrlBackend } = await import("./trl/index.ts");
      return new TrlBackend();
    }
    case "openai": {
      const { OpenAiBackend } = await import("./openai.ts");
      return new OpenAiBackend();
    }
  }
}
