DROP INDEX CONCURRENTLY IF EXISTS "pn_families_location_current";
