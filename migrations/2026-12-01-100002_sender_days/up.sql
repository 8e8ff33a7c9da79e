-- No missed day (issue 12): the (event, day) pairs of date-based events the sender completed
-- (every candidate of that day detected and decided, every message claimed and settled), and
-- the day each event type was first seen enabled. A sweep also handles every day since then
-- that it has not completed, within the relevance window, so a day lost to an outage or a
-- failed last sweep is sent late rather than never.
CREATE TABLE IF NOT EXISTS "pn_sender_day" (
    "notification_type" varchar(255) NOT NULL,
    "day" date NOT NULL,
    "completed_at" timestamptz NOT NULL DEFAULT now(),
    "sweep_id" uuid,
    CONSTRAINT "pn_sender_day_pkey" PRIMARY KEY ("notification_type", "day")
);
CREATE TABLE IF NOT EXISTS "pn_event_enabled" (
    "notification_type" varchar(255) PRIMARY KEY,
    "since" date NOT NULL,
    "recorded_at" timestamptz NOT NULL DEFAULT now()
);
