-- Synthetic data for the report benchmark: one region "BR Bench" with 4 districts, 10
-- municipalities per district and 10 villages per municipality (400 villages), and `n` current
-- families spread over the villages. Heads have a phone 3 times in 4; one family in 3 has a second
-- member with a phone; approval on 2 in 3 families; one family in 10 has no notification row.
-- Loads on our own schema and on a real openIMIS database (ids from the sequences, every insuree
-- with a DOB, CHFIDs within varchar(12)).
-- Usage: run this file, then `SELECT pn_bench_seed(100000);`.
CREATE OR REPLACE FUNCTION pn_bench_seed(n integer) RETURNS void LANGUAGE plpgsql AS $fn$
DECLARE
    region_id integer;
    nv integer;
BEGIN
    INSERT INTO "tblLanguages" ("LanguageCode", "LanguageName", "SortOrder")
    VALUES ('en', 'English', 1), ('sw', 'Kiswahili', 2) ON CONFLICT DO NOTHING;

    INSERT INTO "tblLocations" ("LocationUUID", "LocationCode", "LocationName", "LocationType", "ValidityFrom")
    VALUES ('0be0c000-0000-4000-8000-000000000001', 'BR', 'Bench', 'R', now())
    RETURNING "LocationId" INTO region_id;

    INSERT INTO "tblLocations" ("LocationUUID", "LocationCode", "LocationName", "LocationType", "ParentLocationId", "ValidityFrom")
    SELECT gen_random_uuid()::text, 'BD' || d, 'District ' || d, 'D', region_id, now()
    FROM generate_series(1, 4) d;

    INSERT INTO "tblLocations" ("LocationUUID", "LocationCode", "LocationName", "LocationType", "ParentLocationId", "ValidityFrom")
    SELECT gen_random_uuid()::text, 'BD' || d || 'W' || w, 'Ward ' || w || ' of district ' || d, 'W', l."LocationId", now()
    FROM "tblLocations" l, generate_series(1, 10) w, LATERAL (SELECT substr(l."LocationCode", 3) AS d) x
    WHERE l."ParentLocationId" = region_id;

    INSERT INTO "tblLocations" ("LocationUUID", "LocationCode", "LocationName", "LocationType", "ParentLocationId", "ValidityFrom")
    SELECT gen_random_uuid()::text, left(l."LocationCode" || 'V' || v, 8), 'Village ' || v || ' (' || l."LocationName" || ')', 'V', l."LocationId", now()
    FROM "tblLocations" l JOIN "tblLocations" d ON d."LocationId" = l."ParentLocationId", generate_series(1, 10) v
    WHERE d."ParentLocationId" = region_id AND l."LocationType" = 'W';

    CREATE TEMP TABLE bench_villages ON COMMIT DROP AS
    SELECT row_number() OVER (ORDER BY v."LocationId") - 1 AS idx, v."LocationId" AS id
    FROM "tblLocations" v JOIN "tblLocations" w ON w."LocationId" = v."ParentLocationId"
    JOIN "tblLocations" d ON d."LocationId" = w."ParentLocationId"
    WHERE d."ParentLocationId" = region_id AND v."LocationType" = 'V';

    SELECT count(*) INTO nv FROM bench_villages;

    CREATE TEMP TABLE bench_families ON COMMIT DROP AS
    SELECT i, nextval(pg_get_serial_sequence('"tblFamilies"', 'FamilyID'))::integer AS family_id,
           nextval(pg_get_serial_sequence('"tblInsuree"', 'InsureeID'))::integer AS head_id
    FROM generate_series(1, n) i;

    INSERT INTO "tblInsuree" ("InsureeID", "InsureeUUID", "FamilyID", "CHFID", "LastName", "OtherNames",
                              "DOB", "IsHead", "Phone", "CardIssued", "ValidityFrom", "AuditUserID")
    SELECT head_id, gen_random_uuid()::text, family_id, lpad(i::text, 9, '0'),
           (ARRAY['Mwakalinga', 'Kiwelu', 'Ñúñez', 'Dmitrievna-Łukasiewicz', 'Mushi', 'Haji'])[1 + i % 6],
           (ARRAY['Amina Zawadi', 'Baraka', 'Şükrü', 'Joseph Emmanuel Christopher', 'Neema', 'Ali'])[1 + i % 6],
           DATE '1950-01-01' + i % 18000, true, CASE WHEN i % 4 = 0 THEN NULL ELSE '+2557' || lpad(i::text, 8, '0') END,
           false, now(), 1
    FROM bench_families;

    INSERT INTO "tblFamilies" ("FamilyID", "FamilyUUID", "InsureeID", "LocationId", "ValidityFrom", "AuditUserID")
    SELECT family_id, gen_random_uuid()::text, head_id, bv.id, now(), 1
    FROM bench_families JOIN bench_villages bv ON bv.idx = i % nv;

    INSERT INTO "tblInsuree" ("InsureeUUID", "FamilyID", "CHFID", "LastName", "OtherNames",
                              "DOB", "IsHead", "Phone", "CardIssued", "ValidityFrom", "AuditUserID")
    SELECT gen_random_uuid()::text, family_id, 'M' || lpad(i::text, 9, '0'), 'Member', 'Second',
           DATE '1990-01-01' + i % 9000, false,
           '+2556' || lpad(i::text, 8, '0'), false, now(), 1
    FROM bench_families WHERE i % 3 = 0;

    INSERT INTO "tblFamilySMS" ("FamilyID", "ApprovalOfSMS", "LanguageOfSMS", "ValidityFrom")
    SELECT family_id, i % 3 <> 0, CASE WHEN i % 2 = 0 THEN 'en' ELSE 'sw' END, now()
    FROM bench_families WHERE i % 10 <> 0;
END
$fn$;
