//! The HTTP surface: router, shared state, health.

pub mod assets;
pub mod current_user;
pub mod dashboard;
pub mod error;
pub mod extract;
pub mod graphql;
pub mod health;
pub mod identity_cache;
pub mod metrics;
pub mod report_endpoint;
pub mod router;

use std::sync::Arc;

use crate::config::Settings;
use crate::db::Pool;

/// What every handler may use.
#[derive(Clone)]
pub struct AppState {
    pub pool: Pool,
    pub settings: Arc<Settings>,
    /// Token keys (fallback secret and lifetimes).
    pub jwt: Arc<crate::auth::JwtKeys>,
    /// The GraphQL schema.
    pub schema: crate::graphql::AppSchema,
    /// The database's shape, read once (src/db/catalog.rs).
    pub catalog: crate::db::catalog::CatalogCell,
    /// Verified tokens → identities for a short window (src/http/identity_cache.rs).
    pub identities: Arc<identity_cache::IdentityCache>,
}

pub use router::router;
