/**
 * Versioned schema migrations. A migration, once released, is never edited: add a new one with the next version.
 * `schema_migrations` records which versions a database has; each migration runs in its own transaction.
 *
 * Schema (version 1)
 * ------------------
 * Every result table has the same spine:
 *   seq        INTEGER PRIMARY KEY AUTOINCREMENT  insertion order (append-only, so seq never changes)
 *   hash       TEXT NOT NULL UNIQUE               contentHash() of what PRODUCED the record (the request, the
 *                                                 probe + technique chain + seed, ...): a re-run computes the same
 *                                                 hash and its INSERT ... ON CONFLICT DO NOTHING is a no-op
 *   run_id     TEXT                               the run that wrote it (NULL for shared records such as probes)
 *   round      INTEGER                            break-fix round (NULL when not round-scoped)
 *   parent_hash TEXT                              hash of the record this one derives from (attack -> probe,
 *                                                 judgement -> response, finding -> judgement, ...), or NULL
 *   created_at TEXT NOT NULL                      ISO-8601 UTC
 *   payload    TEXT NOT NULL                      the record as canonical JSON
 * plus a few copied-out columns for filtering, listed per table below. Results are never UPDATEd or DELETEd
 * (version 2 adds triggers that make the database refuse both); a status change is a new row in `states`.
 *
 *   runs(kind)                                   one invocation of a stage or of the cycle
 *   rounds(idx, start_model)                     one break-fix round
 *   probes(source, category, label, language)    prompts (benchmarks, seeds, red-team results)
 *   attacks(persona, family, language)          parent: the seed probe
 *   responses(model)                             one model call: hash = the request (model, conversation, params, sample)
 *   judgements(judge_id, label, severity, status) parent: the response judged
 *   findings(category, severity)
 *   vulnerabilities(category, family, language)
 *   dataset_rows(dataset, kind)                  curated SFT / DPO rows; kind is "sft" | "dpo" | ...
 *   training_runs(kind, base_model)
 *   metrics(name, value)
 *   cache(key PRIMARY KEY, model, created_at, value)           response cache for the models layer
 *   artifacts(kind, hash, run_id, created_at, payload)         generic (kind, hash) -> JSON for any stage
 *     PRIMARY KEY (kind, hash)
 *   states(seq, entity, entity_hash, state, detail, created_at) append-only state log (running/done/failed...);
 *                                                               the current state is the row with the highest seq
 */

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

function resultTable(name: string, extra: string[], indexes: string[]): string {
  const cols = [
    "seq INTEGER PRIMARY KEY AUTOINCREMENT",
    "hash TEXT NOT NULL UNIQUE",
    "run_id TEXT",
    "round INTEGER",
    "parent_hash TEXT",
    "created_at TEXT NOT NULL",
    ...extra,
    "payload TEXT NOT NULL",
  ];
  const idx = ["run_id", "parent_hash", ...indexes].map((c) => `CREATE INDEX ${name}_${c} ON ${name}(${c});`);
  return `CREATE TABLE ${name} (\n  ${cols.join(",\n  ")}\n);\n${idx.join("\n")}\n`;
}

const MIGRATIONS_LIST: Migration[] = [
  {
    version: 1,
    name: "initial schema",
    sql: [
      resultTable("runs", ["kind TEXT NOT NULL"], ["kind"]),
      resultTable("rounds", ["idx INTEGER NOT NULL", "start_model TEXT"], ["idx"]),
      resultTable(
        "probes",
        ["source TEXT NOT NULL", "category TEXT NOT NULL", "label TEXT NOT NULL", "language TEXT NOT NULL"],
        ["source", "category"],
      ),
      resultTable("attacks", ["persona TEXT NOT NULL", "family TEXT NOT NULL", "language TEXT NOT NULL"], ["family"]),
      resultTable("responses", ["model TEXT NOT NULL"], ["model"]),
      resultTable(
        "judgements",
        ["judge_id TEXT NOT NULL", "label TEXT NOT NULL", "severity INTEGER", "status TEXT NOT NULL"],
        ["judge_id"],
      ),
      resultTable("findings", ["category TEXT NOT NULL", "severity INTEGER NOT NULL"], ["category"]),
      resultTable(
        "vulnerabilities",
        ["category TEXT NOT NULL", "family TEXT NOT NULL", "language TEXT NOT NULL"],
        ["category"],
      ),
      resultTable("dataset_rows", ["dataset TEXT NOT NULL", "kind TEXT NOT NULL"], ["dataset"]),
      resultTable("training_runs", ["kind TEXT NOT NULL", "base_model TEXT"], ["kind"]),
      resultTable("metrics", ["name TEXT NOT NULL", "value REAL"], ["name"]),
      `CREATE TABLE cache (
  key TEXT PRIMARY KEY,
  model TEXT,
  created_at TEXT NOT NULL,
  value TEXT NOT NULL
);
CREATE TABLE artifacts (
  kind TEXT NOT NULL,
  hash TEXT NOT NULL,
  run_id TEXT,
  created_at TEXT NOT NULL,
  payload TEXT NOT NULL,
  PRIMARY KEY (kind, hash)
);
CREATE INDEX artifacts_run_id ON artifacts(run_id);
CREATE TABLE states (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  entity TEXT NOT NULL,
  entity_hash TEXT NOT NULL,
  state TEXT NOT NULL,
  detail TEXT,
  created_at TEXT NOT NULL
);
CREATE INDEX states_entity ON states(entity, entity_hash, seq);
`,
    ].join("\n"),
  },
];

const RESULT_TABLES = [
  "runs",
  "rounds",
  "probes",
  "attacks",
  "responses",
  "judgements",
  "findings",
  "vulnerabilities",
  "dataset_rows",
  "training_runs",
  "metrics",
  "cache",
  "artifacts",
  "states",
];

/** Version 2: append-only enforced by the database itself: UPDATE and DELETE on any result table abort. */
MIGRATIONS_LIST.push({
  version: 2,
  name: "append-only guards",
  sql: RESULT_TABLES.flatMap((t) =>
    ["UPDATE", "DELETE"].map(
      (op) =>
        `CREATE TRIGGER ${t}_no_${op.toLowerCase()} BEFORE ${op} ON ${t} BEGIN SELECT RAISE(ABORT, 'breakfix store: ${t} is append-only (${op} refused)'); END;`,
    ),
  ).join("\n"),
});

/**
 * Version 3 (`breakfix view`): the human review log and an index of red-team attack records for paged, filtered and
 * full-text queries.
 *   reviews(target_kind, target, reviewer, verdict)   append-only result table (guards as in version 2): a person's
 *                                                      verdict on one judgement; the latest review of a target wins
 *   view_campaign_records(record_id, campaign_id, round)  which campaign (and round) planned each attack record,
 *                                                      filled from every "redteam.campaign" artifact's recordIds
 *   view_attacks(id, record_id, ..., outcome)          one row per "redteam.record" artifact with its filter columns
 *                                                      copied out and indexed (category, technique, family, persona,
 *                                                      language, round, judge label, severity, outcome, campaign)
 *   view_attacks_fts(body)                             FTS5 (contentless, rowid = view_attacks.id) over the prompt,
 *                                                      the conversation, the response and the judge's rationale
 * The index tables are derived data, written only by triggers on `artifacts` (and the backfill below), so every
 * writer keeps them current in the same transaction as the record itself.
 */
/** The INSERT ... SELECT columns of view_attacks for a record row `r` (hash, created_at, payload). */
function attackIndexSelect(r: string): string {
  const p = (path: string) => `json_extract(${r}.payload, '${path}')`;
  const first = (col: string) =>
    `(SELECT ${col} FROM view_campaign_records WHERE record_id = ${r}.hash ORDER BY rowid LIMIT 1)`;
  return `INSERT OR IGNORE INTO view_attacks (record_id, created_at, campaign_id, round, category, technique, family,
  persona, language, target, judge_id, judge_label, severity, outcome)
SELECT ${r}.hash, ${r}.created_at, ${first("campaign_id")}, ${first("round")},
  ${p("$.probe.category")}, ${p("$.techniqueId")}, ${p("$.attack.family")}, ${p("$.attack.persona")},
  ${p("$.attack.language")}, ${p("$.target")}, ${p("$.judgement.judgeId")}, ${p("$.judgement.label")},
  ${p("$.judgement.severity")},
  CASE WHEN ${p("$.notSent")} IS NOT NULL THEN 'not_sent'
       WHEN ${p("$.judgement.status")} IS NOT 'ok' THEN 'unjudged'
       WHEN ${p("$.success")} THEN 'success'
       WHEN ${p("$.refused")} THEN 'refused'
       ELSE 'resisted' END`;
}

/** The searchable text of a record row `r`: the seed prompt, every message sent, the response, the rationale. */
function attackText(r: string): string {
  const p = (path: string) => `json_extract(${r}.payload, '${path}')`;
  const conversation = `(SELECT group_concat(json_extract(value, '$.content'), char(10)) FROM json_each(${r}.payload, '$.attack.conversation'))`;
  return `concat_ws(char(10), ${p("$.probe.prompt")}, ${conversation}, ${p("$.response.content")}, ${p("$.judgement.rationale")}, ${p("$.techniqueId")})`;
}

MIGRATIONS_LIST.push({
  version: 3,
  name: "reviews and the attack-record index (breakfix view)",
  sql: [
    resultTable(
      "reviews",
      ["target_kind TEXT NOT NULL", "target TEXT NOT NULL", "reviewer TEXT NOT NULL", "verdict TEXT NOT NULL"],
      ["target", "reviewer"],
    ),
    ...["UPDATE", "DELETE"].map(
      (op) =>
        `CREATE TRIGGER reviews_no_${op.toLowerCase()} BEFORE ${op} ON reviews BEGIN SELECT RAISE(ABORT, 'breakfix store: reviews is append-only (${op} refused)'); END;`,
    ),
    `CREATE TABLE view_campaign_records (
  record_id TEXT NOT NULL,
  campaign_id TEXT NOT NULL,
  round INTEGER,
  PRIMARY KEY (record_id, campaign_id)
);
CREATE INDEX view_campaign_records_campaign ON view_campaign_records(campaign_id);
CREATE TABLE view_attacks (
  id INTEGER PRIMARY KEY,
  record_id TEXT NOT NULL UNIQUE,
  created_at TEXT NOT NULL,
  campaign_id TEXT,
  round INTEGER,
  category TEXT,
  technique TEXT,
  family TEXT,
  persona TEXT,
  language TEXT,
  target TEXT,
  judge_id TEXT,
  judge_label TEXT,
  severity INTEGER,
  outcome TEXT NOT NULL
);`,
    ...[
      "category",
      "technique",
      "family",
      "persona",
      "language",
      "round",
      "judge_label",
      "severity",
      "outcome",
      "campaign_id",
    ].map((c) => `CREATE INDEX view_attacks_${c} ON view_attacks(${c}, id);`),
    "CREATE VIRTUAL TABLE view_attacks_fts USING fts5(body, content='', tokenize='unicode61 remove_diacritics 2');",
    "CREATE INDEX findings_record_id ON findings(json_extract(payload, '$.recordId'));",
    // backfill what an older workspace already holds, in insertion order
    `INSERT OR IGNORE INTO view_campaign_records (record_id, campaign_id, round)
SELECT j.value, a.hash, json_extract(a.payload, '$.round') FROM artifacts a, json_each(a.payload, '$.recordIds') j
WHERE a.kind = 'redteam.campaign' ORDER BY a.rowid;`,
    `CREATE TEMP TABLE view_backfill AS SELECT hash, created_at, payload FROM artifacts WHERE kind = 'redteam.record' ORDER BY rowid;`,
    `${attackIndexSelect("b")}
FROM temp.view_backfill b ORDER BY b.rowid;`,
    `INSERT INTO view_attacks_fts (rowid, body)
SELECT v.id, ${attackText("b")} FROM view_attacks v JOIN temp.view_backfill b ON b.hash = v.record_id;`,
    "DROP TABLE temp.view_backfill;",
    `CREATE TRIGGER view_campaign_index AFTER INSERT ON artifacts WHEN NEW.kind = 'redteam.campaign' BEGIN
INSERT OR IGNORE INTO view_campaign_records (record_id, campaign_id, round)
SELECT value, NEW.hash, json_extract(NEW.payload, '$.round') FROM json_each(NEW.payload, '$.recordIds');
END;`,
    `CREATE TRIGGER view_attack_index AFTER INSERT ON artifacts WHEN NEW.kind = 'redteam.record' BEGIN
${attackIndexSelect("NEW")};
INSERT INTO view_attacks_fts (rowid, body) SELECT id, ${attackText("NEW")} FROM view_attacks WHERE record_id = NEW.hash;
END;`,
  ].join("\n"),
});

/**
 * Version 4: run locks (issue 23). Not a result table: a row exists while a run holds its lock and is deleted when
 * the run ends. `name` says what is locked (e.g. "bench:" + a hash of the command); `pid`, `host` and `token` say who
 * holds it, so a lock left by a killed process is recognised as stale (its pid is gone on this host) and taken over.
 */
MIGRATIONS_LIST.push({
  version: 4,
  name: "run locks",
  sql: `CREATE TABLE locks (
  name TEXT PRIMARY KEY,
  pid INTEGER NOT NULL,
  host TEXT NOT NULL,
  token TEXT NOT NULL,
  acquired_at TEXT NOT NULL,
  detail TEXT
);`,
});

/**
 * Version 5: a lock's holder is named by its pid and its start time (Linux /proc clock ticks; NULL where there is no
 * /proc and in rows written before this version). A pid alone was taken for a live holder whenever any process had it:
 * after a crash and a container restart the dead holder's pid belongs to another process, and every run waited for
 * good.
 */
MIGRATIONS_LIST.push({
  version: 5,
  name: "lock holder start time",
  sql: "ALTER TABLE locks ADD COLUMN pid_start TEXT;",
});
export const MIGRATIONS: readonly Migration[] = MIGRATIONS_LIST;

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1].version;
