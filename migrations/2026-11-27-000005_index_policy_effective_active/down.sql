DROP INDEX CONCURRENTLY IF EXISTS "pn_policy_effective_active";
