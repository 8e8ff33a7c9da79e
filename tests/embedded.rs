//! The embedded default through the binary: `serve` runs a private PostgreSQL in its data folder,
//! answers `/health`, stops everything on SIGTERM, keeps its data across restarts; missing server
//! binaries and an unmigrated external database are clear errors; `serve --demo` seeds its data and
//! sends the demo's messages into text files at start.
mod support;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use support::TestDb;

const BIN: &str = env!("CARGO_BIN_EXE_policy-notification");

/// A fresh folder under the temporary directory, which the `postgres` user can traverse.
fn scratch_dir(prefix: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("{prefix}-{}", uuid::Uuid::new_v4().simple()));
    fs::create_dir_all(&dir).unwrap();
    dir
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// A running `policy-notification serve`, its output in a log file.
struct Server {
    child: Child,
    log: PathBuf,
    port: u16,
}

impl Server {
    fn start(args: &[&str], env: &[(&str, &str)], log: &Path) -> Server {
        Self::start_in(None, args, env, log)
    }

    /// `start` with another working directory (where relative paths land).
    fn start_in(cwd: Option<&Path>, args: &[&str], env: &[(&str, &str)], log: &Path) -> Server {
        let port = free_port();
        let listen = format!("127.0.0.1:{port}");
        let out = fs::File::create(log).unwrap();
        let mut cmd = Command::new(BIN);
        cmd.arg("serve")
            .args(["--listen", &listen])
            .args(args)
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .env_remove("DATABASE_URL")
            .env("NO_COLOR", "1")
            .env("PN_SERVICE__JWT_SECRET", "embedded-test-secret");
        for (k, v) in env {
            cmd.env(k, v);
        }
        if let Some(dir) = cwd {
            cmd.current_dir(dir);
        }
        Server {
            child: cmd.spawn().unwrap(),
            log: log.to_path_buf(),
            port,
        }
    }

    fn output(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits for `/health` to answer 200 (first start runs initdb and the migrations).
    async fn wait_healthy(&mut self) {
        let url = format!("http://127.0.0.1:{}/health", self.port);
        let start = Instant::now();
        loop {
            if let Ok(r) = reqwest::get(&url).await
                && r.status() == 200
            {
                return;
            }
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!("serve exited with {status}:\n{}", self.output());
            }
            assert!(
                start.elapsed() < Duration::from_secs(180),
                "serve not healthy in time:\n{}",
                self.output()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Sends SIGTERM and waits for the exit code.
    fn terminate(mut self) -> (i32, String) {
        kill(Pid::from_raw(self.child.id() as i32), Signal::SIGTERM).unwrap();
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return (status.code().unwrap_or(-1), self.output());
            }
            if start.elapsed() > Duration::from_secs(90) {
                let _ = self.child.kill();
                panic!("serve did not stop on SIGTERM:\n{}", self.output());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = kill(Pid::from_raw(self.child.id() as i32), Signal::SIGTERM);
            let _ = self.child.wait();
        }
    }
}

/// The URL of the embedded database: port from `postmaster.pid`, password from the data folder.
fn embedded_url(data_dir: &Path) -> (String, i32) {
    let pid_file = fs::read_to_string(data_dir.join("postgres/postmaster.pid")).unwrap();
    let lines: Vec<&str> = pid_file.lines().collect();
    let pid: i32 = lines[0].trim().parse().unwrap();
    let port: u16 = lines[3].trim().parse().unwrap();
    let password = fs::read_to_string(data_dir.join("db_password")).unwrap();
    (
        format!(
            "postgres://postgres:{}@127.0.0.1:{port}/openimis",
            password.trim()
        ),
        pid,
    )
}

/// Whether `pid` is still running (a zombie waiting for its parent to reap it does not count).
fn process_alive(pid: i32) -> bool {
    match fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z')),
        Err(_) => false,
    }
}

/// Waits up to ten seconds for `pid` to end.
fn gone(pid: i32) -> bool {
    let start = Instant::now();
    while process_alive(pid) {
        if start.elapsed() > Duration::from_secs(10) {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    true
}

/// Stops a cluster left behind by a failed run, so no postgres outlives the test.
struct ClusterGuard(PathBuf);

impl Drop for ClusterGuard {
    fn drop(&mut self) {
        let pid_file = self.0.join("postgres/postmaster.pid");
        if let Ok(text) = fs::read_to_string(&pid_file)
            && let Some(pid) = text
                .lines()
                .next()
                .and_then(|l| l.trim().parse::<i32>().ok())
        {
            let _ = kill(Pid::from_raw(pid), Signal::SIGINT);
            let start = Instant::now();
            while process_alive(pid) && start.elapsed() < Duration::from_secs(30) {
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        let _ = fs::remove_dir_all(&self.0);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embedded_serve_starts_stops_gracefully_and_keeps_data() {
    let work = scratch_dir("pn-embedded");
    let data = work.join("data");
    let _guard = ClusterGuard(data.clone());
    let data_arg = data.to_str().unwrap().to_string();

    // First run: initdb, start, migrate, serve.
    let mut server = Server::start(&["--data-dir", &data_arg], &[], &work.join("run1.log"));
    server.wait_healthy().await;
    assert!(data.join("postgres/PG_VERSION").is_file());
    assert!(
        data.join("postgres.log").is_file(),
        "PostgreSQL logs to a file"
    );
    let (url, pg_pid) = embedded_url(&data);
    let mut conn = AsyncPgConnection::establish(&url).await.unwrap();
    conn.batch_execute(
        r#"INSERT INTO "tblLanguages" ("LanguageCode", "LanguageName", "SortOrder") VALUES ('zz', 'Kept across restarts', 42)"#,
    )
    .await
    .unwrap();
    drop(conn);

    let banner = format!("listening on http://127.0.0.1:{}", server.port);
    let (code, output) = server.terminate();
    assert_eq!(code, 0, "graceful exit on SIGTERM:\n{output}");
    assert!(output.contains(&banner), "start-up banner:\n{output}");
    // No event type is enabled by default: the start says nothing will be sent.
    assert!(
        output.contains("no notification event type is enabled"),
        "a warning at start:\n{output}"
    );
    assert!(
        !data.join("postgres/postmaster.pid").exists(),
        "PostgreSQL stopped (no postmaster.pid):\n{output}"
    );
    assert!(gone(pg_pid), "postmaster {pg_pid} is gone");
    assert!(
        !output.contains("embedded-test-secret") && !output.contains(&url),
        "no secret in the output:\n{output}"
    );

    // Second run: same folder, no initdb, data kept, migrations already applied.
    let mut server = Server::start(&["--data-dir", &data_arg], &[], &work.join("run2.log"));
    server.wait_healthy().await;
    let (url, pg_pid) = embedded_url(&data);
    let mut conn = AsyncPgConnection::establish(&url).await.unwrap();
    conn.batch_execute(
        r#"DO $$ BEGIN
             IF NOT EXISTS (SELECT 1 FROM "tblLanguages"
                            WHERE "LanguageCode" = 'zz' AND "LanguageName" = 'Kept across restarts') THEN
                 RAISE EXCEPTION 'the row written before the restart is gone';
             END IF;
           END $$"#,
    )
    .await
    .unwrap();
    drop(conn);
    assert!(
        policy_notification::db::migrations::pending(&url)
            .await
            .unwrap()
            .is_empty()
    );
    let (code, output) = server.terminate();
    assert_eq!(code, 0, "{output}");
    assert!(gone(pg_pid));
    let _ = fs::remove_dir_all(&work);
}

#[tokio::test]
async fn missing_server_binaries_say_what_to_install_or_set() {
    let work = scratch_dir("pn-nobin");
    let data = work.join("data");
    let mut server = Server::start(
        &["--data-dir", data.to_str().unwrap()],
        &[("PN_SERVICE__PG_BIN", "/nonexistent")],
        &work.join("run.log"),
    );
    let start = Instant::now();
    let status = loop {
        if let Some(s) = server.child.try_wait().unwrap() {
            break s;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "serve did not exit"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    let output = server.output();
    assert!(!status.success());
    assert!(output.contains("/nonexistent"), "{output}");
    assert!(output.contains("apt-get install postgresql"), "{output}");
    assert!(
        output.contains("PG_BIN") && output.contains("DATABASE_URL"),
        "{output}"
    );
    assert!(!data.join("postgres").exists(), "no cluster created");
    let _ = fs::remove_dir_all(&work);
}

#[tokio::test]
async fn serve_refuses_an_external_database_with_pending_migrations() {
    let db = TestDb::empty().await;
    let work = scratch_dir("pn-external");
    let mut server = Server::start(&["--database-url", &db.url], &[], &work.join("run.log"));
    let start = Instant::now();
    let status = loop {
        if let Some(s) = server.child.try_wait().unwrap() {
            break s;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "serve did not exit"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    let output = server.output();
    assert!(!status.success(), "{output}");
    assert!(output.contains("policy-notification migrate"), "{output}");
    assert!(output.contains("pending migration"), "{output}");
    assert!(
        !output.contains(&db.url),
        "the URL (with its password) is not printed"
    );
    // Nothing was applied.
    assert_eq!(
        policy_notification::db::migrations::pending(&db.url)
            .await
            .unwrap()
            .len(),
        fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations"))
            .unwrap()
            .count()
    );

    // After `migrate`, the same command serves.
    let out = Command::new(BIN)
        .args(["migrate", "--database-url", &db.url])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let mut server = Server::start(&["--database-url", &db.url], &[], &work.join("run2.log"));
    server.wait_healthy().await;
    let (code, output) = server.terminate();
    assert_eq!(code, 0, "{output}");
    let _ = fs::remove_dir_all(&work);
}

#[tokio::test]
async fn sigterm_during_start_up_still_stops_postgresql() {
    let work = scratch_dir("pn-early-term");
    let data = work.join("data");
    let _guard = ClusterGuard(data.clone());
    let server = Server::start(
        &["--data-dir", data.to_str().unwrap()],
        &[],
        &work.join("run.log"),
    );
    // Signal as soon as initdb has begun writing the cluster.
    let start = Instant::now();
    while !data.join("postgres").exists() {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "initdb never started:\n{}",
            server.output()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let (code, output) = server.terminate();
    assert_eq!(code, 0, "{output}");
    assert!(
        !data.join("postgres/postmaster.pid").exists(),
        "no PostgreSQL left running:\n{output}"
    );
    let _ = fs::remove_dir_all(&work);
}

#[tokio::test]
async fn a_data_folder_postgres_cannot_reach_is_a_clear_error() {
    if !nix::unistd::geteuid().is_root() {
        // Only root hands PostgreSQL to the `postgres` user.
        return;
    }
    use std::os::unix::fs::PermissionsExt;
    let work = scratch_dir("pn-private");
    let private = work.join("private");
    fs::create_dir_all(&private).unwrap();
    fs::set_permissions(&private, fs::Permissions::from_mode(0o700)).unwrap();
    let data = private.join("data");
    let out = Command::new(BIN)
        .args(["migrate", "--data-dir", data.to_str().unwrap()])
        .stdin(Stdio::null())
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains(&format!(
            "{} does not let others traverse it",
            private.display()
        )),
        "{stderr}"
    );
    assert!(stderr.contains("--data-dir"), "{stderr}");
    assert!(!data.join("postgres").exists());
    let _ = fs::remove_dir_all(&work);
}

#[tokio::test]
async fn demo_seeds_and_writes_the_messages_due_today_at_start() {
    let work = scratch_dir("pn-demo");
    let data = work.join("data");
    let _guard = ClusterGuard(data.clone());
    let data_arg = data.to_str().unwrap().to_string();
    let mut server = Server::start_in(
        Some(&work),
        &["--demo", "--data-dir", &data_arg],
        &[],
        &work.join("demo.log"),
    );
    server.wait_healthy().await;
    let outbox = work.join("sent_notification");
    let messages = || {
        fs::read_dir(&outbox)
            .map(|d| {
                d.flatten()
                    .filter(|e| e.file_name().to_string_lossy().starts_with("SMSMessage_"))
                    .count()
            })
            .unwrap_or(0)
    };
    let start = Instant::now();
    while !server.output().contains("sweep finished") {
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "no sweep at start:\n{}",
            server.output()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let written = messages();
    assert!(
        written > 0,
        "the demo's messages due today are in {}:\n{}",
        outbox.display(),
        server.output()
    );
    let (url, _) = embedded_url(&data);
    let mut conn = AsyncPgConnection::establish(&url).await.unwrap();
    let sent: Vec<Count> = diesel_async::RunQueryDsl::load(
        diesel::sql_query(
            "SELECT count(*) AS n FROM \"tblIndicationOfPolicyNotificationsDetails\" WHERE \"Status\" = 1",
        ),
        &mut conn,
    )
    .await
    .unwrap();
    assert_eq!(
        sent[0].n as usize, written,
        "one file per message recorded as sent"
    );
    drop(conn);
    let token = login(server.port, "Admin", "admin123").await;
    let (code, output) = server.terminate();
    assert_eq!(code, 0, "{output}");

    // A plain `serve` on the same data folder uses the secret the demo generated there: it
    // starts, and the demo's tokens still work.
    let mut server = Server::start_in(
        Some(&work),
        &["--data-dir", &data_arg],
        &[],
        &work.join("serve.log"),
    );
    server.wait_healthy().await;
    let body = graphql(
        server.port,
        Some(&token),
        serde_json::json!({"query": "{ families(first: 1) { totalCount } }"}),
    )
    .await;
    assert!(
        body["data"]["families"]["totalCount"].as_i64().unwrap_or(0) > 0,
        "{body}"
    );
    let (code, output) = server.terminate();
    assert_eq!(code, 0, "{output}");
    assert!(
        output.contains("data folder prepared by `serve --demo`"),
        "{output}"
    );
    assert!(
        !output.contains("no notification event type is enabled"),
        "{output}"
    );

    // And a plain `send-notifications` on it uses the demo's settings: every event enabled.
    let out = Command::new(BIN)
        .args(["send-notifications", "--dry-run", "--data-dir", &data_arg])
        .current_dir(&work)
        .env_remove("DATABASE_URL")
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.starts_with("dry run for "), "{stdout}");
    assert!(
        !stdout.contains("disabled"),
        "the demo's event types:\n{stdout}"
    );
    assert!(data.join("demo_settings").is_file());
    let _ = fs::remove_dir_all(&work);
}

/// POSTs a GraphQL request to a running server (with a bearer token when given); the JSON answer.
async fn graphql(port: u16, token: Option<&str>, request: serde_json::Value) -> serde_json::Value {
    let mut req = reqwest::Client::new()
        .post(format!("http://127.0.0.1:{port}/api/graphql"))
        .header("content-type", "application/json")
        .body(request.to_string());
    if let Some(token) = token {
        req = req.header("authorization", format!("Bearer {token}"));
    }
    req.send().await.unwrap().json().await.unwrap()
}

/// Logs in through `tokenAuth` on a running server; the token.
async fn login(port: u16, user: &str, password: &str) -> String {
    let body = graphql(
        port,
        None,
        serde_json::json!({
            "query": "mutation($u: String!, $p: String!) { tokenAuth(username: $u, password: $p) { token } }",
            "variables": {"u": user, "p": password},
        }),
    )
    .await;
    body["data"]["tokenAuth"]["token"]
        .as_str()
        .unwrap_or_else(|| panic!("login failed: {body}"))
        .to_string()
}

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}
