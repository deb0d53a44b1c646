-- One compliance row per sync agent, not per token: several agents may share one distributor token (one per
-- resolver of an ISP), and each reports its own version. Reports from agents that send no id keep the
-- empty id, so rows written before this migration stay the row of their token.
CREATE TABLE distributors_by_agent (
  token_id    INTEGER NOT NULL REFERENCES tokens (id),
  agent_id    TEXT    NOT NULL DEFAULT '',
  feed        TEXT    NOT NULL,
  version     INTEGER NOT NULL,
  applied_at  TEXT    NOT NULL,
  reported_at TEXT    NOT NULL,
  outputs     TEXT    NOT NULL CHECK (json_valid(outputs)),
  PRIMARY KEY (token_id, agent_id, feed)
) WITHOUT ROWID;

INSERT INTO distributors_by_agent (token_id, agent_id, feed, version, applied_at, reported_at, outputs)
SELECT token_id, '', feed, version, applied_at, reported_at, outputs FROM distributors;

DROP TABLE distributors;
ALTER TABLE distributors_by_agent RENAME TO distributors;
