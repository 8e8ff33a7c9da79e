DROP INDEX CONCURRENTLY IF EXISTS "pn_locations_uuid_lower";
