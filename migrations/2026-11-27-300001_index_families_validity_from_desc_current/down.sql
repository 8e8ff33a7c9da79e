DROP INDEX CONCURRENTLY IF EXISTS "pn_families_validity_from_desc_current";
