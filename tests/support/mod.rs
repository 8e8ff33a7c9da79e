//! Test harness: one private PostgreSQL cluster for the whole run (or `TEST_DATABASE_URL`), a
//! migrated template database per ground (our own schema, or a real openIMIS database from
//! `../shared/openimis-db/`; see [`Ground`]) built once, and a fresh database per test cloned
//! from it.
//!
//! With cargo-nextest every test is its own process, so the shared cluster is started under a file
//! lock by whichever test comes first, and left running for the others; `scripts/test` stops it at
//! the end of the run. Its output goes to a log file, never to the test's output.
#![allow(dead_code)]

pub mod app;
pub mod fixtures;

use std::collections::hash_map::DefaultHasher;
use std::fs;
use std::hash::{Hash, Hasher};
use std::path::PathBuf;
use std::sync::OnceLock;

use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
use policy_notification::db::embedded::EmbeddedPostgres;

/// Where the shared test cluster lives (outside the repository, so that the `postgres` user can
/// reach it wherever the repository is checked out).
pub fn cluster_dir() -> PathBuf {
    let uid = nix::unistd::geteuid().as_raw();
    std::env::temp_dir().join(format!("pn-test-cluster-{uid}"))
}

/// URL of the server's maintenance database (`postgres`), as superuser.
fn server_url() -> &'static str {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| {
        if let Ok(url) = std::env::var("TEST_DATABASE_URL") {
            return url;
        }
        let dir = cluster_dir();
        fs::create_dir_all(std::env::temp_dir()).expect("temp dir");
        let lock_path = std::env::temp_dir().join(format!(
            "pn-test-cluster-{}.lock",
            nix::unistd::geteuid().as_raw()
        ));
        let lock_file = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .expect("open cluster lock");
        let _lock = nix::fcntl::Flock::lock(lock_file, nix::fcntl::FlockArg::LockExclusive)
            .map_err(|(_, e)| e)
            .expect("lock the test cluster");
        let bin = EmbeddedPostgres::locate_binaries(None)
            .expect("PostgreSQL server binaries for the tests");
        let pg = EmbeddedPostgres::start(&dir, &bin).expect("start the shared test cluster");
        pg.url_for("postgres")
    })
}

/// URL of database `name` on the test server.
pub fn url_for(name: &str) -> String {
    let base = server_url();
    match base.rfind('/') {
        Some(i) => format!("{}/{name}", &base[..i]),
        None => format!("{base}/{name}"),
    }
}

/// The database a test runs on: our own migrations on an empty database, or one of the real
/// openIMIS databases of `../shared/openimis-db/` loaded as shipped and then migrated. Chosen by
/// `TEST_GROUND` (`scripts/test` runs the whole suite once per ground).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ground {
    /// An empty database with our migrations.
    Own,
    /// openIMIS's `database_postgresql` at tag v1.0.0 (openIMIS 1.5.0's era): schema + demo data.
    V1_0_0,
    /// openIMIS's `database_postgresql` of 2024-05 (releases 23.10, 24.04): schema + demo data.
    Y2024_05,
    /// v1.0.0 after openIMIS 1.5.0's own Django migrations (a running openIMIS 1.5.0).
    Running1_5_0,
}

/// Every ground, in the order `scripts/test` runs them.
pub const GROUNDS: [Ground; 4] = [
    Ground::Own,
    Ground::V1_0_0,
    Ground::Y2024_05,
    Ground::Running1_5_0,
];

impl Ground {
    /// The ground of this test run (`TEST_GROUND`, default `own`).
    pub fn current() -> Ground {
        static GROUND: OnceLock<Ground> = OnceLock::new();
        *GROUND.get_or_init(|| {
            let name = std::env::var("TEST_GROUND").unwrap_or_default();
            if name.is_empty() {
                return Ground::Own;
            }
            GROUNDS
                .into_iter()
                .find(|g| g.name() == name)
                .unwrap_or_else(|| {
                    panic!(
                        "TEST_GROUND={name:?} is not a ground; use one of {}",
                        GROUNDS.map(|g| g.name()).join(", ")
                    )
                })
        })
    }

    /// The name used in `TEST_GROUND` and in template names.
    pub fn name(self) -> &'static str {
        match self {
            Ground::Own => "own",
            Ground::V1_0_0 => "v1.0.0",
            Ground::Y2024_05 => "2024-05",
            Ground::Running1_5_0 => "1.5.0-running",
        }
    }

    /// Whether this is a real openIMIS database (with openIMIS's demo data in it).
    pub fn is_openimis(self) -> bool {
        self != Ground::Own
    }

    /// Whether this ground holds the Django-side tables openIMIS's own migrations create.
    pub fn has_django_tables(self) -> bool {
        matches!(self, Ground::Own | Ground::Running1_5_0)
    }

    /// The SQL files loaded, in order, before our migrations (none for our own schema).
    fn files(self) -> Vec<PathBuf> {
        let dir = openimis_db_dir();
        match self {
            Ground::Own => vec![],
            Ground::V1_0_0 | Ground::Y2024_05 => {
                let era = dir.join(self.name());
                vec![era.join("00_dump.sql"), era.join("demo_db.sql")]
            }
            Ground::Running1_5_0 => vec![dir.join(self.name()).join("openimis_1.5.0.sql")],
        }
    }
}

/// Where the real openIMIS databases are: `OPENIMIS_DB_DIR`, else `../shared/openimis-db`
/// beside the repository.
pub fn openimis_db_dir() -> PathBuf {
    match std::env::var_os("OPENIMIS_DB_DIR") {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/openimis-db"),
    }
}

fn migrations_hash() -> u64 {
    let mut hasher = DefaultHasher::new();
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("migrations");
    let mut entries: Vec<PathBuf> = walk(&root);
    entries.sort();
    for path in entries {
        path.strip_prefix(&root).unwrap_or(&path).hash(&mut hasher);
        fs::read(&path).unwrap_or_default().hash(&mut hasher);
    }
    hasher.finish()
}

/// A hash of the ground's SQL files (so a changed fixture builds a new template).
fn ground_hash(ground: Ground) -> u64 {
    let mut hasher = DefaultHasher::new();
    ground.name().hash(&mut hasher);
    for path in ground.files() {
        let bytes = fs::read(&path).unwrap_or_else(|e| {
            panic!(
                "the tests on ground {} need {} ({e}). The real openIMIS databases live in \
                 ../shared/openimis-db/ beside the repository (or set OPENIMIS_DB_DIR); \
                 run only our own schema with TEST_GROUNDS=own scripts/test",
                ground.name(),
                path.display()
            )
        });
        bytes.hash(&mut hasher);
    }
    hasher.finish()
}

fn walk(dir: &PathBuf) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = entry.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

async fn admin() -> AsyncPgConnection {
    AsyncPgConnection::establish(server_url())
        .await
        .expect("connect to the test server")
}

/// The `psql` client (PATH, `PG_BIN`, or beside the server binaries).
fn psql() -> PathBuf {
    if let Some(dir) = std::env::var_os("PG_BIN") {
        let p = PathBuf::from(dir).join("psql");
        if p.exists() {
            return p;
        }
    }
    let on_path = std::env::var_os("PATH")
        .map(|paths| {
            std::env::split_paths(&paths)
                .map(|d| d.join("psql"))
                .find(|p| p.exists())
        })
        .unwrap_or_default();
    on_path.unwrap_or_else(|| {
        EmbeddedPostgres::locate_binaries(None)
            .expect("PostgreSQL binaries")
            .join("psql")
    })
}

/// Loads `file` into database `db` with psql (stop at the first error).
fn load_sql(db: &str, file: &std::path::Path) {
    let out = std::process::Command::new(psql())
        .args([
            "-q",
            "-X",
            "-v",
            "ON_ERROR_STOP=1",
            "-d",
            &url_for(db),
            "-f",
        ])
        .arg(file)
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("run psql to load {}: {e}", file.display()));
    assert!(
        out.status.success(),
        "loading {} failed: {}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Builds database `name` once (under the template lock) by `build` on a scratch database.
async fn build_once<F, Fut>(conn: &mut AsyncPgConnection, name: &str, build: F)
where
    F: FnOnce(String) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    if exists_db(conn, name).await {
        return;
    }
    let scratch = format!("{name}_build");
    conn.batch_execute(&format!("DROP DATABASE IF EXISTS \"{scratch}\""))
        .await
        .expect("drop stale build");
    build(scratch.clone()).await;
    conn.batch_execute(&format!(
        "ALTER DATABASE \"{scratch}\" RENAME TO \"{name}\""
    ))
    .await
    .expect("publish template");
}

/// The templates of the current ground: (as loaded, before our migrations; migrated). Built
/// once per ground, set of fixture files and set of migrations.
async fn templates() -> (String, String) {
    let ground = Ground::current();
    let tag = ground.name().replace(['.', '-'], "_");
    let raw = format!("pn_raw_{tag}_{:016x}", ground_hash(ground));
    let migrated = format!(
        "pn_tpl_{tag}_{:016x}_{:016x}",
        ground_hash(ground),
        migrations_hash()
    );
    let mut conn = admin().await;
    conn.batch_execute("SELECT pg_advisory_lock(727274)")
        .await
        .expect("template lock");
    build_once(&mut conn, &raw, |scratch| async move {
        admin()
            .await
            .batch_execute(&format!("CREATE DATABASE \"{scratch}\""))
            .await
            .expect("create raw template");
        for file in ground.files() {
            load_sql(&scratch, &file);
        }
    })
    .await;
    let raw_name = raw.clone();
    build_once(&mut conn, &migrated, |scratch| async move {
        admin()
            .await
            .batch_execute(&format!(
                "CREATE DATABASE \"{scratch}\" TEMPLATE \"{raw_name}\""
            ))
            .await
            .expect("clone raw template");
        policy_notification::db::migrations::run_pending(&url_for(&scratch), None)
            .await
            .unwrap_or_else(|e| panic!("migrate the {} template: {e}", ground.name()));
    })
    .await;
    conn.batch_execute("SELECT pg_advisory_unlock(727274)")
        .await
        .expect("template unlock");
    (raw, migrated)
}

async fn exists_db(conn: &mut AsyncPgConnection, name: &str) -> bool {
    use diesel::sql_types::{Bool, Text};
    #[derive(diesel::QueryableByName)]
    struct Exists {
        #[diesel(sql_type = Bool)]
        exists: bool,
    }
    let row: Exists = diesel_async::RunQueryDsl::get_result(
        diesel::sql_query("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1) AS exists")
            .bind::<Text, _>(name),
        conn,
    )
    .await
    .expect("query pg_database");
    row.exists
}

/// A document of the openIMIS frontends (`tests/fixtures/frontend/<name>.graphql`) with its
/// `@@KEY@@` placeholders filled in.
pub fn frontend_doc(name: &str, vars: &[(&str, &str)]) -> String {
    let path = format!(
        "{}/tests/fixtures/frontend/{name}.graphql",
        env!("CARGO_MANIFEST_DIR")
    );
    let mut text = fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    for (k, v) in vars {
        text = text.replace(&format!("@@{k}@@"), v);
    }
    assert!(
        !text.contains("@@"),
        "unfilled placeholder in {name}: {text}"
    );
    text
}

/// Whether `tblInsuree."FamilyID"` accepts NULL in `db` (not in openIMIS's shipped dumps).
pub async fn insuree_family_nullable(db: &TestDb) -> bool {
    db.scalar(
        "SELECT is_nullable FROM information_schema.columns \
         WHERE table_name = 'tblInsuree' AND column_name = 'FamilyID'",
    )
    .await
    .as_deref()
        == Some("YES")
}

/// A fresh database for one test.
pub struct TestDb {
    pub name: String,
    pub url: String,
}

impl TestDb {
    /// A new database cloned from the current ground's migrated template.
    pub async fn new() -> TestDb {
        let (_, migrated) = templates().await;
        Self::clone_of(&migrated).await
    }

    /// A new database as the current ground is before our migrations: empty on our own
    /// ground, openIMIS's database as shipped on the others.
    pub async fn unmigrated() -> TestDb {
        let (raw, _) = templates().await;
        Self::clone_of(&raw).await
    }

    /// A new, empty database (no migrations applied), whatever the ground.
    pub async fn empty() -> TestDb {
        let name = format!("t_{}", uuid::Uuid::new_v4().simple());
        let mut conn = admin().await;
        conn.batch_execute(&format!("CREATE DATABASE \"{name}\""))
            .await
            .expect("create database");
        TestDb {
            url: url_for(&name),
            name,
        }
    }

    async fn clone_of(template: &str) -> TestDb {
        let name = format!("t_{}", uuid::Uuid::new_v4().simple());
        let mut conn = admin().await;
        conn.batch_execute(&format!(
            "CREATE DATABASE \"{name}\" TEMPLATE \"{template}\""
        ))
        .await
        .expect("clone the template database");
        TestDb {
            url: url_for(&name),
            name,
        }
    }

    /// Removes the families, insurees, policies and mutation log a real openIMIS database ships
    /// with (its demo data), for tests that assert exact figures over every family; the schema, reference
    /// data, users and locations stay as shipped. A no-op on our own (empty) schema.
    pub async fn without_demo_families(self) -> TestDb {
        if Ground::current().is_openimis() {
            self.exec(
                "TRUNCATE \"tblFamilies\", \"tblInsuree\", \"tblPolicy\", \"tblInsureePolicy\", \
                 \"tblPremium\", \"tblFamilySMS\", \"tblIndicationOfPolicyNotifications\", \
                 \"tblIndicationOfPolicyNotificationsDetails\", \"insuree_FamilyMutation\", \"core_Mutation_Log\" CASCADE",
            )
            .await;
        }
        self
    }

    /// Takes the database away: no new connections, the open ones cut (not DROP DATABASE: its
    /// checkpoint can take a minute on a busy test cluster).
    pub async fn cut_off(&self) {
        admin()
            .await
            .batch_execute(&format!(
                "ALTER DATABASE \"{name}\" WITH ALLOW_CONNECTIONS false; \
                 SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}';",
                name = self.name
            ))
            .await
            .expect("take the test database away");
    }

    /// Lets connections in again after [`Self::cut_off`].
    pub async fn restore(&self) {
        admin()
            .await
            .batch_execute(&format!(
                "ALTER DATABASE \"{}\" WITH ALLOW_CONNECTIONS true",
                self.name
            ))
            .await
            .expect("let connections in again");
    }

    /// A connection to this database.
    pub async fn conn(&self) -> AsyncPgConnection {
        AsyncPgConnection::establish(&self.url)
            .await
            .expect("connect to the test database")
    }

    /// Runs SQL statements (fixtures).
    pub async fn exec(&self, sql: &str) {
        self.conn()
            .await
            .batch_execute(sql)
            .await
            .unwrap_or_else(|e| panic!("fixture SQL failed: {e}\n{sql}"));
    }

    /// Runs a query whose single row and column is cast to text; `None` for SQL NULL or no row.
    pub async fn scalar(&self, sql: &str) -> Option<String> {
        use diesel::sql_types::{Nullable, Text};
        #[derive(diesel::QueryableByName)]
        struct Row {
            #[diesel(sql_type = Nullable<Text>)]
            v: Option<String>,
        }
        let q = format!("SELECT ({sql})::text AS v");
        let mut conn = self.conn().await;
        let rows: Vec<Row> = diesel_async::RunQueryDsl::load(diesel::sql_query(&q), &mut conn)
            .await
            .unwrap_or_else(|e| panic!("query failed: {e}\n{q}"));
        rows.into_iter().next().and_then(|r| r.v)
    }

    /// `scalar` parsed as an integer (0 for NULL).
    pub async fn count(&self, sql: &str) -> i64 {
        self.scalar(sql)
            .await
            .and_then(|s| s.parse().ok())
            .unwrap_or(0)
    }
}
