import type { Command } from "commander";
import { registerBench } from "./bench.ts";
import { registerConfigCommands } from "./config.ts";
import { registerCurate } from "./curate.ts";
import { registerCycle } from "./cycle.ts";
import { registerData } from "./data.ts";
import { registerFindings } from "./findings.ts";
import { registerGguf } from "./gguf.ts";
import { registerJudge } from "./judge.ts";
import { registerRedteam } from "./redteam.ts";
import { registerReport } from "./report.ts";
import { registerServe } from "./serve.ts";
import { registerTrain } from "./train.ts";
import { registerView } from "./view.ts";
import { registerWorldCommands } from "./world.ts";
import { registerWorldBuild } from "./world-build.ts";

/** A command module adds its subcommands to the program. Add one line per stage below. */
export type RegisterCommands = (program: Command) => void;

export const commands: RegisterCommands[] = [
  registerConfigCommands,
  registerData,
  registerServe,
  registerBench,
  registerWorldCommands,
  registerWorldBuild,
  registerJudge,
  registerRedteam,
  registerFindings,
  registerTrain,
  registerCurate,
  registerCycle,
  registerReport,
  registerGguf,
  registerView,
];
