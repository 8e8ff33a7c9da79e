//! `familyFilterJson`: the families-page filter fragments the openIMIS frontend sends to the report
//! (DECISIONS 12). The fragments are GraphQL argument snippets (`parentLocation: "…",
//! parentLocationLevel: 1`, `officer: "…"`, `additionalFilter: "…"`, `headInsuree_…: "…"`); they are
//! joined and parsed as the arguments of a `families(...)` field with async-graphql's parser, never
//! by pattern matching, and every fragment is applied.

use async_graphql::Value;
use async_graphql::parser::types::{DocumentOperations, OperationType, Selection};
use uuid::Uuid;

use super::data::{FamilyPredicate, ReportError, ReportQuery, SubLocation};
use crate::families::rules::NotificationMode;

const PARAM: &str = "familyFilterJson";

fn bad(message: impl Into<String>) -> ReportError {
    ReportError::bad(PARAM, message)
}

/// Parses `familyFilterJson` into a report query.
pub fn parse(json: &str) -> Result<ReportQuery, ReportError> {
    crate::limits::check_json_text(json.as_bytes(), PARAM).map_err(|e| bad(e.to_string()))?;
    let object: serde_json::Map<String, serde_json::Value> = serde_json::from_str(json)
        .map_err(|e| bad(format!("not a JSON object of filter strings: {e}")))?;
    let mut fragments = Vec::with_capacity(object.len());
    for (key, value) in object {
        match value {
            serde_json::Value::String(s) if !s.trim().is_empty() => fragments.push(s),
            serde_json::Value::String(_) | serde_json::Value::Null => {}
            _ => return Err(bad(format!("the value of key {key:?} is not a string"))),
        }
    }
    let args = arguments(&fragments)?;
    to_query(args)
}

/// The fragments parsed as the arguments of one `families(...)` field.
pub fn arguments(fragments: &[String]) -> Result<Vec<(String, Value)>, ReportError> {
    if fragments.is_empty() {
        return Ok(Vec::new());
    }
    let doc = format!(
        "query {{ families({}) {{ totalCount }} }}",
        fragments.join(", ")
    );
    // Bounded before the (recursive) parser runs.
    crate::limits::check_graphql_text(&doc, "the filters").map_err(|e| bad(e.to_string()))?;
    let parsed = async_graphql::parser::parse_query(&doc)
        .map_err(|e| bad(format!("the filters are not valid GraphQL arguments: {e}")))?;
    if !parsed.fragments.is_empty() {
        return Err(bad("the filters are not valid GraphQL arguments"));
    }
    let op = match parsed.operations {
        DocumentOperations::Single(op) => op.node,
        DocumentOperations::Multiple(_) => {
            return Err(bad("the filters are not valid GraphQL arguments"));
        }
    };
    let items = &op.selection_set.node.items;
    let field = match (op.ty, items.as_slice()) {
        (OperationType::Query, [item]) => match &item.node {
            Selection::Field(f) if f.node.name.node == "families" => &f.node,
            _ => return Err(bad("the filters are not valid GraphQL arguments")),
        },
        _ => return Err(bad("the filters are not valid GraphQL arguments")),
    };
    let sub = &field.selection_set.node.items;
    if sub.len() != 1 || !op.variable_definitions.is_empty() {
        return Err(bad("the filters are not valid GraphQL arguments"));
    }
    let mut out = Vec::with_capacity(field.arguments.len());
    for (name, value) in &field.arguments {
        let name = name.node.to_string();
        let value = value
            .node
            .clone()
            .into_const()
            .ok_or_else(|| bad(format!("{name}: variables are not allowed")))?;
        out.push((name, value));
    }
    Ok(out)
}

fn string(name: &str, v: &Value) -> Result<String, ReportError> {
    match v {
        Value::String(s) => Ok(s.clone()),
        Value::Enum(e) => Ok(e.to_string()),
        _ => Err(bad(format!("{name} must be a string"))),
    }
}

fn uuid(name: &str, v: &Value) -> Result<Uuid, ReportError> {
    let s = string(name, v)?;
    Uuid::parse_str(s.trim()).map_err(|_| bad(format!("{name}: {s:?} is not a UUID")))
}

fn boolean(name: &str, v: &Value) -> Result<bool, ReportError> {
    match v {
        Value::Boolean(b) => Ok(*b),
        _ => Err(bad(format!("{name} must be true or false"))),
    }
}

fn display(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// SQL string literal (standard conforming strings): quotes doubled; NUL rejected.
fn literal(name: &str, s: &str) -> Result<String, ReportError> {
    if s.contains('\0') {
        return Err(bad(format!("{name} holds a NUL character")));
    }
    if s.chars().count() > 4 * crate::limits::MAX_FILTER_CHARS {
        return Err(bad(format!("{name}: the value is too long")));
    }
    Ok(format!("'{}'", s.replace('\'', "''")))
}

/// A LIKE pattern literal for "starts with" / "contains", with the wildcards of `s` escaped.
fn like(name: &str, s: &str, contains: bool) -> Result<String, ReportError> {
    if s.chars().count() > crate::limits::MAX_FILTER_CHARS {
        return Err(bad(format!(
            "{name}: longer than {} characters",
            crate::limits::MAX_FILTER_CHARS
        )));
    }
    let escaped = s
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    let pattern = if contains {
        format!("%{escaped}%")
    } else {
        format!("{escaped}%")
    };
    literal(name, &pattern)
}

/// The insuree condition of one `headInsuree_*` / `members_*` filter over alias `i`, and its words.
fn insuree_condition(name: &str, field: &str, v: &Value) -> Result<(String, String), ReportError> {
    let text = || string(name, v);
    let (sql, words) = match field {
        "ChfId_Istartswith" => (
            format!(
                "i.\"CHFID\" ILIKE {} ESCAPE '\\'",
                like(name, &text()?, false)?
            ),
            format!("insurance number starts with: {}", text()?),
        ),
        "ChfId" | "ChfId_Iexact" => (
            format!("lower(i.\"CHFID\") = lower({})", literal(name, &text()?)?),
            format!("insurance number: {}", text()?),
        ),
        "LastName_Icontains" => (
            format!(
                "i.\"LastName\" ILIKE {} ESCAPE '\\'",
                like(name, &text()?, true)?
            ),
            format!("last name contains: {}", text()?),
        ),
        "OtherNames_Icontains" => (
            format!(
                "i.\"OtherNames\" ILIKE {} ESCAPE '\\'",
                like(name, &text()?, true)?
            ),
            format!("given names contain: {}", text()?),
        ),
        "Phone_Icontains" => (
            format!(
                "i.\"Phone\" ILIKE {} ESCAPE '\\'",
                like(name, &text()?, true)?
            ),
            format!("phone contains: {}", text()?),
        ),
        "Email_Icontains" => (
            format!(
                "i.\"Email\" ILIKE {} ESCAPE '\\'",
                like(name, &text()?, true)?
            ),
            format!("email contains: {}", text()?),
        ),
        "Gender_Code" => (
            format!("i.\"Gender\" = {}", literal(name, &text()?)?),
            format!("gender code: {}", text()?),
        ),
        "Dob_Gte" | "Dob_Lte" => {
            let s = text()?;
            let date = chrono::NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
                .ok()
                .filter(|d| (1..=9999).contains(&chrono::Datelike::year(d)))
                .ok_or_else(|| bad(format!("{name}: {s:?} is not a date (YYYY-MM-DD)")))?;
            let (op, w) = if field == "Dob_Gte" {
                (">=", "born on or after")
            } else {
                ("<=", "born on or before")
            };
            (
                format!("i.\"DOB\" {op} DATE '{}'", date.format("%Y-%m-%d")),
                format!("{w}: {s}"),
            )
        }
        _ => return Err(bad(format!("unsupported filter {name}"))),
    };
    Ok((sql, words))
}

/// Maps parsed `families` arguments to a report query.
pub fn to_query(args: Vec<(String, Value)>) -> Result<ReportQuery, ReportError> {
    let mut q = ReportQuery::new(None, None);
    q.from_filter_json = true;
    let mut location: Option<(Uuid, i64)> = None;
    let mut level: Option<i64> = None;
    let mut member_conditions: Vec<String> = Vec::new();
    let mut member_words: Vec<String> = Vec::new();
    for (name, value) in &args {
        match name.as_str() {
            "parentLocation" => location = Some((uuid(name, value)?, -1)),
            "parentLocationLevel" => match value {
                Value::Number(n) => match n.as_i64() {
                    Some(l @ 0..=3) => level = Some(l),
                    _ => return Err(bad("parentLocationLevel must be 0, 1, 2 or 3")),
                },
                _ => return Err(bad("parentLocationLevel must be 0, 1, 2 or 3")),
            },
            "officer" => q.officer = Some(uuid(name, value)?),
            "additionalFilter" => {
                let s = string(name, value)?;
                crate::limits::check_json_text(s.as_bytes(), "additionalFilter")
                    .map_err(|e| bad(e.to_string()))?;
                let json: serde_json::Value = serde_json::from_str(&s)
                    .map_err(|e| bad(format!("additionalFilter is not JSON: {e}")))?;
                if let Some(pn) = json.get("policyNotification") {
                    let mode = match pn.get("mode") {
                        None => serde_json::Value::from(0),
                        Some(m) => m
                            .get("value")
                            .cloned()
                            .ok_or_else(|| bad("additionalFilter: mode has no value"))?,
                    };
                    q.mode = NotificationMode::from_json(&mode)
                        .map_err(|e| bad(format!("additionalFilter: {e}")))?;
                }
            }
            "showHistory" => {
                if boolean(name, value)? {
                    q.other_filters
                        .push("Show history: ignored (the report lists current families)".into());
                }
            }
            "nullAsFalsePoverty" => {
                let b = boolean(name, value)?;
                q.predicates.push(FamilyPredicate::trusted(if b {
                    "f.\"Poverty\" = true".into()
                } else {
                    "(f.\"Poverty\" = false OR f.\"Poverty\" IS NULL)".into()
                }));
                q.other_filters.push(format!("Poverty status: {b}"));
            }
            "confirmationNo_Istartswith" => {
                let s = string(name, value)?;
                q.predicates.push(FamilyPredicate::trusted(format!(
                    "f.\"ConfirmationNo\" ILIKE {} ESCAPE '\\'",
                    like(name, &s, false)?
                )));
                q.other_filters
                    .push(format!("Confirmation number starts with: {s}"));
            }
            "first" | "last" | "after" | "before" | "offset" | "orderBy" => {}
            other => {
                if let Some(field) = other.strip_prefix("headInsuree_") {
                    let (sql, words) = insuree_condition(other, field, value)?;
                    q.predicates.push(FamilyPredicate::trusted(format!(
                        "EXISTS (SELECT 1 FROM \"tblInsuree\" i WHERE i.\"InsureeID\" = f.\"InsureeID\" \
                         AND i.\"ValidityTo\" IS NULL AND {sql})"
                    )));
                    q.other_filters.push(format!("Head {words}"));
                } else if let Some(field) = other.strip_prefix("members_") {
                    let (sql, words) = insuree_condition(other, field, value)?;
                    member_conditions.push(sql);
                    member_words.push(format!("Member {words}"));
                } else {
                    return Err(bad(format!(
                        "unsupported filter {other}: {}",
                        display(value)
                    )));
                }
            }
        }
    }
    if !member_conditions.is_empty() {
        // One member must satisfy all the member conditions, as in openIMIS.
        q.predicates.push(FamilyPredicate::trusted(format!(
            "EXISTS (SELECT 1 FROM \"tblInsuree\" i WHERE i.\"FamilyID\" = f.\"FamilyID\" \
             AND i.\"ValidityTo\" IS NULL AND {})",
            member_conditions.join(" AND ")
        )));
        q.other_filters.extend(member_words);
    }
    match (location, level) {
        (Some((uuid, _)), Some(level)) => match level {
            0 => q.region = Some(uuid),
            1 => q.district = Some(uuid),
            2 => q.sub_location = Some(SubLocation::Municipality(uuid)),
            _ => q.sub_location = Some(SubLocation::Village(uuid)),
        },
        (Some(_), None) => {
            return Err(bad(
                "parentLocation needs parentLocationLevel (0 region, 1 district, 2 municipality, 3 village)",
            ));
        }
        (None, _) => {
            return Err(bad(
                "a parentLocation filter (region, district, municipality or village) is required",
            ));
        }
    }
    Ok(q)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frags(v: &[&str]) -> String {
        let map: serde_json::Map<String, serde_json::Value> = v
            .iter()
            .enumerate()
            .map(|(i, s)| (i.to_string(), serde_json::Value::from(*s)))
            .collect();
        serde_json::Value::Object(map).to_string()
    }

    #[test]
    fn frontend_fragments() {
        let json = frags(&[
            "parentLocation: \"5345ef14-0e4c-4b3a-9a44-6a3e4d7b1c11\", parentLocationLevel: 1",
            "headInsuree_ChfId_Istartswith: \"07'07\"",
            "additionalFilter: \"{\\\"policyNotification\\\":{\\\"mode\\\":{\\\"id\\\":\\\"mode\\\",\\\"value\\\":2}}}\"",
        ]);
        let q = parse(&json).unwrap();
        assert_eq!(q.mode, NotificationMode::ApprovalOnly);
        assert!(q.district.is_some());
        assert_eq!(q.predicates.len(), 1);
        assert!(q.predicates[0].sql().contains("'07''07%'"));
        assert_eq!(
            q.other_filters,
            vec!["Head insurance number starts with: 07'07"]
        );
    }

    #[test]
    fn rejects_bad_input() {
        assert!(parse("not json").is_err());
        assert!(parse("[1]").is_err());
        assert!(parse(&frags(&["parentLocation: \"x\", parentLocationLevel: 1"])).is_err());
        assert!(
            parse(&frags(&[
                "officer: \"5345ef14-0e4c-4b3a-9a44-6a3e4d7b1c11\""
            ]))
            .is_err()
        );
        let injected = frags(&[
            "parentLocation: \"5345ef14-0e4c-4b3a-9a44-6a3e4d7b1c11\", parentLocationLevel: 1) { totalCount } } mutation { x(a: 1",
        ]);
        assert!(parse(&injected).is_err());
        let unknown = frags(&[
            "parentLocation: \"5345ef14-0e4c-4b3a-9a44-6a3e4d7b1c11\", parentLocationLevel: 1",
            "bogus: 1",
        ]);
        assert!(parse(&unknown).is_err());
    }
}
