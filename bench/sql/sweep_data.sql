-- Synthetic sweep data (bench/run "sweep_*"), set-based: :due families (head with a phone, all
-- approved, language en/fr) and :policies policies spread over them; the first :due policies
-- start on 2026-06-15 (due for the start message when the sweep runs --as-of 2026-06-15), the
-- rest started earlier (nothing due); activation and renewal already settled (openIMIS's
-- sentinel 0001-01-01), so exactly :due messages are due. Keys from 100,000 up. Mirrors
-- bulk_policies in tests/sender_common/mod.rs. Run with psql -v due=N -v policies=M.
BEGIN;
INSERT INTO "tblProduct" ("ProdID", "ProdUUID", "ProductCode", "ProductName", "InsurancePeriod", "DateFrom",
  "DateTo", "LumpSum", "MemberCount", "GracePeriod", "ValidityFrom", "AuditUserID")
VALUES (100001, gen_random_uuid()::text, 'PB1', 'Bench product', 12, '2020-01-01', '2030-12-31', 10000, 6, 0, now(), 1);
INSERT INTO "tblInsuree" ("InsureeID", "InsureeUUID", "FamilyID", "CHFID", "LastName", "OtherNames", "DOB",
  "IsHead", "Phone", "CardIssued", "ValidityFrom", "AuditUserID")
SELECT 100000 + g, gen_random_uuid()::text, 100000 + g, 'B' || g, 'Juma', 'Amina', '1980-01-01', true,
  '07' || lpad(g::text, 8, '0'), false, now(), 1
FROM generate_series(1, :due) g;
INSERT INTO "tblFamilies" ("FamilyID", "FamilyUUID", "InsureeID", "ValidityFrom", "AuditUserID")
SELECT 100000 + g, gen_random_uuid()::text, 100000 + g, now(), 1 FROM generate_series(1, :due) g;
INSERT INTO "tblFamilySMS" ("FamilyID", "ApprovalOfSMS", "LanguageOfSMS", "ValidityFrom")
SELECT 100000 + g, true, CASE WHEN g % 2 = 0 THEN 'fr' ELSE 'en' END, now() FROM generate_series(1, :due) g;
INSERT INTO "tblPolicy" ("PolicyID", "PolicyUUID", "FamilyID", "EnrollDate", "StartDate", "EffectiveDate",
  "ExpiryDate", "PolicyStatus", "PolicyValue", "ProdID", "PolicyStage", "ValidityFrom", "AuditUserID")
SELECT 100000 + g, gen_random_uuid()::text, 100000 + (g - 1) % :due + 1, d, d, d, d + 364, 2, 10000,
  100001, 'N', d + time '10:00', 1
FROM generate_series(1, :policies) g,
     LATERAL (SELECT CASE WHEN g <= :due THEN date '2026-06-15' ELSE date '2024-01-01' + (g % 300) END AS d) x;
INSERT INTO "tblIndicationOfPolicyNotifications" ("PolicyID", "ValidityFrom", "NotificationOnActivationSent",
  "NotificationOnRenewalSent")
SELECT 100000 + g, now(), '0001-01-01', '0001-01-01' FROM generate_series(1, :policies) g;
SELECT setval(pg_get_serial_sequence('"tblInsuree"', 'InsureeID'), 100000 + :due + 1);
SELECT setval(pg_get_serial_sequence('"tblFamilies"', 'FamilyID'), 100000 + :due + 1);
SELECT setval(pg_get_serial_sequence('"tblPolicy"', 'PolicyID'), 100000 + :policies + 1);
COMMIT;
