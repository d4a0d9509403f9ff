-- One round trip for an append whose state the writer already knows (events/postgres.py,
-- "The known-head path").  The writer sends the rows it sealed on the head it last saw,
-- with the stream versions and the absence of event ids its plan assumed; this function,
-- in the caller's one transaction (autocommit: the call is the transaction), takes the head
-- lock exactly as every append does, and writes the rows only if every assumption still
-- holds.  Otherwise it writes nothing and says so; the writer then plans again under the
-- lock the usual way.  So the rows written are exactly those the locked path would have
-- written from the same state: same positions, versions, hashes and answers.
--
-- Snapshots: the function is VOLATILE, so each statement in it takes a fresh snapshot
-- (https://www.postgresql.org/docs/current/xfunc-volatility.html).  The statement that
-- checks the versions and ids therefore starts after the lock was granted and sees every
-- append committed before it, as step 2 of the locked path does.
CREATE FUNCTION events_append_if_head(
    expect_position bigint,
    expect_hash bytea,
    streams text[],
    versions integer[],
    ids uuid[],
    positions bigint[],
    event_ids uuid[],
    stream_ids text[],
    stream_versions integer[],
    types text[],
    schema_versions integer[],
    datas json[],
    metadatas json[],
    recorded_ats timestamptz[],
    prev_hashes bytea[],
    hashes bytea[]
) RETURNS boolean LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    head event_head%ROWTYPE;
    n integer := cardinality(positions);
BEGIN
    SELECT * INTO head FROM event_head FOR UPDATE;
    IF head.position <> expect_position OR head.hash <> expect_hash THEN
        RETURN false;
    END IF;
    IF EXISTS (SELECT 1 FROM unnest(streams, versions) AS u(s, v)
               WHERE coalesce((SELECT max(version) FROM events WHERE stream_id = u.s), 0) <> u.v)
       OR EXISTS (SELECT 1 FROM events WHERE event_id = ANY(ids)) THEN
        RETURN false;
    END IF;
    INSERT INTO events (position, event_id, stream_id, version, type, schema_version,
                        data, metadata, recorded_at, prev_hash, hash)
    SELECT * FROM unnest(positions, event_ids, stream_ids, stream_versions, types,
                         schema_versions, datas, metadatas, recorded_ats, prev_hashes, hashes);
    UPDATE event_head
       SET position = positions[n], hash = hashes[n], recorded_at = recorded_ats[n];
    RETURN true;
END
$$;
