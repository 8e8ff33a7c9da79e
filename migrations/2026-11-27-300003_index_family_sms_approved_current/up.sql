-- "Approved notifications" (DECISIONS 2, src/families/rules.rs approved_sql): the families with a
-- current tblFamilySMS row whose approval is true. The predicate is the rule's text, so PostgreSQL
-- answers the rule (and its negation) from this small index alone (index-only scans).
-- Built without blocking writes on a live openIMIS database (DECISIONS 26).
CREATE INDEX CONCURRENTLY IF NOT EXISTS "pn_family_sms_approved_current" ON "tblFamilySMS" ("FamilyID") WHERE "ValidityTo" IS NULL AND "ApprovalOfSMS";
