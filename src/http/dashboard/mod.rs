//! The sending dashboard, `/api/policy_notification/dashboard/` (docs/dashboard.md,
//! DECISIONS 41): server-rendered HTML over the figures of [`sections`], each also as JSON
//! (`<id>.json`). Logged in with the openIMIS user name and password (throttled as the API's
//! login), for holders of `service.notification_admin_perms` (default 131224) and administrators,
//! within their districts. The session is the user's token in an HttpOnly, SameSite=Strict
//! cookie limited to the dashboard's path; every form that changes something (settle, log out)
//! carries a CSRF token derived from the session's token.

pub mod html;
pub mod sections;

use axum::Router;
use axum::extract::{FromRequest, Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::json;

use super::AppState;
use super::error::ApiError;
use super::extract::{Tokens, authenticate};
use crate::auth::{AuthError, Identity};
use crate::error::{ErrorCode, UserFacing};
use crate::families::Scope;
use crate::notification::records::{self, Settlement};
use html::{esc, respond};
use sections::{Ctx, SECTIONS};

/// The dashboard's path (with its trailing slash, as openIMIS's module paths).
pub const BASE: &str = "/api/policy_notification/dashboard/";
/// The session cookie.
pub const COOKIE: &str = "pn_dashboard";

/// The dashboard routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(BASE, get(dashboard))
        .route(&format!("{BASE}login"), post(login))
        .route(&format!("{BASE}logout"), post(logout))
        .route(&format!("{BASE}settle"), post(settle))
        .route(&format!("{BASE}{{file}}"), get(figure_json))
}

/// Whether `identity` may use the dashboard: one of the notification operators' rights, or an
/// IMIS administrator.
pub fn allowed(identity: &Identity, state: &AppState) -> bool {
    identity.is_admin || identity.has_any_right(&state.settings.service.notification_admin_perms)
}

/// The CSRF token of a session: a digest of its (secret, HttpOnly) token, so that only a page
/// the service rendered for this session knows it.
pub fn csrf_token(session_token: &str) -> String {
    let d = ring::digest::digest(
        &ring::digest::SHA256,
        format!("pn-dashboard-csrf\n{session_token}").as_bytes(),
    );
    hex::encode(&d.as_ref()[..20])
}

/// Whether two secrets are equal, in time independent of where they differ.
fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// Who looks at the dashboard.
enum Viewer {
    /// No token.
    Anonymous,
    /// A token that no longer works (expired, user gone).
    Rejected(AuthError),
    /// A user, with the token that authenticated them.
    User(Identity, String),
}

/// The session's token: `Authorization` header, the dashboard cookie, then openIMIS's `JWT`
/// cookie (a user logged in to the frontend on the same host).
fn session_token(headers: &HeaderMap) -> Option<String> {
    let tokens = Tokens::from_headers(headers);
    let own = axum_extra::extract::cookie::CookieJar::from_headers(headers)
        .get(COOKIE)
        .map(|c| c.value().to_string())
        .filter(|v| !v.is_empty());
    tokens.header.or(own).or(tokens.cookie)
}

async fn viewer(state: &AppState, headers: &HeaderMap) -> Viewer {
    match session_token(headers) {
        None => Viewer::Anonymous,
        Some(t) => match authenticate(state, &t).await {
            Ok(i) => Viewer::User(i, t),
            Err(e) => Viewer::Rejected(e),
        },
    }
}

fn session_cookie(value: &str, max_age: i64, secure: bool) -> HeaderValue {
    let text = format!(
        "{COOKIE}={value}; Path={path}; Max-Age={}; HttpOnly; SameSite=Strict{}",
        max_age.max(0),
        if secure { "; Secure" } else { "" },
        path = BASE.trim_end_matches('/'),
    );
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static(""))
}

fn see_other(to: &str) -> Response {
    (
        StatusCode::SEE_OTHER,
        [(
            header::LOCATION,
            HeaderValue::from_str(to).unwrap_or_else(|_| HeaderValue::from_static(BASE)),
        )],
    )
        .into_response()
}

fn forbidden_page(identity: &Identity, token: &str) -> Response {
    respond(
        StatusCode::FORBIDDEN,
        html::message_page(
            "Not allowed",
            &format!(
                "You are logged in as {}, who holds neither the notification operators' right \
                 (131224) nor the administrator role.",
                identity.login
            ),
            &html::user_bar(&identity.login, &csrf_token(token)),
        ),
    )
}

/// The notice shown after a settlement (`?settled=<id>&how=mark_sent|release`).
#[derive(Deserialize, Default)]
struct Notice {
    settled: Option<i32>,
    how: Option<String>,
}

async fn dashboard(
    State(state): State<AppState>,
    Query(notice): Query<Notice>,
    headers: HeaderMap,
) -> Response {
    let (identity, token) = match viewer(&state, &headers).await {
        Viewer::Anonymous => return respond(StatusCode::OK, html::login_page(None, "")),
        Viewer::Rejected(e) => {
            return respond(
                StatusCode::OK,
                html::login_page(Some(&format!("Please log in again ({e}).")), ""),
            );
        }
        Viewer::User(i, t) => (i, t),
    };
    if !allowed(&identity, &state) {
        return forbidden_page(&identity, &token);
    }
    let csrf = csrf_token(&token);
    let tz = state.settings.service.timezone;
    let ctx = Ctx {
        state: &state,
        identity: &identity,
        scope: Scope::of(&identity),
        csrf: &csrf,
        today: chrono::Utc::now().with_timezone(&tz).date_naive(),
    };
    let mut body = String::new();
    if let (Some(id), Some(how)) = (notice.settled, notice.how.as_deref()) {
        let what = match how {
            "mark_sent" => Some("marked as sent"),
            "release" => Some("released for another try"),
            _ => None,
        };
        if let Some(what) = what {
            body.push_str(&format!(
                "<p class=\"notice\" id=\"notice\">Attempt {id} {what}.</p>"
            ));
        }
    }
    let scope_text = match ctx.scope.district_ids() {
        None => "all districts".to_string(),
        Some(d) => format!("your {} district(s)", d.len()),
    };
    body.push_str(&format!(
        "<p class=\"meta\">Figures for {scope_text}; times in {}; generated {}. \
         Each figure is also JSON: {}.</p><nav class=\"toc\">",
        esc(tz.name()),
        chrono::Utc::now()
            .with_timezone(&tz)
            .format("%Y-%m-%d %H:%M"),
        SECTIONS
            .iter()
            .map(|s| format!("<a href=\"{BASE}{0}.json\">{0}.json</a>", s.id))
            .collect::<Vec<_>>()
            .join(", ")
    ));
    for s in SECTIONS {
        body.push_str(&format!("<a href=\"#{}\">{}</a>", s.id, esc(s.title)));
    }
    body.push_str("</nav><div class=\"grid\">");
    for s in SECTIONS {
        let inner = match (s.load)(&ctx).await {
            Ok(f) => f.html,
            Err(e) => {
                tracing::error!(section = s.id, error = %e, "dashboard figure failed");
                format!(
                    "<p class=\"error\">This figure could not be read: {}</p>",
                    esc(&e.user_message())
                )
            }
        };
        body.push_str(&format!(
            "<section class=\"card\" id=\"{}\"><h2>{}</h2>{inner}</section>",
            s.id,
            esc(s.title)
        ));
    }
    body.push_str("</div>");
    respond(
        StatusCode::OK,
        html::page(
            "Sending dashboard",
            &html::user_bar(&identity.login, &csrf),
            &body,
        ),
    )
}

async fn figure_json(
    State(state): State<AppState>,
    Path(file): Path<String>,
    headers: HeaderMap,
) -> Response {
    let Some(section) = file
        .strip_suffix(".json")
        .and_then(|id| SECTIONS.iter().find(|s| s.id == id))
    else {
        return ApiError::new(
            ErrorCode::NotFound,
            format!(
                "no such figure: {file:?} (figures: {})",
                SECTIONS
                    .iter()
                    .map(|s| format!("{}.json", s.id))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )
        .into_response();
    };
    let (identity, token) = match viewer(&state, &headers).await {
        Viewer::Anonymous => {
            return ApiError::new(
                ErrorCode::Unauthenticated,
                "log in first: a Bearer token or the dashboard's session",
            )
            .into_response();
        }
        Viewer::Rejected(e) => return super::extract::AuthRejection(e).into_response(),
        Viewer::User(i, t) => (i, t),
    };
    if !allowed(&identity, &state) {
        return ApiError::new(
            ErrorCode::Forbidden,
            "You do not have permission to perform this action",
        )
        .into_response();
    }
    let csrf = csrf_token(&token);
    let tz = state.settings.service.timezone;
    let ctx = Ctx {
        state: &state,
        identity: &identity,
        scope: Scope::of(&identity),
        csrf: &csrf,
        today: chrono::Utc::now().with_timezone(&tz).date_naive(),
    };
    match (section.load)(&ctx).await {
        Ok(f) => {
            let mut resp = axum::Json(json!({
                "figure": section.id, "title": section.title, "data": f.json,
            }))
            .into_response();
            resp.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            resp
        }
        Err(e) => {
            tracing::error!(section = section.id, error = %e, "dashboard figure failed");
            ApiError::new(e.code(), e.user_message()).into_response()
        }
    }
}

#[derive(Deserialize)]
struct LoginForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
}

async fn login(State(state): State<AppState>, request: Request) -> Response {
    let peer = super::graphql::client_address(&request, &state.settings.service.trusted_proxies);
    let form = match axum::Form::<LoginForm>::from_request(request, &state).await {
        Ok(axum::Form(f)) => f,
        Err(e) => {
            return respond(
                StatusCode::BAD_REQUEST,
                html::login_page(Some(&format!("The form could not be read: {e}")), ""),
            );
        }
    };
    let issued = match state.pool.get().await {
        Ok(mut c) => {
            crate::auth::login(
                &mut c,
                &state.jwt,
                form.username.trim(),
                &form.password,
                peer,
            )
            .await
        }
        Err(e) => Err(AuthError::Db(crate::db::DbError::from(e))),
    };
    match issued {
        Ok(issued) => {
            let now = chrono::Utc::now().timestamp();
            let mut resp = see_other(BASE);
            resp.headers_mut().insert(
                header::SET_COOKIE,
                session_cookie(
                    &issued.token,
                    issued.claims.exp - now,
                    state.settings.service.https,
                ),
            );
            tracing::info!(user = %crate::telemetry::user_text(&issued.identity.login), "dashboard login");
            resp
        }
        Err(AuthError::InvalidCredentials {
            retry_after_seconds,
        }) => {
            let mut message = "Please enter valid credentials.".to_string();
            let status = match retry_after_seconds {
                Some(s) => {
                    message.push_str(&format!(" Too many attempts: try again in {s} s."));
                    StatusCode::TOO_MANY_REQUESTS
                }
                None => StatusCode::UNAUTHORIZED,
            };
            let mut resp = respond(status, html::login_page(Some(&message), &form.username));
            if let Some(s) = retry_after_seconds
                && let Ok(v) = HeaderValue::from_str(&s.to_string())
            {
                resp.headers_mut().insert(header::RETRY_AFTER, v);
            }
            resp
        }
        Err(e) => {
            if matches!(e.code(), ErrorCode::Internal | ErrorCode::Unavailable) {
                tracing::error!(error = %e, "dashboard login failed");
            }
            respond(
                e.code().http_status(),
                html::login_page(Some(&e.user_message()), &form.username),
            )
        }
    }
}

/// A form that changes something: the CSRF token, and for settling, what and how.
#[derive(Deserialize)]
struct ActionForm {
    #[serde(default)]
    csrf: String,
    attempt_id: Option<String>,
    settlement: Option<String>,
}

/// The viewer of a state-changing POST, once its CSRF token is checked: `Err` is the answer.
async fn checked_viewer(
    state: &AppState,
    request: Request,
) -> Result<(Identity, String, ActionForm), Response> {
    let (identity, token) = match viewer(state, request.headers()).await {
        Viewer::User(i, t) => (i, t),
        Viewer::Anonymous | Viewer::Rejected(_) => {
            return Err(respond(
                StatusCode::UNAUTHORIZED,
                html::login_page(Some("Your session has ended: please log in again."), ""),
            ));
        }
    };
    let form = match axum::Form::<ActionForm>::from_request(request, state).await {
        Ok(axum::Form(f)) => f,
        Err(e) => {
            return Err(respond(
                StatusCode::BAD_REQUEST,
                html::message_page("Not done", &format!("The form could not be read: {e}"), ""),
            ));
        }
    };
    let expected = csrf_token(&token);
    if !same_secret(&form.csrf, &expected) {
        tracing::warn!(user = %crate::telemetry::user_text(&identity.login), "dashboard form without a valid CSRF token refused");
        return Err(respond(
            StatusCode::FORBIDDEN,
            html::message_page(
                "Not done",
                "This form is stale or did not come from the dashboard (its CSRF token does not \
                 match your session). Reload the dashboard and try again.",
                "",
            ),
        ));
    }
    Ok((identity, token, form))
}

async fn logout(State(state): State<AppState>, request: Request) -> Response {
    if let Err(r) = checked_viewer(&state, request).await {
        return r;
    }
    let mut resp = see_other(BASE);
    resp.headers_mut().insert(
        header::SET_COOKIE,
        session_cookie("", 0, state.settings.service.https),
    );
    resp
}

async fn settle(State(state): State<AppState>, request: Request) -> Response {
    let (identity, token, form) = match checked_viewer(&state, request).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let bar = html::user_bar(&identity.login, &csrf_token(&token));
    if !allowed(&identity, &state) {
        return forbidden_page(&identity, &token);
    }
    let bad = |m: &str| {
        respond(
            StatusCode::BAD_REQUEST,
            html::message_page("Not settled", m, &bar),
        )
    };
    let Some(id) = form
        .attempt_id
        .as_deref()
        .and_then(|s| s.trim().parse::<i32>().ok())
    else {
        return bad("attempt_id: give the number of the attempt to settle");
    };
    let (how, word) = match form.settlement.as_deref() {
        Some("mark_sent") => (Settlement::MarkSent, "mark_sent"),
        Some("release") => (Settlement::Release, "release"),
        _ => return bad("settlement: must be mark_sent or release"),
    };
    let result = match state.pool.get().await {
        Ok(mut c) => records::settle(&mut c, id, how, &identity.login, &Scope::of(&identity))
            .await
            .map(|_| ())
            .map_err(|e| (e.code(), e.user_message())),
        Err(e) => {
            let e = crate::db::DbError::from(e);
            Err((e.code(), e.user_message()))
        }
    };
    match result {
        Ok(()) => {
            tracing::info!(attempt_id = id, user = %crate::telemetry::user_text(&identity.login), settlement = ?how, "unknown notification outcome settled (dashboard)");
            see_other(&format!("{BASE}?settled={id}&how={word}#unknown"))
        }
        Err((code, message)) => respond(
            code.http_status(),
            html::message_page("Not settled", &message, &bar),
        ),
    }
}
