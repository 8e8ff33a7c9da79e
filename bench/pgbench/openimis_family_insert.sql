-- An openIMIS-side write (bench/run "family_write_cost"): a family with its head and consent row
-- inserted as openIMIS's own code does it — plain INSERT statements in one transaction, the ids
-- reserved from the sequences first — by a writer that is not this service. Run with and without
-- the triggers that maintain pn_family_state / pn_family_count (DECISIONS 38): the difference is
-- what the maintained state costs every other writer of the database.
-- Variables (-D): village (a current village's LocationId).
\set n random(1, 999999999)
SELECT nextval(pg_get_serial_sequence('"tblFamilies"', 'FamilyID')) AS fid,
       nextval(pg_get_serial_sequence('"tblInsuree"', 'InsureeID')) AS iid \gset
BEGIN;
INSERT INTO "tblInsuree" ("InsureeID", "FamilyID", "InsureeUUID", "CHFID", "LastName", "OtherNames", "DOB", "Gender",
  "IsHead", "Phone", "CardIssued", "ValidityFrom", "AuditUserID")
VALUES (:iid, :fid, gen_random_uuid()::text, 'Q' || :n::text, 'Doe', 'John', '1980-05-17', 'M', true, '0712345678',
  false, now(), 1);
INSERT INTO "tblFamilies" ("FamilyID", "FamilyUUID", "InsureeID", "LocationId", "Poverty", "FamilyType",
  "ConfirmationType", "ValidityFrom", "AuditUserID")
VALUES (:fid, gen_random_uuid()::text, :iid, :village, false, 'H', 'A', now(), 1);
INSERT INTO "tblFamilySMS" ("FamilyID", "ApprovalOfSMS", "LanguageOfSMS", "ValidityFrom")
VALUES (:fid, true, 'en', now());
COMMIT;
