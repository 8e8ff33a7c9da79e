DROP INDEX CONCURRENTLY IF EXISTS "pn_indication_details_policy_type";
