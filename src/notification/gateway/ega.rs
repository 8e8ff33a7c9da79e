//! eGA (Tanzania e-Government Authority) SMS gateway, v1 `quick_sms`: the signed JSON request
//! byte-identical to openIMIS's (DECISIONS 19).

use std::fmt::Write as _;
use std::time::Duration;

use async_trait::async_trait;
use base64::Engine as _;
use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};

use super::{Gateway, GatewayError, SendOutcome};
use crate::config::{ProviderSettings, Settings};

/// The gateway's clock: East Africa Time, UTC+3.
const GATEWAY_OFFSET_HOURS: i64 = 3;

/// What a header's value is made of (`HeaderValues` entries).
#[derive(Debug, Clone, PartialEq, Eq)]
enum HeaderSource {
    /// The HMAC-SHA256 signature (`HashMessage1` or `PrivateKey`).
    Signature,
    /// A provider parameter, e.g. `UserId`, `RequestType`.
    Param(String),
}

/// The configured eGA provider.
pub struct EgaGateway {
    name: String,
    client: reqwest::Client,
    url: String,
    private_key: SecretString,
    sender_id: String,
    service_id: String,
    headers: Vec<(String, HeaderSource, String)>,
}

/// A built request: what goes on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EgaRequest {
    /// The URL (`GateUrl` + `SmsResource`).
    pub url: String,
    /// The outer JSON body.
    pub body: String,
    /// The signed inner JSON (the value of `data`).
    pub inner: String,
    /// Headers in configured order, `content-type` first.
    pub headers: Vec<(String, String)>,
}

impl EgaGateway {
    /// Builds the gateway from its configured parameters; a missing required one is an error.
    pub fn from_settings(p: &ProviderSettings, _settings: &Settings) -> Result<Self, GatewayError> {
        let err = |message: String| GatewayError::Config {
            provider: p.name.clone(),
            message,
        };
        let required = |key: &str| {
            p.param_str(key)
                .filter(|s| !s.is_empty())
                .ok_or_else(|| err(format!("parameter `{key}` is required")))
        };
        let gate_url = required("GateUrl")?;
        let resource = p.param_str("SmsResource").unwrap_or_default();
        let private_key = SecretString::from(required("PrivateKey")?);
        let sender_id = required("SenderId")?;
        let service_id = required("ServiceId")?;
        let keys = p.param_str("HeaderKeys").unwrap_or_default();
        let values = p.param_str("HeaderValues").unwrap_or_default();
        let (keys, values) = if keys.trim().is_empty() && values.trim().is_empty() {
            (
                "X-Auth-Request-Hash,X-Auth-Request-Id,X-Auth-Request-Type".to_string(),
                "HashMessage1,UserId,RequestType".to_string(),
            )
        } else {
            (keys, values)
        };
        let keys: Vec<&str> = keys.split(',').map(str::trim).collect();
        let values: Vec<&str> = values.split(',').map(str::trim).collect();
        if keys.len() != values.len() {
            return Err(err(format!(
                "`HeaderKeys` has {} entries but `HeaderValues` has {}",
                keys.len(),
                values.len()
            )));
        }
        let mut headers = Vec::new();
        for (k, v) in keys.into_iter().zip(values) {
            if reqwest::header::HeaderName::from_bytes(k.as_bytes()).is_err() {
                return Err(err(format!("`{k}` is not a valid header name")));
            }
            let source =
                if v.eq_ignore_ascii_case("HashMessage1") || v.eq_ignore_ascii_case("PrivateKey") {
                    HeaderSource::Signature
                } else {
                    HeaderSource::Param(v.to_string())
                };
            let fixed = match &source {
                HeaderSource::Signature => String::new(),
                HeaderSource::Param(name) => {
                    let val = match name.as_str() {
                        n if n.eq_ignore_ascii_case("RequestType") => {
                            p.param_str(n).unwrap_or_else(|| "api".into())
                        }
                        n => p.param_str(n).ok_or_else(|| {
                            err(format!(
                                "header `{k}` takes parameter `{n}`, which is not set"
                            ))
                        })?,
                    };
                    if reqwest::header::HeaderValue::from_str(&val).is_err() {
                        return Err(err(format!(
                            "parameter `{name}` is not a valid header value"
                        )));
                    }
                    val
                }
            };
            headers.push((k.to_string(), source, fixed));
        }
        let timeout = Duration::from_secs(p.timeout_seconds);
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .build()
            .map_err(|e| err(format!("HTTP client: {e}")))?;
        Ok(EgaGateway {
            name: p.name.clone(),
            client,
            url: format!("{gate_url}{resource}"),
            private_key,
            sender_id,
            service_id,
            headers,
        })
    }

    /// Builds the request for `text` to `recipients` as sent at `now`.
    pub fn build_request(&self, recipients: &str, text: &str, now: DateTime<Utc>) -> EgaRequest {
        let at = (now + chrono::Duration::hours(GATEWAY_OFFSET_HOURS))
            .format("%Y-%m-%d %H:%M:%S")
            .to_string();
        let inner = inner_json(text, &at, &self.sender_id, &self.service_id, recipients);
        let signature = sign(self.private_key.expose_secret(), &inner);
        let mut body = String::with_capacity(inner.len() * 2 + 40);
        body.push_str("{\"data\":");
        python_json_string(&mut body, &inner);
        body.push_str(",\"datetime\":");
        python_json_string(&mut body, &at);
        body.push('}');
        let mut headers = vec![("content-type".to_string(), "application/json".to_string())];
        for (k, source, fixed) in &self.headers {
            let v = match source {
                HeaderSource::Signature => signature.clone(),
                HeaderSource::Param(_) => fixed.clone(),
            };
            headers.push((k.clone(), v));
        }
        EgaRequest {
            url: self.url.clone(),
            body,
            inner,
            headers,
        }
    }
}

#[async_trait]
impl Gateway for EgaGateway {
    fn name(&self) -> &str {
        &self.name
    }

    async fn send(&self, phone: &str, text: &str) -> SendOutcome {
        let req = self.build_request(phone, text, Utc::now());
        let mut builder = self.client.post(&req.url);
        for (k, v) in &req.headers {
            builder = builder.header(k.as_str(), v.as_str());
        }
        let response = match builder.body(req.body).send().await {
            Ok(r) => r,
            Err(e) if e.is_connect() => {
                return SendOutcome::Failed(format!(
                    "cannot connect to the eGA gateway: {}",
                    short(&e)
                ));
            }
            Err(e) if e.is_builder() => {
                return SendOutcome::Failed(format!("request not built: {}", short(&e)));
            }
            Err(e) if e.is_timeout() => {
                return SendOutcome::Unknown("the eGA gateway did not answer in time".into());
            }
            Err(e) => {
                return SendOutcome::Unknown(format!("the request broke off: {}", short(&e)));
            }
        };
        let status = response.status();
        let bytes = match response.bytes().await {
            Ok(b) => b,
            Err(e) if status.is_success() => {
                return SendOutcome::Unknown(format!("answer not read: {}", short(&e)));
            }
            Err(_) => Default::default(),
        };
        classify(status.as_u16(), &bytes)
    }
}

/// openIMIS's success rule: HTTP 200 and a falsy `error`; any other status is a definite failure.
pub fn classify(status: u16, body: &[u8]) -> SendOutcome {
    let excerpt = || {
        let s = String::from_utf8_lossy(body);
        s.chars().take(200).collect::<String>()
    };
    if status != 200 {
        return SendOutcome::Failed(format!("HTTP {status}: {}", excerpt()));
    }
    match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(v) => {
            let error = v.get("error").is_some_and(truthy);
            if error {
                SendOutcome::Failed(format!("the gateway refused the message: {}", excerpt()))
            } else {
                SendOutcome::Delivered
            }
        }
        Err(_) => {
            SendOutcome::Unknown(format!("HTTP 200 with an unreadable answer: {}", excerpt()))
        }
    }
}

fn truthy(v: &serde_json::Value) -> bool {
    match v {
        serde_json::Value::Null => false,
        serde_json::Value::Bool(b) => *b,
        serde_json::Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        serde_json::Value::String(s) => !s.is_empty(),
        serde_json::Value::Array(a) => !a.is_empty(),
        serde_json::Value::Object(o) => !o.is_empty(),
    }
}

fn short(e: &reqwest::Error) -> String {
    // reqwest errors carry the URL, which holds no secret here; keep the message short.
    let mut s = e.to_string();
    s.truncate(200);
    s
}

/// The signed inner JSON in openIMIS's key order with Python's compact, ASCII-only encoding.
pub fn inner_json(
    message: &str,
    datetime: &str,
    sender_id: &str,
    service_id: &str,
    recipients: &str,
) -> String {
    let mut s = String::with_capacity(message.len() * 2 + 120);
    let fields = [
        ("message", message),
        ("datetime", datetime),
        ("sender_id", sender_id),
        ("mobile_service_id", service_id),
        ("recipients", recipients),
    ];
    s.push('{');
    for (i, (k, v)) in fields.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        python_json_string(&mut s, k);
        s.push(':');
        python_json_string(&mut s, v);
    }
    s.push('}');
    s
}

/// Base64 of HMAC-SHA256(`key`, `message`).
pub fn sign(key: &str, message: &str) -> String {
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, key.as_bytes());
    let tag = ring::hmac::sign(&key, message.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(tag.as_ref())
}

/// Appends `s` as a JSON string the way Python's `json.dumps` writes it (`ensure_ascii=True`):
/// printable ASCII as is, the usual short escapes, everything else as `\u` and four hex digits (surrogate pairs above U+FFFF).
pub fn python_json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            ' '..='~' => out.push(c),
            _ => {
                let mut buf = [0u16; 2];
                for unit in c.encode_utf16(&mut buf) {
                    let _ = write!(out, "\\u{unit:04x}");
                }
            }
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openimis_test_vector() {
        let inner = inner_json(
            "test",
            "2021-07-13 11:16:34",
            "sender_id",
            "service_id",
            "1",
        );
        assert_eq!(
            inner,
            r#"{"message":"test","datetime":"2021-07-13 11:16:34","sender_id":"sender_id","mobile_service_id":"service_id","recipients":"1"}"#
        );
        assert_eq!(
            sign("private_key", &inner),
            "lI/b3Yz3uIByNpQy+D2xcfBK5I9uoPUAE/sqtw1COxw="
        );
    }

    #[test]
    fn python_escapes() {
        let mut s = String::new();
        python_json_string(&mut s, "assuré \"q\" \\ \n\u{7f}\u{1}😀");
        assert_eq!(s, r#""assur\u00e9 \"q\" \\ \n\u007f\u0001\ud83d\ude00""#);
    }

    #[test]
    fn success_rule() {
        assert_eq!(classify(200, br#"{"error":false}"#), SendOutcome::Delivered);
        assert_eq!(classify(200, br#"{"data":1}"#), SendOutcome::Delivered);
        assert!(matches!(
            classify(200, br#"{"error":true}"#),
            SendOutcome::Failed(_)
        ));
        assert!(matches!(classify(500, b"oops"), SendOutcome::Failed(_)));
        assert!(matches!(classify(200, b"<html>"), SendOutcome::Unknown(_)));
    }
}
