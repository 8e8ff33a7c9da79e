-- The amount still to pay (a template placeholder) sums a policy's current premiums: without
-- this index every detected policy scanned the whole premium table.
-- Built without blocking writes on a live openIMIS database (DECISIONS 26).
CREATE INDEX CONCURRENTLY IF NOT EXISTS "pn_premium_policy_current" ON "tblPremium" ("PolicyID") WHERE "ValidityTo" IS NULL;
