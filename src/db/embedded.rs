//! A private PostgreSQL cluster run from the machine's server binaries (the embedded default).
//!
//! The cluster lives in `<data_dir>/postgres`, logs to `<data_dir>/postgres.log`, listens on a
//! free port on 127.0.0.1 only (no Unix socket) and requires a generated password kept in
//! `<data_dir>/db_password`. As root, every PostgreSQL command runs as the `postgres` user, which
//! PostgreSQL demands.

use std::fs;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use rand::Rng;
use rand::distr::Alphanumeric;

/// Name of the database the service uses inside the embedded cluster.
pub const DATABASE_NAME: &str = "openimis";
/// Superuser of the embedded cluster.
pub const SUPERUSER: &str = "postgres";

/// Why the embedded cluster could not be used.
#[derive(Debug, thiserror::Error)]
pub enum EmbeddedError {
    #[error(
        "PostgreSQL server binaries not found (looked for `initdb`, `pg_ctl` and `postgres` in {looked}). \
         Install them (Debian/Ubuntu: `apt-get install postgresql`), or point to their folder with \
         PG_BIN=/usr/lib/postgresql/15/bin or `pg_bin` in the [service] section, or use an external \
         database with DATABASE_URL"
    )]
    BinariesNotFound { looked: String },
    #[error(
        "running as root, PostgreSQL must run as the `postgres` user, and there is none on this machine; \
         create it (`useradd --system postgres`) or run the service as an ordinary user"
    )]
    NoPostgresUser,
    #[error(
        "the data folder {path} is not reachable by the `postgres` user that PostgreSQL runs as: \
         {blocked} does not let others traverse it (mode {mode:o}); choose another folder with --data-dir \
         (e.g. /var/lib/policy-notification) or run `chmod o+x {blocked}`"
    )]
    NotTraversable {
        path: PathBuf,
        blocked: PathBuf,
        mode: u32,
    },
    #[error("cannot prepare the data folder {path}: {source}")]
    DataDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("`{command}` failed: {message}. See {log} for PostgreSQL's own messages")]
    Command {
        command: String,
        message: String,
        log: PathBuf,
    },
}

/// A running private PostgreSQL cluster.
#[derive(Debug)]
pub struct EmbeddedPostgres {
    bin_dir: PathBuf,
    data_dir: PathBuf,
    port: u16,
    password: String,
    owner: Option<(u32, u32)>,
    /// Whether this process started the server (and so stops it).
    started_here: bool,
}

impl EmbeddedPostgres {
    /// Finds the server binaries: `explicit` (config), then `PG_BIN`, then `PATH`, then the newest
    /// `/usr/lib/postgresql/*/bin`.
    pub fn locate_binaries(explicit: Option<&Path>) -> Result<PathBuf, EmbeddedError> {
        let has_all = |dir: &Path| {
            ["initdb", "pg_ctl", "postgres"]
                .iter()
                .all(|b| dir.join(b).is_file())
        };
        let mut looked = Vec::new();
        let mut candidates: Vec<PathBuf> = Vec::new();
        if let Some(p) = explicit {
            candidates.push(p.to_path_buf());
        } else {
            if let Some(p) = std::env::var_os("PG_BIN") {
                candidates.push(PathBuf::from(p));
            }
            if let Some(path) = std::env::var_os("PATH") {
                candidates.extend(std::env::split_paths(&path));
            }
            let mut versions: Vec<(u32, PathBuf)> = fs::read_dir("/usr/lib/postgresql")
                .into_iter()
                .flatten()
                .flatten()
                .filter_map(|e| {
                    let v = e.file_name().to_string_lossy().parse::<u32>().ok()?;
                    Some((v, e.path().join("bin")))
                })
                .collect();
            versions.sort_by_key(|v| std::cmp::Reverse(v.0));
            candidates.extend(versions.into_iter().map(|(_, p)| p));
            if candidates
                .iter()
                .all(|c| !c.starts_with("/usr/lib/postgresql"))
            {
                candidates.push(PathBuf::from("/usr/lib/postgresql/*/bin"));
            }
        }
        for c in candidates {
            if has_all(&c) {
                return Ok(c);
            }
            looked.push(c.display().to_string());
        }
        Err(EmbeddedError::BinariesNotFound {
            looked: looked.join(", "),
        })
    }

    /// Starts the cluster in `data_dir` (running `initdb` on first use), or attaches to the one
    /// already running there. Waits until it accepts connections and the service database exists.
    pub fn start(data_dir: &Path, bin_dir: &Path) -> Result<Self, EmbeddedError> {
        let owner = postgres_owner()?;
        let data_dir = absolute(data_dir);
        prepare_dir(&data_dir, owner)?;
        let mut pg = EmbeddedPostgres {
            bin_dir: bin_dir.to_path_buf(),
            data_dir,
            port: 0,
            password: String::new(),
            owner,
            started_here: false,
        };
        pg.password = pg.load_or_create_password()?;
        if !pg.pgdata().join("PG_VERSION").is_file() {
            pg.initdb()?;
        }
        if let Some(port) = pg.running_port() {
            pg.port = port;
        } else {
            pg.port =
                free_port().map_err(|e| pg.command_error("pick a free port", e.to_string()))?;
            pg.pg_ctl_start()?;
            pg.started_here = true;
        }
        if let Err(e) = pg.ensure_database() {
            // Do not leave a server behind that nobody will stop.
            if pg.started_here {
                let _ = pg.stop();
            }
            return Err(e);
        }
        Ok(pg)
    }

    /// The folder holding the cluster's files.
    pub fn pgdata(&self) -> PathBuf {
        self.data_dir.join("postgres")
    }

    /// PostgreSQL's log file.
    pub fn log_file(&self) -> PathBuf {
        self.data_dir.join("postgres.log")
    }

    /// Port the server listens on (127.0.0.1).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Connection URL of `database` in this cluster.
    pub fn url_for(&self, database: &str) -> String {
        format!(
            "postgres://{SUPERUSER}:{}@127.0.0.1:{}/{database}",
            self.password, self.port
        )
    }

    /// Connection URL of the service database.
    pub fn url(&self) -> String {
        self.url_for(DATABASE_NAME)
    }

    /// Whether this process started the server (rather than attaching to a running one).
    pub fn started_here(&self) -> bool {
        self.started_here
    }

    /// Stops the server (fast shutdown: open transactions are rolled back).
    pub fn stop(&self) -> Result<(), EmbeddedError> {
        let pgdata = self.pgdata();
        let out = self
            .command("pg_ctl")
            .arg("stop")
            .arg("-D")
            .arg(&pgdata)
            .args(["-m", "fast", "-w", "-t", "60"])
            .output()
            .map_err(|e| self.command_error("pg_ctl stop", e.to_string()))?;
        if !out.status.success() && self.running_port().is_some() {
            return Err(self.command_error(
                "pg_ctl stop",
                String::from_utf8_lossy(&out.stderr).trim().to_string(),
            ));
        }
        Ok(())
    }

    /// Starts the server again after [`Self::stop`], on the same port with the same options
    /// (a restart in two steps, so that callers can keep it down a while).
    pub fn start_again(&self) -> Result<(), EmbeddedError> {
        self.pg_ctl_start()
    }

    fn command(&self, program: &str) -> Command {
        let mut cmd = Command::new(self.bin_dir.join(program));
        cmd.stdin(Stdio::null());
        // Its own process group: a Ctrl-C at the terminal reaches the service, which then stops
        // PostgreSQL in order, rather than interrupting initdb or pg_ctl half-way.
        cmd.process_group(0);
        // PostgreSQL resolves its own files relative to the working directory; use one it can read.
        cmd.current_dir(&self.data_dir);
        if let Some((uid, gid)) = self.owner {
            cmd.uid(uid).gid(gid);
            cmd.env("HOME", &self.data_dir);
        }
        cmd.env_remove("PGDATA")
            .env_remove("PGPORT")
            .env_remove("PGHOST");
        cmd
    }

    fn command_error(&self, command: &str, message: String) -> EmbeddedError {
        EmbeddedError::Command {
            command: command.into(),
            message,
            log: self.log_file(),
        }
    }

    fn load_or_create_password(&self) -> Result<String, EmbeddedError> {
        let path = self.data_dir.join("db_password");
        let io = |source| EmbeddedError::DataDir {
            path: path.clone(),
            source,
        };
        if path.is_file() {
            let mut s = String::new();
            fs::File::open(&path)
                .and_then(|mut f| f.read_to_string(&mut s))
                .map_err(io)?;
            let s = s.trim().to_string();
            if !s.is_empty() {
                return Ok(s);
            }
        }
        let password: String = rand::rng()
            .sample_iter(&Alphanumeric)
            .take(32)
            .map(char::from)
            .collect();
        let mut f = fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode_0600()
            .open(&path)
            .map_err(io)?;
        f.write_all(password.as_bytes()).map_err(io)?;
        Ok(password)
    }

    fn initdb(&self) -> Result<(), EmbeddedError> {
        let pgdata = self.pgdata();
        fs::create_dir_all(&pgdata).map_err(|source| EmbeddedError::DataDir {
            path: pgdata.clone(),
            source,
        })?;
        fs::set_permissions(&pgdata, fs::Permissions::from_mode(0o700)).map_err(|source| {
            EmbeddedError::DataDir {
                path: pgdata.clone(),
                source,
            }
        })?;
        // The password file is read by initdb as the postgres user: hand it a private copy.
        let pwfile = self.data_dir.join(".initdb_pw");
        let io = |source| EmbeddedError::DataDir {
            path: pwfile.clone(),
            source,
        };
        fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode_0600()
            .open(&pwfile)
            .and_then(|mut f| f.write_all(self.password.as_bytes()))
            .map_err(io)?;
        if let Some((uid, gid)) = self.owner {
            chown(&pgdata, uid, gid).map_err(|source| EmbeddedError::DataDir {
                path: pgdata.clone(),
                source,
            })?;
            chown(&pwfile, uid, gid).map_err(io)?;
        }
        let out = self
            .command("initdb")
            .arg("-D")
            .arg(&pgdata)
            .args([
                "-U",
                SUPERUSER,
                "--auth=scram-sha-256",
                "--encoding=UTF8",
                "--locale=C.UTF-8",
            ])
            .arg(format!("--pwfile={}", pwfile.display()))
            .output();
        let _ = fs::remove_file(&pwfile);
        let out = out.map_err(|e| self.command_error("initdb", e.to_string()))?;
        if !out.status.success() {
            let _ = fs::remove_dir_all(&pgdata);
            return Err(self.command_error(
                "initdb",
                String::from_utf8_lossy(&out.stderr).trim().to_string(),
            ));
        }
        Ok(())
    }

    /// The port of a server already running on this data folder, if any.
    fn running_port(&self) -> Option<u16> {
        let pid_file = fs::read_to_string(self.pgdata().join("postmaster.pid")).ok()?;
        let mut lines = pid_file.lines();
        let pid: i32 = lines.next()?.trim().parse().ok()?;
        let port: u16 = lines.nth(2)?.trim().parse().ok()?;
        // Signal 0 only checks that the process exists.
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None).ok()?;
        Some(port)
    }

    fn pg_ctl_start(&self) -> Result<(), EmbeddedError> {
        let log = self.log_file();
        if let Some((uid, gid)) = self.owner {
            let f = fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&log)
                .map_err(|source| EmbeddedError::DataDir {
                    path: log.clone(),
                    source,
                })?;
            drop(f);
            chown(&log, uid, gid).map_err(|source| EmbeddedError::DataDir {
                path: log.clone(),
                source,
            })?;
        }
        let options = format!(
            "-c listen_addresses=127.0.0.1 -c port={} -c unix_socket_directories='' -c TimeZone=UTC -c max_connections=200 -c fsync=on",
            self.port
        );
        let out = self
            .command("pg_ctl")
            .arg("start")
            .arg("-D")
            .arg(self.pgdata())
            .arg("-l")
            .arg(&log)
            .arg("-o")
            .arg(options)
            .args(["-w", "-t", "120"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .output()
            .map_err(|e| self.command_error("pg_ctl start", e.to_string()))?;
        if !out.status.success() {
            return Err(self.command_error(
                "pg_ctl start",
                String::from_utf8_lossy(&out.stderr).trim().to_string(),
            ));
        }
        Ok(())
    }

    fn ensure_database(&self) -> Result<(), EmbeddedError> {
        let psql = self.bin_dir.join("psql");
        let run = |sql: &str, db: &str| -> Result<String, EmbeddedError> {
            let mut cmd = if psql.is_file() {
                self.command("psql")
            } else {
                Command::new("psql")
            };
            let out = cmd
                .env("PGPASSWORD", &self.password)
                .args([
                    "-h",
                    "127.0.0.1",
                    "-p",
                    &self.port.to_string(),
                    "-U",
                    SUPERUSER,
                    "-d",
                    db,
                ])
                .args(["-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", sql])
                .output()
                .map_err(|e| self.command_error("psql", e.to_string()))?;
            if !out.status.success() {
                return Err(self.command_error(
                    "psql",
                    String::from_utf8_lossy(&out.stderr).trim().to_string(),
                ));
            }
            Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
        };
        let exists = run(
            &format!("SELECT 1 FROM pg_database WHERE datname = '{DATABASE_NAME}'"),
            "postgres",
        )?;
        if exists != "1" {
            run(&format!("CREATE DATABASE \"{DATABASE_NAME}\""), "postgres")?;
        }
        Ok(())
    }
}

trait OpenPrivate {
    fn mode_0600(&mut self) -> &mut Self;
}

impl OpenPrivate for fs::OpenOptions {
    fn mode_0600(&mut self) -> &mut Self {
        use std::os::unix::fs::OpenOptionsExt;
        self.mode(0o600)
    }
}

fn absolute(p: &Path) -> PathBuf {
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        std::env::current_dir()
            .map(|d| d.join(p))
            .unwrap_or_else(|_| p.to_path_buf())
    }
}

/// `Some((uid, gid))` of the `postgres` user when running as root; `None` otherwise.
fn postgres_owner() -> Result<Option<(u32, u32)>, EmbeddedError> {
    if !nix::unistd::geteuid().is_root() {
        return Ok(None);
    }
    match nix::unistd::User::from_name(SUPERUSER) {
        Ok(Some(user)) => Ok(Some((user.uid.as_raw(), user.gid.as_raw()))),
        _ => Err(EmbeddedError::NoPostgresUser),
    }
}

fn chown(path: &Path, uid: u32, gid: u32) -> std::io::Result<()> {
    std::os::unix::fs::chown(path, Some(uid), Some(gid))
}

/// Creates the data folder and checks that the `postgres` user can reach it.
fn prepare_dir(dir: &Path, owner: Option<(u32, u32)>) -> Result<(), EmbeddedError> {
    fs::create_dir_all(dir).map_err(|source| EmbeddedError::DataDir {
        path: dir.to_path_buf(),
        source,
    })?;
    let Some((uid, _)) = owner else { return Ok(()) };
    // The data folder itself: make it traversable by postgres without opening it to everyone.
    let meta = fs::metadata(dir).map_err(|source| EmbeddedError::DataDir {
        path: dir.to_path_buf(),
        source,
    })?;
    if meta.uid() != uid && meta.mode() & 0o001 == 0 {
        let mode = (meta.mode() & 0o7777) | 0o711;
        fs::set_permissions(dir, fs::Permissions::from_mode(mode)).map_err(|source| {
            EmbeddedError::DataDir {
                path: dir.to_path_buf(),
                source,
            }
        })?;
    }
    // Its parents must already be traversable: we do not change permissions outside our folder.
    let mut parent = dir.parent();
    while let Some(p) = parent {
        if let Ok(meta) = fs::metadata(p)
            && meta.uid() != uid
            && meta.mode() & 0o001 == 0
        {
            return Err(EmbeddedError::NotTraversable {
                path: dir.to_path_buf(),
                blocked: p.to_path_buf(),
                mode: meta.mode() & 0o7777,
            });
        }
        parent = p.parent();
    }
    Ok(())
}

fn free_port() -> std::io::Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}
