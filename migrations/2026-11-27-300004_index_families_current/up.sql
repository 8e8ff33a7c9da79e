-- The current families in "FamilyID" order: with pn_insuree_family_phone_current and
-- pn_family_sms_approved_current, a count over the notification modes is a merge of three
-- index-only scans instead of hash tables built per statement.
-- Built without blocking writes on a live openIMIS database (DECISIONS 26).
CREATE INDEX CONCURRENTLY IF NOT EXISTS "pn_families_current" ON "tblFamilies" ("FamilyID") WHERE "ValidityTo" IS NULL;
