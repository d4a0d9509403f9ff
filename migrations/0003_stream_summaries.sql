-- Read model of the `stream_summaries` projection (projections/streams.py): one row per
-- stream, for operators and auditors who want to see what the log holds per stream.

CREATE TABLE stream_summaries (
    stream_id           text        PRIMARY KEY,
    version             integer     NOT NULL,
    event_count         integer     NOT NULL,
    first_position      bigint      NOT NULL,
    last_position       bigint      NOT NULL,
    first_recorded_at   timestamptz NOT NULL,
    last_recorded_at    timestamptz NOT NULL,
    last_type           text        NOT NULL
);
