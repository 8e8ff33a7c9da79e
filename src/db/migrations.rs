//! The migrations, embedded in the binary, and their runner.

use diesel::Connection;
use diesel_async::AsyncPgConnection;
use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use super::DbError;

/// Every migration of this service, in order.
pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

type SyncConn = AsyncConnectionWrapper<AsyncPgConnection>;

fn connect_sync(url: &str) -> Result<SyncConn, DbError> {
    let mut conn = SyncConn::establish(url)?;
    diesel::connection::SimpleConnection::batch_execute(&mut conn, "SET TIME ZONE 'UTC'")?;
    Ok(conn)
}

/// Versions of the migrations not yet applied to the database at `url`.
pub async fn pending(url: &str) -> Result<Vec<String>, DbError> {
    let url = url.to_string();
    tokio::task::spawn_blocking(move || {
        let mut conn = connect_sync(&url)?;
        let pending = conn
            .pending_migrations(MIGRATIONS)
            .map_err(|e| DbError::Migration(e.to_string()))?;
        Ok(pending.iter().map(|m| m.name().to_string()).collect())
    })
    .await
    .map_err(|e| DbError::Migration(e.to_string()))?
}

/// Applies every pending migration; returns the names applied. `default_language` is the language
/// the `tblFamilySMS` conversion gives rows without one (else the first by `SortOrder`, then code).
pub async fn run_pending(
    url: &str,
    default_language: Option<&str>,
) -> Result<Vec<String>, DbError> {
    let url = url.to_string();
    let language = default_language.map(str::to_string);
    if let Some(l) = &language
        && !l
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(DbError::Migration(format!(
            "default language `{l}` is not a language code"
        )));
    }
    tokio::task::spawn_blocking(move || {
        let mut conn = connect_sync(&url)?;
        if let Some(l) = language {
            diesel::connection::SimpleConnection::batch_execute(
                &mut conn,
                &format!("SET pn.default_language = '{l}'"),
            )?;
        }
        let names: Vec<String> = conn
            .pending_migrations(MIGRATIONS)
            .map_err(|e| DbError::Migration(e.to_string()))?
            .iter()
            .map(|m| m.name().to_string())
            .collect();
        let applied = conn
            .run_pending_migrations(MIGRATIONS)
            .map_err(|e| DbError::Migration(e.to_string()))?;
        // Migrations run in order: the first `applied.len()` pending ones are those applied.
        Ok(names.into_iter().take(applied.len()).collect())
    })
    .await
    .map_err(|e| DbError::Migration(e.to_string()))?
}
