DROP INDEX CONCURRENTLY IF EXISTS "pn_policy_officer_current";
