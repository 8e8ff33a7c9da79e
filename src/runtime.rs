//! Start-up: open the database (external or embedded), apply or check migrations, read the
//! module configuration row, and run the HTTP server until a shutdown signal.

use std::path::Path;
use std::sync::Arc;

use secrecy::{ExposeSecret, SecretString};
use tokio::net::TcpListener;

use crate::config::{ConfigError, ConfigSources, Settings};
use crate::db::embedded::{EmbeddedError, EmbeddedPostgres};
use crate::db::{self, DbError, Pool};
use crate::http::{self, AppState};

/// Why the service could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Embedded(#[from] EmbeddedError),
    #[error(transparent)]
    Db(#[from] DbError),
    #[error(
        "the database has {count} pending migration(s) ({names}); apply them first with \
         `policy-notification migrate` (serve applies migrations by itself only on its embedded database)"
    )]
    PendingMigrations { count: usize, names: String },
    #[error(
        "no JWT secret configured: set `jwt_secret` in the [service] section or PN_SERVICE__JWT_SECRET \
         (it signs tokens for users without a PrivateKey), or run `serve --demo`, which generates one"
    )]
    NoJwtSecret,
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: std::net::SocketAddr,
        source: std::io::Error,
    },
    #[error("{0}")]
    Other(String),
}

/// The database the service runs on, with the embedded cluster when it owns one.
pub struct Database {
    url: SecretString,
    embedded: Option<EmbeddedPostgres>,
}

impl Database {
    /// Opens the configured database: `database_url` when set, otherwise the embedded cluster in
    /// `data_dir` (started, or attached to when already running).
    pub async fn open(settings: &Settings) -> Result<Self, StartError> {
        if let Some(url) = &settings.service.database_url {
            return Ok(Database {
                url: url.clone(),
                embedded: None,
            });
        }
        let bin = EmbeddedPostgres::locate_binaries(settings.service.pg_bin.as_deref())?;
        let data_dir = settings.service.data_dir.clone();
        let pg = tokio::task::spawn_blocking(move || EmbeddedPostgres::start(&data_dir, &bin))
            .await
            .map_err(|e| StartError::Other(e.to_string()))??;
        tracing::info!(port = pg.port(), data = %pg.pgdata().display(), log = %pg.log_file().display(), "embedded PostgreSQL running");
        Ok(Database {
            url: SecretString::from(pg.url()),
            embedded: Some(pg),
        })
    }

    /// The connection URL (holds a password: never log it).
    pub fn url(&self) -> &str {
        self.url.expose_secret()
    }

    /// Whether this is the service's own embedded cluster.
    pub fn is_embedded(&self) -> bool {
        self.embedded.is_some()
    }

    /// Applies pending migrations on the embedded database; on any other database, refuses to go
    /// on while migrations are pending (DECISIONS 27).
    pub async fn prepare_schema(&self, default_language: Option<&str>) -> Result<(), StartError> {
        if self.is_embedded() {
            let applied = db::migrations::run_pending(self.url(), default_language).await?;
            if !applied.is_empty() {
                tracing::info!(count = applied.len(), "migrations applied");
            }
            return Ok(());
        }
        let pending = db::migrations::pending(self.url()).await?;
        if !pending.is_empty() {
            return Err(StartError::PendingMigrations {
                count: pending.len(),
                names: pending.join(", "),
            });
        }
        Ok(())
    }

    /// Stops the embedded cluster if this process started it.
    pub async fn shutdown(self) {
        if let Some(pg) = self.embedded
            && pg.started_here()
        {
            let result = tokio::task::spawn_blocking(move || pg.stop()).await;
            match result {
                Ok(Ok(())) => tracing::info!("embedded PostgreSQL stopped"),
                Ok(Err(e)) => tracing::error!(error = %e, "stopping embedded PostgreSQL failed"),
                Err(e) => tracing::error!(error = %e, "stopping embedded PostgreSQL failed"),
            }
        }
    }
}

/// Reads the module configuration row (if the table and row exist) and resolves the settings.
pub async fn resolve_settings(
    sources: &ConfigSources,
    pool: &Pool,
) -> Result<Settings, StartError> {
    let mut conn = pool.get().await.map_err(DbError::from)?;
    let row = db::module_config::load(&mut conn).await?;
    Ok(sources.resolve_with_row(row.as_deref())?)
}

/// The file `serve --demo` leaves in the embedded data folder, so that later commands on that
/// folder (`serve`, `send-notifications`, `send-test`) use the demo's settings too (DECISIONS 43).
pub const DEMO_MARKER: &str = "demo_settings";

/// Records in the data folder that `serve --demo` prepared it (embedded database only).
pub fn remember_demo(settings: &Settings) -> Result<(), StartError> {
    if settings.service.database_url.is_some() {
        return Ok(());
    }
    let path = settings.service.data_dir.join(DEMO_MARKER);
    std::fs::write(
        &path,
        "Written by `policy-notification serve --demo`: commands on this data folder enable all \
         six notification event types, as the demo does. Delete this file to use the configured \
         event types.\n",
    )
    .map_err(|e| StartError::Other(format!("{}: {e}", path.display())))
}

/// Whether the settings' embedded data folder was prepared by `serve --demo`.
pub fn demo_folder(settings: &Settings) -> bool {
    settings.service.database_url.is_none() && settings.service.data_dir.join(DEMO_MARKER).is_file()
}

/// The demo's settings: every notification event type enabled (with the default text-file
/// provider, unless others are configured).
pub fn apply_demo_settings(settings: &mut Settings) {
    settings.module.eligible_notification_types = crate::config::EligibleNotificationTypes::all();
}

/// Applies the demo's settings when the data folder was prepared by `serve --demo`, saying so.
pub fn demo_folder_settings(settings: &mut Settings) {
    if demo_folder(settings) {
        apply_demo_settings(settings);
        tracing::info!(
            file = %settings.service.data_dir.join(DEMO_MARKER).display(),
            "data folder prepared by `serve --demo`: all six notification event types enabled, as in the demo"
        );
    }
}

/// The JWT fallback secret: configured, or (with `generate`) read from or written to the data
/// folder, or, on the embedded database, the one a demo start left in the data folder
/// (DECISIONS 31).
pub fn jwt_secret(settings: &Settings, generate: bool) -> Result<SecretString, StartError> {
    if let Some(s) = &settings.service.jwt_secret {
        return Ok(s.clone());
    }
    let path = settings.service.data_dir.join("jwt_secret");
    // A start on the embedded data folder that `serve --demo` prepared keeps its secret, so that
    // the tokens it issued stay valid.
    let embedded_with_secret = settings.service.database_url.is_none() && path.is_file();
    if !generate && !embedded_with_secret {
        return Err(StartError::NoJwtSecret);
    }
    let secret = load_or_create_secret(&path)
        .map_err(|e| StartError::Other(format!("{}: {e}", path.display())))?;
    tracing::warn!(file = %path.display(), "no jwt_secret configured: using a generated secret kept in the data folder (demo mode)");
    Ok(secret)
}

fn load_or_create_secret(path: &Path) -> std::io::Result<SecretString> {
    use rand::Rng;
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    if let Ok(s) = std::fs::read_to_string(path)
        && !s.trim().is_empty()
    {
        return Ok(SecretString::from(s.trim().to_string()));
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let secret: String = rand::rng()
        .sample_iter(&rand::distr::Alphanumeric)
        .take(48)
        .map(char::from)
        .collect();
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(secret.as_bytes())?;
    Ok(SecretString::from(secret))
}

/// Binds the listen address and serves `state` until `shutdown` completes.
pub async fn serve(
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), StartError> {
    let addr = state.settings.service.listen;
    // Read the database's shape now; when the database is away, the first family write reads it.
    match state.catalog.get(&state.pool).await {
        Ok(catalog) => tracing::info!(
            insuree_family_nullable = catalog.insuree_family_nullable(),
            chfid_length = catalog.max_chars("tblInsuree", "CHFID"),
            "database shape read"
        ),
        Err(e) => tracing::warn!(error = %e, "cannot read the database's shape yet"),
    }
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|source| StartError::Listen { addr, source })?;
    tracing::info!(%addr, "listening");
    // One line for the person who started the service (logs go to stderr).
    println!(
        "policy-notification {} listening on http://{addr} (Ctrl-C to stop)",
        env!("CARGO_PKG_VERSION")
    );
    let app = http::router(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
        .map_err(|e| StartError::Other(e.to_string()))
}

/// A shutdown request (Ctrl-C or SIGTERM), listened for from the moment it is created, so that a
/// signal during start-up (initdb, migrations) still stops the embedded PostgreSQL cleanly.
#[derive(Clone, Debug)]
pub struct Shutdown(tokio::sync::watch::Receiver<bool>);

impl Shutdown {
    /// Installs the Ctrl-C and SIGTERM handlers now (inside a Tokio runtime).
    pub fn listen() -> Self {
        use tokio::signal::unix::{SignalKind, signal};
        let (tx, rx) = tokio::sync::watch::channel(false);
        let interrupt = signal(SignalKind::interrupt());
        let terminate = signal(SignalKind::terminate());
        tokio::spawn(async move {
            let wait = |s: std::io::Result<tokio::signal::unix::Signal>| async move {
                match s {
                    Ok(mut s) => {
                        s.recv().await;
                    }
                    Err(_) => std::future::pending::<()>().await,
                }
            };
            tokio::select! {
                _ = wait(interrupt) => {},
                _ = wait(terminate) => {},
            }
            tracing::info!("shutting down");
            let _ = tx.send(true);
        });
        Shutdown(rx)
    }

    /// Whether a shutdown was asked for already.
    pub fn requested(&self) -> bool {
        *self.0.borrow()
    }

    /// Completes once a shutdown is asked for.
    pub async fn wait(mut self) {
        let _ = self.0.wait_for(|stop| *stop).await;
    }
}

/// Serves `/metrics` (open) on its own address until `stop` turns true.
pub async fn serve_metrics(
    addr: std::net::SocketAddr,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> Result<tokio::task::JoinHandle<()>, StartError> {
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|source| StartError::Listen { addr, source })?;
    tracing::info!(%addr, "metrics listening");
    Ok(tokio::spawn(async move {
        let shutdown = async move {
            while !*stop.borrow() {
                if stop.changed().await.is_err() {
                    break;
                }
            }
        };
        if let Err(e) = axum::serve(listener, http::metrics::standalone_router())
            .with_graceful_shutdown(shutdown)
            .await
        {
            tracing::error!(error = %e, "metrics listener stopped");
        }
    }))
}

/// The family hooks registered at start-up: the notification preferences (`tblFamilySMS`).
pub fn family_hooks(settings: &Settings) -> crate::hooks::SharedHooks {
    Arc::new(crate::notification::PreferenceHooks::new(
        settings.service.default_approval,
        settings.service.default_language.clone(),
    ))
}

/// Builds the shared state from a pool, settings and the JWT fallback secret.
pub fn app_state(pool: Pool, settings: Settings, jwt_secret: SecretString) -> AppState {
    let settings = Arc::new(settings);
    let mut keys = crate::auth::JwtKeys::new(
        jwt_secret,
        settings.service.jwt_expiration_seconds,
        settings.service.jwt_refresh_expiration_seconds,
    );
    if let Some(file) = &settings.service.jwt_public_key_file {
        // The file was checked when the settings were read.
        match keys.clone().with_rsa_public_key(&file.pem) {
            Ok(k) => keys = k,
            Err(e) => {
                tracing::error!(error = %e, "jwt_public_key_file not usable: RS256 tokens are refused")
            }
        }
    }
    let jwt = Arc::new(keys);
    let catalog = crate::db::catalog::CatalogCell::default();
    let schema = crate::graphql::build_schema(
        pool.clone(),
        settings.clone(),
        jwt.clone(),
        family_hooks(&settings),
        catalog.clone(),
    );
    AppState {
        pool,
        settings,
        jwt,
        schema,
        catalog,
        identities: Arc::default(),
    }
}
