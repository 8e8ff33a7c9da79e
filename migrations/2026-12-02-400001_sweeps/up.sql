-- The sweeps the sender ran (issue 15, the dashboard): one row per sweep that writes (not dry
-- runs), inserted when it starts and completed when it ends, so that a sweep that never
-- finished (a crash, a kill) shows as such. `counts` holds the sweep's counts per event and
-- outcome, {"starting_of_policy": {"sent": 3, ...}, ...}.
CREATE TABLE IF NOT EXISTS "pn_sweep" (
    "sweep_id" uuid PRIMARY KEY,
    "as_of" date NOT NULL,
    "started_at" timestamptz NOT NULL DEFAULT now(),
    "finished_at" timestamptz,
    "outcome" varchar(20),
    "seconds" double precision,
    "counts" jsonb NOT NULL DEFAULT '{}'::jsonb,
    "error" text
);
CREATE INDEX IF NOT EXISTS "pn_sweep_started_at" ON "pn_sweep" ("started_at" DESC);
