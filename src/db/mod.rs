//! The database: connection pool, embedded PostgreSQL, migrations and the diesel schema.

pub mod catalog;
pub mod embedded;
pub mod migrations;
pub mod module_config;
pub mod pool;
pub mod prepared;
pub mod schema;
pub mod sql;

pub use pool::{Conn, DbError, Pool, connect_pool};
