//! The axum router: routes, body limit, request tracing.

use axum::Router;
use axum::routing::get;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::trace::TraceLayer;

use super::AppState;
use super::health::health;

/// The whole HTTP application.
pub fn router(state: AppState) -> Router {
    let max_body = state.settings.service.max_body_bytes;
    Router::new()
        .route("/health", get(health))
        .route("/metrics", get(super::metrics::metrics))
        .route(
            super::current_user::PATH,
            get(super::current_user::current_user),
        )
        .route(
            super::report_endpoint::PATH,
            get(super::report_endpoint::communication_by_notification_report),
        )
        .layer(RequestBodyLimitLayer::new(max_body))
        .merge(super::graphql::routes())
        .merge(super::assets::routes())
        .merge(super::dashboard::routes())
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}
