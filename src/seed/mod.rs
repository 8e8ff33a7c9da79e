//! Demo data (`seed-demo`, `serve --demo`): a deterministic, realistic openIMIS data set whose
//! policies give each of the six notification events candidates on the as-of date.
//!
//! Everything is generated set-based on the server (`INSERT … SELECT … FROM generate_series`)
//! with pseudo-random values hashed from (seed, row number), in one transaction: a failure
//! leaves the database as it was. See docs/demo-data.md for what the data holds.

mod families;
mod indexes;
mod names;
mod reference;
mod sql;
mod users;

use std::time::{Duration, Instant};

use chrono::NaiveDate;
use diesel::sql_types::{BigInt, Text};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};
use indicatif::ProgressBar;

use crate::db::DbError;

pub use families::SHOWCASE;
pub use users::{DEMO_USERS, DemoUser};

/// Families written when no number is given.
pub const DEFAULT_FAMILIES: u64 = 200;
/// The seed used when none is given.
pub const DEFAULT_SEED: i64 = 2024;
/// Most families one run accepts.
pub const MAX_FAMILIES: u64 = 20_000_000;
/// Families loaded per statement batch (one progress step).
const CHUNK: u64 = 100_000;
/// From this many families on, secondary indexes and constraints are rebuilt after the load.
const REBUILD_FROM: u64 = 20_000;

/// What to seed.
#[derive(Debug, Clone)]
pub struct SeedOptions {
    /// Number of families.
    pub families: u64,
    /// The date the policies are dated relative to.
    pub as_of: NaiveDate,
    /// Hash seed: same seed, families and date give the same data.
    pub seed: i64,
    /// Write even when the database already holds families (DECISIONS 28).
    pub force: bool,
}

impl SeedOptions {
    /// The defaults for a given as-of date.
    pub fn new(as_of: NaiveDate) -> Self {
        SeedOptions {
            families: DEFAULT_FAMILIES,
            as_of,
            seed: DEFAULT_SEED,
            force: false,
        }
    }
}

/// What a seed run wrote (totals of the tables afterwards).
#[derive(Debug, Clone)]
pub struct SeedReport {
    /// Families written by this run.
    pub families: u64,
    /// Current insurees in the database.
    pub insurees: i64,
    /// Current policies in the database.
    pub policies: i64,
    /// Current premiums in the database.
    pub premiums: i64,
    /// Wall time of the run.
    pub elapsed: Duration,
}

/// Why seeding did not happen.
#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    /// DECISIONS 28: a database with families is left alone unless forced.
    #[error(
        "[seed.not_empty] the database already holds {0} family row(s); seed-demo only writes into a \
         database without families. Use --force to add the demo data anyway (nothing was written)"
    )]
    NotEmpty(i64),
    /// A bad option.
    #[error("[seed.invalid_option] {0}")]
    InvalidOption(String),
    /// The database failed; the transaction was rolled back.
    #[error("[seed.database] seeding failed, nothing was written: {0}")]
    Db(#[from] DbError),
}

impl From<diesel::result::Error> for SeedError {
    fn from(e: diesel::result::Error) -> Self {
        SeedError::Db(DbError::Query(e))
    }
}

#[derive(diesel::QueryableByName)]
struct Scalar {
    #[diesel(sql_type = BigInt)]
    v: i64,
}

#[derive(diesel::QueryableByName)]
struct Ddl {
    #[diesel(sql_type = Text)]
    drop_sql: String,
    #[diesel(sql_type = Text)]
    create_sql: String,
}

async fn scalar(conn: &mut AsyncPgConnection, sql: &str) -> Result<i64, diesel::result::Error> {
    let row: Scalar = diesel::sql_query(sql).get_result(conn).await?;
    Ok(row.v)
}

/// Number of rows (current or not) in `tblFamilies`.
pub async fn family_rows(url: &str) -> Result<i64, DbError> {
    let mut conn = crate::db::pool::establish(url).await?;
    Ok(scalar(
        &mut conn,
        r#"SELECT count(*) AS v FROM (SELECT 1 FROM "tblFamilies" LIMIT 1000000) f"#,
    )
    .await?)
}

/// Seeds the demo data into the (migrated) database at `url`. `progress` shows families loaded;
/// pass a hidden bar when not on a terminal.
pub async fn seed(
    url: &str,
    options: &SeedOptions,
    progress: &ProgressBar,
) -> Result<SeedReport, SeedError> {
    if options.families == 0 || options.families > MAX_FAMILIES {
        return Err(SeedError::InvalidOption(format!(
            "--families must be between 1 and {MAX_FAMILIES} (got {})",
            options.families
        )));
    }
    let started = Instant::now();
    let mut conn = crate::db::pool::establish(url).await?;
    let options = options.clone();
    let progress = progress.clone();
    let report = conn
        .transaction::<_, SeedError, _>(async move |conn| load(conn, &options, &progress).await)
        .await?;
    Ok(SeedReport {
        elapsed: started.elapsed(),
        ..report
    })
}

async fn load(
    conn: &mut AsyncPgConnection,
    options: &SeedOptions,
    progress: &ProgressBar,
) -> Result<SeedReport, SeedError> {
    // One seeder at a time, and no family written by anyone else while we decide.
    conn.batch_execute(
        r#"LOCK TABLE "tblFamilies" IN SHARE ROW EXCLUSIVE MODE;
SET LOCAL synchronous_commit = off;
SET LOCAL jit = off;
SET LOCAL work_mem = '128MB';
SET LOCAL maintenance_work_mem = '512MB';
SET LOCAL TIME ZONE 'UTC';"#,
    )
    .await?;
    let existing = scalar(
        conn,
        r#"SELECT count(*) AS v FROM (SELECT 1 FROM "tblFamilies" LIMIT 1000000) f"#,
    )
    .await?;
    if existing > 0 && !options.force {
        return Err(SeedError::NotEmpty(existing));
    }
    let salt = if existing > 0 {
        scalar(
            conn,
            r#"SELECT COALESCE(max("FamilyID"), 0)::bigint AS v FROM "tblFamilies""#,
        )
        .await?
    } else {
        0
    };
    let g = sql::Gen {
        seed: options.seed,
        as_of: options.as_of,
        salt,
    };
    let since = format!(
        "({} - interval '6 years')::timestamp + interval '8 hours'",
        g.d()
    );

    progress.set_length(options.families);
    progress.set_message("reference data, locations, users");
    conn.batch_execute(&reference::reference_tables()).await?;
    conn.batch_execute(&users::roles_sql(&g, &since)).await?;
    let catalog = crate::db::catalog::Catalog::load(conn).await?;
    let with_assign = catalog.has_column("tblUserRole", "Assign");
    let premium_created = catalog.has_column("tblPremium", "CreatedDate");
    conn.batch_execute(&users::users_sql(&g, &since, with_assign))
        .await?;
    let audit = scalar(
        conn,
        r#"SELECT COALESCE(min("UserID"), -1)::bigint AS v FROM "tblUsers"
           WHERE "LoginName" = 'Admin' AND "ValidityTo" IS NULL"#,
    )
    .await?;
    let location_base = scalar(
        conn,
        r#"SELECT COALESCE(max("LocationId"), 0)::bigint AS v FROM "tblLocations""#,
    )
    .await?;
    conn.batch_execute(&reference::locations(&g, location_base, audit, &since))
        .await?;
    conn.batch_execute(&users::user_districts_sql(&since, audit))
        .await?;
    conn.batch_execute(&reference::officers(&g, audit, &since))
        .await?;
    conn.batch_execute(&reference::products(&g, audit, &since))
        .await?;

    let rebuild = options.families >= REBUILD_FROM;
    let mut deferred: Vec<Ddl> = Vec::new();
    if rebuild {
        progress.set_message("setting indexes aside");
        deferred = diesel::sql_query(indexes::deferrable_objects_sql())
            .load(conn)
            .await?;
        let drops: Vec<&str> = deferred.iter().map(|d| d.drop_sql.as_str()).collect();
        if !drops.is_empty() {
            // Pending deferred checks of the rows above must run before their triggers go.
            conn.batch_execute(&format!(
                "SET CONSTRAINTS ALL IMMEDIATE;\n{};\nSET CONSTRAINTS ALL DEFERRED;",
                drops.join(";\n")
            ))
            .await?;
        }
    }

    let mut a = 1u64;
    while a <= options.families {
        let b = (a + CHUNK - 1).min(options.families);
        progress.set_message(format!("families {a}–{b}"));
        let t = Instant::now();
        conn.batch_execute(&families::chunk_sql(&g, a, b, audit, premium_created))
            .await?;
        tracing::debug!(
            a,
            b,
            ms = t.elapsed().as_millis() as u64,
            "seed chunk loaded"
        );
        progress.set_position(b);
        a = b + 1;
    }

    if rebuild && !deferred.is_empty() {
        progress.set_message("rebuilding indexes and constraints");
        let creates: Vec<&str> = deferred
            .iter()
            .rev()
            .map(|d| d.create_sql.as_str())
            .collect();
        let t = Instant::now();
        conn.batch_execute(&format!("{};", creates.join(";\n")))
            .await?;
        tracing::debug!(ms = t.elapsed().as_millis() as u64, "seed indexes rebuilt");
    }
    progress.set_message("sequences and statistics");
    conn.batch_execute(&indexes::setval_sql()).await?;
    conn.batch_execute("DROP TABLE IF EXISTS pn_f, pn_p, pn_v, pn_o, pn_prod, pn_loc;")
        .await?;
    let t = Instant::now();
    conn.batch_execute(&indexes::analyze_sql()).await?;
    tracing::debug!(ms = t.elapsed().as_millis() as u64, "seed tables analyzed");

    let insurees = scalar(
        conn,
        r#"SELECT count(*) AS v FROM "tblInsuree" WHERE "ValidityTo" IS NULL"#,
    )
    .await?;
    let policies = scalar(
        conn,
        r#"SELECT count(*) AS v FROM "tblPolicy" WHERE "ValidityTo" IS NULL"#,
    )
    .await?;
    let premiums = scalar(
        conn,
        r#"SELECT count(*) AS v FROM "tblPremium" WHERE "ValidityTo" IS NULL"#,
    )
    .await?;
    progress.finish_with_message("done");
    Ok(SeedReport {
        families: options.families,
        insurees,
        policies,
        premiums,
        elapsed: Duration::ZERO,
    })
}
