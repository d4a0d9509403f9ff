-- More read models of the `ceu` projection (projections/ceu.py): the managers list (search
-- by id, name or email; paginated by the position of each manager's enrolment, a cursor that
-- never changes) and every provider's own postings (paginated by position).

CREATE TABLE ceu_manager_index (
    manager_id          text PRIMARY KEY,
    enrolled_position   bigint NOT NULL UNIQUE,
    name                text NOT NULL,
    email               text NOT NULL
);

CREATE TABLE ceu_postings (
    completion_id   uuid PRIMARY KEY,
    provider_id     text NOT NULL,
    external_id     text NOT NULL,
    manager_id      text NOT NULL,
    activity_id     text NOT NULL,
    activity_title  text NOT NULL,
    completed_on    date NOT NULL,
    ceus            numeric NOT NULL,
    position        bigint NOT NULL,
    recorded_at     timestamptz NOT NULL,
    voided          boolean NOT NULL DEFAULT false,
    amended         boolean NOT NULL DEFAULT false
);
CREATE INDEX ceu_postings_provider ON ceu_postings (provider_id, position);
