DROP INDEX CONCURRENTLY IF EXISTS "pn_mutation_log_request_time";
