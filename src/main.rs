//! The `policy-notification` command.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use policy_notification::config::{ConfigSources, Settings};
use policy_notification::db;
use policy_notification::notification::gateway::SendOutcome;
use policy_notification::notification::sender::Sender;
use policy_notification::notification::{commands, scheduler};
use policy_notification::runtime::{self, Database, StartError};

/// The memory allocator: mimalloc rather than the system's. A GraphQL answer is many small
/// allocations (values, maps, strings); with glibc's allocator 10 % of the service's CPU on a
/// families page went to malloc/free (DECISIONS 48; docs/performance.md, session 6).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// openIMIS policy notification service.
#[derive(Parser, Debug)]
#[command(name = "policy-notification", version, about, long_about = None)]
struct Cli {
    /// TOML configuration file (default: policy-notification.toml in the working directory, if present).
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Write logs as JSON lines instead of text.
    #[arg(long, global = true)]
    log_json: bool,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run the HTTP/GraphQL server (the default command).
    Serve(ServeArgs),
    /// Apply pending database migrations and exit.
    Migrate(DbArgs),
    /// Print the GraphQL schema (SDL); `schema.graphql` holds its output.
    ExportSchema,
    /// Write deterministic demo data (locations, users, families, policies) into the database.
    SeedDemo(SeedArgs),
    /// Run one notification sweep now and print a summary per event and outcome.
    SendNotifications(SendNotificationsArgs),
    /// Send one test message through the configured providers and print the outcome.
    SendTest(SendTestArgs),
}

/// Options of `seed-demo`.
#[derive(Args, Debug, Clone)]
struct SeedArgs {
    /// Number of families to create.
    #[arg(long, default_value_t = policy_notification::seed::DEFAULT_FAMILIES, value_name = "N")]
    families: u64,
    /// Date the policies are dated relative to (YYYY-MM-DD) [default: today in the configured time zone].
    #[arg(long, value_name = "DATE")]
    as_of: Option<chrono::NaiveDate>,
    /// Seed of the pseudo-random values: the same seed, --families and --as-of give the same data.
    #[arg(long, default_value_t = policy_notification::seed::DEFAULT_SEED, value_name = "N")]
    seed: i64,
    /// Write even though the database already holds families (DECISIONS 28).
    #[arg(long)]
    force: bool,
    #[command(flatten)]
    db: DbArgs,
}

#[derive(Args, Debug, Clone, Default)]
struct SendNotificationsArgs {
    /// Run as if today were DATE (YYYY-MM-DD) [default: today in the configured time zone].
    #[arg(long, value_name = "DATE")]
    as_of: Option<chrono::NaiveDate>,
    /// List what would be sent; record and send nothing.
    #[arg(long)]
    dry_run: bool,
    #[command(flatten)]
    db: DbArgs,
}

#[derive(Args, Debug, Clone, Default)]
struct SendTestArgs {
    /// Recipient phone number (normalised with service.country_code).
    #[arg(long, value_name = "PHONE")]
    to: String,
    /// Use only this provider (name as configured, case-insensitive).
    #[arg(long, value_name = "NAME")]
    provider: Option<String>,
    /// Text to send.
    #[arg(long, default_value = "openIMIS policy notification: test message")]
    message: String,
    #[command(flatten)]
    db: DbArgs,
}

/// Where the database is.
#[derive(Args, Debug, Clone, Default)]
struct DbArgs {
    /// PostgreSQL URL of an existing database (e.g. a live openIMIS one); overrides DATABASE_URL.
    /// Without one, a private PostgreSQL runs from the machine's server binaries in --data-dir.
    #[arg(long, value_name = "URL")]
    database_url: Option<String>,
    /// Folder of the embedded PostgreSQL cluster and generated secrets [default: ./.data].
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
}

#[derive(Args, Debug, Clone, Default)]
struct ServeArgs {
    /// Address to listen on [default: 127.0.0.1:8000].
    #[arg(long, value_name = "ADDR")]
    listen: Option<SocketAddr>,
    /// Demo mode: seed demo data into an empty database, enable all six notification events with
    /// the text-file provider, run one notification sweep at start, and generate a JWT secret
    /// when none is configured.
    #[arg(long)]
    demo: bool,
    #[command(flatten)]
    db: DbArgs,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    policy_notification::telemetry::init(cli.log_json);
    let cli_log_json = cli.log_json;
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            if cli_log_json {
                tracing::error!("{e}");
            } else {
                eprintln!("error: {e}");
            }
            ExitCode::FAILURE
        }
    }
}

fn load_sources(cli_config: Option<&PathBuf>) -> Result<ConfigSources, StartError> {
    Ok(ConfigSources::load(
        cli_config.map(|p| p.as_path()),
        std::env::vars(),
    )?)
}

/// The command's `--listen`, `--data-dir` and `--database-url`, the last configuration layer.
fn add_flags(sources: &mut ConfigSources, command: &Command) -> Result<(), StartError> {
    let (db, listen) = match command {
        Command::Serve(a) => (&a.db, a.listen),
        Command::Migrate(db) => (db, None),
        Command::SeedDemo(a) => (&a.db, None),
        Command::SendNotifications(a) => (&a.db, None),
        Command::SendTest(a) => (&a.db, None),
        Command::ExportSchema => return Ok(()),
    };
    if let Some(url) = &db.database_url {
        sources.add_flag("--database-url", "database_url", url);
    }
    if let Some(dir) = &db.data_dir {
        let dir = dir
            .to_str()
            .ok_or_else(|| StartError::Other("--data-dir is not valid UTF-8".into()))?;
        sources.add_flag("--data-dir", "data_dir", dir);
    }
    if let Some(listen) = listen {
        sources.add_flag("--listen", "listen", &listen.to_string());
    }
    Ok(())
}

async fn run(cli: Cli) -> Result<(), StartError> {
    if let Some(Command::ExportSchema) = cli.command {
        print!("{}", policy_notification::graphql::sdl());
        return Ok(());
    }
    let mut sources = load_sources(cli.config.as_ref())?;
    let command = cli.command.unwrap_or(Command::Serve(ServeArgs::default()));
    add_flags(&mut sources, &command)?;
    match command {
        Command::Serve(args) => serve(&sources, args).await,
        Command::Migrate(_) => migrate(&sources).await,
        Command::ExportSchema => Ok(()),
        Command::SeedDemo(args) => seed_demo(&sources, args).await,
        Command::SendNotifications(args) => send_notifications(&sources, args).await,
        Command::SendTest(args) => send_test(&sources, args).await,
    }
}

/// Opens the database, checks its schema and resolves the settings with its module row.
async fn open_with_settings(
    sources: &ConfigSources,
) -> Result<(Database, db::Pool, Settings), StartError> {
    let boot = sources.resolve()?;
    let database = Database::open(&boot).await?;
    let prepared = async {
        database
            .prepare_schema(boot.service.default_language.as_deref())
            .await?;
        let pool = db::connect_pool(database.url(), boot.service.pool_size)?;
        let mut settings = runtime::resolve_settings(sources, &pool).await?;
        runtime::demo_folder_settings(&mut settings);
        Ok::<_, StartError>((pool, settings))
    }
    .await;
    match prepared {
        Ok((pool, settings)) => Ok((database, pool, settings)),
        Err(e) => {
            database.shutdown().await;
            Err(e)
        }
    }
}

async fn send_notifications(
    sources: &ConfigSources,
    args: SendNotificationsArgs,
) -> Result<(), StartError> {
    let (database, pool, settings) = open_with_settings(sources).await?;
    let settings = std::sync::Arc::new(settings);
    let result = async {
        let sender =
            Sender::new(pool, settings.clone()).map_err(|e| StartError::Other(e.to_string()))?;
        match commands::send_notifications(&sender, args.as_of, args.dry_run).await {
            Ok(report) => {
                print!("{}", commands::summary(&report, &settings, args.dry_run));
                Ok(())
            }
            Err(policy_notification::notification::sender::SenderError::GaveUp {
                error,
                report,
            }) => {
                print!("{}", commands::summary(&report, &settings, args.dry_run));
                Err(StartError::Other(format!(
                    "the sweep gave up after database errors ({error}); the next sweep takes up what it did not reach"
                )))
            }
            Err(e) => Err(StartError::Other(e.to_string())),
        }
    }
    .await;
    database.shutdown().await;
    result
}

async fn send_test(sources: &ConfigSources, args: SendTestArgs) -> Result<(), StartError> {
    let (database, _pool, settings) = open_with_settings(sources).await?;
    let result =
        commands::send_test(&settings, &args.to, args.provider.as_deref(), &args.message).await;
    database.shutdown().await;
    let result = result.map_err(|e| StartError::Other(e.to_string()))?;
    println!("{}", commands::describe(&result));
    match result.outcome {
        SendOutcome::Delivered => Ok(()),
        _ => Err(StartError::Other(
            "the test message was not delivered".into(),
        )),
    }
}

async fn seed_demo(sources: &ConfigSources, args: SeedArgs) -> Result<(), StartError> {
    let settings = sources.resolve()?;
    let database = Database::open(&settings).await?;
    let result = seed_on(&settings, &args, &database).await;
    database.shutdown().await;
    result
}

async fn seed_on(
    settings: &Settings,
    args: &SeedArgs,
    database: &Database,
) -> Result<(), StartError> {
    use policy_notification::seed;
    database
        .prepare_schema(settings.service.default_language.as_deref())
        .await?;
    let options = seed::SeedOptions {
        families: args.families,
        as_of: args.as_of.unwrap_or_else(|| today(settings)),
        seed: args.seed,
        force: args.force,
    };
    let report = seed::seed(database.url(), &options, &progress_bar())
        .await
        .map_err(|e| StartError::Other(e.to_string()))?;
    println!(
        "seeded {} families as of {} (seed {}): {} current insurees, {} current policies, {} premiums in the database; {:.1}s",
        report.families,
        options.as_of,
        options.seed,
        report.insurees,
        report.policies,
        report.premiums,
        report.elapsed.as_secs_f64()
    );
    Ok(())
}

/// Today in the configured time zone.
fn today(settings: &Settings) -> chrono::NaiveDate {
    chrono::Utc::now()
        .with_timezone(&settings.service.timezone)
        .date_naive()
}

/// A progress bar on stderr when it is a terminal, hidden otherwise.
fn progress_bar() -> indicatif::ProgressBar {
    use std::io::IsTerminal;
    if !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(0);
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{spinner} [{elapsed_precise}] {bar:40} {pos}/{len} families  {msg}",
    ) {
        bar.set_style(style);
    }
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    bar
}

/// `serve --demo`: seed the default demo data when the database holds no family.
async fn seed_if_empty(settings: &Settings, database: &Database) -> Result<(), StartError> {
    use policy_notification::seed;
    let rows = seed::family_rows(database.url()).await?;
    if rows > 0 {
        return Ok(());
    }
    let options = seed::SeedOptions::new(today(settings));
    let report = seed::seed(database.url(), &options, &progress_bar())
        .await
        .map_err(|e| StartError::Other(e.to_string()))?;
    tracing::info!(families = report.families, as_of = %options.as_of, "demo data seeded");
    Ok(())
}

async fn migrate(sources: &ConfigSources) -> Result<(), StartError> {
    let settings = sources.resolve()?;
    // Ctrl-C or SIGTERM lets the migration finish and the embedded PostgreSQL stop.
    let _shutdown = runtime::Shutdown::listen();
    let database = Database::open(&settings).await?;
    let result =
        db::migrations::run_pending(database.url(), settings.service.default_language.as_deref())
            .await;
    database.shutdown().await;
    let applied = result?;
    if applied.is_empty() {
        println!("no pending migrations");
    } else {
        println!("applied {} migration(s):", applied.len());
        for name in applied {
            println!("  {name}");
        }
    }
    Ok(())
}

async fn serve(sources: &ConfigSources, args: ServeArgs) -> Result<(), StartError> {
    let boot = sources.resolve()?;
    let shutdown = runtime::Shutdown::listen();
    let database = Database::open(&boot).await?;
    let result = serve_on(sources, &args, &database, shutdown).await;
    database.shutdown().await;
    result
}

async fn serve_on(
    sources: &ConfigSources,
    args: &ServeArgs,
    database: &Database,
    shutdown: runtime::Shutdown,
) -> Result<(), StartError> {
    let boot = sources.resolve()?;
    database
        .prepare_schema(boot.service.default_language.as_deref())
        .await?;
    if shutdown.requested() {
        return Ok(());
    }
    if args.demo {
        seed_if_empty(&boot, database).await?;
    }
    let pool = db::connect_pool(database.url(), boot.service.pool_size)?;
    let mut settings = runtime::resolve_settings(sources, &pool).await?;
    if args.demo {
        runtime::apply_demo_settings(&mut settings);
        runtime::remember_demo(&settings)?;
    } else {
        runtime::demo_folder_settings(&mut settings);
    }
    let jwt_secret = runtime::jwt_secret(&settings, args.demo)?;
    let state = runtime::app_state(pool, settings, jwt_secret);
    let sender = Sender::new(state.pool.clone(), state.settings.clone())
        .map_err(|e| StartError::Other(e.to_string()))?;
    policy_notification::http::metrics::install();
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let stop_tx = std::sync::Arc::new(stop_tx);
    let metrics_listener = match state.settings.service.metrics_listen {
        Some(addr) => Some(runtime::serve_metrics(addr, stop_rx.clone()).await?),
        None => None,
    };
    let scheduler = tokio::spawn(scheduler::run(
        sender,
        state.settings.trigger_hours(),
        state.settings.service.timezone,
        stop_rx,
        args.demo,
    ));
    let follower = state.settings.service.follow_openimis_mutations.then(|| {
        tokio::spawn(policy_notification::follower::run(
            state.pool.clone(),
            runtime::family_hooks(&state.settings),
            std::time::Duration::from_millis(state.settings.service.follow_poll_millis),
            stop_tx.subscribe(),
        ))
    });
    let stop = stop_tx.clone();
    let shutdown = async move {
        shutdown.wait().await;
        let _ = stop.send(true);
    };
    let result = runtime::serve(state, shutdown).await;
    let _ = stop_tx.send(true);
    let _ = scheduler.await;
    if let Some(f) = follower {
        let _ = f.await;
    }
    if let Some(m) = metrics_listener {
        let _ = m.await;
    }
    result
}
