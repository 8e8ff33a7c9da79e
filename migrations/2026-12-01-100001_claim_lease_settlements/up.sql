-- Claims carry their owner and a lease (issue 12): `sweep_id` is the sweep that took the claim,
-- `lease_until` the instant until which that sweep vouches for it (renewed by the sweep's
-- heartbeat while the request is in flight, cleared when the outcome is written). A status-6
-- claim whose lease is alive is in flight and cannot be settled by an operator; one whose lease
-- expired (or that has none and no provider: a crash leftover from before the lease) was
-- interrupted.
ALTER TABLE "pn_notification_claim" ADD COLUMN IF NOT EXISTS "sweep_id" uuid;
ALTER TABLE "pn_notification_claim" ADD COLUMN IF NOT EXISTS "lease_until" timestamptz;
CREATE INDEX IF NOT EXISTS "pn_notification_claim_sweep"
    ON "pn_notification_claim" ("sweep_id") WHERE "lease_until" IS NOT NULL;

-- Every operator settlement of an unknown outcome: who, when, how, and what the attempt said
-- before.
CREATE TABLE IF NOT EXISTS "pn_notification_settlement" (
    "id" bigserial PRIMARY KEY,
    "detail_id" integer NOT NULL,
    "policy_id" integer NOT NULL,
    "notification_type" varchar(255) NOT NULL,
    "settlement" varchar(20) NOT NULL,
    "settled_by" varchar(255) NOT NULL,
    "settled_at" timestamptz NOT NULL DEFAULT now(),
    "kind" varchar(20) NOT NULL,
    "previous_details" text
);
CREATE INDEX IF NOT EXISTS "pn_notification_settlement_detail"
    ON "pn_notification_settlement" ("detail_id");
