-- Built without blocking writes on a live openIMIS database (DECISIONS 26).
CREATE INDEX CONCURRENTLY IF NOT EXISTS "pn_families_validity_from_current" ON "tblFamilies" ("ValidityFrom", "FamilyID") WHERE "ValidityTo" IS NULL;
