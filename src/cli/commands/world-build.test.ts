import { statSync } from "node:fs";
import { Command } from "commander";
import { describe, expect, it } from "vitest";
import { DEMO_GGUF } from "../../models/registry.ts";
import { CliError } from "../errors.ts";
import { registerWorldBuild } from "./world-build.ts";

describe("breakfix world build", () => {
  it("--quick without --out is refused (exit 2) before anything is written: it would replace the committed organism", async () => {
    const before = statSync(DEMO_GGUF).mtimeMs;
    const program = new Command().exitOverride();
    registerWorldBuild(program);
    const err = await program.parseAsync(["world", "build", "--quick"], { from: "user" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CliError);
    expect((err as CliError).exitCode).toBe(2);
    expect((err as Error).message).toMatch(/--quick needs --out DIR: .*committed demo organism/);
    expect(statSync(DEMO_GGUF).mtimeMs).toBe(before);
  });
});
