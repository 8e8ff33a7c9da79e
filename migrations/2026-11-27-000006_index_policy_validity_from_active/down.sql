DROP INDEX CONCURRENTLY IF EXISTS "pn_policy_validity_from_active";
