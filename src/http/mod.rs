//! The HTTP surface: router, shared state, health.

pub mod health;
pub mod metrics;
pub mod router;

use std::sync::Arc;

use crate::config::Settings;
use crate::db::Pool;

/// What every handler may use.
#[derive(Clone)]
pub struct AppState {
    pub pool: Pool,
    pub settings: Arc<Settings>,
}

pub use router::router;
