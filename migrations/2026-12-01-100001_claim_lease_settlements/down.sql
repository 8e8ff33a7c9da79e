DROP TABLE IF EXISTS "pn_notification_settlement";
DROP INDEX IF EXISTS "pn_notification_claim_sweep";
ALTER TABLE "pn_notification_claim" DROP COLUMN IF EXISTS "lease_until";
ALTER TABLE "pn_notification_claim" DROP COLUMN IF EXISTS "sweep_id";
