CREATE INDEX IF NOT EXISTS "pn_family_mutation_mutation" ON "insuree_FamilyMutation" ("mutation_id");
