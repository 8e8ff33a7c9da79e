DROP INDEX CONCURRENTLY IF EXISTS "pn_family_mutation_mutation";
