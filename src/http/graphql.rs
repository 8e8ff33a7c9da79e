//! `POST /api/graphql` (JSON `{query, variables?, operationName?}`) and GraphiQL on
//! `GET /api/graphql`. Answers as openIMIS does: 200 with `errors` for resolver errors, 400 (no
//! `data`) for unreadable requests and parse or validation errors (including the depth and
//! complexity limits, and the input limits of [`crate::limits`], checked before parsing), 401 for
//! a bad token or wrong credentials, 413 for a body over `max_body_bytes`, 415 for a body that is
//! not `application/json`.

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};
use std::net::IpAddr;

use super::AppState;
use super::error::ApiError;
use super::extract;
use crate::error::ErrorCode;

/// Documents longer than this are checked and parsed on a blocking thread.
const BLOCKING_PARSE_BYTES: usize = 16 * 1024;

/// Path of the GraphQL endpoint.
pub const PATH: &str = "/api/graphql";

/// The same endpoint under the gateway prefix of an openIMIS installation (POST only; the whole
/// schema).
pub const GATEWAY_PATH: &str = "/api/policy_notification/graphql";

/// The GraphQL routes (they enforce the body limit themselves, with a GraphQL-shaped error).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(PATH, get(graphiql).post(graphql))
        .route(GATEWAY_PATH, axum::routing::post(graphql))
}

/// The GraphiQL page: every script and style sheet from the service itself
/// (src/http/assets.rs), so that it works without internet.
async fn graphiql() -> Html<String> {
    use super::assets::{GRAPHIQL_CSS, GRAPHIQL_JS, REACT, REACT_DOM, url};
    Html(format!(
        r#"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="robots" content="noindex">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>openIMIS policy notification</title>
<style>body {{ height: 100%; margin: 0; width: 100%; overflow: hidden; }} #graphiql {{ height: 100vh; }}</style>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="{css}">
<script src="{react}"></script>
<script src="{react_dom}"></script>
<script src="{graphiql}"></script>
</head>
<body>
<div id="graphiql">Loading…</div>
<script>
ReactDOM.createRoot(document.getElementById("graphiql")).render(
  React.createElement(GraphiQL, {{
    fetcher: GraphiQL.createFetcher({{
      url: new URL("{PATH}", window.location.origin).toString(),
      fetch: (u, o = {{}}) => fetch(u, {{ ...o, credentials: "same-origin" }}),
    }}),
    defaultEditorToolsVisibility: true,
  }})
);
</script>
</body>
</html>
"#,
        css = url(GRAPHIQL_CSS),
        react = url(REACT),
        react_dom = url(REACT_DOM),
        graphiql = url(GRAPHIQL_JS),
    ))
}

/// Whether the request says its body is JSON (`application/json`, parameters allowed). The
/// openIMIS frontend sends nothing else; a form or `text/plain` (what a cross-site page can send
/// without a preflight) is refused.
fn is_json(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/json"))
}

fn limit_response(e: &crate::limits::LimitError) -> Response {
    ApiError::new(e.code(), e.to_string())
        .with_status(StatusCode::BAD_REQUEST)
        .into_response()
}

/// The client's address: the connection's peer, or, when the peer is a trusted reverse proxy,
/// the last address in `X-Forwarded-For` that is not one of the trusted proxies.
pub(super) fn client_address(request: &Request, trusted: &[IpAddr]) -> Option<IpAddr> {
    let peer = request
        .extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip())?;
    if !trusted.contains(&peer) {
        return Some(peer);
    }
    let forwarded: Vec<IpAddr> = request
        .headers()
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|a| a.trim().parse().ok())
        .collect();
    Some(
        forwarded
            .into_iter()
            .rev()
            .find(|a| !trusted.contains(a))
            .unwrap_or(peer),
    )
}

async fn graphql(State(state): State<AppState>, request: Request) -> Response {
    let peer = client_address(&request, &state.settings.service.trusted_proxies);
    let (parts, body) = request.into_parts();
    if !is_json(&parts.headers) {
        return ApiError::new(
            ErrorCode::BadUserInput,
            "POST /api/graphql takes a JSON body: send Content-Type: application/json",
        )
        .with_status(StatusCode::UNSUPPORTED_MEDIA_TYPE)
        .into_response();
    }
    let limit = state.settings.service.max_body_bytes;
    let bytes = match axum::body::to_bytes(Body::new(body), limit).await {
        Ok(b) => b,
        Err(_) => {
            return ApiError::new(
                ErrorCode::LimitExceeded,
                format!("the request body exceeds the limit of {limit} bytes"),
            )
            .with_status(StatusCode::PAYLOAD_TOO_LARGE)
            .into_response();
        }
    };
    // Bounded before any recursive parser runs (issue 11).
    if let Err(e) = crate::limits::check_json_text(&bytes, "the request body") {
        return limit_response(&e);
    }
    let mut gql_request: async_graphql::Request = match serde_json::from_slice(&bytes) {
        Ok(r) => r,
        Err(e) => {
            return ApiError::new(
                ErrorCode::BadUserInput,
                format!(
                    "the request body must be JSON {{\"query\": ..., \"variables\": ..., \"operationName\": ...}}: {e}"
                ),
            )
            .into_response();
        }
    };
    // A large document is scanned and parsed on a blocking thread, so that a slow parse never
    // holds up the runtime's workers (and /health).
    let checked = if gql_request.query.len() > BLOCKING_PARSE_BYTES {
        let query = std::mem::take(&mut gql_request.query);
        match tokio::task::spawn_blocking(move || {
            let checked = crate::limits::checked_document(&query);
            (checked, query)
        })
        .await
        {
            Ok((checked, query)) => {
                gql_request.query = query;
                checked
            }
            Err(e) => {
                tracing::error!(error = %e, "the document check failed");
                return ApiError::new(ErrorCode::Internal, "internal error").into_response();
            }
        }
    } else {
        crate::limits::checked_document(&gql_request.query)
    };
    match checked
        .and_then(|doc| crate::limits::check_variables(&gql_request.variables).map(|()| doc))
    {
        Ok(Some(doc)) => gql_request.set_parsed_query(doc),
        Ok(None) => {}
        Err(e) => return limit_response(&e),
    }
    let mut auth = extract::request_auth(&state, &parts.headers).await;
    auth.peer = peer;
    let gql_request = crate::graphql::request_data(gql_request.data(auth), &state.pool);
    let response = state.schema.execute(gql_request).await;
    render(response)
}

/// Turns a GraphQL response into openIMIS's envelope and status: 401 (errors only) when a token
/// or the credentials were refused; 400 (errors only) when the request failed before execution
/// (parse, validation, limits); otherwise 200 with `data`, where a field that failed is `null`.
pub fn render(response: async_graphql::Response) -> Response {
    if response.errors.is_empty() {
        // the common answer, written straight from the response (no JSON tree in between)
        #[derive(serde::Serialize)]
        struct DataOnly<'a> {
            data: &'a async_graphql::Value,
        }
        let body = match serde_json::to_vec(&DataOnly {
            data: &response.data,
        }) {
            Ok(body) => body,
            Err(e) => {
                tracing::error!(error = %e, "the response could not be written as JSON");
                return ApiError::new(ErrorCode::Internal, "internal error").into_response();
            }
        };
        let mut out = (
            StatusCode::OK,
            [(
                header::CONTENT_TYPE,
                header::HeaderValue::from_static("application/json"),
            )],
            body,
        )
            .into_response();
        out_headers(&mut out, &response);
        return out;
    }
    let unauthenticated = response.errors.iter().any(|e| {
        e.extensions
            .as_ref()
            .and_then(|x| x.get("code"))
            .is_some_and(|c| *c == async_graphql::Value::from(ErrorCode::Unauthenticated.as_str()))
    });
    let request_failed = !response.errors.is_empty()
        && response.data == async_graphql::Value::Null
        && response.errors.iter().all(|e| e.path.is_empty());
    let mut errors = serde_json::to_value(&response.errors).unwrap_or_else(|_| json!([]));
    if request_failed {
        // Parse and validation errors carry no code of their own: they are bad input, or a limit.
        for e in errors.as_array_mut().into_iter().flatten() {
            let has_code = e.pointer("/extensions/code").is_some();
            let Some(obj) = e.as_object_mut().filter(|_| !has_code) else {
                continue;
            };
            let message = obj.get("message").and_then(Value::as_str).unwrap_or("");
            let code = if message.contains("too complex")
                || message.contains("nested too deep")
                || message.contains("recursion depth")
                || message.contains("recursion limit")
                || message.contains("number of directives")
            {
                ErrorCode::LimitExceeded
            } else {
                ErrorCode::BadUserInput
            };
            let ext = obj.entry("extensions").or_insert_with(|| json!({}));
            if let Some(ext) = ext.as_object_mut() {
                ext.insert("code".into(), json!(code.as_str()));
            }
        }
    }
    let (status, body) = if unauthenticated {
        (StatusCode::UNAUTHORIZED, json!({"errors": errors}))
    } else if request_failed {
        (StatusCode::BAD_REQUEST, json!({"errors": errors}))
    } else {
        // field errors (an answer without errors was written above)
        let mut data = serde_json::to_value(&response.data).unwrap_or(Value::Null);
        if !data.is_object() {
            data = json!({});
        }
        for e in errors.as_array().into_iter().flatten() {
            if let Some(path) = e.get("path").and_then(Value::as_array) {
                null_at(&mut data, path);
            }
        }
        (StatusCode::OK, json!({"data": data, "errors": errors}))
    };
    let mut out = (status, axum::Json(body)).into_response();
    out_headers(&mut out, &response);
    out
}

/// The response's own headers, and `Cache-Control: no-store`.
fn out_headers(out: &mut Response, response: &async_graphql::Response) {
    for (name, value) in response.http_headers.iter() {
        out.headers_mut().append(name.clone(), value.clone());
    }
    out.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
}

/// Puts `null` where a failed field was left out of `data` (async-graphql omits it; GraphQL and
/// openIMIS answer `null`).
fn null_at(data: &mut Value, path: &[Value]) {
    let mut cur = data;
    for seg in path {
        match seg {
            Value::String(key) => {
                let Some(obj) = cur.as_object_mut() else {
                    return;
                };
                if !obj.contains_key(key) {
                    obj.insert(key.clone(), Value::Null);
                    return;
                }
                let Some(next) = obj.get_mut(key) else {
                    return;
                };
                cur = next;
            }
            Value::Number(n) => {
                let Some(next) = n
                    .as_u64()
                    .and_then(|i| cur.as_array_mut()?.get_mut(i as usize))
                else {
                    return;
                };
                cur = next;
            }
            _ => return,
        }
        if cur.is_null() {
            return;
        }
    }
}
