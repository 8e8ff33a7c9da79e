DROP INDEX CONCURRENTLY IF EXISTS "pn_officer_uuid_lower";
