-- Built without blocking writes on a live openIMIS database (DECISIONS 26).
CREATE INDEX CONCURRENTLY IF NOT EXISTS "pn_policy_expiry_current" ON "tblPolicy" ("ExpiryDate") WHERE "ValidityTo" IS NULL;
