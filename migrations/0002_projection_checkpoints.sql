-- One row per projection: how far into the log its read model has been brought.
-- The row is written in the same transaction as the read-model rows it accounts for, with a
-- compare-and-set on `position`, so a read model and its checkpoint can never disagree and
-- two runners can never both advance it.

CREATE TABLE projection_checkpoints (
    name                text        PRIMARY KEY,
    position            bigint      NOT NULL DEFAULT 0 CHECK (position >= 0),
    -- Set when a rebuild resets the projection to zero, cleared when it has caught up again.
    -- A rebuild that is killed leaves it set; the next run resumes from `position`.
    rebuild_started_at  timestamptz,
    updated_at          timestamptz NOT NULL DEFAULT now()
);
