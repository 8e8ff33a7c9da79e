-- UUID lookups compare lower-case text (legacy UUIDs are varchar): this index serves them.
-- Built without blocking writes on a live openIMIS database (DECISIONS 26).
CREATE INDEX CONCURRENTLY IF NOT EXISTS "pn_families_uuid_lower" ON "tblFamilies" (lower("FamilyUUID"));
