/**
 * `breakfix cycle --model SPEC`: the spec reaches the model resolver as the user wrote it, through commander's real
 * parsing: `hf:ORG/NAME[@REV]` goes to the hub download and `demo` to the committed organism (a path.resolve() of the
 * spec once turned both into a folder under the working directory that does not exist); a plain folder is resolved.
 * The hub resolver is replaced by a recorder that stops the run: nothing is downloaded, no model is loaded.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Command } from "commander";
import { afterAll, afterEach, describe, expect, it, vi } from "vitest";
import { DEMO_MODEL_DIR } from "../../models/registry.ts";
import { withExitScheme } from "../errors.ts";
import { registerCycle } from "./cycle.ts";

const seen: string[] = [];
vi.mock("../../models/hub.ts", async (importOriginal) => ({
  ...(await importOriginal<typeof import("../../models/hub.ts")>()),
  resolveModelSpec: async (spec: string) => {
    seen.push(spec);
    throw new Error(`hub: stopped at ${spec}`);
  },
}));

const dir = mkdtempSync(path.join(tmpdir(), "bf-cycle-model-"));
const cwd = process.cwd();
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => process.chdir(cwd));

async function cycle(model: string): Promise<Error> {
  const program = withExitScheme(new Command().exitOverride());
  registerCycle(program);
  seen.length = 0;
  try {
    await program.parseAsync(["node", "breakfix", "cycle", "--model", model, "--workspace", path.join(dir, "ws")]);
  } catch (e) {
    return e as Error;
  }
  throw new Error("the cycle ran");
}

describe("breakfix cycle --model", () => {
  it("hands hf:ORG/NAME to the hub resolver unchanged", async () => {
    const err = await cycle("hf:HuggingFaceTB/SmolLM2-135M-Instruct");
    expect(seen).toEqual(["hf:HuggingFaceTB/SmolLM2-135M-Instruct"]);
    expect(err.message).toBe("hub: stopped at hf:HuggingFaceTB/SmolLM2-135M-Instruct");
  });

  it("takes `demo` as the committed organism", async () => {
    await cycle("demo");
    expect(seen).toEqual([DEMO_MODEL_DIR]);
  });

  it("resolves a plain folder against the working directory", async () => {
    mkdirSync(path.join(dir, "mine"), { recursive: true });
    writeFileSync(path.join(dir, "mine", "config.json"), "{}");
    process.chdir(dir);
    await cycle("mine");
    expect(seen).toEqual([path.join(dir, "mine")]);
  });
});
