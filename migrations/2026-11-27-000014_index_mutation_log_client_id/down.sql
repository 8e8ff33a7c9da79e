DROP INDEX CONCURRENTLY IF EXISTS "pn_mutation_log_client_id";
