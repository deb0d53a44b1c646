-- Compliance probes (docs/OPERATIONS.md, "Compliance probes"): the prober token role, the probes' pinned
-- public keys, the sampling plans the hub hands out and the signed results probes post back.

-- SQLite cannot change a CHECK constraint: the tokens table is rebuilt with the `prober` role. Foreign keys
-- stay deferred until commit, by which time every distributor row finds its token again.
PRAGMA defer_foreign_keys = ON;
CREATE TABLE tokens_before_probes AS SELECT * FROM tokens;
DROP TABLE tokens;
CREATE TABLE tokens (
  id           INTEGER PRIMARY KEY,
  name         TEXT NOT NULL,
  role         TEXT NOT NULL CHECK (role IN ('admin', 'regulator', 'auditor', 'distributor', 'prober')),
  -- Hex SHA-256 of the whole token text; the token itself is never stored.
  token_hash   TEXT NOT NULL UNIQUE,
  created_at   TEXT NOT NULL,
  revoked_at   TEXT,
  last_used_at TEXT
);
INSERT INTO tokens (id, name, role, token_hash, created_at, revoked_at, last_used_at)
SELECT id, name, role, token_hash, created_at, revoked_at, last_used_at FROM tokens_before_probes;
DROP TABLE tokens_before_probes;

-- One Ed25519 key per prober token, pinned at its first registration (a new key needs a new token).
CREATE TABLE probe_keys (
  token_id      INTEGER PRIMARY KEY REFERENCES tokens (id),
  key_id        TEXT    NOT NULL UNIQUE,
  -- Base64 of the raw 32-byte public key.
  public_key    TEXT    NOT NULL,
  registered_at TEXT    NOT NULL
);

-- A sampling plan handed to one prober token: results are accepted only for the entries it names.
CREATE TABLE probe_plans (
  id         INTEGER PRIMARY KEY,
  token_id   INTEGER NOT NULL REFERENCES tokens (id),
  -- The registry version when the plan was made: the canary version a compliant resolver answers.
  version    INTEGER NOT NULL,
  seed       TEXT    NOT NULL,
  budget     INTEGER NOT NULL,
  created_at TEXT    NOT NULL
);

CREATE TABLE probe_plan_entries (
  plan_id    INTEGER NOT NULL REFERENCES probe_plans (id),
  expression TEXT    NOT NULL,
  -- new: listed in the last 24 h; revoked: released in the last 24 h; sample: any other active entry.
  reason     TEXT    NOT NULL CHECK (reason IN ('new', 'revoked', 'sample')),
  -- Commit time of the version that listed (new) or released (revoked) the entry; NULL for samples.
  since      TEXT,
  PRIMARY KEY (plan_id, expression)
) WITHOUT ROWID;

-- Results whose Ed25519 signature checked against the posting token's pinned key (others are refused).
CREATE TABLE probe_results (
  id             INTEGER PRIMARY KEY,
  plan_id        INTEGER NOT NULL REFERENCES probe_plans (id),
  token_id       INTEGER NOT NULL REFERENCES tokens (id),
  key_id         TEXT    NOT NULL,
  isp            TEXT    NOT NULL,
  -- `dns:IP:PORT` (a resolver) or `http:IP:PORT` (a proxy).
  target         TEXT    NOT NULL,
  check_kind     TEXT    NOT NULL CHECK (check_kind IN ('dns', 'http', 'canary')),
  -- NULL for a canary.
  expression     TEXT,
  query          TEXT    NOT NULL,
  verdict        TEXT    NOT NULL CHECK (verdict IN ('blocked', 'not-blocked', 'inconclusive')),
  reason         TEXT    NOT NULL,
  -- The version a canary answer carried (NULL: no canary answer, or not a canary).
  canary_version INTEGER,
  -- The answer as received: base64 of the DNS message, or the HTTP status line and headers.
  raw            TEXT    NOT NULL,
  observed_at    TEXT    NOT NULL,
  received_at    TEXT    NOT NULL,
  -- Base64 Ed25519 signature over the result (src/core/probe-evidence.ts).
  signature      TEXT    NOT NULL
);
CREATE INDEX probe_results_isp ON probe_results (isp, check_kind, observed_at);
CREATE INDEX probe_results_entry ON probe_results (expression, isp, observed_at);
