//! Error codes shared by every domain, and how they reach users: GraphQL `extensions.code` and
//! HTTP statuses are decided here, in one place.

use axum::http::StatusCode;

/// What kind of failure a user is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    /// The request is wrong (a value, a filter, a parameter).
    BadUserInput,
    /// No valid token.
    Unauthenticated,
    /// Authenticated, but lacking the right.
    Forbidden,
    /// The thing asked for does not exist (or is not visible to the user).
    NotFound,
    /// A limit was exceeded (page size, query depth, body size, login attempts).
    LimitExceeded,
    /// The thing is busy: e.g. a notification attempt whose sweep is still sending it.
    InFlight,
    /// The service cannot serve now (database down).
    Unavailable,
    /// A fault of ours; details are logged, not shown.
    Internal,
}

impl ErrorCode {
    /// The code put in GraphQL errors' `extensions.code`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::BadUserInput => "BAD_USER_INPUT",
            ErrorCode::Unauthenticated => "UNAUTHENTICATED",
            ErrorCode::Forbidden => "FORBIDDEN",
            ErrorCode::NotFound => "NOT_FOUND",
            ErrorCode::LimitExceeded => "LIMIT_EXCEEDED",
            ErrorCode::InFlight => "ATTEMPT_IN_FLIGHT",
            ErrorCode::Unavailable => "SERVICE_UNAVAILABLE",
            ErrorCode::Internal => "INTERNAL_SERVER_ERROR",
        }
    }

    /// The HTTP status used when this error answers a plain HTTP request.
    pub fn http_status(self) -> StatusCode {
        match self {
            ErrorCode::BadUserInput => StatusCode::BAD_REQUEST,
            ErrorCode::Unauthenticated => StatusCode::UNAUTHORIZED,
            ErrorCode::Forbidden => StatusCode::FORBIDDEN,
            ErrorCode::NotFound => StatusCode::NOT_FOUND,
            ErrorCode::LimitExceeded => StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::InFlight => StatusCode::CONFLICT,
            ErrorCode::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

/// An error that can be shown to a user: a code and a message safe to display.
pub trait UserFacing {
    /// The kind of failure.
    fn code(&self) -> ErrorCode;
    /// A message for the user; never holds secrets or internal details.
    fn user_message(&self) -> String;
}

impl UserFacing for crate::db::DbError {
    fn code(&self) -> ErrorCode {
        match self {
            crate::db::DbError::Connect(_) | crate::db::DbError::Pool(_) => ErrorCode::Unavailable,
            _ => ErrorCode::Internal,
        }
    }

    fn user_message(&self) -> String {
        match self.code() {
            ErrorCode::Unavailable => "the database is not available".into(),
            _ => "internal error; the details are in the service log".into(),
        }
    }
}
