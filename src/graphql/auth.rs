//! Login and token mutations under openIMIS's names: `tokenAuth`, `refreshToken`,
//! `verifyToken`, `deleteTokenCookie`, `deleteRefreshTokenCookie`.

use async_graphql::{Context, ErrorExtensions, Object, Result, SimpleObject};

use super::context::{self, RequestAuth};
use super::scalars::GenericScalar;
use crate::auth::{self, AuthError, IssuedToken};

/// Name of the access-token cookie.
pub const JWT_COOKIE: &str = "JWT";
/// Name of the refresh-token cookie.
pub const REFRESH_COOKIE: &str = "JWT-refresh-token";

/// `tokenAuth`'s payload.
#[derive(SimpleObject)]
#[graphql(name = "OpenimisObtainJSONWebToken")]
pub struct ObtainToken {
    /// The token's claims.
    payload: GenericScalar,
    /// Until when the token may be refreshed, epoch seconds.
    refresh_expires_in: i64,
    /// The access token.
    token: String,
    /// A refresh token.
    refresh_token: String,
}

/// `refreshToken`'s payload.
#[derive(SimpleObject)]
#[graphql(name = "Refresh")]
pub struct RefreshPayload {
    /// The new token's claims.
    payload: GenericScalar,
    /// Until when the token may be refreshed, epoch seconds.
    refresh_expires_in: i64,
    /// The new access token.
    token: String,
    /// A refresh token.
    refresh_token: String,
}

/// `verifyToken`'s payload.
#[derive(SimpleObject)]
#[graphql(name = "Verify")]
pub struct VerifyPayload {
    /// The token's claims.
    payload: GenericScalar,
}

/// `deleteTokenCookie`'s payload.
#[derive(SimpleObject)]
#[graphql(name = "DeleteJSONWebTokenCookie")]
pub struct DeleteTokenCookie {
    /// Whether the request carried the cookie.
    deleted: bool,
}

/// `deleteRefreshTokenCookie`'s payload.
#[derive(SimpleObject)]
#[graphql(name = "DeleteRefreshTokenCookie")]
pub struct DeleteRefreshTokenCookie {
    /// Whether the request carried the cookie.
    deleted: bool,
}

fn auth_error(e: &AuthError) -> async_graphql::Error {
    let err = context::user_error(e);
    match e {
        AuthError::InvalidCredentials {
            retry_after_seconds: Some(wait),
        } => {
            let wait = *wait;
            err.extend_with(move |_, x| x.set("retryAfterSeconds", wait))
        }
        _ => err,
    }
}

fn cookie(name: &str, value: &str, max_age: i64, secure: bool) -> String {
    let expires = chrono::Utc::now() + chrono::Duration::seconds(max_age.max(0));
    let expires = if max_age > 0 {
        expires.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
    } else {
        "Thu, 01 Jan 1970 00:00:00 GMT".to_string()
    };
    format!(
        "{name}={value}; Path=/; Expires={expires}; Max-Age={}; HttpOnly; SameSite=Lax{}",
        max_age.max(0),
        if secure { "; Secure" } else { "" }
    )
}

fn set_token_cookies(ctx: &Context<'_>, issued: &IssuedToken) -> Result<()> {
    let secure = context::settings(ctx)?.service.https;
    let now = chrono::Utc::now().timestamp();
    context::set_cookie(
        ctx,
        cookie(JWT_COOKIE, &issued.token, issued.claims.exp - now, secure),
    );
    context::set_cookie(
        ctx,
        cookie(
            REFRESH_COOKIE,
            &issued.refresh_token,
            issued.refresh_expires_in - now,
            secure,
        ),
    );
    Ok(())
}

fn payload(issued: &IssuedToken) -> GenericScalar {
    GenericScalar(serde_json::to_value(&issued.claims).unwrap_or(serde_json::Value::Null))
}

/// The login and token mutations.
#[derive(Default)]
pub struct AuthMutation;

#[Object]
impl AuthMutation {
    /// Logs in with an openIMIS user name and password; answers a token and sets the `JWT`
    /// cookie. Wrong credentials answer HTTP 401 "Please enter valid credentials".
    async fn token_auth(
        &self,
        ctx: &Context<'_>,
        username: String,
        password: String,
    ) -> Result<Option<ObtainToken>> {
        let keys = context::jwt_keys(ctx)?;
        let mut conn = context::conn(ctx).await?;
        let issued = match auth::login(
            &mut conn,
            keys,
            &username,
            &password,
            context::request_auth(ctx).peer,
        )
        .await
        {
            Ok(t) => t,
            Err(e) => {
                if let AuthError::InvalidCredentials {
                    retry_after_seconds,
                } = &e
                {
                    tracing::warn!(
                        user = %crate::telemetry::user_text(&username),
                        retry_after_seconds = ?retry_after_seconds,
                        "login refused"
                    );
                }
                return Err(auth_error(&e));
            }
        };
        tracing::info!(user = %crate::telemetry::user_text(&issued.identity.login), "login");
        set_token_cookies(ctx, &issued)?;
        Ok(Some(ObtainToken {
            payload: payload(&issued),
            refresh_expires_in: issued.refresh_expires_in,
            token: issued.token,
            refresh_token: issued.refresh_token,
        }))
    }

    /// Issues a fresh token from `token`, `refreshToken`, the refresh cookie or the `JWT`
    /// cookie (in that order), until 30 days after the original login.
    async fn refresh_token(
        &self,
        ctx: &Context<'_>,
        token: Option<String>,
        refresh_token: Option<String>,
    ) -> Result<Option<RefreshPayload>> {
        let req: &RequestAuth = context::request_auth(ctx);
        let source = token
            .or(refresh_token)
            .or_else(|| req.refresh_cookie.clone())
            .or_else(|| req.token.clone())
            .ok_or_else(|| auth_error(&AuthError::NoToken))?;
        let keys = context::jwt_keys(ctx)?;
        let mut conn = context::conn(ctx).await?;
        let issued = auth::refresh(&mut conn, keys, &source)
            .await
            .map_err(|e| auth_error(&e))?;
        set_token_cookies(ctx, &issued)?;
        Ok(Some(RefreshPayload {
            payload: payload(&issued),
            refresh_expires_in: issued.refresh_expires_in,
            token: issued.token,
            refresh_token: issued.refresh_token,
        }))
    }

    /// Checks a token (or the request's own) and answers its claims.
    async fn verify_token(
        &self,
        ctx: &Context<'_>,
        token: Option<String>,
    ) -> Result<Option<VerifyPayload>> {
        let source = token
            .or_else(|| context::request_auth(ctx).token.clone())
            .ok_or_else(|| auth_error(&AuthError::NoToken))?;
        let keys = context::jwt_keys(ctx)?;
        let mut conn = context::conn(ctx).await?;
        auth::authenticate(&mut conn, keys, &source)
            .await
            .map_err(|e| auth_error(&e))?;
        let claims = auth::unverified_claims(&source).map_err(|e| auth_error(&e))?;
        Ok(Some(VerifyPayload {
            payload: GenericScalar(claims),
        }))
    }

    /// Logs out: clears the `JWT` cookie.
    async fn delete_token_cookie(&self, ctx: &Context<'_>) -> Result<Option<DeleteTokenCookie>> {
        let secure = context::settings(ctx)?.service.https;
        context::set_cookie(ctx, cookie(JWT_COOKIE, "", 0, secure));
        Ok(Some(DeleteTokenCookie {
            deleted: context::request_auth(ctx).has_jwt_cookie,
        }))
    }

    /// Clears the refresh-token cookie.
    async fn delete_refresh_token_cookie(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Option<DeleteRefreshTokenCookie>> {
        let secure = context::settings(ctx)?.service.https;
        context::set_cookie(ctx, cookie(REFRESH_COOKIE, "", 0, secure));
        Ok(Some(DeleteRefreshTokenCookie {
            deleted: context::request_auth(ctx).refresh_cookie.is_some(),
        }))
    }
}
