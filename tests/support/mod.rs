//! Test harness: one private PostgreSQL cluster for the whole run (or `TEST_DATABASE_URL`), a
//! migrated template database built once, and a fresh database per test cloned from it.
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

/// Name of the migrated template database, built once per set of migrations.
async fn template() -> String {
    let name = format!("pn_tpl_{:016x}", migrations_hash());
    let mut conn = admin().await;
    conn.batch_execute("SELECT pg_advisory_lock(727274)")
        .await
        .expect("template lock");
    let exists: bool = exists_db(&mut conn, &name).await;
    if !exists {
        let build = format!("{name}_build");
        conn.batch_execute(&format!("DROP DATABASE IF EXISTS \"{build}\""))
            .await
            .expect("drop stale build");
        conn.batch_execute(&format!("CREATE DATABASE \"{build}\""))
            .await
            .expect("create template");
        policy_notification::db::migrations::run_pending(&url_for(&build), None)
            .await
            .expect("migrate template");
        conn.batch_execute(&format!("ALTER DATABASE \"{build}\" RENAME TO \"{name}\""))
            .await
            .expect("publish template");
    }
    conn.batch_execute("SELECT pg_advisory_unlock(727274)")
        .await
        .expect("template unlock");
    name
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

/// A fresh database for one test.
pub struct TestDb {
    pub name: String,
    pub url: String,
}

impl TestDb {
    /// A new database cloned from the migrated template.
    pub async fn new() -> TestDb {
        let template = template().await;
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

    /// A new, empty database (no migrations applied).
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
