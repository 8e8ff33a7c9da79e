//! openIMIS's (graphene's) scalars: `Date`, `DateTime` (naive ISO), `JSONString` (JSON carried as
//! a string, both ways) and `GenericScalar` (any value).

use async_graphql::{InputValueError, InputValueResult, Scalar, ScalarType, Value};
use chrono::{NaiveDate, NaiveDateTime, Timelike};

/// A calendar date, `"YYYY-MM-DD"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date(pub NaiveDate);

/// The `Date` scalar: `"YYYY-MM-DD"`.
#[Scalar(name = "Date")]
impl ScalarType for Date {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::String(s) => parse_date(s).map(Date).ok_or_else(|| {
                InputValueError::custom(format!(
                    "invalid date `{s}`: expected YYYY-MM-DD, year 1 to 9999"
                ))
            }),
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    fn is_valid(value: &Value) -> bool {
        matches!(value, Value::String(s) if parse_date(s).is_some())
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.format("%Y-%m-%d").to_string())
    }
}

/// Years a date may have: Python's (openIMIS's) range, well inside PostgreSQL's.
const YEARS: std::ops::RangeInclusive<i32> = 1..=9999;

fn parse_date(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .ok()
        .filter(|d| YEARS.contains(&chrono::Datelike::year(d)))
}

/// A date and time without zone (openIMIS runs with `USE_TZ = False`, UTC), as Python's
/// `isoformat()` writes it: `"2018-03-20T08:24:09.597000"`, without fraction when it is zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DateTime(pub NaiveDateTime);

impl DateTime {
    /// From a UTC instant (the database's `timestamptz`).
    pub fn from_utc(t: chrono::DateTime<chrono::Utc>) -> Self {
        DateTime(t.naive_utc())
    }
}

/// The `DateTime` scalar: naive ISO 8601.
#[Scalar(name = "DateTime")]
impl ScalarType for DateTime {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::String(s) => parse_datetime(s).map(DateTime).ok_or_else(|| {
                InputValueError::custom(format!(
                    "invalid date-time `{s}`: expected YYYY-MM-DDTHH:MM:SS[.ffffff], year 1 to 9999"
                ))
            }),
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    fn is_valid(value: &Value) -> bool {
        matches!(value, Value::String(s) if parse_datetime(s).is_some())
    }

    fn to_value(&self) -> Value {
        Value::String(format_datetime(&self.0))
    }
}

/// Writes a naive date-time as Python's `isoformat()` does.
pub fn format_datetime(t: &NaiveDateTime) -> String {
    if t.nanosecond() / 1000 == 0 {
        t.format("%Y-%m-%dT%H:%M:%S").to_string()
    } else {
        format!(
            "{}.{:06}",
            t.format("%Y-%m-%dT%H:%M:%S"),
            (t.nanosecond() / 1000) % 1_000_000
        )
    }
}

fn parse_datetime(s: &str) -> Option<NaiveDateTime> {
    parse_datetime_any(s).filter(|t| YEARS.contains(&chrono::Datelike::year(t)))
}

fn parse_datetime_any(s: &str) -> Option<NaiveDateTime> {
    let s = s.trim();
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
        return Some(t.naive_utc());
    }
    for fmt in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, fmt) {
            return Some(t);
        }
    }
    parse_date(s).and_then(|d| d.and_hms_opt(0, 0, 0))
}

/// JSON carried as a GraphQL string: parsed on input, re-encoded (Python's `json.dumps` spacing)
/// on output.
#[derive(Debug, Clone, PartialEq)]
pub struct JsonString(pub serde_json::Value);

/// Parses the text of a `JSONString`: nesting bounded before parsing, no NUL characters
/// (PostgreSQL's `jsonb` refuses `\u0000`).
pub fn parse_json_string(s: &str) -> Result<serde_json::Value, String> {
    crate::limits::check_json_text(s.as_bytes(), "the JSON").map_err(|e| e.to_string())?;
    let value: serde_json::Value =
        serde_json::from_str(s).map_err(|e| format!("invalid JSON: {e}"))?;
    crate::limits::check_json_nul(&value, "the JSON").map_err(|e| e.to_string())?;
    Ok(value)
}

/// Whether [`parse_json_string`] accepts `s`, without building the value (validation asks this
/// of every `JSONString` before the resolver parses it once). A NUL can only be written in JSON
/// text as the escape `\u0000`; text without that sequence is checked by a parse that keeps
/// nothing, text with it by the full parse.
pub fn is_json_string(s: &str) -> bool {
    if crate::limits::check_json_text(s.as_bytes(), "the JSON").is_err() {
        return false;
    }
    if s.contains("\\u0000") {
        return parse_json_string(s).is_ok();
    }
    serde_json::from_str::<serde::de::IgnoredAny>(s).is_ok()
}

/// The `JSONString` scalar.
#[Scalar(name = "JSONString")]
impl ScalarType for JsonString {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::String(s) => parse_json_string(s)
                .map(JsonString)
                .map_err(InputValueError::custom),
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    fn is_valid(value: &Value) -> bool {
        matches!(value, Value::String(s) if is_json_string(s))
    }

    fn to_value(&self) -> Value {
        Value::String(python_json(&self.0))
    }
}

/// Encodes JSON with Python's default separators (`", "` and `": "`), as graphene does.
pub fn python_json(value: &serde_json::Value) -> String {
    use serde::Serialize;
    let mut out = Vec::new();
    let mut ser = serde_json::Serializer::with_formatter(&mut out, PythonFormatter);
    match value.serialize(&mut ser) {
        Ok(()) => String::from_utf8(out).unwrap_or_else(|_| value.to_string()),
        Err(_) => value.to_string(),
    }
}

struct PythonFormatter;

impl serde_json::ser::Formatter for PythonFormatter {
    fn begin_array_value<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        if first {
            Ok(())
        } else {
            writer.write_all(b", ")
        }
    }

    fn begin_object_key<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        if first {
            Ok(())
        } else {
            writer.write_all(b", ")
        }
    }

    fn begin_object_value<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
    ) -> std::io::Result<()> {
        writer.write_all(b": ")
    }
}

/// Any JSON value (graphene's `GenericScalar`), e.g. the token payload.
#[derive(Debug, Clone, PartialEq)]
pub struct GenericScalar(pub serde_json::Value);

/// The `GenericScalar` scalar.
#[Scalar(name = "GenericScalar")]
impl ScalarType for GenericScalar {
    fn parse(value: Value) -> InputValueResult<Self> {
        value
            .into_json()
            .map(GenericScalar)
            .map_err(|e| InputValueError::custom(e.to_string()))
    }

    fn to_value(&self) -> Value {
        Value::from_json(self.0.clone()).unwrap_or(Value::Null)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datetime_formats_like_python() {
        let t = NaiveDateTime::parse_from_str("2018-03-20T08:24:09.597", "%Y-%m-%dT%H:%M:%S%.f")
            .unwrap();
        assert_eq!(format_datetime(&t), "2018-03-20T08:24:09.597000");
        let t = NaiveDateTime::parse_from_str("2018-03-20T08:24:09", "%Y-%m-%dT%H:%M:%S").unwrap();
        assert_eq!(format_datetime(&t), "2018-03-20T08:24:09");
        assert_eq!(
            parse_datetime("2018-03-20T08:24:09.597000"),
            Some(
                NaiveDateTime::parse_from_str("2018-03-20T08:24:09.597", "%Y-%m-%dT%H:%M:%S%.f")
                    .unwrap()
            )
        );
    }

    #[test]
    fn json_string_uses_python_separators() {
        let v = serde_json::json!({"a": 1, "b": [1, 2]});
        assert_eq!(python_json(&v), r#"{"a": 1, "b": [1, 2]}"#);
    }

    #[test]
    fn json_string_is_valid_exactly_when_it_parses() {
        let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
        for text in [
            r#"{"PolicyNotification": {"approvalOfNotification": true}}"#,
            r#"{"a": "\u0000"}"#,
            r#"{"a": "x\\u0000"}"#,
            r#"{"\u0000": 1}"#,
            r#"{"a": "\u00001"}"#,
            r#"{"a": 1} x"#,
            r#"{"a": 1"#,
            "",
            "null",
            "\"text\"",
            "[1, 2, {\"b\": [true, null]}]",
            "\"a\u{1}b\"",
            deep.as_str(),
        ] {
            assert_eq!(
                is_json_string(text),
                parse_json_string(text).is_ok(),
                "{text:?}"
            );
        }
        assert!(!is_json_string(r#"{"a": "\u0000"}"#));
        assert!(is_json_string(r#"{"a": "x\\u0000"}"#));
    }

    #[test]
    fn date_parses_strictly() {
        assert!(parse_date("2020-02-30").is_none());
        assert!(parse_date("2020-02-03").is_some());
    }
}
