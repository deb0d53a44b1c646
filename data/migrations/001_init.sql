-- The registry schema (docs/REGISTRY.md explains the model and the change-log hash chain).
-- Times are ISO-8601 UTC strings from Date.toISOString(), so they compare correctly as text.

-- One row per registry version; every write transaction adds exactly one.
CREATE TABLE versions (
  version    INTEGER PRIMARY KEY,
  created_at TEXT    NOT NULL,
  kind       TEXT    NOT NULL CHECK (kind IN ('order', 'import', 'revoke', 'revoke-entry', 'extend', 'expire')),
  actor      TEXT    NOT NULL,
  summary    TEXT    NOT NULL,
  adds       INTEGER NOT NULL DEFAULT 0,
  removes    INTEGER NOT NULL DEFAULT 0,
  -- The change-log rows of this version are first_seq..last_seq (both NULL when it changed nothing).
  first_seq  INTEGER,
  last_seq   INTEGER,
  -- The chain head (hash of the last change-log row) once this version is written.
  head_hash  BLOB    NOT NULL
);

CREATE TABLE orders (
  id            INTEGER PRIMARY KEY,
  reference     TEXT    NOT NULL,
  authority     TEXT    NOT NULL,
  category      TEXT    NOT NULL CHECK (category IN ('malware', 'phishing', 'fraud', 'csam', 'gambling',
                  'illegal-content', 'disinformation', 'botnet', 'other')),
  action        TEXT    NOT NULL CHECK (action IN ('block', 'redirect')),
  reason        TEXT,
  issued_at     TEXT    NOT NULL,
  expires_at    TEXT,
  created_at    TEXT    NOT NULL,
  created_by    TEXT    NOT NULL,
  version       INTEGER NOT NULL REFERENCES versions (version),
  status        TEXT    NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'revoked', 'expired')),
  revoked_at    TEXT,
  revoke_reason TEXT,
  ended_version INTEGER REFERENCES versions (version),
  -- {"reason", "rails": [...], "actor", "targets"} when safety rails were overridden.
  override      TEXT    CHECK (override IS NULL OR json_valid(override)),
  entry_count   INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX orders_reference ON orders (reference);
CREATE INDEX orders_due ON orders (expires_at) WHERE status = 'active' AND expires_at IS NOT NULL;

-- The big tables (entries, order_entries, changes) hold one row per listed name, up to tens of millions,
-- and take bulk imports of millions of rows in one transaction, so they carry no CHECK constraints,
-- generated columns or foreign keys (each costs measurable time per row): one writer
-- (src/registry/order-writer.ts) keeps them consistent and the change-log hash chain audits the result.
--
-- An expression is `host/path[?query]`; a domain entry's is exactly `host/`. The entry's kind (`domain`
-- when its only `/` is the last character, else `url`), its host (the part before the first `/`) and its
-- registrable domain are derived from it, not stored; the entries_view view shows kind and host.
-- Keyed by expression: lookups and the sorted full scans that feeds need read one B-tree.
CREATE TABLE entries (
  expression    TEXT    NOT NULL PRIMARY KEY,
  id            INTEGER NOT NULL UNIQUE,
  -- 1 while at least one active order holds the entry, else 0.
  active        INTEGER NOT NULL,
  -- Effective category/action: those of the oldest active order holding the entry (kept when inactive).
  category      TEXT    NOT NULL,
  action        TEXT    NOT NULL,
  -- That oldest active order; NULL while inactive.
  order_id      INTEGER,
  first_version INTEGER NOT NULL,
  last_version  INTEGER NOT NULL
) WITHOUT ROWID;

-- Which orders hold which entries. A link is live while it is active (1; 0 once the entry was revoked on
-- its own) and its order is active.
CREATE TABLE order_entries (
  entry_id        INTEGER NOT NULL,
  order_id        INTEGER NOT NULL,
  active          INTEGER NOT NULL DEFAULT 1,
  removed_reason  TEXT,
  removed_version INTEGER,
  PRIMARY KEY (entry_id, order_id)
) WITHOUT ROWID;
CREATE INDEX order_entries_order ON order_entries (order_id, entry_id);

-- The append-only, hash-chained change log (encoding in src/registry/change-encoding.ts). A row's hash covers,
-- besides its columns, its order's reference, its version's actor and the previous row's hash; those are
-- not repeated in every row (the change_log view shows them), and editing any of them breaks the chain.
-- The row's kind is derived from its expression, as for entries.
CREATE TABLE changes (
  seq        INTEGER PRIMARY KEY,
  version    INTEGER NOT NULL,
  -- 'add' or 'remove'
  op         TEXT    NOT NULL,
  expression TEXT    NOT NULL,
  category   TEXT    NOT NULL,
  action     TEXT    NOT NULL,
  order_id   INTEGER NOT NULL,
  note       TEXT    NOT NULL DEFAULT '',
  hash       BLOB    NOT NULL
);
-- Guards against the registry's own bugs; the hash chain is what detects a deliberate edit.
CREATE TRIGGER changes_no_update BEFORE UPDATE ON changes
BEGIN SELECT RAISE(ABORT, 'the change log is append-only'); END;
CREATE TRIGGER changes_no_delete BEFORE DELETE ON changes
BEGIN SELECT RAISE(ABORT, 'the change log is append-only'); END;

-- For people reading the database directly: entries with their derived columns, and every hashed field of
-- every change-log row (the window over the whole log makes change_log slow to filter: it is for reading).
CREATE VIEW entries_view AS
SELECT e.*, CASE WHEN instr(e.expression, '/') = length(e.expression) THEN 'domain' ELSE 'url' END AS kind,
       substr(e.expression, 1, instr(e.expression, '/') - 1) AS host
FROM entries e;

CREATE VIEW change_log AS
SELECT c.seq, c.version, c.op, c.expression,
       CASE WHEN instr(c.expression, '/') = length(c.expression) THEN 'domain' ELSE 'url' END AS kind,
       c.category, c.action, c.order_id, o.reference AS order_ref, v.actor, c.note,
       lag(c.hash, 1, zeroblob(32)) OVER (ORDER BY c.seq) AS prev_hash, c.hash
FROM changes c LEFT JOIN orders o ON o.id = c.order_id LEFT JOIN versions v ON v.version = c.version;

CREATE TABLE tokens (
  id           INTEGER PRIMARY KEY,
  name         TEXT NOT NULL,
  role         TEXT NOT NULL CHECK (role IN ('admin', 'regulator', 'auditor', 'distributor')),
  -- Hex SHA-256 of the whole token text; the token itself is never stored.
  token_hash   TEXT NOT NULL UNIQUE,
  created_at   TEXT NOT NULL,
  revoked_at   TEXT,
  last_used_at TEXT
);

-- The last applied-version report of each distributor token per feed (the compliance view).
CREATE TABLE distributors (
  token_id    INTEGER NOT NULL REFERENCES tokens (id),
  feed        TEXT    NOT NULL,
  version     INTEGER NOT NULL,
  applied_at  TEXT    NOT NULL,
  reported_at TEXT    NOT NULL,
  outputs     TEXT    NOT NULL CHECK (json_valid(outputs)),
  PRIMARY KEY (token_id, feed)
) WITHOUT ROWID;
