-- Each agent report's lag as it arrived, for the lag-over-time chart of the console's ISP page. Pruned as
-- reports come in (src/registry/distributors.ts: LAG_HISTORY_DAYS).
CREATE TABLE distributor_lag (
  token_id     INTEGER NOT NULL REFERENCES tokens (id),
  agent_id     TEXT    NOT NULL DEFAULT '',
  feed         TEXT    NOT NULL,
  reported_at  TEXT    NOT NULL,
  version      INTEGER NOT NULL,
  lag_versions INTEGER NOT NULL,
  lag_seconds  INTEGER NOT NULL
);
CREATE INDEX distributor_lag_by_time ON distributor_lag (reported_at);
