DROP INDEX CONCURRENTLY IF EXISTS "pn_families_uuid_lower";
