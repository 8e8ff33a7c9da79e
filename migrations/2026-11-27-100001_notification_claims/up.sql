-- The sender's claims: one row per (policy, event), the guard that makes each message go out at
-- most once, even with concurrent sweeps or a crash (DECISIONS 18). Ours alone; openIMIS's tables
-- keep their meaning. state: 1 sent, 4 failed (may be retried), 6 in flight or outcome unknown,
-- 7 released by an operator (may be retried).
CREATE TABLE IF NOT EXISTS "pn_notification_claim" (
    "policy_id" integer NOT NULL,
    "notification_type" varchar(255) NOT NULL,
    "state" smallint NOT NULL,
    "detail_id" integer,
    "provider" varchar(100),
    "claimed_on" date NOT NULL,
    "claimed_at" timestamptz NOT NULL,
    "updated_at" timestamptz NOT NULL,
    CONSTRAINT "pn_notification_claim_pkey" PRIMARY KEY ("policy_id", "notification_type")
);
CREATE INDEX IF NOT EXISTS "pn_notification_claim_unknown"
    ON "pn_notification_claim" ("claimed_at") WHERE "state" = 6;
CREATE INDEX IF NOT EXISTS "pn_notification_claim_detail"
    ON "pn_notification_claim" ("detail_id");
