-- The chain head also keeps the hash before the last entry, so that an entry is appended in a
-- single statement: the head moves (under its row lock), and the entry is written from it.

ALTER TABLE access_history_heads ADD COLUMN prev_hash text NOT NULL DEFAULT '';
