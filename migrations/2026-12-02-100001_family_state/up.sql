-- The per-family notification state and the exact family counts of the families page at national
-- scale (issue 14 item 3, DECISIONS 38). Everything here is maintained BY THE DATABASE: triggers on
-- tblFamilies, tblInsuree, tblFamilySMS and tblLocations keep it true whoever writes (this service,
-- openIMIS, a script), so the service may read it instead of evaluating the notification rules
-- (DECISIONS 1 and 2) for every family.
--
-- pn_family_state: one row per FamilyID that a family row, a member or a consent row refers to.
--   current       a tblFamilies row with this id exists and its ValidityTo IS NULL
--   village_id    tblFamilies.LocationId
--   district_id   the village's grandparent (the same chain as the district scope and
--                 parentLocation at level 1: village -> ward -> district)
--   validity_from tblFamilies.ValidityFrom (the page's order)
--   phones        current members (FamilyID = family_id, ValidityTo IS NULL) with a non-blank phone
--   approvals     current tblFamilySMS rows with ApprovalOfSMS true
--   mode          the notification mode 1-4 these give (rules.rs: approved x has a phone)
-- phones and approvals are changed by increments only (+1/-1 per source row that starts or stops
-- counting), never recomputed from a snapshot, so concurrent writers cannot lose an update: each
-- increment applies to the latest row version under its row lock.
--
-- pn_family_count: insert-only deltas of the number of current families per (district, mode);
-- the exact count of a mode (and districts) is their sum. Insert-only so that concurrent family
-- writes never wait on one counter row; pn_family_count_compact() folds the deltas (the service
-- calls it when a count read more than a few hundred rows).

CREATE TABLE IF NOT EXISTS "pn_family_state" (
    "family_id" integer PRIMARY KEY,
    "current" boolean NOT NULL DEFAULT false,
    "village_id" integer,
    "district_id" integer,
    "validity_from" timestamptz,
    "phones" integer NOT NULL DEFAULT 0,
    "approvals" integer NOT NULL DEFAULT 0,
    "mode" smallint GENERATED ALWAYS AS (
        CASE WHEN "approvals" > 0 THEN CASE WHEN "phones" > 0 THEN 1 ELSE 2 END
             ELSE CASE WHEN "phones" > 0 THEN 3 ELSE 4 END END) STORED
);

CREATE TABLE IF NOT EXISTS "pn_family_count" (
    "district_id" integer,
    "mode" smallint NOT NULL,
    "n" bigint NOT NULL
);

-- The state's deltas to pn_family_count (statement level: one grouped insert per statement).
CREATE OR REPLACE FUNCTION "pn_family_state_count_trg"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO "pn_family_count" ("district_id", "mode", "n")
        SELECT "district_id", "mode", count(*) FROM pn_new WHERE "current" GROUP BY 1, 2;
    ELSIF TG_OP = 'UPDATE' THEN
        INSERT INTO "pn_family_count" ("district_id", "mode", "n")
        SELECT "district_id", "mode", sum(k) FROM (
            SELECT "district_id", "mode", -1 AS k FROM pn_old WHERE "current"
            UNION ALL
            SELECT "district_id", "mode", 1 FROM pn_new WHERE "current") d
        GROUP BY 1, 2 HAVING sum(k) <> 0;
    ELSE
        INSERT INTO "pn_family_count" ("district_id", "mode", "n")
        SELECT "district_id", "mode", -count(*) FROM pn_old WHERE "current" GROUP BY 1, 2;
    END IF;
    RETURN NULL;
END $$;

DROP TRIGGER IF EXISTS "pn_family_state_count_ins" ON "pn_family_state";
DROP TRIGGER IF EXISTS "pn_family_state_count_upd" ON "pn_family_state";
DROP TRIGGER IF EXISTS "pn_family_state_count_del" ON "pn_family_state";
CREATE TRIGGER "pn_family_state_count_ins" AFTER INSERT ON "pn_family_state"
    REFERENCING NEW TABLE AS pn_new FOR EACH STATEMENT EXECUTE FUNCTION "pn_family_state_count_trg"();
CREATE TRIGGER "pn_family_state_count_upd" AFTER UPDATE ON "pn_family_state"
    REFERENCING OLD TABLE AS pn_old NEW TABLE AS pn_new FOR EACH STATEMENT EXECUTE FUNCTION "pn_family_state_count_trg"();
CREATE TRIGGER "pn_family_state_count_del" AFTER DELETE ON "pn_family_state"
    REFERENCING OLD TABLE AS pn_old FOR EACH STATEMENT EXECUTE FUNCTION "pn_family_state_count_trg"();

-- tblFamilies: current, village, district, order key. A family row's writes are serialised by its
-- row lock, so the values of the statement's new rows are the latest.
CREATE OR REPLACE FUNCTION "pn_family_state_families_trg"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO "pn_family_state" AS s ("family_id", "current", "village_id", "district_id", "validity_from")
        SELECT n."FamilyID", n."ValidityTo" IS NULL, n."LocationId", w."ParentLocationId", n."ValidityFrom"
        FROM pn_new n
        LEFT JOIN "tblLocations" v ON v."LocationId" = n."LocationId"
        LEFT JOIN "tblLocations" w ON w."LocationId" = v."ParentLocationId"
        ORDER BY n."FamilyID"
        ON CONFLICT ("family_id") DO UPDATE SET "current" = excluded."current",
            "village_id" = excluded."village_id", "district_id" = excluded."district_id",
            "validity_from" = excluded."validity_from"
        WHERE (s."current", s."village_id", s."district_id", s."validity_from")
              IS DISTINCT FROM (excluded."current", excluded."village_id", excluded."district_id", excluded."validity_from");
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        -- rows that no longer exist under their old id (deleted, or the id changed)
        UPDATE "pn_family_state" s SET "current" = false
        WHERE s."current" AND s."family_id" IN (
            SELECT o."FamilyID" FROM pn_old o
            WHERE NOT EXISTS (SELECT 1 FROM "tblFamilies" f WHERE f."FamilyID" = o."FamilyID"));
    END IF;
    RETURN NULL;
END $$;

-- tblInsuree: +1/-1 per member that starts/stops being a current member with a phone.
CREATE OR REPLACE FUNCTION "pn_family_state_insuree_trg"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO "pn_family_state" AS s ("family_id", "phones")
        SELECT "FamilyID", count(*) FROM pn_new WHERE "FamilyID" IS NOT NULL AND "ValidityTo" IS NULL AND btrim(COALESCE("Phone", '')) <> ''
        GROUP BY 1 ORDER BY 1
        ON CONFLICT ("family_id") DO UPDATE SET "phones" = s."phones" + excluded."phones";
    ELSIF TG_OP = 'UPDATE' THEN
        INSERT INTO "pn_family_state" AS s ("family_id", "phones")
        SELECT fid, sum(k) FROM (
            SELECT "FamilyID" AS fid, -1 AS k FROM pn_old WHERE "FamilyID" IS NOT NULL AND "ValidityTo" IS NULL AND btrim(COALESCE("Phone", '')) <> ''
            UNION ALL
            SELECT "FamilyID", 1 FROM pn_new WHERE "FamilyID" IS NOT NULL AND "ValidityTo" IS NULL AND btrim(COALESCE("Phone", '')) <> '') d
        GROUP BY 1 HAVING sum(k) <> 0 ORDER BY 1
        ON CONFLICT ("family_id") DO UPDATE SET "phones" = s."phones" + excluded."phones";
    ELSE
        INSERT INTO "pn_family_state" AS s ("family_id", "phones")
        SELECT "FamilyID", -count(*) FROM pn_old WHERE "FamilyID" IS NOT NULL AND "ValidityTo" IS NULL AND btrim(COALESCE("Phone", '')) <> ''
        GROUP BY 1 ORDER BY 1
        ON CONFLICT ("family_id") DO UPDATE SET "phones" = s."phones" + excluded."phones";
    END IF;
    RETURN NULL;
END $$;

-- tblFamilySMS: +1/-1 per row that starts/stops being a current approval.
CREATE OR REPLACE FUNCTION "pn_family_state_sms_trg"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO "pn_family_state" AS s ("family_id", "approvals")
        SELECT "FamilyID", count(*) FROM pn_new WHERE "FamilyID" IS NOT NULL AND "ValidityTo" IS NULL AND "ApprovalOfSMS"
        GROUP BY 1 ORDER BY 1
        ON CONFLICT ("family_id") DO UPDATE SET "approvals" = s."approvals" + excluded."approvals";
    ELSIF TG_OP = 'UPDATE' THEN
        INSERT INTO "pn_family_state" AS s ("family_id", "approvals")
        SELECT fid, sum(k) FROM (
            SELECT "FamilyID" AS fid, -1 AS k FROM pn_old WHERE "FamilyID" IS NOT NULL AND "ValidityTo" IS NULL AND "ApprovalOfSMS"
            UNION ALL
            SELECT "FamilyID", 1 FROM pn_new WHERE "FamilyID" IS NOT NULL AND "ValidityTo" IS NULL AND "ApprovalOfSMS") d
        GROUP BY 1 HAVING sum(k) <> 0 ORDER BY 1
        ON CONFLICT ("family_id") DO UPDATE SET "approvals" = s."approvals" + excluded."approvals";
    ELSE
        INSERT INTO "pn_family_state" AS s ("family_id", "approvals")
        SELECT "FamilyID", -count(*) FROM pn_old WHERE "FamilyID" IS NOT NULL AND "ValidityTo" IS NULL AND "ApprovalOfSMS"
        GROUP BY 1 ORDER BY 1
        ON CONFLICT ("family_id") DO UPDATE SET "approvals" = s."approvals" + excluded."approvals";
    END IF;
    RETURN NULL;
END $$;

-- tblLocations: a location whose id or parent changes (or that appears or goes) changes the
-- district of the families in it and in its children (a village moved to another ward, a ward to
-- another district).
CREATE OR REPLACE FUNCTION "pn_family_state_locations_trg"() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    moved integer[];
    affected integer[];
BEGIN
    IF TG_OP = 'INSERT' THEN
        moved := ARRAY(SELECT "LocationId" FROM pn_new);
    ELSIF TG_OP = 'DELETE' THEN
        moved := ARRAY(SELECT "LocationId" FROM pn_old);
    ELSE
        moved := ARRAY(
            SELECT "LocationId" FROM (
                (SELECT "LocationId", "ParentLocationId" FROM pn_new
                 EXCEPT SELECT "LocationId", "ParentLocationId" FROM pn_old)
                UNION
                (SELECT "LocationId", "ParentLocationId" FROM pn_old
                 EXCEPT SELECT "LocationId", "ParentLocationId" FROM pn_new)) c);
    END IF;
    IF cardinality(moved) > 0 THEN
        affected := moved || ARRAY(SELECT l."LocationId" FROM "tblLocations" l WHERE l."ParentLocationId" = ANY(moved));
        UPDATE "pn_family_state" s SET "district_id" = nd.d
        FROM (
            SELECT s2."family_id",
                   (SELECT w."ParentLocationId" FROM "tblLocations" v
                    JOIN "tblLocations" w ON w."LocationId" = v."ParentLocationId"
                    WHERE v."LocationId" = s2."village_id") AS d
            FROM "pn_family_state" s2
            WHERE s2."village_id" = ANY(affected)
        ) nd
        WHERE s."family_id" = nd."family_id" AND s."district_id" IS DISTINCT FROM nd.d;
    END IF;
    RETURN NULL;
END $$;

-- Everything recomputed from the source tables (the initial backfill; after a TRUNCATE of a source
-- table; pn_family_state_reconcile).
CREATE OR REPLACE FUNCTION "pn_family_state_rebuild"() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    TRUNCATE "pn_family_state", "pn_family_count";
    INSERT INTO "pn_family_state" ("family_id", "current", "village_id", "district_id", "validity_from", "phones", "approvals")
    SELECT e.* FROM "pn_family_state_expected"() e;
END $$;

-- What pn_family_state should hold, computed from the source tables.
CREATE OR REPLACE FUNCTION "pn_family_state_expected"()
RETURNS TABLE ("family_id" integer, "current" boolean, "village_id" integer, "district_id" integer,
               "validity_from" timestamptz, "phones" integer, "approvals" integer)
LANGUAGE sql STABLE AS $$
    WITH ph AS (
        SELECT "FamilyID" AS fid, count(*)::integer AS n FROM "tblInsuree"
        WHERE "FamilyID" IS NOT NULL AND "ValidityTo" IS NULL AND btrim(COALESCE("Phone", '')) <> ''
        GROUP BY 1),
    ap AS (
        SELECT "FamilyID" AS fid, count(*)::integer AS n FROM "tblFamilySMS"
        WHERE "FamilyID" IS NOT NULL AND "ValidityTo" IS NULL AND "ApprovalOfSMS"
        GROUP BY 1),
    fa AS (
        SELECT f."FamilyID" AS fid, f."ValidityTo" IS NULL AS cur, f."LocationId" AS vid,
               w."ParentLocationId" AS did, f."ValidityFrom" AS vf
        FROM "tblFamilies" f
        LEFT JOIN "tblLocations" v ON v."LocationId" = f."LocationId"
        LEFT JOIN "tblLocations" w ON w."LocationId" = v."ParentLocationId"),
    ids AS (SELECT fid FROM fa UNION SELECT fid FROM ph UNION SELECT fid FROM ap)
    SELECT ids.fid, COALESCE(fa.cur, false), fa.vid, fa.did, fa.vf, COALESCE(ph.n, 0), COALESCE(ap.n, 0)
    FROM ids LEFT JOIN fa USING (fid) LEFT JOIN ph USING (fid) LEFT JOIN ap USING (fid)
    ORDER BY ids.fid
$$;

-- Compares the maintained state and counts with the source tables, holding writers off
-- (SHARE locks) meanwhile; rebuilds both when they differ. Returns the number of families whose
-- state differed (plus one when only the counts did). A check for operators and tests.
CREATE OR REPLACE FUNCTION "pn_family_state_reconcile"() RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    differing integer;
    counts_off integer;
BEGIN
    LOCK TABLE "tblFamilies", "tblInsuree", "tblFamilySMS", "tblLocations" IN SHARE MODE;
    SELECT count(*) INTO differing FROM "pn_family_state" s
    FULL JOIN "pn_family_state_expected"() e ON e."family_id" = s."family_id"
    WHERE (s."family_id", s."current", s."village_id", s."district_id", s."validity_from", s."phones", s."approvals")
          IS DISTINCT FROM (e."family_id", e."current", e."village_id", e."district_id", e."validity_from", e."phones", e."approvals")
      AND NOT (s."family_id" IS NOT NULL AND e."family_id" IS NULL AND NOT s."current" AND s."phones" = 0 AND s."approvals" = 0);
    SELECT count(*) INTO counts_off FROM (
        SELECT "district_id", "mode", sum("n") AS n FROM "pn_family_count" GROUP BY 1, 2 HAVING sum("n") <> 0) c
    FULL JOIN (
        SELECT "district_id", "mode", count(*) AS n FROM "pn_family_state" WHERE "current" GROUP BY 1, 2) s
    ON c."district_id" IS NOT DISTINCT FROM s."district_id" AND c."mode" = s."mode"
    WHERE c.n IS DISTINCT FROM s.n;
    IF differing > 0 OR counts_off > 0 THEN
        PERFORM "pn_family_state_rebuild"();
    END IF;
    RETURN differing + CASE WHEN differing = 0 AND counts_off > 0 THEN 1 ELSE 0 END;
END $$;

-- Folds the count deltas into one row per (district, mode). Safe beside concurrent writers and
-- readers (they see the deltas or their sum, never both) and beside another compaction.
CREATE OR REPLACE FUNCTION "pn_family_count_compact"() RETURNS void LANGUAGE sql AS $$
    WITH d AS (DELETE FROM "pn_family_count" RETURNING "district_id", "mode", "n")
    INSERT INTO "pn_family_count" ("district_id", "mode", "n")
    SELECT "district_id", "mode", sum("n") FROM d GROUP BY 1, 2 HAVING sum("n") <> 0
$$;

CREATE OR REPLACE FUNCTION "pn_family_state_truncate_trg"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM "pn_family_state_rebuild"();
    RETURN NULL;
END $$;

-- The triggers first (their lock keeps writers out until this migration commits), then the backfill.
DROP TRIGGER IF EXISTS "pn_family_state_ins" ON "tblFamilies";
DROP TRIGGER IF EXISTS "pn_family_state_upd" ON "tblFamilies";
DROP TRIGGER IF EXISTS "pn_family_state_del" ON "tblFamilies";
DROP TRIGGER IF EXISTS "pn_family_state_trunc" ON "tblFamilies";
CREATE TRIGGER "pn_family_state_ins" AFTER INSERT ON "tblFamilies"
    REFERENCING NEW TABLE AS pn_new FOR EACH STATEMENT EXECUTE FUNCTION "pn_family_state_families_trg"();
CREATE TRIGGER "pn_family_state_upd" AFTER UPDATE ON "tblFamilies"
    REFERENCING OLD TABLE AS pn_old NEW TABLE AS pn_new FOR EACH STATEMENT EXECUTE FUNCTION "pn_family_state_families_trg"();
CREATE TRIGGER "pn_family_state_del" AFTER DELETE ON "tblFamilies"
    REFERENCING OLD TABLE AS pn_old FOR EACH STATEMENT EXECUTE FUNCTION "pn_family_state_families_trg"();
CREATE TRIGGER "pn_family_state_trunc" AFTER TRUNCATE ON "tblFamilies"
    FOR EACH STATEMENT EXECUTE FUNCTION "pn_family_state_truncate_trg"();

DROP TRIGGER IF EXISTS "pn_family_state_ins" ON "tblInsuree";
DROP TRIGGER IF EXISTS "pn_family_state_upd" ON "tblInsuree";
DROP TRIGGER IF EXISTS "pn_family_state_del" ON "tblInsuree";
DROP TRIGGER IF EXISTS "pn_family_state_trunc" ON "tblInsuree";
CREATE TRIGGER "pn_family_state_ins" AFTER INSERT ON "tblInsuree"
    REFERENCING NEW TABLE AS pn_new FOR EACH STATEMENT EXECUTE FUNCTION "pn_family_state_insuree_trg"();
CREATE TRIGGER "pn_family_state_upd" AFTER UPDATE ON "tblInsuree"
    REFERENCING OLD TABLE AS pn_old NEW TABLE AS pn_new FOR EACH STATEMENT EXECUTE FUNCTION "pn_family_state_insuree_trg"();
CREATE TRIGGER "pn_family_state_del" AFTER DELETE ON "tblInsuree"
    REFERENCING OLD TABLE AS pn_old FOR EACH STATEMENT EXECUTE FUNCTION "pn_family_state_insuree_trg"();
CREATE TRIGGER "pn_family_state_trunc" AFTER TRUNCATE ON "tblInsuree"
    FOR EACH STATEMENT EXECUTE FUNCTION "pn_family_state_truncate_trg"();

DROP TRIGGER IF EXISTS "pn_family_state_ins" ON "tblFamilySMS";
DROP TRIGGER IF EXISTS "pn_family_state_upd" ON "tblFamilySMS";
DROP TRIGGER IF EXISTS "pn_family_state_del" ON "tblFamilySMS";
DROP TRIGGER IF EXISTS "pn_family_state_trunc" ON "tblFamilySMS";
CREATE TRIGGER "pn_family_state_ins" AFTER INSERT ON "tblFamilySMS"
    REFERENCING NEW TABLE AS pn_new FOR EACH STATEMENT EXECUTE FUNCTION "pn_family_state_sms_trg"();
CREATE TRIGGER "pn_family_state_upd" AFTER UPDATE ON "tblFamilySMS"
    REFERENCING OLD TABLE AS pn_old NEW TABLE AS pn_new FOR EACH STATEMENT EXECUTE FUNCTION "pn_family_state_sms_trg"();
CREATE TRIGGER "pn_family_state_del" AFTER DELETE ON "tblFamilySMS"
    REFERENCING OLD TABLE AS pn_old FOR EACH STATEMENT EXECUTE FUNCTION "pn_family_state_sms_trg"();
CREATE TRIGGER "pn_family_state_trunc" AFTER TRUNCATE ON "tblFamilySMS"
    FOR EACH STATEMENT EXECUTE FUNCTION "pn_family_state_truncate_trg"();

DROP TRIGGER IF EXISTS "pn_family_state_ins" ON "tblLocations";
DROP TRIGGER IF EXISTS "pn_family_state_upd" ON "tblLocations";
DROP TRIGGER IF EXISTS "pn_family_state_del" ON "tblLocations";
CREATE TRIGGER "pn_family_state_ins" AFTER INSERT ON "tblLocations"
    REFERENCING NEW TABLE AS pn_new FOR EACH STATEMENT EXECUTE FUNCTION "pn_family_state_locations_trg"();
CREATE TRIGGER "pn_family_state_upd" AFTER UPDATE ON "tblLocations"
    REFERENCING OLD TABLE AS pn_old NEW TABLE AS pn_new FOR EACH STATEMENT EXECUTE FUNCTION "pn_family_state_locations_trg"();
CREATE TRIGGER "pn_family_state_del" AFTER DELETE ON "tblLocations"
    REFERENCING OLD TABLE AS pn_old FOR EACH STATEMENT EXECUTE FUNCTION "pn_family_state_locations_trg"();

SELECT "pn_family_state_rebuild"();

-- The page's orders (ValidityFrom DESC NULLS LAST, FamilyID DESC) over current families: all,
-- per mode, per district, per district and mode. Built after the backfill (one sort each).
CREATE INDEX IF NOT EXISTS "pn_family_state_order" ON "pn_family_state"
    ("validity_from" DESC NULLS LAST, "family_id" DESC) WHERE "current";
CREATE INDEX IF NOT EXISTS "pn_family_state_mode_order" ON "pn_family_state"
    ("mode", "validity_from" DESC NULLS LAST, "family_id" DESC) WHERE "current";
CREATE INDEX IF NOT EXISTS "pn_family_state_district_order" ON "pn_family_state"
    ("district_id", "validity_from" DESC NULLS LAST, "family_id" DESC) WHERE "current";
CREATE INDEX IF NOT EXISTS "pn_family_state_district_mode_order" ON "pn_family_state"
    ("district_id", "mode", "validity_from" DESC NULLS LAST, "family_id" DESC) WHERE "current";
CREATE INDEX IF NOT EXISTS "pn_family_state_village" ON "pn_family_state" ("village_id");
ANALYZE "pn_family_state";
