-- The consent follower scans the mutation log from its horizon on (DECISIONS 45); built without
-- blocking writes on a live openIMIS database (DECISIONS 26).
CREATE INDEX CONCURRENTLY IF NOT EXISTS "pn_mutation_log_request_time" ON "core_Mutation_Log" ("request_date_time");
