-- takedown:foreign-keys-off
-- Safe orders (docs/REGISTRY.md): released targets, every decision in the hash chain, pending orders that a
-- second regulator approves. SQLite cannot change a CHECK constraint in place, so `versions` and `orders` are
-- rebuilt (the migration runs with foreign keys off and checks them before it commits).

DROP VIEW change_log;
DROP VIEW entries_view;

CREATE TABLE versions_new (
  version    INTEGER PRIMARY KEY,
  created_at TEXT    NOT NULL,
  kind       TEXT    NOT NULL CHECK (kind IN ('order', 'import', 'revoke', 'revoke-entry', 'extend', 'expire',
               'approve', 'reject', 'unrelease')),
  actor      TEXT    NOT NULL,
  summary    TEXT    NOT NULL,
  adds       INTEGER NOT NULL DEFAULT 0,
  removes    INTEGER NOT NULL DEFAULT 0,
  first_seq  INTEGER,
  last_seq   INTEGER,
  head_hash  BLOB    NOT NULL
);
INSERT INTO versions_new SELECT version, created_at, kind, actor, summary, adds, removes, first_seq, last_seq,
  head_hash FROM versions;
DROP TABLE versions;
ALTER TABLE versions_new RENAME TO versions;

-- A pending order (four-eyes) has no version until it is approved; `approval` says why it needs one and how
-- the second regulator decided.
CREATE TABLE orders_new (
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
  version       INTEGER REFERENCES versions (version),
  status        TEXT    NOT NULL DEFAULT 'active' CHECK (status IN ('pending', 'active', 'revoked', 'expired',
                  'rejected')),
  revoked_at    TEXT,
  revoke_reason TEXT,
  ended_version INTEGER REFERENCES versions (version),
  override      TEXT    CHECK (override IS NULL OR json_valid(override)),
  entry_count   INTEGER NOT NULL DEFAULT 0,
  -- {"reasons": [{code, message}], "requestedBy", "expiresAt", "decision"?, "by"?, "at"?, "reason"?}
  approval      TEXT    CHECK (approval IS NULL OR json_valid(approval)),
  -- true when a revocation released its entries as false positives
  released      INTEGER NOT NULL DEFAULT 0
);
INSERT INTO orders_new (id, reference, authority, category, action, reason, issued_at, expires_at, created_at,
  created_by, version, status, revoked_at, revoke_reason, ended_version, override, entry_count)
SELECT id, reference, authority, category, action, reason, issued_at, expires_at, created_at, created_by, version,
  status, revoked_at, revoke_reason, ended_version, override, entry_count FROM orders;
DROP TABLE orders;
ALTER TABLE orders_new RENAME TO orders;
CREATE INDEX orders_reference ON orders (reference);
CREATE INDEX orders_due ON orders (expires_at) WHERE status = 'active' AND expires_at IS NOT NULL;
CREATE INDEX orders_pending ON orders (id) WHERE status = 'pending';

-- The targets of a pending order as submitted; approval screens them again and writes them.
CREATE TABLE pending_targets (
  order_id INTEGER NOT NULL,
  position INTEGER NOT NULL,
  target   TEXT    NOT NULL,
  PRIMARY KEY (order_id, position)
) WITHOUT ROWID;

-- Targets revoked as false positives: a later order naming one is refused unless it overrides (`released`).
-- Un-releasing keeps the row (active = 0) with who did it and why.
CREATE TABLE released (
  expression        TEXT    NOT NULL PRIMARY KEY,
  active            INTEGER NOT NULL DEFAULT 1,
  order_id          INTEGER NOT NULL,
  version           INTEGER NOT NULL,
  released_at       TEXT    NOT NULL,
  released_by       TEXT    NOT NULL,
  reason            TEXT    NOT NULL,
  unreleased_at     TEXT,
  unreleased_by     TEXT,
  unreleased_reason TEXT,
  unreleased_version INTEGER
) WITHOUT ROWID;

-- Row format 2 of the change log (src/registry/change-encoding.ts) hashes three more fields: the decision's
-- reason, the release flag and the approval. Rows written before keep format 1 and verify as they were.
-- Besides 'add' and 'remove', format-2 rows may record decisions that change no entry: 'revoke', 'extend',
-- 'approve', 'reject' (expression '') and 'unrelease' (the released expression).
ALTER TABLE changes ADD COLUMN format INTEGER NOT NULL DEFAULT 1;
ALTER TABLE changes ADD COLUMN reason TEXT NOT NULL DEFAULT '';
ALTER TABLE changes ADD COLUMN release INTEGER NOT NULL DEFAULT 0;
ALTER TABLE changes ADD COLUMN approval TEXT NOT NULL DEFAULT '';

CREATE VIEW entries_view AS
SELECT e.*, CASE WHEN instr(e.expression, '/') = length(e.expression) THEN 'domain' ELSE 'url' END AS kind,
       substr(e.expression, 1, instr(e.expression, '/') - 1) AS host
FROM entries e;

CREATE VIEW change_log AS
SELECT c.seq, c.format, c.version, c.op, c.expression,
       CASE WHEN c.expression = '' THEN ''
            WHEN instr(c.expression, '/') = length(c.expression) THEN 'domain' ELSE 'url' END AS kind,
       c.category, c.action, c.order_id, o.reference AS order_ref, v.actor, c.note, c.reason, c.release,
       c.approval, lag(c.hash, 1, zeroblob(32)) OVER (ORDER BY c.seq) AS prev_hash, c.hash
FROM changes c LEFT JOIN orders o ON o.id = c.order_id LEFT JOIN versions v ON v.version = c.version;
