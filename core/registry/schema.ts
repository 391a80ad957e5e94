/**
 * The registry's schema as a list of migrations; `PRAGMA user_version` is how many have been
 * applied. A later version appends a migration (never edits an old one) so older files upgrade.
 */
export const MIGRATIONS: readonly string[] = [
  // 1: runs with their nodes (cache key and backend-free lineage key), outputs and claims; sweeps.
  `
  CREATE TABLE sweeps (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    graph_name TEXT NOT NULL,
    graph_file TEXT NOT NULL,
    grid_json TEXT NOT NULL,
    out_dir TEXT NOT NULL,
    backend TEXT NOT NULL,
    points_total INTEGER NOT NULL,
    points_failed INTEGER,
    status TEXT NOT NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT
  );
  CREATE TABLE runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    graph_name TEXT NOT NULL,
    graph_file TEXT NOT NULL,
    graph_sha256 TEXT NOT NULL,
    status TEXT NOT NULL,
    backend TEXT NOT NULL,
    started_at TEXT NOT NULL,
    duration_ms REAL NOT NULL,
    out_dir TEXT,
    cache_dir TEXT,
    sweep_id INTEGER REFERENCES sweeps(id) ON DELETE SET NULL,
    point_id TEXT,
    coords_json TEXT,
    manifest_json TEXT NOT NULL,
    recorded_at TEXT NOT NULL
  );
  CREATE INDEX runs_by_graph ON runs(graph_name);
  CREATE INDEX runs_by_sweep ON runs(sweep_id);
  CREATE TABLE run_nodes (
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    node TEXT NOT NULL,
    op TEXT NOT NULL,
    status TEXT NOT NULL,
    cache_key TEXT NOT NULL,
    lineage_key TEXT NOT NULL,
    lineage_json TEXT NOT NULL,
    PRIMARY KEY (run_id, node)
  );
  CREATE INDEX run_nodes_by_lineage ON run_nodes(lineage_key);
  CREATE TABLE run_outputs (
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    node TEXT NOT NULL,
    port TEXT NOT NULL,
    kind TEXT NOT NULL,
    file TEXT,
    shape_json TEXT,
    dtype TEXT,
    sha256 TEXT,
    PRIMARY KEY (run_id, name)
  );
  CREATE TABLE run_claims (
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    node TEXT NOT NULL,
    op TEXT NOT NULL,
    pass INTEGER NOT NULL,
    value_json TEXT NOT NULL,
    message TEXT NOT NULL,
    PRIMARY KEY (run_id, position)
  );
  `,
  // 2: where a run was executed when not in the recording process: the queue (address with the
  // password hidden) and the worker that ran it (`kernelflow worker --name`, default host:pid).
  `
  ALTER TABLE runs ADD COLUMN queue TEXT;
  ALTER TABLE runs ADD COLUMN worker TEXT;
  ALTER TABLE sweeps ADD COLUMN queue TEXT;
  `,
];
