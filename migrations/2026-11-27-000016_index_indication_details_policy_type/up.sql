-- Built without blocking writes on a live openIMIS database (DECISIONS 26).
CREATE INDEX CONCURRENTLY IF NOT EXISTS "pn_indication_details_policy_type" ON "tblIndicationOfPolicyNotificationsDetails" ("indicationID", "notification_type");
