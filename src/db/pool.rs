//! The connection pool. Every connection runs its session in UTC, as openIMIS does.

use diesel_async::pooled_connection::deadpool::{BuildError, Object, PoolError};
use diesel_async::pooled_connection::{
    AsyncDieselConnectionManager, ManagerConfig, RecyclingMethod,
};
use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
use futures::FutureExt;

/// A pool of connections to PostgreSQL.
pub type Pool = diesel_async::pooled_connection::deadpool::Pool<AsyncPgConnection>;
/// A connection taken from the pool.
pub type Conn = Object<AsyncPgConnection>;

/// A database failure, without the connection URL or any secret in its text.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("database error: {0}")]
    Query(#[from] diesel::result::Error),
    #[error(
        "cannot connect to the database: {0} (check that PostgreSQL is running at the configured \
         host and port, and the user, password and database name)"
    )]
    Connect(String),
    #[error("database pool: {0}")]
    Pool(String),
    #[error("migration failed: {0}")]
    Migration(String),
}

impl From<PoolError> for DbError {
    fn from(e: PoolError) -> Self {
        DbError::Pool(e.to_string())
    }
}

impl From<diesel::ConnectionError> for DbError {
    fn from(e: diesel::ConnectionError) -> Self {
        DbError::Connect(e.to_string())
    }
}

/// Opens one connection with the session settings every connection gets.
pub async fn establish(url: &str) -> Result<AsyncPgConnection, DbError> {
    let mut conn = AsyncPgConnection::establish(url).await?;
    conn.batch_execute("SET TIME ZONE 'UTC'").await?;
    Ok(conn)
}

/// Builds a pool of at most `size` connections to `url`.
///
/// A connection is handed out again without a query to test it (no `SELECT 1` per checkout, a
/// round trip per request saved): it is dropped instead of reused when its socket is closed
/// (the server went away or restarted: the connection task has ended) or its transaction state
/// is broken (an error left a transaction open, or a commit or rollback failed). A connection
/// that dies while idle in the pool without the client noticing fails the one request that takes
/// it, and is then dropped; the next checkout opens a fresh one.
pub fn connect_pool(url: &str, size: usize) -> Result<Pool, DbError> {
    let mut config = ManagerConfig::default();
    config.recycling_method = RecyclingMethod::Fast;
    config.custom_setup = Box::new(|url| {
        async move {
            let mut conn = AsyncPgConnection::establish(url).await?;
            conn.batch_execute("SET TIME ZONE 'UTC'")
                .await
                .map_err(|e| diesel::ConnectionError::BadConnection(e.to_string()))?;
            Ok(conn)
        }
        .boxed()
    });
    let manager = AsyncDieselConnectionManager::<AsyncPgConnection>::new_with_config(url, config);
    Pool::builder(manager)
        .max_size(size)
        .wait_timeout(Some(std::time::Duration::from_secs(30)))
        .create_timeout(Some(std::time::Duration::from_secs(10)))
        .runtime(deadpool::Runtime::Tokio1)
        .build()
        .map_err(|e: BuildError| DbError::Pool(e.to_string()))
}
