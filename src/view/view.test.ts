/** Unit tests of the view's pieces: CSV quoting, inert text, FTS query building, reviews, the index backfill. */
import Database from "better-sqlite3";
import { parse } from "csv-parse/sync";
import { describe, expect, it } from "vitest";
import { contentHash } from "../domain/hash.ts";
import { mulberry32 } from "../domain/random.ts";
import { SqliteCampaignStore } from "../redteam/campaign/sqlite-store.ts";
import { identify } from "../redteam/identify.ts";
import { MIGRATIONS } from "../store/migrations.ts";
import { migrate, Store } from "../store/store.ts";
import { csvField, toCsv, toJsonl } from "./csv.ts";
import { text } from "./html.ts";
import { ftsQuery, listAttacks } from "./queries.ts";
import { addReview, goldLabel, latestReviews, rejectedFindingIds } from "./reviews.ts";
import { makeRecord, PAYLOADS } from "./testing/workspace.ts";

describe("csv", () => {
  it("quotes per RFC 4180 and round-trips through a CSV parser", () => {
    expect(csvField('say "hi", then\nleave')).toBe('"say ""hi"", then\nleave"');
    expect(csvField(null)).toBe("");
    expect(csvField(3)).toBe("3");
    expect(csvField("=HYPERLINK(1)")).toBe("'=HYPERLINK(1)");
    // a ";" list separator (many locales) would split here and start a cell with "=": the field is quoted
    expect(csvField('Sure;=HYPERLINK("http://x","y")')).toBe('"Sure;=HYPERLINK(""http://x"",""y"")"');
    expect(parse(`a\r\n${csvField("ok;@SUM(1)")}\r\n`, { columns: true, delimiter: ";" })).toEqual([
      { a: "ok;@SUM(1)" },
    ]);
    const rows = [
      { a: 'x,"y"', b: "line\r\nbreak", c: 7 },
      { a: PAYLOADS.script, b: null, c: true },
    ];
    const csv = toCsv(["a", "b", "c"], rows);
    expect(csv.endsWith("\r\n")).toBe(true);
    expect(parse(csv, { columns: true })).toEqual([
      { a: 'x,"y"', b: "line\r\nbreak", c: "7" },
      { a: PAYLOADS.script, b: "", c: "true" },
    ]);
    expect(toJsonl([{ a: 1 }, { b: "\n" }])).toBe('{"a":1}\n{"b":"\\n"}\n');
  });
});

describe("text", () => {
  it("escapes markup and shows invisible characters as marks", () => {
    expect(text(PAYLOADS.script).toString()).toBe("&#60;script&#62;window.__pwned=&#34;script&#34;&#60;/script&#62;");
    const tagged = text(PAYLOADS.tags).toString();
    expect(tagged).toContain('<span class="cp" title="invisible character">\\u{e0049}</span>');
    expect(/[\u{E0000}-\u{E007F}]/u.test(tagged)).toBe(false);
    expect(text("a\u202Eb\u200Bc").toString()).toContain("\\u{202e}");
    expect(text(null).toString()).toBe("");
  });
});

describe("ftsQuery", () => {
  it("turns any input into quoted terms, so no FTS syntax reaches SQLite", () => {
    expect(ftsQuery('archivist OR "x" NEAR(a b) *')).toBe('"archivist" "OR" "x" "NEAR" "a" "b"');
    expect(ftsQuery("dispositivo número")).toBe('"dispositivo" "número"');
    expect(ftsQuery("  ")).toBe("");
  });
});

function campaignStore(n: number) {
  const store = Store.openFile(":memory:");
  const rand = mulberry32(3);
  const records = Array.from({ length: n }, (_, i) => makeRecord({ i, rand }));
  const cs = new SqliteCampaignStore(store);
  const id = contentHash({ campaign: n });
  cs.putCampaign({
    id,
    createdAt: "2026-12-01T00:00:00Z",
    target: "demo-base",
    judge: "world-oracle@1",
    persona: "low_skilled",
    languages: ["en", "es"],
    seed: 1,
    seedsSource: "world",
    round: 2,
    minSeverity: 3,
    recordIds: records.map((r) => r.id),
    skipped: [],
  });
  for (const r of records) cs.putRecord(r);
  const identified = identify(records, { round: 2, defaultSeverity: 3 });
  cs.putFindings(id, identified.findings, identified.vulnerabilities);
  return { store, records, campaignId: id, findings: identified.findings };
}

describe("the attack index", () => {
  it("is kept by triggers for new records and backfilled for records written before schema version 3", () => {
    const { store, records, campaignId } = campaignStore(30);
    expect(listAttacks(store, {}, { limit: 5, offset: 0 }).total).toBe(30);
    expect(listAttacks(store, { round: 2, campaign: campaignId }, { limit: 5, offset: 0 }).total).toBe(30);
    // a version-2 database holding a campaign and its records, then migrated to the current schema
    const db = new Database(":memory:");
    migrate(
      db,
      MIGRATIONS.filter((m) => m.version <= 2),
    );
    const insert = db.prepare(
      "INSERT INTO artifacts (kind, hash, run_id, created_at, payload) VALUES (?, ?, NULL, '2026-12-01T00:00:00Z', ?)",
    );
    insert.run(
      "redteam.campaign",
      campaignId,
      JSON.stringify({ id: campaignId, round: 2, recordIds: records.map((r) => r.id) }),
    );
    for (const r of records) insert.run("redteam.record", r.id, JSON.stringify(r));
    migrate(db);
    const rows = db.prepare("SELECT record_id, round, campaign_id, outcome FROM view_attacks ORDER BY id").all() as {
      record_id: string;
      round: number;
      campaign_id: string;
      outcome: string;
    }[];
    expect(rows.map((r) => r.record_id)).toEqual(records.map((r) => r.id));
    expect(rows.every((r) => r.round === 2 && r.campaign_id === campaignId)).toBe(true);
    expect(rows.filter((r) => r.outcome === "success").length).toBe(records.filter((r) => r.success).length);
    const fts = db
      .prepare("SELECT COUNT(*) AS n FROM view_attacks_fts WHERE view_attacks_fts MATCH ?")
      .get('"archivist"') as {
      n: number;
    };
    expect(fts.n).toBe(records.filter((r) => r.attack.conversation.some((m) => /archivist/.test(m.content))).length);
    db.close();
    store.close();
  });
});

describe("reviews", () => {
  it("are validated, append-only, latest-wins, and reject findings for curation", () => {
    const { store, records, findings } = campaignStore(40);
    const finding = findings[0];
    const recordId = (finding as unknown as { recordId: string }).recordId;
    expect(() =>
      addReview(store, { targetKind: "redteam.record", target: recordId, reviewer: " ", verdict: "wrong" }),
    ).toThrow(/name/);
    expect(() =>
      addReview(store, { targetKind: "redteam.record", target: recordId, reviewer: "ann", verdict: "wrong" }),
    ).toThrow(/label/);
    expect(() =>
      addReview(store, { targetKind: "redteam.record", target: "0".repeat(64), reviewer: "ann", verdict: "correct" }),
    ).toThrow(/no redteam.record/);
    expect(rejectedFindingIds(store).size).toBe(0);
    addReview(store, {
      targetKind: "redteam.record",
      target: recordId,
      reviewer: "ann",
      verdict: "wrong",
      label: "full_refusal",
      note: "it refused; the oracle misread it",
      at: "2026-12-01T00:00:00.000Z",
    });
    expect([...rejectedFindingIds(store)]).toEqual([finding.id]);
    // a later review by someone else wins
    addReview(store, {
      targetKind: "redteam.record",
      target: recordId,
      reviewer: "ben",
      verdict: "correct",
      at: "2026-12-01T00:01:00.000Z",
    });
    expect(rejectedFindingIds(store).size).toBe(0);
    const latest = latestReviews(store);
    expect(latest.map((r) => r.value.reviewer)).toEqual(["ben"]);
    expect(goldLabel(latest[0].value)).toBe(records.find((r) => r.id === recordId)?.judgement.refusal);
    expect(store.reviews.count()).toBe(2);
    expect(() => store.db.prepare("UPDATE reviews SET reviewer = 'eve'").run()).toThrow(/append-only/);
    expect(listAttacks(store, { review: "correct" }, { limit: 5, offset: 0 }).total).toBe(1);
    expect(listAttacks(store, { review: "none" }, { limit: 5, offset: 0 }).total).toBe(39);
    store.close();
  });

  it("a review submitted twice (a double click, a resent form) is stored once; a changed one is a new review", () => {
    const { store, findings } = campaignStore(40);
    const recordId = (findings[0] as unknown as { recordId: string }).recordId;
    const review = {
      targetKind: "redteam.record" as const,
      target: recordId,
      reviewer: "ann",
      verdict: "correct" as const,
    };
    const first = addReview(store, { ...review, note: " fine ", at: "2026-12-01T00:00:00.000Z" });
    const again = addReview(store, { ...review, note: "fine", at: "2026-12-01T00:00:02.000Z" });
    expect(again.hash).toBe(first.hash);
    expect(store.reviews.count()).toBe(1);
    // another verdict, note or reviewer is a review of its own, and the latest still wins
    addReview(store, { ...review, verdict: "wrong", label: "full_refusal", at: "2026-12-01T00:01:00.000Z" });
    addReview(store, { ...review, note: "fine", at: "2026-12-01T00:02:00.000Z" });
    expect(store.reviews.count()).toBe(3);
    expect(latestReviews(store).map((r) => r.value.verdict)).toEqual(["correct"]);
    store.close();
  });
});
