-- The families page's default order (`orderBy: ["-validityFrom"]`, i.e. "ValidityFrom" DESC NULLS LAST,
-- then "FamilyID" DESC): read in this index's order, the page stops after its rows instead of sorting
-- every current family (pn_families_validity_from_current cannot serve NULLS LAST descending).
-- Built without blocking writes on a live openIMIS database (DECISIONS 26).
CREATE INDEX CONCURRENTLY IF NOT EXISTS "pn_families_validity_from_desc_current" ON "tblFamilies" ("ValidityFrom" DESC NULLS LAST, "FamilyID" DESC) WHERE "ValidityTo" IS NULL;
