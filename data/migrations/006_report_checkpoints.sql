-- The transparency-log checkpoint each agent reports it enforces with its version (docs/TRANSPARENCY.md):
-- two agents holding different roots for one version (a split view) stand out in GET /v1/distributors.
-- NULL for agents that report none (older agents, or before they hold a checkpoint).
ALTER TABLE distributors ADD COLUMN checkpoint_version INTEGER;
ALTER TABLE distributors ADD COLUMN checkpoint_tree_size INTEGER;
ALTER TABLE distributors ADD COLUMN checkpoint_root BLOB;
