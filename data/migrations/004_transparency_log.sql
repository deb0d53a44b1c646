-- The transparency log: a Merkle tree (RFC 9162) with one leaf per change-log row and one per order event
-- (docs/TRANSPARENCY.md). Numbered 003 so that 002 stays free for the change-log columns of order approvals.
--
-- Leaves of version v are log_heads(v-1).tree_size .. log_heads(v).tree_size - 1: its order events (in
-- log_events at their leaf index) and, in seq order at the other indices, one per change-log row
-- first_seq..last_seq of the version. Change leaves are encoded from the changes and orders rows when read
-- (they are most of the log and already stored); order events are stored as written, since orders change
-- later (status, expiry).
CREATE TABLE log_events (
  leaf_index INTEGER PRIMARY KEY,
  version    INTEGER NOT NULL,
  leaf       BLOB    NOT NULL
);

-- The tree after each version: its size and root.
CREATE TABLE log_heads (
  version   INTEGER PRIMARY KEY,
  tree_size INTEGER NOT NULL,
  root      BLOB    NOT NULL
);

-- Hashes of complete subtrees as C2SP tlog-tiles: tile (level, idx) holds the hashes of the nodes of height
-- 8 * level with indices 256 * idx .. 256 * idx + n - 1 (n = length / 32, 256 once full). Only the last tile
-- of each level grows; proofs read at most a few tiles per level.
CREATE TABLE log_tiles (
  level  INTEGER NOT NULL,
  idx    INTEGER NOT NULL,
  hashes BLOB    NOT NULL,
  PRIMARY KEY (level, idx)
) WITHOUT ROWID;

CREATE TRIGGER log_events_no_update BEFORE UPDATE ON log_events
BEGIN SELECT RAISE(ABORT, 'the transparency log is append-only'); END;
CREATE TRIGGER log_events_no_delete BEFORE DELETE ON log_events
BEGIN SELECT RAISE(ABORT, 'the transparency log is append-only'); END;
CREATE TRIGGER log_heads_no_update BEFORE UPDATE ON log_heads
BEGIN SELECT RAISE(ABORT, 'the transparency log is append-only'); END;
CREATE TRIGGER log_heads_no_delete BEFORE DELETE ON log_heads
BEGIN SELECT RAISE(ABORT, 'the transparency log is append-only'); END;
