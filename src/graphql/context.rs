//! What resolvers use: the caller's identity, rights checks with openIMIS's error, the pool and
//! the settings, and the mapping of our errors to GraphQL errors with `extensions.code`.

use std::sync::Arc;

use async_graphql::{Context, Error, ErrorExtensions};

use crate::auth::{AuthError, Identity, JwtKeys};
use crate::config::Settings;
use crate::db::{Conn, DbError, Pool};
use crate::error::{ErrorCode, UserFacing};

/// openIMIS's message for a missing right (`unauthorized`).
pub const UNAUTHORIZED: &str = "User not authorized for this operation";

/// Who sent the request, as found from its token.
#[derive(Debug, Default)]
pub enum Caller {
    /// No token.
    #[default]
    Anonymous,
    /// A valid token of this user.
    User(Identity),
    /// A token that did not verify (expired, bad signature, unknown user). Raised as HTTP 401 as
    /// soon as a resolver asks who the caller is.
    Rejected(AuthError),
}

/// Per-request authentication data, put into the request by the HTTP layer.
#[derive(Debug, Default)]
pub struct RequestAuth {
    /// The caller.
    pub caller: Caller,
    /// The token the caller was found from (header first, then the `JWT` cookie).
    pub token: Option<String>,
    /// Whether the request carried a `JWT` cookie.
    pub has_jwt_cookie: bool,
    /// The `JWT-refresh-token` cookie, if any.
    pub refresh_cookie: Option<String>,
    /// The address the request came from (login throttling).
    pub peer: Option<std::net::IpAddr>,
}

static ANONYMOUS: RequestAuth = RequestAuth {
    caller: Caller::Anonymous,
    token: None,
    has_jwt_cookie: false,
    refresh_cookie: None,
    peer: None,
};

/// A GraphQL error with `extensions.code`.
pub fn coded_error(code: ErrorCode, message: impl Into<String>) -> Error {
    Error::new(message).extend_with(|_, e| e.set("code", code.as_str()))
}

/// A GraphQL error for a domain error; internal faults are logged and shown without details.
pub fn user_error<E: UserFacing + std::fmt::Display>(e: &E) -> Error {
    let code = e.code();
    if matches!(code, ErrorCode::Internal | ErrorCode::Unavailable) {
        tracing::error!(error = %e, "request failed");
    }
    coded_error(code, e.user_message())
}

/// The error of a missing right: openIMIS's text, code `FORBIDDEN`, answered with HTTP 200.
pub fn unauthorized() -> Error {
    coded_error(ErrorCode::Forbidden, UNAUTHORIZED)
}

/// The request's authentication data.
pub fn request_auth<'a>(ctx: &Context<'a>) -> &'a RequestAuth {
    ctx.data_opt::<RequestAuth>().unwrap_or(&ANONYMOUS)
}

/// The caller's identity: `None` when anonymous; an error (HTTP 401) when the token was bad.
pub fn identity<'a>(ctx: &Context<'a>) -> Result<Option<&'a Identity>, Error> {
    match &request_auth(ctx).caller {
        Caller::Anonymous => Ok(None),
        Caller::User(i) => Ok(Some(i)),
        Caller::Rejected(e) => Err(user_error(e)),
    }
}

/// The caller's identity, or openIMIS's "not authorized" error for anonymous callers.
pub fn require_user<'a>(ctx: &Context<'a>) -> Result<&'a Identity, Error> {
    identity(ctx)?.ok_or_else(unauthorized)
}

/// The caller's identity when it holds `right`, else openIMIS's "not authorized" error.
pub fn require_right<'a>(ctx: &Context<'a>, right: i32) -> Result<&'a Identity, Error> {
    let id = require_user(ctx)?;
    if id.has_right(right) {
        Ok(id)
    } else {
        Err(unauthorized())
    }
}

/// The caller's identity when it holds one of `rights` (an empty list: any logged-in user).
pub fn require_any_right<'a>(ctx: &Context<'a>, rights: &[i32]) -> Result<&'a Identity, Error> {
    let id = require_user(ctx)?;
    if id.has_any_right(rights) {
        Ok(id)
    } else {
        Err(unauthorized())
    }
}

/// The connection pool.
pub fn pool<'a>(ctx: &Context<'a>) -> Result<&'a Pool, Error> {
    ctx.data::<Pool>()
}

/// A connection from the pool.
pub async fn conn(ctx: &Context<'_>) -> Result<Conn, Error> {
    pool(ctx)?
        .get()
        .await
        .map_err(|e| user_error(&DbError::from(e)))
}

/// The settings.
pub fn settings<'a>(ctx: &Context<'a>) -> Result<&'a Settings, Error> {
    ctx.data::<Arc<Settings>>().map(|s| s.as_ref())
}

/// The token keys.
pub fn jwt_keys<'a>(ctx: &Context<'a>) -> Result<&'a JwtKeys, Error> {
    ctx.data::<Arc<JwtKeys>>().map(|k| k.as_ref())
}

/// Adds a `Set-Cookie` header to the response.
pub fn set_cookie(ctx: &Context<'_>, cookie: String) {
    ctx.append_http_header(axum::http::header::SET_COOKIE, cookie);
}
