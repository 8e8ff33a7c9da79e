//! `GET /api/policy_notification/communication_by_notification_report/`: the report as PDF
//! (inline, the default), CSV or JSON (streamed). Parameters: `regionUuid` / `districtUuid` /
//! `officerUuid` / `mode`, or `familyFilterJson`; `format=pdf|csv|json` or the `Accept` header.
//! The JWT comes as a Bearer header or the `JWT` cookie (DECISIONS 11); the right is
//! `module.family_policy_notification_report_perms` (default 131224); districts per DECISIONS 10.

use std::collections::HashMap;
use std::time::Instant;

use axum::body::{Body, Bytes};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures::TryStreamExt;
use uuid::Uuid;

use super::AppState;
use super::error::ApiError;
use super::extract::OptionalIdentity;
use crate::auth::Identity;
use crate::error::{ErrorCode, UserFacing};
use crate::families::rules::NotificationMode;
use crate::report::{self, Format, ReportError, ReportQuery};

/// The route path (openIMIS's).
pub const PATH: &str = "/api/policy_notification/communication_by_notification_report/";

/// The file name offered to the browser (without extension).
const FILE_NAME: &str = "family_policy_notification_report";

/// A refused report request (the envelope of [`ApiError`], naming the parameter at fault).
struct ReportRejection(ApiError);

impl ReportRejection {
    fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ReportRejection(ApiError::new(code, message))
    }
}

impl From<ReportError> for ReportRejection {
    fn from(e: ReportError) -> Self {
        if matches!(e.code(), ErrorCode::Internal | ErrorCode::Unavailable) {
            tracing::error!(error = %e, "report failed");
        }
        let parameter = match &e {
            ReportError::BadInput { param, .. } => Some(*param),
            _ => None,
        };
        ReportRejection(ApiError::new(e.code(), e.user_message()).with_parameter(parameter))
    }
}

impl IntoResponse for ReportRejection {
    fn into_response(self) -> Response {
        self.0.into_response()
    }
}

fn bad(param: &'static str, message: impl Into<String>) -> ReportRejection {
    ReportError::bad(param, message).into()
}

/// A parameter's value, `None` when absent or blank.
fn param<'a>(params: &'a HashMap<String, String>, name: &str) -> Option<&'a str> {
    params.get(name).map(|s| s.trim()).filter(|s| !s.is_empty())
}

fn uuid_param(
    params: &HashMap<String, String>,
    name: &'static str,
) -> Result<Option<Uuid>, ReportRejection> {
    match param(params, name) {
        None => Ok(None),
        Some(s) => Uuid::parse_str(s)
            .map(Some)
            .map_err(|_| bad(name, format!("{s:?} is not a UUID"))),
    }
}

/// The report query from the request parameters.
fn query_from(params: &HashMap<String, String>) -> Result<ReportQuery, ReportRejection> {
    if let Some(json) = param(params, "familyFilterJson") {
        return Ok(report::filter_json::parse(json)?);
    }
    let mut q = ReportQuery::new(
        uuid_param(params, "regionUuid")?,
        uuid_param(params, "districtUuid")?,
    );
    q.officer = uuid_param(params, "officerUuid")?;
    if let Some(m) = param(params, "mode") {
        let n: i64 = m
            .parse()
            .map_err(|_| bad("mode", format!("{m:?} is not one of 0, 1, 2, 3, 4")))?;
        q.mode = NotificationMode::from_number(n).map_err(|e| bad("mode", e.to_string()))?;
    }
    if q.region.is_none() && q.district.is_none() {
        return Err(bad(
            "regionUuid",
            "a region or a district is required (regionUuid or districtUuid)",
        ));
    }
    Ok(q)
}

/// The format from `format`, else from `Accept`, else PDF.
fn format_from(
    params: &HashMap<String, String>,
    headers: &HeaderMap,
) -> Result<Format, ReportRejection> {
    if let Some(f) = param(params, "format") {
        return Format::parse(f)
            .ok_or_else(|| bad("format", format!("{f:?} is not one of pdf, csv, json")));
    }
    let accept = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect::<Vec<_>>()
        .join(",")
        .to_ascii_lowercase();
    let types: Vec<&str> = accept
        .split(',')
        .map(|t| t.split(';').next().unwrap_or("").trim())
        .collect();
    for t in types {
        match t {
            "application/pdf" => return Ok(Format::Pdf),
            "text/csv" => return Ok(Format::Csv),
            "application/json" => return Ok(Format::Json),
            _ => {}
        }
    }
    Ok(Format::Pdf)
}

/// Whether the user holds every right the report needs (openIMIS's `has_perms`).
fn may_run(identity: &Identity, rights: &[i32]) -> bool {
    rights.iter().all(|r| identity.has_right(*r))
}

fn disposition(kind: &str, format: Format) -> HeaderValue {
    HeaderValue::from_str(&format!(
        "{kind}; filename=\"{FILE_NAME}.{}\"",
        format.extension()
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("inline"))
}

/// The handler.
pub async fn communication_by_notification_report(
    State(state): State<AppState>,
    OptionalIdentity(identity): OptionalIdentity,
    Query(params): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    match run(state, identity, params, headers).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

async fn run(
    state: AppState,
    identity: Option<Identity>,
    params: HashMap<String, String>,
    headers: HeaderMap,
) -> Result<Response, ReportRejection> {
    let identity = identity.ok_or_else(|| {
        ReportRejection::new(
            ErrorCode::Unauthenticated,
            "authentication required: send the JWT as a Bearer token or the JWT cookie",
        )
    })?;
    if !may_run(
        &identity,
        &state
            .settings
            .module
            .family_policy_notification_report_perms,
    ) {
        return Err(ReportRejection::new(
            ErrorCode::Forbidden,
            "User not authorized for this operation",
        ));
    }
    let format = format_from(&params, &headers)?;
    let query = query_from(&params)?;
    let started = Instant::now();
    let prepared =
        report::prepare(&state.pool, &query, &crate::families::Scope::of(&identity)).await?;
    tracing::info!(
        user = %crate::telemetry::user_text(&identity.login),
        format = format.extension(),
        mode = query.mode.number(),
        rows = prepared.row_count(),
        "communication-by-notification report"
    );
    let mut response = match format {
        Format::Pdf => {
            let pdf = report::render_pdf(state.pool.clone(), prepared).await?;
            tracing::info!(
                bytes = pdf.len(),
                ms = started.elapsed().as_millis() as u64,
                "report PDF rendered"
            );
            let mut r = Response::new(Body::from(pdf));
            r.headers_mut()
                .insert(header::CONTENT_DISPOSITION, disposition("inline", format));
            r
        }
        Format::Csv | Format::Json => {
            let stream = if format == Format::Csv {
                report::csv_stream(state.pool.clone(), &prepared).boxed()
            } else {
                report::json_stream(state.pool.clone(), &prepared).boxed()
            };
            let body = stream.map_ok(Bytes::from).map_err(|e| {
                tracing::error!(error = %e, "report stream aborted");
                std::io::Error::other(e.to_string())
            });
            let mut r = Response::new(Body::from_stream(body));
            if format == Format::Csv {
                r.headers_mut().insert(
                    header::CONTENT_DISPOSITION,
                    disposition("attachment", format),
                );
            }
            r
        }
    };
    *response.status_mut() = StatusCode::OK;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(format.content_type()),
    );
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

use futures::StreamExt;
