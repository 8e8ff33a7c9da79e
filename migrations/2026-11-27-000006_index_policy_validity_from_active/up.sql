-- Built without blocking writes on a live openIMIS database (DECISIONS 26).
CREATE INDEX CONCURRENTLY IF NOT EXISTS "pn_policy_validity_from_active" ON "tblPolicy" ("ValidityFrom") WHERE "ValidityTo" IS NULL AND "PolicyStatus" = 2;
