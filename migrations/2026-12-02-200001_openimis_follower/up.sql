-- The consent follower (issue 16, DECISIONS 45): its cursor and counters (one row), the
-- core_Mutation_Log rows already handled (ours, written by our own mutations in their own
-- transaction, and openIMIS's, once followed), and the contributions it could not apply.
CREATE TABLE IF NOT EXISTS "pn_follow_cursor" (
    "id" smallint PRIMARY KEY CHECK ("id" = 1),
    -- Log rows requested before this instant are done (handled, or older than the follower).
    "horizon" timestamptz NOT NULL,
    "last_run" timestamptz,
    "applied" bigint NOT NULL DEFAULT 0,
    "deleted" bigint NOT NULL DEFAULT 0,
    "ignored" bigint NOT NULL DEFAULT 0,
    "problems" bigint NOT NULL DEFAULT 0
);
-- Mutations requested before the migration were handled by whatever ran then.
INSERT INTO "pn_follow_cursor" ("id", "horizon") VALUES (1, now()) ON CONFLICT DO NOTHING;

CREATE TABLE IF NOT EXISTS "pn_follow_seen" (
    "mutation_id" uuid PRIMARY KEY,
    "request_date_time" timestamptz NOT NULL,
    -- own: written by this service's own mutations; applied, deleted, ignored, problem: followed.
    "outcome" varchar(16) NOT NULL,
    "seen_at" timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS "pn_follow_seen_request_time" ON "pn_follow_seen" ("request_date_time");

CREATE TABLE IF NOT EXISTS "pn_follow_problem" (
    "id" bigserial PRIMARY KEY,
    "mutation_id" uuid NOT NULL,
    "family_id" integer,
    "field" varchar(255) NOT NULL,
    "message" text NOT NULL,
    "recorded_at" timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS "pn_follow_problem_mutation" ON "pn_follow_problem" ("mutation_id");
