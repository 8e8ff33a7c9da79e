DROP INDEX CONCURRENTLY IF EXISTS "pn_premium_policy_current";
