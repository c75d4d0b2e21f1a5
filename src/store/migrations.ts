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

export const MIGRATIONS: readonly Migration[] = MIGRATIONS_LIST;

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1].version;
