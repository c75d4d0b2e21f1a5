/**
 * `breakfix findings [ID]`: the vulnerabilities of a stored red-team campaign (default: the latest), ranked by
 * severity x success rate x reach, each with its findings and the attack records (conversations) they link to.
 * With an ID (a record or finding id, or a unique prefix) it prints that conversation, response and judgement, with
 * model output escaped for the terminal. --export writes the findings as JSONL; --json prints one JSON object.
 * The action is in findings.action.ts, loaded when it runs.
 */
import type { Command } from "commander";
import { cliAction, lazyAction, withExitScheme } from "../errors.ts";

const actions = () => import("./findings.action.ts");

export function registerFindings(program: Command): void {
  const before = program.commands.length;
  program
    .command("findings [id]")
    .description("List the vulnerabilities and findings of a red-team campaign, or show one attack's conversation")
    .option("--campaign <id>", "campaign id or unique prefix (default: the latest)")
    .option("--config <file>", "breakfix.yaml to use")
    .option("--workspace <dir>", "workspace folder (default: the config's)")
    .option("--export <file>", "write the campaign's findings as JSONL")
    .option("--top <n>", "vulnerabilities to list", "20")
    .option("--json", "print JSON")
    .action(cliAction(lazyAction(async () => (await actions()).findingsAction)));
  // one exit-code scheme for every command (errors.ts)
  for (const c of program.commands.slice(before)) withExitScheme(c);
}
