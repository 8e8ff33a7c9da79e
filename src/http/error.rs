//! The one JSON error envelope of the HTTP edge, as openIMIS answers:
//! `{"errors":[{"message": …, "extensions": {"code": …, "parameter"?: …}}]}`. Every handler that
//! refuses a request outside GraphQL execution (the GraphQL endpoint before execution, the
//! report endpoint, the token extractor) answers with an [`ApiError`].

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::error::ErrorCode;

/// A refused request: status, error code, a message safe to show, and the parameter it names.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: ErrorCode,
    message: String,
    parameter: Option<&'static str>,
}

impl ApiError {
    /// An error answered with the code's own status ([`ErrorCode::http_status`]).
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ApiError {
            status: code.http_status(),
            code,
            message: message.into(),
            parameter: None,
        }
    }

    /// Answers with `status` instead of the code's own.
    pub fn with_status(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }

    /// Names the request parameter at fault (`extensions.parameter`).
    pub fn with_parameter(mut self, parameter: Option<&'static str>) -> Self {
        self.parameter = parameter;
        self
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut extensions = json!({"code": self.code.as_str()});
        if let Some(p) = self.parameter {
            extensions["parameter"] = json!(p);
        }
        (
            self.status,
            axum::Json(json!({"errors": [{"message": self.message, "extensions": extensions}]})),
        )
            .into_response()
    }
}
