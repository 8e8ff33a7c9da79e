//! Demo data: determinism, dating relative to --as-of, candidates for the six notification
//! events, the four notification modes, the demo logins, and the guard against non-empty
//! databases (DECISIONS 28).
//!
//! On our own ground the seed writes into an empty database. The real openIMIS grounds already
//! hold openIMIS's demo families, where seed-demo refuses unless forced (DECISIONS 28): there the
//! tests check the refusal, then force the seed and check what it added above the rows that were
//! there (every key the seed writes follows the existing ones).

mod support;

use chrono::NaiveDate;
use indicatif::ProgressBar;
use policy_notification::families::rules::NotificationMode;
use policy_notification::seed::{self, SeedError, SeedOptions};
use support::{Ground, TestDb};

const TABLES: &[&str] = &[
    "tblLanguages",
    "tblLocations",
    "tblRole",
    "tblRoleRight",
    "tblUsers",
    "tblUserRole",
    "tblUsersDistricts",
    "core_User",
    "tblOfficer",
    "tblProduct",
    "tblFamilies",
    "tblInsuree",
    "tblFamilySMS",
    "tblPolicy",
    "tblInsureePolicy",
    "tblPremium",
    "tblIndicationOfPolicyNotifications",
];

fn date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn options(families: u64, as_of: &str, seed: i64) -> SeedOptions {
    SeedOptions {
        families,
        as_of: date(as_of),
        seed,
        force: false,
    }
}

/// What a database held before the seed: its current families and the highest keys, above
/// which the seed writes (all 0 on our own ground).
#[derive(Debug, Clone, Copy)]
struct Before {
    families: i64,
    family: i64,
    insuree: i64,
    policy: i64,
    location: i64,
    product: i64,
}

impl Before {
    async fn of(db: &TestDb) -> Before {
        let max = |t: &str, k: &str| format!(r#"SELECT COALESCE(max("{k}"), 0) FROM "{t}""#);
        Before {
            families: db
                .count(r#"SELECT count(*) FROM "tblFamilies" WHERE "ValidityTo" IS NULL"#)
                .await,
            family: db.count(&max("tblFamilies", "FamilyID")).await,
            insuree: db.count(&max("tblInsuree", "InsureeID")).await,
            policy: db.count(&max("tblPolicy", "PolicyID")).await,
            location: db.count(&max("tblLocations", "LocationId")).await,
            product: db.count(&max("tblProduct", "ProdID")).await,
        }
    }
}

/// A database the demo data was seeded into (forced on the real grounds, whose demo families
/// make an unforced seed refuse), and what it held before.
async fn seeded_with(families: u64, as_of: &str, seed: i64) -> (TestDb, Before) {
    let db = TestDb::new().await;
    let before = Before::of(&db).await;
    assert_eq!(
        before.families > 0,
        Ground::current().is_openimis(),
        "the real grounds hold openIMIS's demo families, our own schema none"
    );
    let mut opts = options(families, as_of, seed);
    opts.force = Ground::current().is_openimis();
    seed::seed(&db.url, &opts, &ProgressBar::hidden())
        .await
        .unwrap();
    (db, before)
}

async fn seeded(families: u64, as_of: &str, seed: i64) -> TestDb {
    seeded_with(families, as_of, seed).await.0
}

/// md5 over the ordered rows of every table the seed writes.
async fn fingerprint(db: &TestDb) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for t in TABLES {
        let v = db
            .scalar(&format!(
                "SELECT md5(COALESCE(string_agg(x::text, '|' ORDER BY x::text), '')) FROM \"{t}\" x"
            ))
            .await
            .unwrap();
        out.push((t.to_string(), v));
    }
    out
}

#[tokio::test]
async fn same_seed_gives_the_same_data_and_another_seed_does_not() {
    let (a, before) = seeded_with(300, "2026-03-15", 7).await;
    let b = seeded(300, "2026-03-15", 7).await;
    let c = seeded(300, "2026-03-15", 8).await;
    let fa = fingerprint(&a).await;
    pretty_assertions::assert_eq!(fa, fingerprint(&b).await);
    let fc = fingerprint(&c).await;
    for t in ["tblFamilies", "tblInsuree", "tblPolicy", "tblUsers"] {
        let x = fa.iter().find(|(n, _)| n == t).unwrap();
        let y = fc.iter().find(|(n, _)| n == t).unwrap();
        assert_ne!(x, y, "{t} should differ between seeds");
    }
    assert_eq!(
        a.count("SELECT count(*) FROM \"tblFamilies\" WHERE \"ValidityTo\" IS NULL")
            .await,
        before.families + 300
    );
}

/// "Not renewed" (DECISIONS 15): no current policy of the family on the same product or its
/// conversion product starting the day after expiry or later.
fn not_renewed(p: &str) -> String {
    format!(
        r#"NOT EXISTS (SELECT 1 FROM "tblPolicy" rn WHERE rn."ValidityTo" IS NULL
            AND rn."FamilyID" = {p}."FamilyID"
            AND rn."ProdID" IN ({p}."ProdID", (SELECT pr."ConversionProdID" FROM "tblProduct" pr WHERE pr."ProdID" = {p}."ProdID"))
            AND rn."StartDate" >= {p}."ExpiryDate" + 1)"#
    )
}

/// Candidate SQL per event (the detection rules of docs/sender.md), with N1 = N2 = W = 5, over the families
/// above key `family` (the seeded ones).
fn event_candidates(d: &str, family: i64) -> Vec<(&'static str, String)> {
    let d = format!("DATE '{d}'");
    let marker = |col: &str| {
        format!(
            r#"NOT EXISTS (SELECT 1 FROM "tblIndicationOfPolicyNotifications" i
                WHERE i."PolicyID" = p."PolicyID" AND i."{col}" IS NOT NULL)"#
        )
    };
    let base =
        format!(r#"FROM "tblPolicy" p WHERE p."ValidityTo" IS NULL AND p."FamilyID" > {family}"#);
    vec![
        (
            "activation",
            format!(
                r#"{base} AND p."PolicyStatus" = 2 AND p."PolicyStage" IS DISTINCT FROM 'R'
                   AND p."ValidityFrom" >= {d} - 5 AND p."EffectiveDate" IS DISTINCT FROM {d}
                   AND {}"#,
                marker("NotificationOnActivationSent")
            ),
        ),
        (
            "effective",
            format!(
                r#"{base} AND p."PolicyStatus" = 2 AND p."EffectiveDate" = {d} AND {}"#,
                marker("NotificationOnEffectiveSent")
            ),
        ),
        (
            "before expiry",
            format!(
                r#"{base} AND p."ExpiryDate" = {d} + 5 AND {} AND {}"#,
                not_renewed("p"),
                marker("NotificationBeforeExpirySent")
            ),
        ),
        (
            "on expiry",
            format!(
                r#"{base} AND p."ExpiryDate" = {d} AND {} AND {}"#,
                not_renewed("p"),
                marker("NotificationOnExpirationSent")
            ),
        ),
        (
            "after expiry",
            format!(
                r#"{base} AND p."ExpiryDate" = {d} - 5 AND {} AND {}"#,
                not_renewed("p"),
                marker("NotificationAfterExpirationSent")
            ),
        ),
        (
            "renewal",
            format!(
                r#"{base} AND p."PolicyStatus" = 2 AND p."PolicyStage" = 'R'
                   AND p."ValidityFrom" >= {d} - 5 AND {}"#,
                marker("NotificationOnRenewalSent")
            ),
        ),
    ]
}

#[tokio::test]
async fn each_event_has_candidates_on_the_as_of_date() {
    let as_of = "2026-03-15";
    let (db, before) = seeded_with(200, as_of, 11).await;
    let phone = policy_notification::families::rules::has_phone_sql("f");
    let approved = policy_notification::families::rules::approved_sql("f");
    for (event, sql) in event_candidates(as_of, before.family) {
        let all = db.count(&format!("SELECT count(*) {sql}")).await;
        assert!(all > 0, "no {event} candidates");
        let sendable = db
            .count(&format!(
                r#"SELECT count(*) FROM "tblFamilies" f WHERE f."ValidityTo" IS NULL AND {approved} AND {phone}
                   AND f."FamilyID" IN (SELECT p."FamilyID" {sql})"#
            ))
            .await;
        assert!(
            sendable > 0,
            "no {event} candidate in an approved family with a phone"
        );
    }
}

#[tokio::test]
async fn the_sender_detects_each_event_in_the_demo_data() {
    use policy_notification::notification::events::{EventType, detect_chunk};
    let as_of = date("2026-03-15");
    let (db, before) = seeded_with(200, "2026-03-15", 11).await;
    let settings = policy_notification::config::ConfigSources::default()
        .resolve()
        .unwrap();
    let mut conn = db.conn().await;
    for event in EventType::ALL {
        // The seeded policies (above the keys that were there).
        let found: Vec<_> =
            detect_chunk(&mut conn, event, &settings.module, as_of, "UTC", 0, 100_000)
                .await
                .unwrap()
                .into_iter()
                .filter(|c| i64::from(c.policy_id) > before.policy)
                .collect();
        assert!(!found.is_empty(), "{event}: no candidates");
        let sendable = found.iter().filter(|c| {
            c.approved
                && (c
                    .head_phone
                    .as_deref()
                    .is_some_and(|p| !p.trim().is_empty())
                    || c.member_phone.is_some())
        });
        assert!(
            sendable.count() > 0,
            "{event}: no approved candidate with a phone"
        );
        if matches!(event, EventType::Activation | EventType::Renewal) {
            assert!(
                found
                    .iter()
                    .any(|c| c.validity_day >= as_of - chrono::Days::new(5)),
                "{event}: none inside the relevance window"
            );
        }
    }
}

#[tokio::test]
async fn policies_are_dated_relative_to_as_of() {
    let (db, before) = seeded_with(120, "2025-07-01", 3).await;
    let d = "DATE '2025-07-01'";
    // The seeded policies and products (above the keys that were there).
    let pol = format!(r#""PolicyID" > {}"#, before.policy);
    let prod = format!(r#""ProdID" > {}"#, before.product);
    assert!(
        db.count(&format!(
            r#"SELECT count(*) FROM "tblPolicy" WHERE {pol} AND "ValidityTo" IS NULL AND "EffectiveDate" = {d}"#
        ))
        .await
            > 0
    );
    for shift in [5, 0, -5] {
        assert!(
            db.count(&format!(
                r#"SELECT count(*) FROM "tblPolicy" WHERE {pol} AND "ValidityTo" IS NULL AND "ExpiryDate" = {d} + {shift}"#
            ))
            .await
                > 0,
            "expiry at as-of {shift:+}"
        );
    }
    // Renewed ones exist (so "not renewed" matters), one of them through the conversion product.
    let renewed = format!(
        r#"SELECT count(*) FROM "tblPolicy" p WHERE p.{pol} AND p."ValidityTo" IS NULL
           AND p."ExpiryDate" IN ({d} + 5, {d}, {d} - 5) AND NOT {}"#,
        not_renewed("p")
    );
    assert!(db.count(&renewed).await > 0);
    assert!(
        db.count(&format!(
            r#"SELECT count(*) FROM "tblPolicy" p JOIN "tblPolicy" n ON n."FamilyID" = p."FamilyID"
               AND n."ValidityTo" IS NULL AND n."StartDate" = p."ExpiryDate" + 1 AND n."ProdID" <> p."ProdID"
               JOIN "tblProduct" pr ON pr."ProdID" = p."ProdID" AND pr."ConversionProdID" = n."ProdID"
               WHERE p.{pol} AND p."ValidityTo" IS NULL AND p."ExpiryDate" IN ({d} + 5, {d}, {d} - 5)"#
        ))
        .await
            > 0
    );
    // Nothing active is activated after the as-of date; every status and both stages occur.
    assert_eq!(
        db.count(&format!(
            r#"SELECT count(*) FROM "tblPolicy" WHERE {pol} AND "PolicyStatus" = 2 AND "ValidityFrom" > {d} + 1"#
        ))
        .await,
        0
    );
    for status in [1, 2, 4, 8, 16] {
        assert!(
            db.count(&format!(
                r#"SELECT count(*) FROM "tblPolicy" WHERE {pol} AND "ValidityTo" IS NULL AND "PolicyStatus" = {status}"#
            ))
            .await
                > 0,
            "status {status}"
        );
    }
    for stage in ["N", "R"] {
        assert!(
            db.count(&format!(
                r#"SELECT count(*) FROM "tblPolicy" WHERE {pol} AND "ValidityTo" IS NULL AND "PolicyStage" = '{stage}'"#
            ))
            .await
                > 0
        );
    }
    assert_eq!(
        db.count(&format!(
            r#"SELECT count(*) FROM "tblPolicy" WHERE {pol} AND "PolicyValue" IS NULL"#
        ))
        .await,
        0
    );
    assert!(
        db.count(&format!(
            r#"SELECT count(*) FROM "tblProduct" WHERE {prod} AND "ConversionProdID" IS NOT NULL"#
        ))
        .await
            >= 1
    );
    assert!(
        db.count(&format!(
            r#"SELECT count(*) FROM "tblProduct" WHERE {prod}"#
        ))
        .await
            >= 3
    );
}

#[tokio::test]
async fn families_cover_the_four_modes_phones_and_languages() {
    let (db, before) = seeded_with(150, "2026-01-10", 5).await;
    // The seeded rows (above the keys that were there).
    let (fam, ins, pol, loc) = (
        before.family,
        before.insuree,
        before.policy,
        before.location,
    );
    for mode in &NotificationMode::ALL[1..] {
        let filter = mode.sql("f").unwrap();
        let n = db
            .count(&format!(
                r#"SELECT count(*) FROM "tblFamilies" f WHERE f."FamilyID" > {fam} AND f."ValidityTo" IS NULL AND {filter}"#
            ))
            .await;
        assert!(n > 0, "mode {mode} is empty");
    }
    let checks = [
        (
            "head phone ''",
            format!(
                r#"SELECT count(*) FROM "tblInsuree" WHERE "InsureeID" > {ins} AND "IsHead" AND "ValidityTo" IS NULL AND "Phone" = ''"#
            ),
        ),
        (
            "head phone NULL",
            format!(
                r#"SELECT count(*) FROM "tblInsuree" WHERE "InsureeID" > {ins} AND "IsHead" AND "ValidityTo" IS NULL AND "Phone" IS NULL"#
            ),
        ),
        (
            "phone only on a non-head member",
            format!(
                r#"SELECT count(*) FROM "tblFamilies" f JOIN "tblInsuree" h ON h."InsureeID" = f."InsureeID"
               WHERE f."FamilyID" > {fam} AND f."ValidityTo" IS NULL AND btrim(COALESCE(h."Phone", '')) = ''
               AND EXISTS (SELECT 1 FROM "tblInsuree" m WHERE m."FamilyID" = f."FamilyID" AND m."ValidityTo" IS NULL
                           AND NOT m."IsHead" AND btrim(COALESCE(m."Phone", '')) <> '')"#
            ),
        ),
        (
            "family without a notification row",
            format!(
                r#"SELECT count(*) FROM "tblFamilies" f WHERE f."FamilyID" > {fam} AND f."ValidityTo" IS NULL
               AND NOT EXISTS (SELECT 1 FROM "tblFamilySMS" s WHERE s."FamilyID" = f."FamilyID")"#
            ),
        ),
        (
            "French preference",
            format!(
                r#"SELECT count(*) FROM "tblFamilySMS" WHERE "FamilyID" > {fam} AND "LanguageOfSMS" = 'fr'"#
            ),
        ),
        (
            "English preference",
            format!(
                r#"SELECT count(*) FROM "tblFamilySMS" WHERE "FamilyID" > {fam} AND "LanguageOfSMS" = 'en'"#
            ),
        ),
        (
            "members besides the head",
            format!(
                r#"SELECT count(*) FROM "tblInsuree" WHERE "InsureeID" > {ins} AND NOT "IsHead" AND "ValidityTo" IS NULL"#
            ),
        ),
        (
            "policy history rows",
            format!(
                r#"SELECT count(*) FROM "tblPolicy" h JOIN "tblPolicy" c ON c."PolicyID" = h."LegacyID"
               WHERE c."PolicyID" > {pol} AND h."ValidityTo" IS NOT NULL AND c."ValidityTo" IS NULL"#
            ),
        ),
        (
            "insuree policies",
            format!(r#"SELECT count(*) FROM "tblInsureePolicy" WHERE "PolicyId" > {pol}"#),
        ),
        (
            "premiums",
            format!(r#"SELECT count(*) FROM "tblPremium" WHERE "PolicyID" > {pol}"#),
        ),
        (
            "villages",
            format!(
                r#"SELECT count(*) FROM "tblLocations" WHERE "LocationId" > {loc} AND "LocationType" = 'V' AND "LocationCode" = 'R1D1M1V1'"#
            ),
        ),
    ];
    for (what, sql) in checks {
        assert!(db.count(&sql).await > 0, "missing: {what}");
    }
    // Every current family lives in a village, has a current head, and UUIDs are lower-case v4.
    assert_eq!(
        db.count(&format!(
            r#"SELECT count(*) FROM "tblFamilies" f LEFT JOIN "tblLocations" l ON l."LocationId" = f."LocationId"
               LEFT JOIN "tblInsuree" h ON h."InsureeID" = f."InsureeID" AND h."ValidityTo" IS NULL AND h."IsHead"
               WHERE f."FamilyID" > {fam} AND f."ValidityTo" IS NULL
               AND (l."LocationType" IS DISTINCT FROM 'V' OR h."InsureeID" IS NULL)"#
        ))
        .await,
        0
    );
    assert_eq!(
        db.count(&format!(
            r#"SELECT count(*) FROM (SELECT "FamilyUUID" u FROM "tblFamilies" WHERE "FamilyID" > {fam}
               UNION ALL SELECT "InsureeUUID" FROM "tblInsuree" WHERE "InsureeID" > {ins}
               UNION ALL SELECT "PolicyUUID" FROM "tblPolicy" WHERE "PolicyID" > {pol}
               UNION ALL SELECT "LocationUUID" FROM "tblLocations" WHERE "LocationId" > {loc}) x
               WHERE u !~ '^[0-9a-f]{{8}}-[0-9a-f]{{4}}-4[0-9a-f]{{3}}-[89ab][0-9a-f]{{3}}-[0-9a-f]{{12}}$'"#
        ))
        .await,
        0
    );
    assert_eq!(
        db.count(r#"SELECT count(*) FROM "tblLanguages" WHERE "LanguageCode" IN ('en', 'fr')"#)
            .await,
        2
    );
    assert_eq!(
        db.count(r#"SELECT count(*) FROM "tblRelations" WHERE "RelationId" = 7 AND "Relation" = 'Others'"#)
            .await,
        1
    );
}

#[tokio::test]
async fn demo_logins_verify_with_the_openimis_scheme() {
    // On the real grounds openIMIS's demo already has an `Admin` (password admin123, a private
    // key of openIMIS's own): the seed keeps that user as it is and adds the two others.
    let db = TestDb::new().await;
    let existing = |login: &str| {
        format!(
            r#"SELECT count(*) FROM "tblUsers" WHERE "LoginName" = '{login}' AND "ValidityTo" IS NULL"#
        )
    };
    let districts = |login: &str| {
        format!(
            r#"SELECT string_agg(l."LocationCode", ',' ORDER BY l."LocationCode")
               FROM "tblUsers" u JOIN "tblUsersDistricts" d ON d."UserID" = u."UserID" AND d."ValidityTo" IS NULL
               JOIN "tblLocations" l ON l."LocationId" = d."LocationId"
               WHERE u."LoginName" = '{login}'"#
        )
    };
    let mut kept = Vec::new();
    for user in seed::DEMO_USERS {
        if db.count(&existing(user.login)).await > 0 {
            kept.push((user.login, db.scalar(&districts(user.login)).await));
        }
    }
    assert_eq!(
        kept.iter().map(|k| k.0).collect::<Vec<_>>(),
        if Ground::current().is_openimis() {
            vec!["Admin"]
        } else {
            vec![]
        }
    );
    let mut opts = options(40, "2026-01-10", 1);
    opts.force = Ground::current().is_openimis();
    seed::seed(&db.url, &opts, &ProgressBar::hidden())
        .await
        .unwrap();
    for user in seed::DEMO_USERS {
        assert_eq!(db.count(&existing(user.login)).await, 1, "{}", user.login);
        let key = db
            .scalar(&format!(
                r#"SELECT "PrivateKey" FROM "tblUsers" WHERE "LoginName" = '{}' AND "ValidityTo" IS NULL"#,
                user.login
            ))
            .await
            .unwrap();
        let stored = db
            .scalar(&format!(
                r#"SELECT "StoredPassword" FROM "tblUsers" WHERE "LoginName" = '{}' AND "ValidityTo" IS NULL"#,
                user.login
            ))
            .await
            .unwrap();
        if !kept.iter().any(|k| k.0 == user.login) {
            assert_eq!(key.len(), 256, "{}", user.login);
        }
        // Independent check: SHA-256 of password + key, hex, compared case-insensitively.
        let mut input = user.password.as_bytes().to_vec();
        input.extend_from_slice(key.as_bytes());
        let digest = ring::digest::digest(&ring::digest::SHA256, &input);
        assert!(
            hex::encode(digest.as_ref()).eq_ignore_ascii_case(&stored),
            "{}",
            user.login
        );
        assert!(policy_notification::auth::password_matches(
            user.password,
            &key,
            &stored
        ));
        assert!(!policy_notification::auth::password_matches(
            "wrong", &key, &stored
        ));
        assert_eq!(
            db.count(&format!(
                r#"SELECT count(*) FROM "core_User" c JOIN "tblUsers" u ON u."UserID" = c.i_user_id
                   WHERE c.username = '{}'"#,
                user.login
            ))
            .await,
            1
        );
    }
    let rights = |login: &str| {
        format!(
            r#"SELECT string_agg(DISTINCT rr."RightID"::text, ',' ORDER BY rr."RightID"::text)
               FROM "tblUsers" u JOIN "tblUserRole" ur ON ur."UserID" = u."UserID" AND ur."ValidityTo" IS NULL
               JOIN "tblRoleRight" rr ON rr."RoleID" = ur."RoleID" AND rr."ValidityTo" IS NULL
               WHERE u."LoginName" = '{login}'"#
        )
    };
    // The roles' IsSystem masks of a login's current roles.
    let role = |login: &str| {
        format!(
            r#"SELECT string_agg(DISTINCT r."IsSystem"::text, ',') FROM "tblUsers" u
               JOIN "tblUserRole" ur ON ur."UserID" = u."UserID" AND ur."ValidityTo" IS NULL
               JOIN "tblRole" r ON r."RoleID" = ur."RoleID" WHERE u."LoginName" = '{login}'
               AND u."ValidityTo" IS NULL"#
        )
    };
    let admin_roles = db.scalar(&role("Admin")).await.unwrap_or_default();
    if kept.is_empty() {
        assert_eq!(admin_roles, "64");
    } else {
        // openIMIS's own Admin keeps its roles and holds the administrator's.
        assert!(admin_roles.split(',').any(|r| r == "64"), "{admin_roles}");
    }
    assert_eq!(db.scalar(&role("officer")).await.as_deref(), Some("1"));
    assert_eq!(db.scalar(&role("clerk")).await.as_deref(), Some("8"));
    assert!(
        db.scalar(&rights("Admin"))
            .await
            .unwrap()
            .contains("131224")
    );
    let (officer, clerk) = (
        db.scalar(&rights("officer")).await.unwrap_or_default(),
        db.scalar(&rights("clerk")).await.unwrap_or_default(),
    );
    if support::Ground::current().is_openimis() {
        // The seed gives its users openIMIS's own roles (by IsSystem), which hold openIMIS's
        // rights: the family rights and, for the officer only, the report right among them.
        let has = |set: &str, right: &str| set.split(',').any(|r| r == right);
        for right in ["101001", "101002", "101003", "101004"] {
            assert!(
                has(&officer, right) && has(&clerk, right),
                "{right}: {officer} / {clerk}"
            );
        }
        assert!(has(&officer, "131224"), "{officer}");
        assert!(!has(&clerk, "131224"), "{clerk}");
    } else {
        // Both together, so that a failure shows the whole picture.
        pretty_assertions::assert_eq!(
            (officer.as_str(), clerk.as_str()),
            (
                "101001,101002,101003,101004,101101,131224",
                "101001,101002,101003,101004,101101"
            ),
            "(officer, clerk) rights"
        );
    }
    match kept.iter().find(|k| k.0 == "Admin") {
        None => assert_eq!(db.scalar(&districts("Admin")).await, None),
        Some((_, was)) => assert_eq!(
            &db.scalar(&districts("Admin")).await,
            was,
            "an existing login's districts are left alone"
        ),
    }
    assert_eq!(
        db.scalar(&districts("officer")).await.as_deref(),
        Some("R1D1")
    );
    assert_eq!(
        db.scalar(&districts("clerk")).await.as_deref(),
        Some("R1D1,R1D2")
    );
}

#[tokio::test]
async fn refuses_a_database_with_families_unless_forced() {
    // A database with families: seeded on our own ground, openIMIS's demo on the real ones (where
    // the unforced seed refuses first, writing nothing, and the forced one adds its 40).
    let db = TestDb::new().await;
    let base = Before::of(&db).await.families;
    if base == 0 {
        seed::seed(
            &db.url,
            &options(40, "2026-01-10", 1),
            &ProgressBar::hidden(),
        )
        .await
        .unwrap();
    } else {
        let before = fingerprint(&db).await;
        let err = seed::seed(
            &db.url,
            &options(40, "2026-01-10", 1),
            &ProgressBar::hidden(),
        )
        .await
        .unwrap_err();
        assert!(matches!(err, SeedError::NotEmpty(n) if n >= base), "{err}");
        pretty_assertions::assert_eq!(before, fingerprint(&db).await);
        let mut forced = options(40, "2026-01-10", 1);
        forced.force = true;
        seed::seed(&db.url, &forced, &ProgressBar::hidden())
            .await
            .unwrap();
    }
    let admins = r#"SELECT count(*) FROM "tblUsers" WHERE "LoginName" = 'Admin'"#;
    let admin_rows = db.count(admins).await;
    let before = fingerprint(&db).await;
    let err = seed::seed(
        &db.url,
        &options(40, "2026-01-10", 1),
        &ProgressBar::hidden(),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, SeedError::NotEmpty(n) if n >= base + 40),
        "{err}"
    );
    assert!(err.to_string().contains("--force"));
    pretty_assertions::assert_eq!(before, fingerprint(&db).await);

    let mut forced = options(40, "2026-01-10", 1);
    forced.force = true;
    seed::seed(&db.url, &forced, &ProgressBar::hidden())
        .await
        .unwrap();
    assert_eq!(
        db.count(r#"SELECT count(*) FROM "tblFamilies" WHERE "ValidityTo" IS NULL"#)
            .await,
        base + 80
    );
    // The logins are not duplicated, and the sequences follow the explicit ids.
    assert_eq!(db.count(admins).await, admin_rows);
    assert_eq!(
        db.count(r#"SELECT count(*) FROM "tblUsers" WHERE "LoginName" = 'Admin' AND "ValidityTo" IS NULL"#)
            .await,
        1
    );
    db.exec(
        r#"INSERT INTO "tblLocations" ("LocationUUID", "LocationCode", "LocationName", "LocationType", "ValidityFrom")
           VALUES ('00000000-0000-4000-8000-000000000001', 'X1', 'X', 'R', now())"#,
    )
    .await;
}

#[tokio::test]
async fn bad_options_are_refused_and_write_nothing() {
    let db = TestDb::new().await;
    let before = fingerprint(&db).await;
    let users = db.count(r#"SELECT count(*) FROM "tblUsers""#).await;
    let err = seed::seed(
        &db.url,
        &options(0, "2026-01-10", 1),
        &ProgressBar::hidden(),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, SeedError::InvalidOption(_)), "{err}");
    assert_eq!(db.count(r#"SELECT count(*) FROM "tblUsers""#).await, users);
    pretty_assertions::assert_eq!(before, fingerprint(&db).await);
}

#[tokio::test]
async fn seed_demo_command_writes_and_then_refuses() {
    let db = TestDb::new().await;
    let base = Before::of(&db).await.families;
    let bin = env!("CARGO_BIN_EXE_policy-notification");
    let run = |force: bool| {
        let mut c = std::process::Command::new(bin);
        c.args([
            "seed-demo",
            "--database-url",
            &db.url,
            "--families",
            "35",
            "--as-of",
            "2026-02-01",
            "--seed",
            "9",
        ]);
        if force {
            c.arg("--force");
        }
        c.env_remove("DATABASE_URL").output().unwrap()
    };
    let current = r#"SELECT count(*) FROM "tblFamilies" WHERE "ValidityTo" IS NULL"#;
    if base > 0 {
        // openIMIS's demo families: refused without --force, nothing written.
        let refused = run(false);
        assert!(!refused.status.success());
        assert!(
            String::from_utf8_lossy(&refused.stderr).contains("--force"),
            "{}",
            String::from_utf8_lossy(&refused.stderr)
        );
        assert_eq!(db.count(current).await, base);
    }
    let first = run(base > 0);
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    assert!(String::from_utf8_lossy(&first.stdout).contains("seeded 35 families"));
    let second = run(false);
    assert!(!second.status.success());
    assert!(String::from_utf8_lossy(&second.stderr).contains("--force"));
    assert_eq!(db.count(current).await, base + 35);
}
