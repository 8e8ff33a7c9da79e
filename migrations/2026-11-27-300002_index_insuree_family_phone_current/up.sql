-- "Has a phone" (DECISIONS 1, src/families/rules.rs has_phone_sql): the families whose current members
-- have a phone that is non-empty after trimming. The predicate is the rule's text, so PostgreSQL
-- answers the rule (and its negation) from this small index alone (index-only scans), for the
-- families filter's count and page, the report and the sender.
-- Built without blocking writes on a live openIMIS database (DECISIONS 26).
CREATE INDEX CONCURRENTLY IF NOT EXISTS "pn_insuree_family_phone_current" ON "tblInsuree" ("FamilyID") WHERE "ValidityTo" IS NULL AND btrim(COALESCE("Phone", '')) <> '';
