DROP INDEX CONCURRENTLY IF EXISTS "pn_policy_expiry_current";
