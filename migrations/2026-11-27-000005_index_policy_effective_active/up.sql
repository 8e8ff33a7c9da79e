-- Built without blocking writes on a live openIMIS database (DECISIONS 26).
CREATE INDEX CONCURRENTLY IF NOT EXISTS "pn_policy_effective_active" ON "tblPolicy" ("EffectiveDate") WHERE "ValidityTo" IS NULL AND "PolicyStatus" = 2;
