DROP TABLE IF EXISTS "pn_notification_claim";
