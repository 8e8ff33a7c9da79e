-- Built without blocking writes on a live openIMIS database (DECISIONS 26).
CREATE INDEX CONCURRENTLY IF NOT EXISTS "pn_policy_officer_current" ON "tblPolicy" ("OfficerID", "FamilyID") WHERE "ValidityTo" IS NULL;
