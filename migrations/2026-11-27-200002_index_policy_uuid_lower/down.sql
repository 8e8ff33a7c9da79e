DROP INDEX CONCURRENTLY IF EXISTS "pn_policy_uuid_lower";
