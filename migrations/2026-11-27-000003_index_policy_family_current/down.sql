DROP INDEX CONCURRENTLY IF EXISTS "pn_policy_family_current";
