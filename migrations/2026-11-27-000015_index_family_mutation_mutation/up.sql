-- Built without blocking writes on a live openIMIS database (DECISIONS 26).
CREATE INDEX CONCURRENTLY IF NOT EXISTS "pn_family_mutation_mutation" ON "insuree_FamilyMutation" ("mutation_id");
