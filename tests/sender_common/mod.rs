//! Fixtures of the sender tests: families, products and policies built with SQL, settings from
//! TOML, and the fake eGA gateway (`tests/support/fake_ega.rs`).
#![allow(dead_code)]

#[path = "../support/fake_ega.rs"]
mod fake_ega;
#[allow(unused_imports)]
pub use fake_ega::{FakeEga, Keep, Mode, Received};

use std::sync::Arc;

use chrono::NaiveDate;
use policy_notification::config::{ConfigSources, Settings};
use policy_notification::db::{Pool, connect_pool};
use policy_notification::notification::sender::Sender;

use crate::support::TestDb;

/// The offset of every explicit key the sender fixtures write (families, insurees, products,
/// policies): the real openIMIS grounds hold demo rows with small ids (families 1..30, insurees
/// 1..144, policies 1..79, products up to 14), so the fixtures' rows live above them, on every
/// ground alike. Visible text (CHFID `CHF<n>`, names) keeps the logical number `n`.
pub const BASE: i32 = 100_000;

/// The stored key of the fixtures' logical id `n`.
pub fn id(n: i32) -> i32 {
    BASE + n
}

/// The logical id of a stored key written by the fixtures.
pub fn logical(stored: i32) -> i32 {
    stored - BASE
}

/// The policies' notification markers openIMIS writes (`tblIndicationOfPolicyNotifications`).
pub const MARKERS: [&str; 6] = [
    "NotificationOnActivationSent",
    "NotificationOnEffectiveSent",
    "NotificationBeforeExpirySent",
    "NotificationOnExpirationSent",
    "NotificationAfterExpirationSent",
    "NotificationOnRenewalSent",
];

/// A test database for the sender tests: the current ground's migrated template, with every
/// policy already in it (openIMIS's demo policies on the real grounds; none on our own schema)
/// marked as notified for all six events, as if openIMIS's Python module had sent them all. A
/// sweep then sees the fixtures' policies only, and its counts are the same on every ground.
pub async fn sender_db() -> TestDb {
    let db = TestDb::new().await;
    for (table, key) in [
        ("tblFamilies", "FamilyID"),
        ("tblInsuree", "InsureeID"),
        ("tblPolicy", "PolicyID"),
        ("tblProduct", "ProdID"),
    ] {
        let max = db
            .count(&format!("SELECT max(\"{key}\") FROM \"{table}\""))
            .await;
        assert!(
            max < i64::from(BASE),
            "{table}.{key} already reaches {max}: the fixtures' keys start above {BASE}"
        );
    }
    let cols = MARKERS.map(|c| format!("\"{c}\"")).join(", ");
    let sent = MARKERS
        .map(|_| "timestamptz '2020-01-01 08:00:00+00'")
        .join(", ");
    let update = MARKERS
        .map(|c| format!("\"{c}\" = EXCLUDED.\"{c}\""))
        .join(", ");
    db.exec(&format!(
        "INSERT INTO \"tblIndicationOfPolicyNotifications\" (\"PolicyID\", \"ValidityFrom\", {cols}) \
         SELECT \"PolicyID\", now(), {sent} FROM \"tblPolicy\" \
         ON CONFLICT (\"PolicyID\") DO UPDATE SET {update}"
    ))
    .await;
    db
}

/// A date in 2026.
pub fn d(month: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, month, day).unwrap()
}

/// SQL literal of a date, or NULL.
pub fn lit(date: Option<NaiveDate>) -> String {
    date.map(|x| format!("'{x}'"))
        .unwrap_or_else(|| "NULL".into())
}

/// Inserts product `n` (key [`id`]`(n)`; `ConversionProdID` optional, a logical id; set later
/// for loops).
pub async fn product(db: &TestDb, n: i32, code: &str, conversion: Option<i32>) {
    let prod = id(n);
    db.exec(&format!(
        "INSERT INTO \"tblProduct\" (\"ProdID\", \"ProdUUID\", \"ProductCode\", \"ProductName\", \
         \"InsurancePeriod\", \"DateFrom\", \"DateTo\", \"ConversionProdID\", \"LumpSum\", \"MemberCount\", \
         \"GracePeriod\", \"ValidityFrom\", \"AuditUserID\") VALUES ({prod}, gen_random_uuid()::text, '{code}', \
         'Product {code}', 12, '2020-01-01', '2030-12-31', {}, 10000, 6, 0, now(), 1)",
        conversion
            .map(|c| id(c).to_string())
            .unwrap_or_else(|| "NULL".into())
    ))
    .await;
}

/// The date of birth of every fixture insuree (`tblInsuree."DOB"` is NOT NULL in openIMIS).
pub const DOB: &str = "1980-01-01";

/// Inserts family `n` (key [`id`]`(n)`) whose head is insuree `n * 10` (key [`id`]`(n * 10)`,
/// CHFID `CHF<n>`, phone `head_phone`); `approval` None = no tblFamilySMS row.
pub async fn family(
    db: &TestDb,
    n: i32,
    head_phone: Option<&str>,
    approval: Option<bool>,
    language: &str,
) {
    let (fam, head) = (id(n), id(n * 10));
    let phone = head_phone
        .map(|p| format!("'{p}'"))
        .unwrap_or_else(|| "NULL".into());
    // openIMIS: family and head reference each other (both NOT NULL, deferred keys): one
    // transaction.
    let mut sql = format!(
        "BEGIN; \
         INSERT INTO \"tblInsuree\" (\"InsureeID\", \"InsureeUUID\", \"FamilyID\", \"CHFID\", \"LastName\", \
         \"OtherNames\", \"DOB\", \"IsHead\", \"Phone\", \"CardIssued\", \"ValidityFrom\", \"AuditUserID\") VALUES \
         ({head}, gen_random_uuid()::text, {fam}, 'CHF{n}', 'Juma', 'Amina{n}', '{DOB}', true, {phone}, false, now(), 1); \
         INSERT INTO \"tblFamilies\" (\"FamilyID\", \"FamilyUUID\", \"InsureeID\", \"ValidityFrom\", \"AuditUserID\") \
         VALUES ({fam}, gen_random_uuid()::text, {head}, now(), 1);"
    );
    if let Some(a) = approval {
        sql.push_str(&format!(
            "INSERT INTO \"tblFamilySMS\" (\"FamilyID\", \"ApprovalOfSMS\", \"LanguageOfSMS\", \"ValidityFrom\") \
             VALUES ({fam}, {a}, '{language}', now());"
        ));
    }
    sql.push_str("COMMIT;");
    db.exec(&sql).await;
}

/// Adds member `n` (insuree key [`id`]`(n)`, CHFID `M<n>`) to family `family` (logical) with
/// `phone`; `current` false makes it a history row.
pub async fn member(db: &TestDb, family: i32, n: i32, phone: Option<&str>, current: bool) {
    let phone = phone
        .map(|p| format!("'{p}'"))
        .unwrap_or_else(|| "NULL".into());
    let to = if current { "NULL" } else { "now()" };
    db.exec(&format!(
        "INSERT INTO \"tblInsuree\" (\"InsureeID\", \"InsureeUUID\", \"FamilyID\", \"CHFID\", \"LastName\", \
         \"OtherNames\", \"DOB\", \"IsHead\", \"Phone\", \"CardIssued\", \"ValidityFrom\", \"ValidityTo\", \"AuditUserID\") \
         VALUES ({}, gen_random_uuid()::text, {}, 'M{n}', 'Juma', 'Member', '{DOB}', false, \
         {phone}, false, now(), {to}, 1)",
        id(n),
        id(family),
    ))
    .await;
}

/// A policy row; `id`, `family` and `prod` are logical ids (stored as [`id`]`(n)`).
#[derive(Clone, Debug)]
pub struct Pol {
    pub id: i32,
    pub family: i32,
    pub prod: i32,
    pub status: i32,
    pub stage: &'static str,
    pub start: NaiveDate,
    pub effective: Option<NaiveDate>,
    pub expiry: NaiveDate,
    /// When the current row was written (activation / renewal time).
    pub written: NaiveDate,
    pub current: bool,
}

impl Pol {
    /// An active new policy written and effective on `start`, for a year.
    pub fn new(id: i32, family: i32, prod: i32, start: NaiveDate) -> Pol {
        Pol {
            id,
            family,
            prod,
            status: 2,
            stage: "N",
            start,
            effective: Some(start),
            expiry: start + chrono::Duration::days(364),
            written: start,
            current: true,
        }
    }
}

/// Inserts a policy (keys [`id`]`(n)`).
pub async fn policy(db: &TestDb, p: &Pol) {
    db.exec(&format!(
        "INSERT INTO \"tblPolicy\" (\"PolicyID\", \"PolicyUUID\", \"FamilyID\", \"EnrollDate\", \"StartDate\", \
         \"EffectiveDate\", \"ExpiryDate\", \"PolicyStatus\", \"PolicyValue\", \"ProdID\", \"PolicyStage\", \
         \"ValidityFrom\", \"ValidityTo\", \"AuditUserID\") VALUES ({}, gen_random_uuid()::text, {}, '{}', '{}', \
         {}, '{}', {}, 10000, {}, '{}', '{} 10:00:00+00', {}, 1)",
        id(p.id),
        id(p.family),
        p.start,
        p.start,
        lit(p.effective),
        p.expiry,
        p.status,
        id(p.prod),
        p.stage,
        p.written,
        if p.current { "NULL" } else { "now()" }
    ))
    .await;
}

/// Settings from TOML text (module section keys under [policy_notification]).
pub fn settings(toml: &str) -> Settings {
    ConfigSources::from_toml(toml).unwrap().resolve().unwrap()
}

/// TOML enabling every event, with the text provider writing into `folder`.
pub fn text_toml(folder: &std::path::Path) -> String {
    text_toml_with(folder, "")
}

/// Like [`text_toml`] with extra `[service]` lines.
pub fn text_toml_with(folder: &std::path::Path, service: &str) -> String {
    format!(
        "[service]\nsend_concurrency = 4\n{service}\n\n{}\n[policy_notification.providers.TextNotificationProvider]\nDestinationFolder = \"{}\"\n",
        ALL_EVENTS,
        folder.display()
    )
}

/// The module section enabling all six events.
pub const ALL_EVENTS: &str = "[policy_notification.eligibleNotificationTypes]\nactivation_of_policy = true\nstarting_of_policy = true\nneed_for_renewal = true\nexpiration_of_policy = true\nreminder_after_expiration = true\nrenewal_of_policy = true\n";

/// A pool on the test database.
pub fn pool(db: &TestDb) -> Pool {
    connect_pool(&db.url, 8).unwrap()
}

/// A sender over the test database.
pub fn sender(db: &TestDb, settings: Settings) -> Sender {
    Sender::new(pool(db), Arc::new(settings)).unwrap()
}

/// A temporary folder removed at drop.
pub struct TempDir(pub std::path::PathBuf);

impl TempDir {
    pub fn new() -> TempDir {
        let p = std::env::temp_dir().join(format!("pn-sender-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }

    /// Files `SMSMessage_*.txt` and their text, sorted by number.
    pub fn messages(&self) -> Vec<(u64, String)> {
        let mut v: Vec<(u64, String)> = std::fs::read_dir(&self.0)
            .unwrap()
            .flatten()
            .filter_map(|e| {
                let name = e.file_name().to_string_lossy().to_string();
                let n = name
                    .strip_prefix("SMSMessage_")?
                    .strip_suffix(".txt")?
                    .parse()
                    .ok()?;
                Some((n, std::fs::read_to_string(e.path()).unwrap()))
            })
            .collect();
        v.sort();
        v
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Bulk data for sweeps over many policies, in a few statements: `families` families (head with
/// a phone; every `unapproved_every`-th family has not approved, 0 = all approved) and `policies`
/// policies spread over them, the first `due` starting on 2026-06-15 (due for the start message
/// on that day), the rest earlier; activation and renewal already settled (openIMIS sentinel).
/// Logical ids `g` from 1 (families, their heads, policies; stored as [`id`]`(g)`), product 1.
pub async fn bulk_policies(
    db: &TestDb,
    families: usize,
    policies: usize,
    due: usize,
    unapproved_every: usize,
) {
    product(db, 1, "P1", None).await;
    let prod = id(1);
    db.exec(&format!(
        "BEGIN; \
         INSERT INTO \"tblInsuree\" (\"InsureeID\", \"InsureeUUID\", \"FamilyID\", \"CHFID\", \"LastName\", \
         \"OtherNames\", \"DOB\", \"IsHead\", \"Phone\", \"CardIssued\", \"ValidityFrom\", \"AuditUserID\") \
         SELECT {BASE} + g, gen_random_uuid()::text, {BASE} + g, 'CHF' || g, 'Juma', 'Amina', '{DOB}', true, \
           '07' || lpad(g::text, 8, '0'), false, now(), 1 \
         FROM generate_series(1, {families}) g; \
         INSERT INTO \"tblFamilies\" (\"FamilyID\", \"FamilyUUID\", \"InsureeID\", \"ValidityFrom\", \"AuditUserID\") \
         SELECT {BASE} + g, gen_random_uuid()::text, {BASE} + g, now(), 1 FROM generate_series(1, {families}) g; \
         INSERT INTO \"tblFamilySMS\" (\"FamilyID\", \"ApprovalOfSMS\", \"LanguageOfSMS\", \"ValidityFrom\") \
         SELECT {BASE} + g, {unapproved_every} = 0 OR g % GREATEST({unapproved_every}, 1) <> 0, \
           CASE WHEN g % 2 = 0 THEN 'fr' ELSE 'en' END, now() FROM generate_series(1, {families}) g; \
         INSERT INTO \"tblPolicy\" (\"PolicyID\", \"PolicyUUID\", \"FamilyID\", \"EnrollDate\", \"StartDate\", \
         \"EffectiveDate\", \"ExpiryDate\", \"PolicyStatus\", \"PolicyValue\", \"ProdID\", \"PolicyStage\", \
         \"ValidityFrom\", \"AuditUserID\") \
         SELECT {BASE} + g, gen_random_uuid()::text, {BASE} + (g - 1) % {families} + 1, d, d, d, d + 364, 2, 10000, \
           {prod}, 'N', d + time '10:00', 1 \
         FROM generate_series(1, {policies}) g, \
              LATERAL (SELECT CASE WHEN g <= {due} THEN date '2026-06-15' \
                                   ELSE date '2024-01-01' + (g % 300) END AS d) x; \
         INSERT INTO \"tblIndicationOfPolicyNotifications\" (\"PolicyID\", \"ValidityFrom\", \
           \"NotificationOnActivationSent\", \"NotificationOnRenewalSent\") \
         SELECT {BASE} + g, now(), '0001-01-01', '0001-01-01' FROM generate_series(1, {policies}) g; \
         COMMIT; \
         ANALYZE;"
    ))
    .await;
}
