//! The `policy-notification` command.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use policy_notification::config::{ConfigSources, Settings};
use policy_notification::db;
use policy_notification::runtime::{self, Database, StartError};

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
    /// the text-file provider, and generate a JWT secret when none is configured.
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

fn apply_db_args(settings: &mut Settings, args: &DbArgs) {
    if let Some(url) = &args.database_url {
        settings.service.database_url = Some(url.clone().into());
    }
    if let Some(dir) = &args.data_dir {
        settings.service.data_dir = dir.clone();
    }
}

async fn run(cli: Cli) -> Result<(), StartError> {
    if let Some(Command::ExportSchema) = cli.command {
        print!("{}", policy_notification::graphql::sdl());
        return Ok(());
    }
    let sources = load_sources(cli.config.as_ref())?;
    match cli.command.unwrap_or(Command::Serve(ServeArgs::default())) {
        Command::Serve(args) => serve(&sources, args).await,
        Command::Migrate(args) => migrate(&sources, args).await,
        Command::ExportSchema => Ok(()),
    }
}

async fn migrate(sources: &ConfigSources, args: DbArgs) -> Result<(), StartError> {
    let mut settings = sources.resolve()?;
    apply_db_args(&mut settings, &args);
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
    let mut boot = sources.resolve()?;
    apply_db_args(&mut boot, &args.db);
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
    let pool = db::connect_pool(database.url(), boot.service.pool_size)?;
    let mut settings = runtime::resolve_settings(sources, &pool).await?;
    apply_db_args(&mut settings, &args.db);
    if let Some(listen) = args.listen {
        settings.service.listen = listen;
    }
    if args.demo {
        settings.module.eligible_notification_types =
            policy_notification::config::EligibleNotificationTypes::all();
    }
    let jwt_secret = runtime::jwt_secret(&settings, args.demo)?;
    let state = runtime::app_state(pool, settings, jwt_secret);
    runtime::serve(state, shutdown.wait()).await
}
