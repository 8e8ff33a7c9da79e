//! Migrations: an empty database, a re-run (no-op), and the conversion of the lower-case
//! `tblFamilySMS` that openIMIS's PostgreSQL dump creates (DECISIONS 25–26).
mod support;

use policy_notification::db::migrations::{pending, run_pending};
use support::TestDb;

/// Number of migrations shipped in `migrations/`.
fn shipped() -> usize {
    std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations"))
        .unwrap()
        .filter(|e| e.as_ref().unwrap().path().join("up.sql").is_file())
        .count()
}

/// Names of the indexes the migrations create (`CREATE INDEX … IF NOT EXISTS "name"`).
fn declared_indexes() -> Vec<String> {
    let mut names = Vec::new();
    for entry in std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations")).unwrap() {
        let up = entry.unwrap().path().join("up.sql");
        let Ok(sql) = std::fs::read_to_string(up) else {
            continue;
        };
        for part in sql.split("CREATE INDEX").skip(1) {
            if let Some(rest) = part.split("IF NOT EXISTS").nth(1)
                && let Some(name) = rest.trim_start().strip_prefix('"')
                && let Some((name, _)) = name.split_once('"')
            {
                names.push(name.to_string());
            }
        }
    }
    assert!(names.len() >= 14, "found the index migrations: {names:?}");
    names
}

/// Everything a migration could change: columns, constraints, indexes (with validity).
async fn schema_fingerprint(db: &TestDb) -> String {
    db.scalar(
        "SELECT concat_ws(E'\\n',
            (SELECT string_agg(format('%s.%s %s %s %s', table_name, column_name, data_type,
                                      is_nullable, column_default), E'\\n'
                               ORDER BY table_name, column_name)
             FROM information_schema.columns WHERE table_schema = 'public'),
            (SELECT string_agg(format('%s %s %s', conrelid::regclass, conname,
                                      pg_get_constraintdef(oid)), E'\\n'
                               ORDER BY conrelid::regclass::text, conname)
             FROM pg_constraint WHERE connamespace = 'public'::regnamespace),
            (SELECT string_agg(format('%s %s', pg_get_indexdef(indexrelid), indisvalid), E'\\n'
                               ORDER BY indexrelid::regclass::text)
             FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
             WHERE c.relnamespace = 'public'::regnamespace))",
    )
    .await
    .unwrap_or_default()
}

#[tokio::test]
async fn empty_database_migrates_then_rerun_is_a_no_op() {
    let db = TestDb::empty().await;
    assert_eq!(pending(&db.url).await.unwrap().len(), shipped());

    let applied = run_pending(&db.url, None).await.unwrap();
    assert_eq!(
        applied.len(),
        shipped(),
        "every migration applies: {applied:?}"
    );
    assert!(
        applied
            .iter()
            .any(|name| name.ends_with("_convert_family_sms")),
        "names, not bare versions: {applied:?}"
    );
    assert!(pending(&db.url).await.unwrap().is_empty());

    for table in [
        "tblFamilies",
        "tblInsuree",
        "tblPolicy",
        "tblFamilySMS",
        "tblLanguages",
        "tblIndicationOfPolicyNotifications",
        "tblIndicationOfPolicyNotificationsDetails",
        "core_ModuleConfiguration",
        "core_Mutation_Log",
        "core_User",
        "insuree_FamilyMutation",
        "pn_family_sms_archive",
    ] {
        assert_eq!(
            db.count(&format!(
                "SELECT count(*) FROM information_schema.tables WHERE table_name = '{table}'"
            ))
            .await,
            1,
            "{table} created"
        );
    }
    assert_eq!(
        db.count("SELECT count(*) FROM pg_index WHERE NOT indisvalid")
            .await,
        0,
        "every index built and valid"
    );
    for index in declared_indexes() {
        assert_eq!(
            db.count(&format!(
                "SELECT count(*) FROM pg_indexes WHERE schemaname = 'public' AND indexname = '{index}'"
            ))
            .await,
            1,
            "index {index} built"
        );
    }

    let before = schema_fingerprint(&db).await;
    let again = run_pending(&db.url, Some("en")).await.unwrap();
    assert!(again.is_empty(), "second run applies nothing: {again:?}");
    assert_eq!(schema_fingerprint(&db).await, before, "schema unchanged");
}

/// openIMIS's PostgreSQL dump: `tblLanguages`, `tblFamilies` with a primary key, and the
/// lower-case `tblFamilySMS` without one.
const OPENIMIS_DUMP_TABLES: &str = r#"
CREATE TABLE "public"."tblLanguages" (
    "LanguageCode" character varying(5) NOT NULL,
    "LanguageName" character varying(50) NOT NULL,
    "SortOrder" integer,
    "CountryCode" character varying(10) NULL
);
ALTER TABLE ONLY "public"."tblLanguages" ADD CONSTRAINT "tblLanguages_pkey" PRIMARY KEY ("LanguageCode");
CREATE TABLE "public"."tblFamilies" (
    "FamilyID" integer NOT NULL,
    "FamilyUUID" character varying(36) NOT NULL,
    "LegacyID" integer,
    "Poverty" boolean,
    "FamilyAddress" character varying(200),
    "isOffline" boolean,
    "Ethnicity" character varying(1),
    "ConfirmationNo" character varying(12),
    "ValidityFrom" timestamp with time zone NOT NULL,
    "ValidityTo" timestamp with time zone,
    "AuditUserID" integer NOT NULL,
    "ConfirmationType" character varying(3),
    "FamilyType" character varying(2),
    "InsureeID" integer NOT NULL,
    "LocationId" integer,
    "RowID" "text",
    "Source" VARCHAR(50) NULL,
    "SourceVersion" VARCHAR(15) NULL
);
ALTER TABLE ONLY "public"."tblFamilies" ADD CONSTRAINT "tblFamilies_pkey" PRIMARY KEY ("FamilyID");
CREATE TABLE "public"."tblFamilySMS" (
    FamilyID INT NOT NULL,
    ApprovalOfSMS BOOLEAN,
    LanguageOfSMS VARCHAR(5),
    ValidityFrom TIMESTAMPTZ NOT NULL,
    ValidityTo TIMESTAMPTZ,
    CONSTRAINT UC_FamilySMS UNIQUE (FamilyID, ValidityTo)
);
INSERT INTO "tblLanguages" VALUES ('en', 'English', 2, NULL), ('fr', 'Français', 1, NULL),
                                  ('sw', 'Kiswahili', NULL, NULL);
INSERT INTO "tblFamilies" ("FamilyID", "FamilyUUID", "ValidityFrom", "AuditUserID", "InsureeID")
SELECT n, 'a0000000-0000-0000-0000-00000000000' || n, '2020-01-01', 1, n FROM generate_series(1, 6) n;
"#;

/// Current rows, history rows, and rows with NULL approval or language.
const LEGACY_SMS_ROWS: &str = r#"
INSERT INTO "tblFamilySMS" VALUES
    (1, true,  'en', '2024-01-01', NULL),
    (2, NULL,  NULL, '2024-01-02', NULL),
    (3, false, 'fr', '2023-01-01', '2024-01-01'),
    (3, true,  'fr', '2024-01-01', NULL),
    (4, false, 'en', '2022-01-01', '2023-06-01'),
    (4, true,  NULL, '2023-06-01', '2024-06-01'),
    (5, NULL,  'sw', '2024-03-01', NULL);
"#;

async fn legacy_database() -> TestDb {
    let db = TestDb::empty().await;
    db.exec(OPENIMIS_DUMP_TABLES).await;
    db
}

async fn sms_rows(db: &TestDb) -> String {
    db.scalar(
        r#"SELECT string_agg(format('%s:%s:%s:%s', "FamilyID", "ApprovalOfSMS", "LanguageOfSMS",
                                    to_char("ValidityTo" AT TIME ZONE 'UTC', 'YYYY-MM-DD')), ' '
                             ORDER BY "FamilyID") FROM "tblFamilySMS""#,
    )
    .await
    .unwrap_or_default()
}

async fn archive_rows(db: &TestDb, reason_like: &str) -> String {
    db.scalar(&format!(
        r#"SELECT string_agg(format('%s:%s:%s:%s', "FamilyID", "ApprovalOfSMS", "LanguageOfSMS",
                                    to_char("ValidityFrom" AT TIME ZONE 'UTC', 'YYYY-MM-DD')), ' '
                             ORDER BY "FamilyID", "ValidityFrom")
           FROM pn_family_sms_archive WHERE reason LIKE '{reason_like}'"#
    ))
    .await
    .unwrap_or_default()
}

#[tokio::test]
async fn lowercase_family_sms_is_converted_with_language_from_tbl_languages() {
    let db = legacy_database().await;
    db.exec(LEGACY_SMS_ROWS).await;

    let applied = run_pending(&db.url, None).await.unwrap();
    assert_eq!(applied.len(), shipped());

    // Quoted columns, NOT NULL where the Django model has them; the old constraint is gone.
    assert_eq!(
        db.scalar(
            "SELECT string_agg(column_name || ':' || is_nullable, ',' ORDER BY ordinal_position)
             FROM information_schema.columns WHERE table_name = 'tblFamilySMS'"
        )
        .await
        .unwrap(),
        "FamilyID:NO,ApprovalOfSMS:NO,LanguageOfSMS:NO,ValidityFrom:NO,ValidityTo:YES"
    );
    assert_eq!(
        db.scalar(
            r#"SELECT string_agg(contype::text || ' ' || pg_get_constraintdef(oid), ' | ' ORDER BY contype::text)
               FROM pg_constraint WHERE conrelid = '"tblFamilySMS"'::regclass"#
        )
        .await
        .unwrap(),
        "f FOREIGN KEY (\"FamilyID\") REFERENCES \"tblFamilies\"(\"FamilyID\") DEFERRABLE INITIALLY DEFERRED \
         | p PRIMARY KEY (\"FamilyID\")"
    );

    // One row per family; NULL approval -> false, NULL language -> first by SortOrder ('fr');
    // a family with only history keeps its latest row in place.
    assert_eq!(
        sms_rows(&db).await,
        "1:t:en: 2:f:fr: 3:t:fr: 4:t:fr:2024-06-01 5:f:sw:"
    );
    // Non-current rows are archived as they were.
    assert_eq!(
        archive_rows(&db, "non-current%").await,
        "3:f:fr:2023-01-01 4:f:en:2022-01-01"
    );
    // Rows whose NULLs were replaced keep their original values in the archive.
    assert_eq!(
        archive_rows(&db, "original values%").await,
        "2:::2024-01-02 4:t::2023-06-01 5::sw:2024-03-01"
    );
    // openIMIS's own data is untouched.
    assert_eq!(db.count(r#"SELECT count(*) FROM "tblFamilies""#).await, 6);

    // The keys hold: a second row for a family, or a row for no family, is refused.
    let mut conn = db.conn().await;
    use diesel_async::SimpleAsyncConnection;
    assert!(
        conn.batch_execute(r#"INSERT INTO "tblFamilySMS" VALUES (1, true, 'en', now(), NULL)"#)
            .await
            .is_err()
    );
    assert!(
        conn.batch_execute(r#"INSERT INTO "tblFamilySMS" VALUES (99, true, 'en', now(), NULL)"#)
            .await
            .is_err()
    );

    // Re-running is a no-op.
    assert!(run_pending(&db.url, None).await.unwrap().is_empty());
    assert_eq!(
        db.count("SELECT count(*) FROM pn_family_sms_archive").await,
        5
    );
}

#[tokio::test]
async fn conversion_uses_the_configured_default_language() {
    let db = legacy_database().await;
    db.exec(LEGACY_SMS_ROWS).await;
    run_pending(&db.url, Some("en")).await.unwrap();
    assert_eq!(
        sms_rows(&db).await,
        "1:t:en: 2:f:en: 3:t:fr: 4:t:en:2024-06-01 5:f:sw:"
    );
}

#[tokio::test]
async fn conversion_refuses_several_current_rows_for_one_family() {
    let db = legacy_database().await;
    db.exec(
        r#"INSERT INTO "tblFamilySMS" VALUES
            (1, true,  'en', '2024-01-01', NULL),
            (1, false, 'fr', '2024-02-01', NULL),
            (2, true,  'en', '2024-01-01', NULL),
            (3, true,  'en', '2024-01-01', NULL),
            (3, true,  'en', '2024-01-02', NULL),
            (3, true,  'fr', '2024-01-03', NULL),
            (3, true,  'fr', '2023-01-03', '2024-01-01');"#,
    )
    .await;

    let err = run_pending(&db.url, None).await.unwrap_err().to_string();
    assert!(err.contains("convert_family_sms"), "{err}");
    assert!(err.contains("FamilyID 1 (2 current rows)"), "{err}");
    assert!(err.contains("FamilyID 3 (3 current rows)"), "{err}");
    assert!(!err.contains("FamilyID 2 "), "{err}");
    assert!(err.contains("policy-notification migrate"), "{err}");

    // Nothing of the conversion happened: same lower-case table, same rows, nothing archived.
    assert_eq!(
        db.count(
            "SELECT count(*) FROM information_schema.columns
             WHERE table_name = 'tblFamilySMS' AND column_name = 'familyid'"
        )
        .await,
        1
    );
    assert_eq!(db.count(r#"SELECT count(*) FROM "tblFamilySMS""#).await, 7);
    assert_eq!(
        db.count("SELECT count(*) FROM pn_family_sms_archive").await,
        0
    );
    let still = pending(&db.url).await.unwrap();
    assert!(
        still.iter().any(|m| m.contains("convert_family_sms")),
        "{still:?}"
    );

    // Once the operator end-dates the extra rows, the migration goes through.
    db.exec(
        r#"UPDATE "tblFamilySMS" SET validityto = validityfrom + interval '1 day'
           WHERE (familyid, validityfrom) IN ((1, '2024-01-01'), (3, '2024-01-01'), (3, '2024-01-02'))"#,
    )
    .await;
    run_pending(&db.url, None).await.unwrap();
    assert_eq!(sms_rows(&db).await, "1:f:fr: 2:t:en: 3:t:fr:");
    assert_eq!(
        db.count("SELECT count(*) FROM pn_family_sms_archive").await,
        4
    );
}

#[tokio::test]
async fn conversion_without_any_language_names_the_setting() {
    let db = legacy_database().await;
    db.exec(
        r#"DELETE FROM "tblLanguages";
           INSERT INTO "tblFamilySMS" VALUES (1, true, NULL, '2024-01-01', NULL);"#,
    )
    .await;
    let err = run_pending(&db.url, None).await.unwrap_err().to_string();
    assert!(err.contains("default_language"), "{err}");
    assert_eq!(
        db.count(r#"SELECT count(*) FROM "tblFamilySMS" WHERE languageofsms IS NULL"#)
            .await,
        1,
        "nothing converted"
    );
}

#[tokio::test]
async fn conversion_refuses_rows_of_families_that_do_not_exist() {
    let db = legacy_database().await;
    db.exec(
        r#"INSERT INTO "tblFamilySMS" VALUES
            (2, true, 'en', '2024-01-01', NULL),
            (777, true, 'en', '2024-01-01', NULL),
            (778, false, NULL, '2024-01-01', '2024-02-01');"#,
    )
    .await;
    let err = run_pending(&db.url, None).await.unwrap_err().to_string();
    assert!(err.contains("convert_family_sms"), "{err}");
    assert!(
        err.contains(
            "rows for 2 families that tblFamilies does not have (FamilyID 777, FamilyID 778)"
        ),
        "{err}"
    );
    assert!(err.contains("DELETE FROM \"tblFamilySMS\""), "{err}");
    assert!(err.contains("policy-notification migrate"), "{err}");
    // Nothing converted, nothing archived.
    assert_eq!(db.count(r#"SELECT count(*) FROM "tblFamilySMS""#).await, 3);
    assert_eq!(
        db.count("SELECT count(*) FROM pn_family_sms_archive").await,
        0
    );
    // Following the message lets the migration through.
    db.exec(r#"DELETE FROM "tblFamilySMS" WHERE familyid NOT IN (SELECT "FamilyID" FROM "tblFamilies")"#)
        .await;
    run_pending(&db.url, None).await.unwrap();
    assert_eq!(sms_rows(&db).await, "2:t:en:");
}

#[tokio::test]
async fn the_report_right_goes_to_the_roles_openimis_grants_it_to() {
    // On openIMIS's databases the roles are openIMIS's own; on ours, the demo-free schema has
    // none, so add the two the grant is for, as they are in openIMIS.
    let db = TestDb::unmigrated().await;
    if db
        .count("SELECT count(*) FROM information_schema.tables WHERE table_name = 'tblRole'")
        .await
        == 0
    {
        run_pending(&db.url, None).await.unwrap();
        db.exec(
            r#"INSERT INTO "tblRole" ("RoleUUID", "RoleName", "IsSystem", "IsBlocked", "ValidityFrom") VALUES
                 (gen_random_uuid()::text, 'Enrolment Officer', 1, false, now()),
                 (gen_random_uuid()::text, 'Accountant', 4, false, now()),
                 (gen_random_uuid()::text, 'IMIS Administrator', 64, false, now());
               DELETE FROM "__diesel_schema_migrations" WHERE version LIKE '20261201000001%';"#,
        )
        .await;
    }
    run_pending(&db.url, None).await.unwrap();
    let holders = r#"SELECT string_agg(r."IsSystem"::text, ',' ORDER BY r."IsSystem")
        FROM "tblRoleRight" rr JOIN "tblRole" r ON r."RoleID" = rr."RoleID"
        WHERE rr."RightID" = 131224 AND rr."ValidityTo" IS NULL AND r."ValidityTo" IS NULL"#;
    assert_eq!(db.scalar(holders).await.as_deref(), Some("1,4"));
    // Once only.
    db.exec(r#"DELETE FROM "__diesel_schema_migrations" WHERE version LIKE '20261201000001%'"#)
        .await;
    run_pending(&db.url, None).await.unwrap();
    assert_eq!(db.scalar(holders).await.as_deref(), Some("1,4"));
}

/// On every ground, `mutationLogs`' lookup of link rows by mutation has exactly one index: ours
/// where the database had none (our own schema), openIMIS's own where it had one (ours is then
/// dropped, so that no link row pays for two identical indexes).
#[tokio::test]
async fn link_rows_are_indexed_by_mutation_once() {
    let db = TestDb::new().await;
    let by_mutation = "SELECT count(*) FROM pg_index i \
         JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0] \
         WHERE i.indrelid = '\"insuree_FamilyMutation\"'::regclass AND a.attname = 'mutation_id' \
           AND i.indisvalid AND i.indpred IS NULL";
    assert_eq!(db.count(by_mutation).await, 1, "one index by mutation_id");
    let ours = db
        .count("SELECT count(*) FROM pg_class WHERE relname = 'pn_family_mutation_mutation'")
        .await;
    let others = db
        .count(
            "SELECT count(*) FROM pg_indexes WHERE tablename = 'insuree_FamilyMutation' \
             AND indexname <> 'pn_family_mutation_mutation' AND indexdef LIKE '%(mutation_id)%'",
        )
        .await;
    assert_eq!(ours + others, 1, "ours only where the database has none");
}
