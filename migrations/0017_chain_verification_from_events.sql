-- The chain_verification row is a read model like the others: a function of the events alone,
-- so a projector killed mid-batch and restarted leaves the row a rebuild leaves
-- (tests/faults/test_projector_killed.py).  The wall-clock time it was last advanced is the
-- projection's checkpoint's `updated_at` (projection_checkpoints, written in the same
-- transaction), which projections/verification.py reads beside the row.
ALTER TABLE chain_verification DROP COLUMN checked_at;
