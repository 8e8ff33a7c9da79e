DROP INDEX CONCURRENTLY IF EXISTS "pn_family_sms_approved_current";
