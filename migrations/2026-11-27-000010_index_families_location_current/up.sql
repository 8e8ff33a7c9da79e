-- Built without blocking writes on a live openIMIS database (DECISIONS 26).
CREATE INDEX CONCURRENTLY IF NOT EXISTS "pn_families_location_current" ON "tblFamilies" ("LocationId", "FamilyID") WHERE "ValidityTo" IS NULL;
