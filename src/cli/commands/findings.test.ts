/**
 * `breakfix findings <id>`: a record as the terminal shows it; every string from a dataset or a model escaped. The
 * campaign summaries (`breakfix redteam`, `breakfix findings`): attacks the deployment's content filter blocked.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Command } from "commander";
import { afterAll, describe, expect, it, vi } from "vitest";
import { isInvisible } from "../../domain/escape.ts";
import { OpenAICompatibleModel } from "../../models/providers/openai-compatible.ts";
import { MockChatServer } from "../../models/testing/mock-server.ts";
import type { ChatModel } from "../../models/types.ts";
import { runRedteamCampaign } from "../../redteam/campaign/campaign.ts";
import { SqliteCampaignStore } from "../../redteam/campaign/sqlite-store.ts";
import { FramingRegistry } from "../../redteam/framings/load.ts";
import { makePersona } from "../../redteam/personas.ts";
import { ScriptedModel } from "../../redteam/testing/scripted-model.ts";
import { PlaceholderJudge } from "../../redteam/testing/toy-judge.ts";
import { TOY_SEEDS, toyTarget } from "../../redteam/testing/toy-world.ts";
import { Store } from "../../store/store.ts";
import { buildWorkspace, makeRecord, PAYLOADS } from "../../view/testing/workspace.ts";
import { findingsAction, renderRecord } from "./findings.action.ts";
import { registerFindings } from "./findings.ts";
import { outcomeJson, renderOutcome } from "./redteam.action.ts";

const dir = mkdtempSync(path.join(tmpdir(), "bf-findings-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("findings: one record", () => {
  it("a probe id from a seeds file (any string) is shown escaped on one line, never interpreted", () => {
    const rec = makeRecord({ i: 1, rand: () => 0.1, outcome: "success" });
    const evil = "row-7\u001b]0;pwned\u0007\r\nX\u202e";
    const text = renderRecord({ ...rec, probe: { ...rec.probe, id: evil }, attack: { ...rec.attack, probeId: evil } });
    for (const c of ["\u001b", "\u0007", "\r", "\u202e"]) expect(text).not.toContain(c);
    expect(text).toContain("probe row-7\\u{1b}]0;pwned\\u{7}\\u{d}\\nX\\u{202e}  ");
  });

  it("--json: the model's answer holds no raw invisible or control character (tag characters as \\u escapes), same value", async () => {
    const ws = await buildWorkspace(path.join(dir, "ws"), { attacks: 40 });
    const program = new Command().exitOverride();
    registerFindings(program);
    let out = "";
    const spy = vi.spyOn(process.stdout, "write").mockImplementation((chunk) => {
      out += String(chunk);
      return true;
    });
    try {
      await program.parseAsync(["findings", ws.payloadRecordId, "--json", "--workspace", ws.dir], { from: "user" });
    } finally {
      spy.mockRestore();
    }
    expect([...out].filter((c) => isInvisible(c.codePointAt(0) ?? 0) && c !== "\n")).toEqual([]);
    expect((JSON.parse(out) as { response: { content: string } }).response.content).toContain(PAYLOADS.tags);
  });
});

describe("campaign summary: attacks the target deployment's content filter blocked", () => {
  /** A campaign of the low-skilled persona on the toy seeds, stored in the workspace `ws`, against `target`. */
  async function campaign(ws: string, target: ChatModel) {
    const store = Store.open(ws);
    try {
      const framings = new FramingRegistry();
      return await runRedteamCampaign(
        {
          seeds: TOY_SEEDS.filter((p) => p.language === "en"),
          seedsSource: "toy",
          persona: makePersona("low_skilled", framings),
          languages: ["en"],
          seed: 1,
        },
        {
          target,
          judge: new PlaceholderJudge(),
          deps: {},
          framings,
          store: new SqliteCampaignStore(store),
          concurrency: 2,
        },
      );
    } finally {
      store.close();
    }
  }
  async function findings(ws: string, json: boolean): Promise<string> {
    let out = "";
    const spy = vi.spyOn(process.stdout, "write").mockImplementation((chunk) => {
      out += String(chunk);
      return true;
    });
    try {
      findingsAction(undefined, { workspace: ws, top: "5", json });
    } finally {
      spy.mockRestore();
    }
    return out;
  }

  it("are counted in the redteam and findings summaries when there are some, always in the JSON; categories stored", async () => {
    // an Azure deployment whose filter refuses asks about a zorblax (400) and withholds answers about the vault (200)
    const server = new MockChatServer({
      fault: (_n, body) => {
        const asked = body.messages?.at(-1)?.content ?? "";
        return asked.includes("zorblax") ? "content_filter" : asked.includes("vault") ? "filtered" : "ok";
      },
    });
    const base = await server.start();
    try {
      const azure = { endpoint: base.replace(/\/v1$/, ""), apiVersion: "2024-10-21" };
      const target = new OpenAICompatibleModel({ model: "gpt-4o", apiKey: "k", azure });
      const ws = path.join(dir, "blocked");
      const out = await campaign(ws, target);
      const blocked = out.records.filter((r) => r.response.finishReason === "content_filter");
      expect(blocked.length).toBeGreaterThan(0);
      expect(out.asr.blocked).toBe(blocked.length);
      expect(out.asr.sent).toBe(out.records.length);
      for (const r of blocked)
        expect(r).toMatchObject({ success: false, refused: true, judgement: { label: "blocked" } });
      const line = `blocked by the provider's filter: ${blocked.length} of ${out.records.length} (`;
      expect(renderOutcome(out)).toContain(line);
      expect(outcomeJson(out).blocked).toEqual({
        count: blocked.length,
        of: out.records.length,
        share: blocked.length / out.records.length,
      });
      expect(await findings(ws, false)).toContain(line);
      expect(JSON.parse(await findings(ws, true)).blocked).toMatchObject({ count: blocked.length });
      // the filter's categories are stored with the response (responses table) and named in the judgement's rationale
      const store = Store.open(ws, { readonly: true });
      try {
        const responses = store.responses.list().map((s) => s.value);
        const filters = responses.filter((r) => r.finishReason === "content_filter").map((r) => r.filter);
        expect(filters).toContainEqual({
          categories: [{ name: "jailbreak" }, { name: "violence", severity: "medium" }],
        });
        expect(filters).toContainEqual({ categories: [{ name: "violence", severity: "high" }] });
        const rationales = store.judgements.list().map((s) => s.value.rationale ?? "");
        expect(rationales).toContain(
          "blocked by the deployment's content filter (jailbreak, violence: medium): the attack was refused",
        );
        expect(rationales).toContain(
          "blocked by the deployment's content filter (violence: high): the attack was refused",
        );
      } finally {
        store.close();
      }
    } finally {
      await server.stop();
    }
  });

  it("are not mentioned when none was blocked (0 in the JSON)", async () => {
    const ws = path.join(dir, "unblocked");
    const out = await campaign(ws, new ScriptedModel("toy-target", (m) => toyTarget(m)));
    expect(out.asr.blocked).toBe(0);
    expect(renderOutcome(out)).not.toContain("blocked");
    expect(outcomeJson(out).blocked).toEqual({ count: 0, of: out.records.length, share: 0 });
    expect(await findings(ws, false)).not.toContain("blocked");
    expect(JSON.parse(await findings(ws, true)).blocked).toMatchObject({ count: 0 });
  });
});
