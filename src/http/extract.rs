//! The caller of an HTTP request: a token from `Authorization: Bearer …` or the `JWT` cookie,
//! verified into an identity. A bad or expired token answers HTTP 401 with openIMIS's
//! `{"errors":[{"message": "Signature has expired" | "Error decoding signature"}]}`.

use super::AppState;
use super::error::ApiError;
use crate::auth::{AuthError, Identity};
use crate::error::{ErrorCode, UserFacing};
use crate::graphql::auth::{JWT_COOKIE, REFRESH_COOKIE};
use crate::graphql::context::{Caller, RequestAuth};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use axum_extra::extract::cookie::CookieJar;

/// The tokens a request carries.
#[derive(Debug, Default, Clone)]
pub struct Tokens {
    /// From `Authorization: Bearer <token>` (or `JWT <token>`).
    pub header: Option<String>,
    /// From the `JWT` cookie.
    pub cookie: Option<String>,
    /// From the `JWT-refresh-token` cookie.
    pub refresh_cookie: Option<String>,
}

impl Tokens {
    /// Reads the tokens from request headers.
    pub fn from_headers(headers: &HeaderMap) -> Self {
        let header = headers
            .get_all(header::AUTHORIZATION)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(|v| {
                let (scheme, token) = v.trim().split_once(' ')?;
                let token = token.trim();
                ((scheme.eq_ignore_ascii_case("bearer") || scheme.eq_ignore_ascii_case("jwt"))
                    && !token.is_empty())
                .then(|| token.to_string())
            });
        let jar = CookieJar::from_headers(headers);
        let value = |name: &str| {
            jar.get(name)
                .map(|c| c.value().to_string())
                .filter(|v| !v.is_empty())
        };
        Tokens {
            header,
            cookie: value(JWT_COOKIE),
            refresh_cookie: value(REFRESH_COOKIE),
        }
    }

    /// The token that authenticates the request: the header first, then the cookie.
    pub fn access(&self) -> Option<&str> {
        self.header.as_deref().or(self.cookie.as_deref())
    }
}

/// Verifies `token` and loads its user (reused for a short window: src/http/identity_cache.rs).
pub async fn authenticate(state: &AppState, token: &str) -> Result<Identity, AuthError> {
    state
        .identities
        .authenticate(&state.pool, &state.jwt, token)
        .await
}

/// The request's authentication data for GraphQL (a bad token is kept, to be raised when a
/// resolver asks who the caller is).
pub async fn request_auth(state: &AppState, headers: &HeaderMap) -> RequestAuth {
    let tokens = Tokens::from_headers(headers);
    let caller = match tokens.access() {
        None => Caller::Anonymous,
        Some(t) => match authenticate(state, t).await {
            Ok(identity) => Caller::User(identity),
            Err(e) => Caller::Rejected(e),
        },
    };
    RequestAuth {
        caller,
        token: tokens.access().map(str::to_string),
        has_jwt_cookie: tokens.cookie.is_some(),
        refresh_cookie: tokens.refresh_cookie,
        peer: None,
    }
}

/// An authentication failure answered over plain HTTP.
#[derive(Debug)]
pub struct AuthRejection(pub AuthError);

impl IntoResponse for AuthRejection {
    fn into_response(self) -> Response {
        let code = self.0.code();
        if matches!(code, ErrorCode::Internal | ErrorCode::Unavailable) {
            tracing::error!(error = %self.0, "authentication failed");
        }
        ApiError::new(code, self.0.user_message()).into_response()
    }
}

/// The caller of a plain HTTP request: `None` without a token; a bad token is rejected (401).
pub struct OptionalIdentity(pub Option<Identity>);

impl FromRequestParts<AppState> for OptionalIdentity {
    type Rejection = AuthRejection;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let tokens = Tokens::from_headers(&parts.headers);
        match tokens.access() {
            None => Ok(OptionalIdentity(None)),
            Some(t) => authenticate(state, t)
                .await
                .map(|i| OptionalIdentity(Some(i)))
                .map_err(AuthRejection),
        }
    }
}
