//! Browser assets served by the service itself, embedded in the binary: GraphiQL and React
//! (vendored from npm at pinned versions by `scripts/vendor-assets`, see
//! assets/vendor/LICENSES.md) and the dashboard's style sheet. A vendored file's URL carries its
//! version, so it is cached for a year as immutable; our own style sheet for five minutes.

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::AppState;

/// Where the assets are served.
pub const PREFIX: &str = "/api/assets";

/// One embedded file.
pub struct Asset {
    /// The file name in the URL (versioned for vendored files).
    pub name: &'static str,
    /// Its `Content-Type`.
    pub content_type: &'static str,
    /// Its bytes.
    pub bytes: &'static [u8],
    /// Whether its name changes with its content (cached as immutable).
    pub immutable: bool,
}

const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";

/// React 18.3.1 (UMD, production).
pub const REACT: &str = "react-18.3.1.production.min.js";
/// ReactDOM 18.3.1 (UMD, production).
pub const REACT_DOM: &str = "react-dom-18.3.1.production.min.js";
/// GraphiQL 4.1.2 (UMD bundle).
pub const GRAPHIQL_JS: &str = "graphiql-4.1.2.min.js";
/// GraphiQL 4.1.2's style sheet.
pub const GRAPHIQL_CSS: &str = "graphiql-4.1.2.min.css";
/// The dashboard's style sheet.
pub const DASHBOARD_CSS: &str = "dashboard.css";

/// Every served file.
pub const ASSETS: &[Asset] = &[
    Asset {
        name: REACT,
        content_type: JS,
        bytes: include_bytes!("../../assets/vendor/react.production.min.js"),
        immutable: true,
    },
    Asset {
        name: REACT_DOM,
        content_type: JS,
        bytes: include_bytes!("../../assets/vendor/react-dom.production.min.js"),
        immutable: true,
    },
    Asset {
        name: GRAPHIQL_JS,
        content_type: JS,
        bytes: include_bytes!("../../assets/vendor/graphiql.min.js"),
        immutable: true,
    },
    Asset {
        name: GRAPHIQL_CSS,
        content_type: CSS,
        bytes: include_bytes!("../../assets/vendor/graphiql.min.css"),
        immutable: true,
    },
    Asset {
        name: DASHBOARD_CSS,
        content_type: CSS,
        bytes: include_bytes!("../../assets/dashboard.css"),
        immutable: false,
    },
];

/// The URL path of the asset `name`.
pub fn url(name: &str) -> String {
    format!("{PREFIX}/{name}")
}

/// The asset routes.
pub fn routes() -> Router<AppState> {
    Router::new().route(&format!("{PREFIX}/{{name}}"), get(asset))
}

async fn asset(Path(name): Path<String>) -> Response {
    let Some(a) = ASSETS.iter().find(|a| a.name == name) else {
        return (StatusCode::NOT_FOUND, "no such asset").into_response();
    };
    let cache = if a.immutable {
        "public, max-age=31536000, immutable"
    } else {
        "public, max-age=300"
    };
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static(a.content_type),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static(cache)),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
        ],
        a.bytes,
    )
        .into_response()
}
