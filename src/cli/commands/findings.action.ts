/**
 * The action of `breakfix findings [ID]` (registered in findings.ts), loaded when it runs: the vulnerabilities of a
 * stored red-team campaign (default: the latest), ranked by severity x success rate x reach, each with its findings
 * and the attack records (conversations) they link to; with an ID (a record or finding id, or a unique prefix), that
 * conversation, response and judgement, with model output escaped for the terminal.
 */
import { escapeForTerminal, jsonForTerminal } from "../../domain/escape.ts";
import { blockedJson, blockedText } from "../../judges/blocked.ts";
import { loadCampaignResults } from "../../redteam/campaign/campaign.ts";
import { SqliteCampaignStore } from "../../redteam/campaign/sqlite-store.ts";
import type { AttackRecord, CampaignManifest } from "../../redteam/campaign/types.ts";
import { writeFindingsJsonl } from "../../redteam/identify.ts";
import { CliError, numberFlag } from "../errors.ts";
import { existingStore, workspaceOf } from "../workspace.ts";

export interface FindingsOptions {
  campaign?: string;
  config?: string;
  workspace?: string;
  export?: string;
  json?: boolean;
  top: string;
}

function pickCampaign(cs: SqliteCampaignStore, id?: string): CampaignManifest {
  const all = cs.listCampaigns();
  if (all.length === 0)
    throw new CliError("findings: no red-team campaign in the workspace (run `breakfix redteam` first)", 2);
  if (!id) return all.reduce((a, b) => (b.createdAt > a.createdAt ? b : a));
  const hits = all.filter((c) => c.id.startsWith(id));
  if (hits.length !== 1)
    throw new CliError(`findings: campaign '${id}' ${hits.length ? "is ambiguous" : "not found"}`, 2);
  return hits[0];
}

export function renderRecord(r: AttackRecord): string {
  const lines = [
    `record ${r.id}`,
    `attack ${r.attack.id}  probe ${escapeForTerminal(r.probe.id, { oneLine: true, max: 120 })}  ${r.probe.category}  ${r.attack.language}  technique ${r.techniqueId} (${r.attack.family})`,
    `judgement ${r.judgement.judgeId}: ${r.judgement.status} ${r.judgement.label}${r.judgement.severity === undefined ? "" : ` severity ${r.judgement.severity}`}  success ${r.success}`,
  ];
  if (r.judgement.rationale) lines.push(`rationale: ${escapeForTerminal(r.judgement.rationale)}`);
  if (r.multiTurn) {
    lines.push(
      `multi-turn ${r.multiTurn.strategy}: ${r.multiTurn.stopReason}, ${r.multiTurn.keptTurns} turns kept, ${r.multiTurn.backtracks} backtracks`,
    );
  }
  lines.push("", "conversation:");
  for (const m of r.attack.conversation) lines.push(`--- ${m.role}`, escapeForTerminal(m.content));
  lines.push("--- assistant (judged response)", escapeForTerminal(r.response.content));
  return lines.join("\n");
}

export function findingsAction(id: string | undefined, o: FindingsOptions): void {
  const ws = workspaceOf(o);
  // read only: a workspace with no store is a usage error, and nothing is created
  const store = existingStore(
    ws,
    (file) =>
      `findings: no red-team campaign in the workspace ${ws}: no store at ${file} (run \`breakfix redteam\` first, or pass --workspace DIR)`,
  );
  try {
    const cs = new SqliteCampaignStore(store);
    const manifest = pickCampaign(cs, o.campaign);
    const res = loadCampaignResults(cs, manifest.id);
    if (id) {
      const byRecord = res.records.filter((r) => r.id.startsWith(id));
      const byFinding = res.identified.findings.filter((f) => f.id.startsWith(id));
      const ids = new Set([...byRecord.map((r) => r.id), ...byFinding.map((f) => f.recordId)]);
      if (ids.size !== 1)
        throw new CliError(
          `findings: '${id}' ${ids.size ? "is ambiguous" : "matches no record or finding of this campaign"}`,
          2,
        );
      const rec = res.records.find((r) => ids.has(r.id))!;
      process.stdout.write(`${o.json ? jsonForTerminal(rec) : renderRecord(rec)}\n`);
      return;
    }
    if (o.export) writeFindingsJsonl(o.export, res.identified.findings);
    if (o.json) {
      process.stdout.write(
        `${jsonForTerminal({
          campaign: manifest.id,
          missing: res.missing,
          // attacks the deployment's content filter blocked (refusals that say nothing about the model itself)
          blocked: blockedJson(res.asr.blocked, res.asr.sent),
          vulnerabilities: res.identified.vulnerabilities,
          findings: res.identified.findings.map((f) => ({
            id: f.id,
            record: f.recordId,
            vulnerability: f.vulnerabilityId,
            category: f.category,
            severity: f.severity,
            duplicates: f.duplicates.length,
          })),
        })}\n`,
      );
      return;
    }
    const top = numberFlag("top", o.top, { min: 1, integer: true });
    const notSent = res.records.filter((r) => r.notSent).length;
    const lines = [
      `campaign ${manifest.id}  (${manifest.createdAt}, persona ${manifest.persona}, target ${manifest.target}, judge ${manifest.judge})`,
      `records ${res.records.length}/${manifest.recordIds.length}` +
        (res.missing ? ` (${res.missing} not run yet: re-run the campaign)` : "") +
        (notSent
          ? `, ${notSent} not sent (prompt does not fit the target's ${manifest.context?.limit ?? "?"}-token context)`
          : "") +
        (res.asr.blocked ? `, ${blockedText(res.asr.blocked, res.asr.sent)}` : ""),
      `vulnerabilities ${res.identified.vulnerabilities.length}, findings ${res.identified.findings.length}`,
      "",
    ];
    for (const v of res.identified.vulnerabilities.slice(0, Number.isInteger(top) && top > 0 ? top : 20)) {
      lines.push(
        `${v.id.slice(0, 12)}  ${v.category} x ${v.family} x ${v.language}  score ${v.score.toFixed(2)}  ` +
          `success ${v.successes}/${v.attempts} (${(100 * v.successRate).toFixed(0)}%)  ` +
          `severity ${v.meanSeverity.toFixed(1)}  reach ${v.reach}`,
      );
      for (const f of res.identified.findings.filter((x) => x.vulnerabilityId === v.id).slice(0, 3)) {
        const preview = escapeForTerminal((f.attack.conversation.at(-1)?.content ?? "").replace(/\s+/g, " "), {
          max: 80,
        });
        lines.push(
          `    finding ${f.id.slice(0, 12)} -> record ${f.recordId.slice(0, 12)}${f.duplicates.length ? ` (+${f.duplicates.length} near-duplicates)` : ""}  "${preview}"`,
        );
      }
    }
    lines.push("", "show a conversation: breakfix findings <record-or-finding-id>");
    if (o.export) lines.push(`findings written to ${o.export}`);
    process.stdout.write(`${lines.join("\n")}\n`);
  } finally {
    store.close();
  }
}
