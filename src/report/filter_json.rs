//! `familyFilterJson`: the families-page filter fragments the openIMIS frontend sends to the report
//! (DECISIONS 12). The fragments are GraphQL argument snippets (`parentLocation: "…",
//! parentLocationLevel: 1`, `officer: "…"`, `additionalFilter: "…"`, `headInsuree_…: "…"`); they are
//! joined and parsed as the arguments of a `families(...)` field with async-graphql's parser, never
//! by pattern matching, and every fragment is applied: the arguments become the families query's
//! own filter ([`crate::families::filter::FamilyFilter`]), so every fragment the families query
//! accepts works here, with its values bound, and an unknown one is refused by name.

use async_graphql::Value;
use async_graphql::parser::types::{DocumentOperations, OperationType, Selection};
use uuid::Uuid;

use super::data::{ReportError, ReportQuery, SubLocation};
use crate::families::filter::{ArgValue, QueryError, notification_mode};

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

/// The arguments of the `families` query typed `ID`: a relay global id (`Type:pk` in base64) is
/// read as its pk, as the families query reads it.
const ID_ARGUMENTS: &[&str] = &[
    "confirmationType",
    "familyType",
    "location_Id",
    "location_Parent_Id",
    "headInsuree_Photo_Id",
    "members_Photo_Id",
];

/// The pk of a relay global id, or `s` itself when it is not one.
fn id_value(s: &str) -> String {
    use base64::Engine as _;
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
    let t = s.trim();
    if t.is_empty() || t.bytes().all(|b| b.is_ascii_digit()) {
        return s.to_string();
    }
    STANDARD
        .decode(t)
        .or_else(|_| STANDARD_NO_PAD.decode(t))
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .and_then(|text| {
            let (ty, pk) = text.split_once(':')?;
            (!ty.is_empty() && !pk.is_empty()).then(|| pk.to_string())
        })
        .unwrap_or_else(|| s.to_string())
}

/// A lookup argument's value as the families query takes it.
fn lookup_value(name: &str, v: &Value) -> Result<ArgValue, ReportError> {
    Ok(match v {
        Value::String(s) if s.contains('\0') => {
            return Err(bad(format!("{name} holds a NUL character")));
        }
        Value::String(s) if ID_ARGUMENTS.contains(&name) => ArgValue::Str(id_value(s)),
        Value::String(s) => ArgValue::Str(s.clone()),
        Value::Enum(e) => ArgValue::Str(e.to_string()),
        Value::Boolean(b) => ArgValue::Bool(*b),
        Value::Number(n) => ArgValue::Int(
            n.as_i64()
                .ok_or_else(|| bad(format!("{name}: {n} is not an integer")))?,
        ),
        _ => return Err(bad(format!("{name} must be a single value"))),
    })
}

/// The words of one filter for the report's header (`Head last name contains: …`).
fn words(name: &str, v: &Value) -> String {
    let (who, rest) = if let Some(r) = name.strip_prefix("headInsuree_") {
        ("Head ", r)
    } else if let Some(r) = name.strip_prefix("members_") {
        ("Member ", r)
    } else if let Some(r) = name.strip_prefix("location_") {
        ("Location ", r)
    } else {
        ("", name)
    };
    const LOOKUPS: &[&str] = &[
        "Iexact",
        "Istartswith",
        "Icontains",
        "Isnull",
        "Lte",
        "Gte",
        "Lt",
        "Gt",
        "Ne",
    ];
    let (field, lookup) = match rest.rsplit_once('_') {
        Some((f, l)) if LOOKUPS.contains(&l) => (f, l),
        _ => (rest, ""),
    };
    let field_words = match field {
        "ChfId" => "insurance number".to_string(),
        "OtherNames" => "given names".to_string(),
        "Gender_Code" | "Gender" => "gender code".to_string(),
        "Dob" => "date of birth".to_string(),
        "confirmationNo" => "confirmation number".to_string(),
        other => crate::paging::snake_case(other)
            .replace('_', " ")
            .trim()
            .to_string(),
    };
    let plural = field_words.ends_with('s');
    let value = display(v);
    let phrase = match (field, lookup) {
        ("Dob", "Gte") => format!("born on or after: {value}"),
        ("Dob", "Lte") => format!("born on or before: {value}"),
        ("Dob", "Gt") => format!("born after: {value}"),
        ("Dob", "Lt") => format!("born before: {value}"),
        (_, "Istartswith") if plural => format!("{field_words} start with: {value}"),
        (_, "Istartswith") => format!("{field_words} starts with: {value}"),
        (_, "Icontains") if plural => format!("{field_words} contain: {value}"),
        (_, "Icontains") => format!("{field_words} contains: {value}"),
        (_, "Isnull") => match v {
            Value::Boolean(true) => format!("{field_words}: none"),
            _ => format!("{field_words}: any"),
        },
        (_, "Lt") => format!("{field_words} before: {value}"),
        (_, "Lte") => format!("{field_words} on or before: {value}"),
        (_, "Gt") => format!("{field_words} after: {value}"),
        (_, "Gte") => format!("{field_words} on or after: {value}"),
        (_, "Ne") => format!("{field_words} is not: {value}"),
        _ => format!("{field_words}: {value}"),
    };
    if who.is_empty() {
        let mut c = phrase.chars();
        c.next()
            .map(|f| f.to_uppercase().chain(c).collect())
            .unwrap_or_default()
    } else {
        format!("{who}{phrase}")
    }
}

/// Maps parsed `families` arguments to a report query: the area, the officer and the mode the
/// report resolves itself; every other argument goes into the families filter
/// ([`crate::families::filter::FamilyFilter`]), whose predicate the families query builds (values bound).
pub fn to_query(args: Vec<(String, Value)>) -> Result<ReportQuery, ReportError> {
    let mut q = ReportQuery::new(None, None);
    q.from_filter_json = true;
    let mut location: Option<Uuid> = None;
    let mut level: Option<i64> = None;
    let mut member_words: Vec<String> = Vec::new();
    for (name, value) in &args {
        if matches!(value, Value::Null) {
            // A GraphQL null is an argument not given.
            continue;
        }
        match name.as_str() {
            "parentLocation" => location = Some(uuid(name, value)?),
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
                q.mode = notification_mode(&json).map_err(|e| bad(e.to_string()))?;
            }
            "showHistory" => {
                if boolean(name, value)? {
                    q.other_filters
                        .push("Show history: ignored (the report lists current families)".into());
                }
            }
            "nullAsFalsePoverty" => {
                let b = boolean(name, value)?;
                q.families.null_as_false_poverty = Some(b);
                q.other_filters.push(format!("Poverty status: {b}"));
            }
            "clientMutationId" => {
                let s = string(name, value)?;
                q.other_filters.push(format!("Client mutation id: {s}"));
                q.families.client_mutation_id = Some(s);
            }
            "first" | "last" | "after" | "before" | "offset" | "orderBy" => {}
            other => {
                q.families
                    .lookups
                    .push((other.to_string(), lookup_value(other, value)?));
                if other.starts_with("members_") {
                    member_words.push(words(other, value));
                } else {
                    q.other_filters.push(words(other, value));
                }
            }
        }
    }
    q.other_filters.extend(member_words);
    // Every argument is checked now (unknown ones named), before anything is read.
    q.families
        .predicate()
        .map_err(|e| bad(format!("{e}: {}", filter_value(&args, &e))))?;
    match (location, level) {
        (Some(uuid), Some(level)) => match level {
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

/// The value given for the argument an error names (for the message).
fn filter_value(args: &[(String, Value)], e: &QueryError) -> String {
    match e {
        QueryError::BadArgument { argument, .. } => args
            .iter()
            .find(|(n, _)| n == argument)
            .map(|(_, v)| display(v))
            .unwrap_or_default(),
        QueryError::Db(_) => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::families::rules::NotificationMode;

    fn frags(v: &[&str]) -> String {
        let map: serde_json::Map<String, serde_json::Value> = v
            .iter()
            .enumerate()
            .map(|(i, s)| (i.to_string(), serde_json::Value::from(*s)))
            .collect();
        serde_json::Value::Object(map).to_string()
    }

    #[test]
    fn words_for_the_header() {
        let s = |x: &str| Value::String(x.into());
        assert_eq!(
            words("headInsuree_LastName_Icontains", &s("ASS")),
            "Head last name contains: ASS"
        );
        assert_eq!(
            words("members_OtherNames_Icontains", &s("a")),
            "Member given names contain: a"
        );
        assert_eq!(
            words("headInsuree_Dob_Gte", &s("2000-01-01")),
            "Head born on or after: 2000-01-01"
        );
        assert_eq!(
            words("confirmationNo_Istartswith", &s("12")),
            "Confirmation number starts with: 12"
        );
        assert_eq!(
            words("headInsuree_ChfId", &s("7")),
            "Head insurance number: 7"
        );
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
        assert_eq!(
            q.families.lookups,
            vec![(
                "headInsuree_ChfId_Istartswith".to_string(),
                ArgValue::Str("07'07".into())
            )]
        );
        let p = q.families.predicate().unwrap().unwrap();
        assert!(!p.render(1).contains("07"), "values are bound");
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
