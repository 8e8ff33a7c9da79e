-- Built without blocking writes on a live openIMIS database (DECISIONS 26).
CREATE INDEX CONCURRENTLY IF NOT EXISTS "pn_mutation_log_client_id" ON "core_Mutation_Log" ("client_mutation_id");
