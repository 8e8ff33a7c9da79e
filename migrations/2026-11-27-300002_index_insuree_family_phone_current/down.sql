DROP INDEX CONCURRENTLY IF EXISTS "pn_insuree_family_phone_current";
