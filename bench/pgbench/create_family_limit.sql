-- Physical limit of createFamily (bench/run "create_family"): the least SQL that writes the rows
-- a createFamily with consent must write — the head insuree, the family, the consent row
-- (tblFamilySMS) and the mutation log row — as ONE statement (data-modifying CTEs, one implicit
-- transaction, one round trip), run by pgbench in prepared mode (-M prepared: the variables are bound parameters). Values of the same shape as the
-- frontend's document (tests/fixtures/frontend/v1_5_create_family.graphql). Not included (the
-- service does them, so the limit is stricter than the service's work): the reference and
-- insurance-number checks, the advisory lock, the insuree_FamilyMutation link.
-- (pgbench takes every ":name" as a variable, even inside a literal: none may follow a colon.)
-- Variables (-D): village (a current village's LocationId), user_uuid (core_User id of Admin).
\set n random(1, 999999999)
WITH fam AS (SELECT nextval(pg_get_serial_sequence('"tblFamilies"', 'FamilyID'))::int AS id),
head AS (
  INSERT INTO "tblInsuree" ("FamilyID", "InsureeUUID", "CHFID", "LastName", "OtherNames", "DOB", "Gender",
    "IsHead", "Phone", "Email", "CurrentAddress", "CardIssued", "ValidityFrom", "AuditUserID")
  SELECT id, gen_random_uuid()::text, 'P' || :n::text, 'Doe', 'John', '1980-05-17', 'M', true, '0712345678',
    'john.doe@example.org', 'Plot 7/B', false, now(), 1 FROM fam
  RETURNING "InsureeID", "FamilyID"),
f AS (
  INSERT INTO "tblFamilies" ("FamilyID", "FamilyUUID", "InsureeID", "LocationId", "Poverty", "FamilyType",
    "FamilyAddress", "ConfirmationNo", "ConfirmationType", "ValidityFrom", "AuditUserID", "JsonExt")
  SELECT "FamilyID", gen_random_uuid()::text, "InsureeID", :village::int, false, 'H', 'Main road 1', 'C-12', 'A',
    now(), 1, '{}' FROM head
  RETURNING "FamilyID"),
consent AS (
  INSERT INTO "tblFamilySMS" ("FamilyID", "ApprovalOfSMS", "LanguageOfSMS", "ValidityFrom")
  SELECT "FamilyID", true, 'fr', now() FROM f)
INSERT INTO "core_Mutation_Log" (id, json_content, request_date_time, client_mutation_id, client_mutation_label,
  status, user_id)
SELECT gen_random_uuid(), '{"head_insuree": {"chf_id": "P' || :n::text || '", "last_name": "Doe", "other_names": "John", "gender_id": "M", "dob": "1980-05-17", "head": true, "phone": "0712345678", "email": "john.doe@example.org", "current_address": "Plot 7/B", "card_issued": false}, "location_id": ' || :village::text || ', "poverty": false, "family_type_id": "H", "address": "Main road 1", "confirmation_type_id": "A", "confirmation_no": "C-12", "json_ext": "{}", "contribution": "{\"PolicyNotification\":{\"approvalOfNotification\": true,\"languageOfNotification\":\"fr\"}}"}',
  now(), 'limit-' || :n::text, 'Create family - Doe John', 2, :user_uuid::uuid FROM f;
