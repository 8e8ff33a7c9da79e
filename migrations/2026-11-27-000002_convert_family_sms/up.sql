-- Converts the lower-case tblFamilySMS that openIMIS's PostgreSQL dump creates (unquoted columns,
-- no primary key, no foreign key) into the layout its Django model expects (DECISIONS 25):
--   * quoted column names;
--   * non-current rows moved to pn_family_sms_archive;
--   * NULL approval -> false, NULL language -> the default language (originals archived);
--   * primary key on "FamilyID" and a foreign key to tblFamilies.
-- Several current rows for one family, or rows of families that do not exist, stop the
-- migration with an error that lists them and says what to do.
-- On a table that already has the quoted layout this does nothing.
DO $$
DECLARE
    default_language varchar(5);
    duplicates text;
    orphans text;
    orphan_count bigint;
BEGIN
    IF NOT EXISTS (
        SELECT 1 FROM information_schema.columns
        WHERE table_schema = current_schema() AND table_name = 'tblFamilySMS' AND column_name = 'familyid'
    ) THEN
        RETURN;
    END IF;

    SELECT string_agg(format('FamilyID %s (%s current rows)', familyid, n), ', ' ORDER BY familyid)
      INTO duplicates
      FROM (SELECT familyid, count(*) AS n FROM "tblFamilySMS"
            WHERE validityto IS NULL GROUP BY familyid HAVING count(*) > 1) d;
    IF duplicates IS NOT NULL THEN
        RAISE EXCEPTION 'tblFamilySMS holds several current rows (validityto IS NULL) for one family: %. '
            'Keep one current row per family (end-date the others by setting validityto), then run '
            'policy-notification migrate again; nothing was converted', duplicates;
    END IF;

    -- Rows of families that do not exist cannot get the foreign key: say which, and what to do.
    SELECT count(*), string_agg(format('FamilyID %s', familyid), ', ' ORDER BY familyid)
             FILTER (WHERE rn <= 20)
      INTO orphan_count, orphans
      FROM (SELECT s.familyid, row_number() OVER (ORDER BY s.familyid) AS rn
            FROM (SELECT DISTINCT familyid FROM "tblFamilySMS") s
            WHERE NOT EXISTS (SELECT 1 FROM "tblFamilies" f WHERE f."FamilyID" = s.familyid)) o;
    IF orphan_count > 0 THEN
        RAISE EXCEPTION 'tblFamilySMS holds rows for % families that tblFamilies does not have (%). '
            'Delete those rows (DELETE FROM "tblFamilySMS" WHERE familyid NOT IN (SELECT "FamilyID" FROM "tblFamilies")) '
            'or restore the families, then run policy-notification migrate again; nothing was converted',
            orphan_count, concat(orphans, CASE WHEN orphan_count > 20 THEN ', …' END);
    END IF;

    default_language := NULLIF(current_setting('pn.default_language', true), '');
    IF default_language IS NULL THEN
        SELECT "LanguageCode" INTO default_language FROM "tblLanguages"
        ORDER BY "SortOrder" NULLS LAST, "LanguageCode" LIMIT 1;
    END IF;

    -- History rows: a family keeps one row, so every non-current row goes to the archive, except
    -- for a family that has no current row, which keeps its latest one in place.
    WITH keep AS (
        SELECT DISTINCT ON (familyid) ctid AS row_id
        FROM "tblFamilySMS"
        ORDER BY familyid, (validityto IS NULL) DESC, validityto DESC NULLS FIRST, validityfrom DESC
    ), moved AS (
        DELETE FROM "tblFamilySMS" s
        WHERE s.ctid NOT IN (SELECT row_id FROM keep)
        RETURNING s.familyid, s.approvalofsms, s.languageofsms, s.validityfrom, s.validityto
    )
    INSERT INTO "pn_family_sms_archive" ("FamilyID", "ApprovalOfSMS", "LanguageOfSMS", "ValidityFrom", "ValidityTo", "reason")
    SELECT familyid, approvalofsms, languageofsms, validityfrom, validityto, 'non-current row moved by the tblFamilySMS conversion'
    FROM moved;

    -- Rows whose NULLs are replaced keep their original values in the archive.
    INSERT INTO "pn_family_sms_archive" ("FamilyID", "ApprovalOfSMS", "LanguageOfSMS", "ValidityFrom", "ValidityTo", "reason")
    SELECT familyid, approvalofsms, languageofsms, validityfrom, validityto, 'original values before NULLs were replaced by defaults'
    FROM "tblFamilySMS" WHERE approvalofsms IS NULL OR languageofsms IS NULL;

    IF default_language IS NULL AND EXISTS (SELECT 1 FROM "tblFamilySMS" WHERE languageofsms IS NULL) THEN
        RAISE EXCEPTION 'tblFamilySMS has rows without a language, and there is no default language '
            '(tblLanguages is empty): set default_language in the [service] section '
            '(PN_SERVICE__DEFAULT_LANGUAGE) and run policy-notification migrate again';
    END IF;
    UPDATE "tblFamilySMS" SET approvalofsms = false WHERE approvalofsms IS NULL;
    UPDATE "tblFamilySMS" SET languageofsms = default_language WHERE languageofsms IS NULL;

    ALTER TABLE "tblFamilySMS" DROP CONSTRAINT IF EXISTS uc_familysms;
    ALTER TABLE "tblFamilySMS" RENAME COLUMN familyid TO "FamilyID";
    ALTER TABLE "tblFamilySMS" RENAME COLUMN approvalofsms TO "ApprovalOfSMS";
    ALTER TABLE "tblFamilySMS" RENAME COLUMN languageofsms TO "LanguageOfSMS";
    ALTER TABLE "tblFamilySMS" RENAME COLUMN validityfrom TO "ValidityFrom";
    ALTER TABLE "tblFamilySMS" RENAME COLUMN validityto TO "ValidityTo";
    ALTER TABLE "tblFamilySMS" ALTER COLUMN "ApprovalOfSMS" SET NOT NULL;
    ALTER TABLE "tblFamilySMS" ALTER COLUMN "LanguageOfSMS" SET NOT NULL;
    ALTER TABLE "tblFamilySMS" ADD CONSTRAINT "tblFamilySMS_pkey" PRIMARY KEY ("FamilyID");
    ALTER TABLE "tblFamilySMS" ADD CONSTRAINT "tblFamilySMS_FamilyID_e9356429_fk_tblFamilies_FamilyID"
        FOREIGN KEY ("FamilyID") REFERENCES "tblFamilies" ("FamilyID") DEFERRABLE INITIALLY DEFERRED;
END $$;
