//! What a family filter means, in one place: the arguments of the `families` query
//! ([`FamilyFilter`]: the frontends' filter fields, `parentLocation`, `officer`,
//! `additionalFilter` with the notification modes 0–4, the generated lookups) turned into one
//! typed SQL predicate over the family alias `f` ([`FamilyFilter::predicate`], a
//! [`Fragment`] whose values are bound, never spliced). The families query, the report
//! (`familyFilterJson` is parsed into a [`FamilyFilter`]) and anything else that selects
//! families by the families page's filters build their predicate here. Who may see which
//! families is not a filter: it is [`crate::families::Scope`], added by the consumer.

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::Value;

use crate::db::sql::{Bind, Fragment};
use crate::families::rules::NotificationMode;

/// A typed argument value.
#[derive(Debug, Clone, PartialEq)]
pub enum ArgValue {
    /// A string (also IDs and codes).
    Str(String),
    /// An integer.
    Int(i64),
    /// A boolean.
    Bool(bool),
    /// A date.
    Date(NaiveDate),
    /// A date and time (UTC).
    DateTime(DateTime<Utc>),
}

impl From<String> for ArgValue {
    fn from(v: String) -> Self {
        ArgValue::Str(v)
    }
}
impl From<&str> for ArgValue {
    fn from(v: &str) -> Self {
        ArgValue::Str(v.to_string())
    }
}
impl From<i32> for ArgValue {
    fn from(v: i32) -> Self {
        ArgValue::Int(i64::from(v))
    }
}
impl From<bool> for ArgValue {
    fn from(v: bool) -> Self {
        ArgValue::Bool(v)
    }
}
impl From<NaiveDate> for ArgValue {
    fn from(v: NaiveDate) -> Self {
        ArgValue::Date(v)
    }
}
impl From<DateTime<Utc>> for ArgValue {
    fn from(v: DateTime<Utc>) -> Self {
        ArgValue::DateTime(v)
    }
}

/// Why a families query cannot run.
#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    /// An argument is wrong; the message names it.
    #[error("{argument}: {message}")]
    BadArgument {
        /// The argument (e.g. `additionalFilter`).
        argument: String,
        /// What is wrong.
        message: String,
    },
    /// A database failure.
    #[error("database error: {0}")]
    Db(#[from] diesel::result::Error),
}

fn bad(argument: impl Into<String>, message: impl Into<String>) -> QueryError {
    QueryError::BadArgument {
        argument: argument.into(),
        message: message.into(),
    }
}

/// The arguments of the `families` query (docs/compatibility.md, "`families` query").
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FamilyFilter {
    /// Include history and deleted rows.
    pub show_history: bool,
    /// `parentLocation` (a location uuid).
    pub parent_location: Option<String>,
    /// `parentLocationLevel`: 0 region, 1 district, 2 ward, 3 village.
    pub parent_location_level: Option<i32>,
    /// `nullAsFalsePoverty`.
    pub null_as_false_poverty: Option<bool>,
    /// `officer`: an enrolment officer uuid (families with a current policy of theirs).
    pub officer: Option<String>,
    /// `clientMutationId`: families linked to that mutation.
    pub client_mutation_id: Option<String>,
    /// `additionalFilter`, parsed.
    pub additional_filter: Option<Value>,
    /// The generated lookups (`uuid`, `confirmationNo_Istartswith`, `headInsuree_LastName_Icontains`,
    /// `members_Phone_Icontains`, `location_Uuid`, …) by their GraphQL names.
    pub lookups: Vec<(String, ArgValue)>,
    /// `orderBy` entries (`-validityFrom`, `headInsuree__chfId`, …).
    pub order_by: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ColType {
    Text,
    Int,
    Bool,
    Date,
    Timestamp,
}

/// A filterable field: its GraphQL path, its SQL column and its type.
struct Field {
    path: &'static str,
    column: &'static str,
    ty: ColType,
}

const fn field(path: &'static str, column: &'static str, ty: ColType) -> Field {
    Field { path, column, ty }
}

const FAMILY_FIELDS: &[Field] = &[
    field("uuid", "\"FamilyUUID\"", ColType::Text),
    field("poverty", "\"Poverty\"", ColType::Bool),
    field("confirmationNo", "\"ConfirmationNo\"", ColType::Text),
    field("confirmationType", "\"ConfirmationType\"", ColType::Text),
    field("familyType", "\"FamilyType\"", ColType::Text),
    field("address", "\"FamilyAddress\"", ColType::Text),
    field("ethnicity", "\"Ethnicity\"", ColType::Text),
    field("isOffline", "\"isOffline\"", ColType::Bool),
    field("validityFrom", "\"ValidityFrom\"", ColType::Timestamp),
    field("validityTo", "\"ValidityTo\"", ColType::Timestamp),
];

const LOCATION_FIELDS: &[Field] = &[
    field("Id", "l.\"LocationId\"", ColType::Int),
    field("Uuid", "l.\"LocationUUID\"", ColType::Text),
    field("Code", "l.\"LocationCode\"", ColType::Text),
    field("Name", "l.\"LocationName\"", ColType::Text),
    field("Type", "l.\"LocationType\"", ColType::Text),
    field("Parent_Uuid", "lp.\"LocationUUID\"", ColType::Text),
    field("Parent_Id", "lp.\"LocationId\"", ColType::Int),
    field("Parent_Parent_Uuid", "lpp.\"LocationUUID\"", ColType::Text),
    field(
        "Parent_Parent_Parent_Uuid",
        "lppp.\"LocationUUID\"",
        ColType::Text,
    ),
];

const INSUREE_FIELDS: &[Field] = &[
    field("Uuid", "\"InsureeUUID\"", ColType::Text),
    field("ChfId", "\"CHFID\"", ColType::Text),
    field("LastName", "\"LastName\"", ColType::Text),
    field("OtherNames", "\"OtherNames\"", ColType::Text),
    field("Email", "\"Email\"", ColType::Text),
    field("Phone", "\"Phone\"", ColType::Text),
    field("Dob", "\"DOB\"", ColType::Date),
    field("Head", "\"IsHead\"", ColType::Bool),
    field("Passport", "\"passport\"", ColType::Text),
    field("Gender_Code", "\"Gender\"", ColType::Text),
    field("Gender", "\"Gender\"", ColType::Text),
    field("Marital", "\"Marital\"", ColType::Text),
    field("ValidityFrom", "\"ValidityFrom\"", ColType::Timestamp),
    field("ValidityTo", "\"ValidityTo\"", ColType::Timestamp),
    field("Photo_Id", "\"PhotoID\"", ColType::Int),
    field("Photo", "\"PhotoID\"", ColType::Int),
    field("Status", "\"status\"", ColType::Text),
    field("Family", "\"FamilyID\"", ColType::Int),
];

const LOOKUPS: &[&str] = &[
    "Iexact",
    "Istartswith",
    "Icontains",
    "Lt",
    "Lte",
    "Gt",
    "Gte",
    "Isnull",
    "Ne",
];

/// Splits `rest` into a field of `fields` and a lookup (`""` = exact).
fn split_lookup<'f>(fields: &'f [Field], rest: &str) -> Option<(&'f Field, &'static str)> {
    for f in fields {
        if rest == f.path {
            return Some((f, ""));
        }
        if let Some(suffix) = rest.strip_prefix(f.path).and_then(|s| s.strip_prefix('_'))
            && let Some(l) = LOOKUPS.iter().find(|l| **l == suffix)
        {
            return Some((f, l));
        }
    }
    None
}

/// A LIKE pattern matching `v` literally, as a prefix or anywhere.
pub(crate) fn like_pattern(v: &str, prefix: bool) -> String {
    let escaped = v
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    if prefix {
        format!("{escaped}%")
    } else {
        format!("%{escaped}%")
    }
}

/// A date and time as the `DateTime` scalar reads it (RFC 3339, or without an offset as UTC),
/// or a date (midnight UTC).
fn parse_timestamp(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    for format in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"] {
        if let Ok(t) = chrono::NaiveDateTime::parse_from_str(s, format) {
            return Some(t.and_utc());
        }
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
}

fn typed_bind(name: &str, ty: ColType, v: &ArgValue) -> Result<Bind, QueryError> {
    Ok(match (ty, v) {
        (ColType::Text, ArgValue::Str(s)) => Bind::Text(s.clone()),
        (ColType::Text, ArgValue::Int(i)) => Bind::Text(i.to_string()),
        (ColType::Int, ArgValue::Int(i)) => {
            Bind::Int(i32::try_from(*i).map_err(|_| bad(name, format!("{i} is out of range")))?)
        }
        (ColType::Int, ArgValue::Str(s)) => Bind::Int(
            s.parse()
                .map_err(|_| bad(name, format!("{s:?} is not an integer")))?,
        ),
        (ColType::Bool, ArgValue::Bool(b)) => Bind::Bool(*b),
        (ColType::Date, ArgValue::Date(d)) => Bind::Date(*d),
        (ColType::Date, ArgValue::Str(s)) => Bind::Date(
            NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .ok()
                .filter(|d| (1..=9999).contains(&chrono::Datelike::year(d)))
                .ok_or_else(|| bad(name, format!("{s:?} is not a date (YYYY-MM-DD)")))?,
        ),
        (ColType::Timestamp, ArgValue::DateTime(t)) => Bind::Timestamp(*t),
        (ColType::Timestamp, ArgValue::Date(d)) => {
            Bind::Timestamp(d.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc())
        }
        (ColType::Timestamp, ArgValue::Str(s)) => {
            Bind::Timestamp(parse_timestamp(s).ok_or_else(|| {
                bad(
                    name,
                    format!("{s:?} is not a date and time (YYYY-MM-DDTHH:MM:SS)"),
                )
            })?)
        }
        _ => return Err(bad(name, format!("wrong type of value {v:?}"))),
    })
}

/// The predicate of one lookup on `column` (already qualified).
fn lookup_sql(
    name: &str,
    column: &str,
    ty: ColType,
    lookup: &str,
    v: &ArgValue,
) -> Result<Fragment, QueryError> {
    if lookup == "Isnull" {
        let ArgValue::Bool(b) = v else {
            return Err(bad(name, "expects a boolean"));
        };
        return Ok(Fragment::sql(format!(
            "{column} IS {}NULL",
            if *b { "" } else { "NOT " }
        )));
    }
    if let ArgValue::Str(s) = v
        && s.chars().count() > crate::limits::MAX_FILTER_CHARS
    {
        return Err(bad(
            name,
            format!("longer than {} characters", crate::limits::MAX_FILTER_CHARS),
        ));
    }
    let text_only = matches!(lookup, "Iexact" | "Istartswith" | "Icontains");
    if text_only && ty != ColType::Text {
        return Err(bad(name, "this lookup applies to text fields only"));
    }
    let s = || match v {
        ArgValue::Str(s) => Ok(s.clone()),
        _ => Err(bad(name, "expects a string")),
    };
    let sql = |text: String| Fragment::sql(text);
    Ok(match lookup {
        "" => {
            let b = typed_bind(name, ty, v)?;
            if ty == ColType::Text && (name.ends_with("uuid") || name.ends_with("Uuid")) {
                sql(format!("lower({column}) = lower("))
                    .bind(b)
                    .with_sql(")")
            } else {
                sql(format!("{column} = ")).bind(b)
            }
        }
        "Ne" => sql(format!("{column} IS DISTINCT FROM ")).bind(typed_bind(name, ty, v)?),
        "Iexact" => sql(format!("upper({column}) = upper("))
            .bind(s()?)
            .with_sql(")"),
        "Istartswith" => sql(format!("{column} ILIKE ")).bind(like_pattern(&s()?, true)),
        "Icontains" => sql(format!("{column} ILIKE ")).bind(like_pattern(&s()?, false)),
        op => {
            let sym = match op {
                "Lt" => "<",
                "Lte" => "<=",
                "Gt" => ">",
                _ => ">=",
            };
            sql(format!("{column} {sym} ")).bind(typed_bind(name, ty, v)?)
        }
    })
}

/// The mode of `additionalFilter`; unknown module keys are ignored.
pub fn notification_mode(filter: &Value) -> Result<NotificationMode, QueryError> {
    let Value::Object(map) = filter else {
        return Err(bad("additionalFilter", "has to be a JSON object"));
    };
    let Some(section) = map.get("policyNotification") else {
        return Ok(NotificationMode::All);
    };
    let Value::Object(section) = section else {
        return Err(bad(
            "additionalFilter.policyNotification",
            "has to be a JSON object",
        ));
    };
    let value = match section.get("mode") {
        None => return Ok(NotificationMode::All),
        Some(Value::Object(m)) => m.get("value").unwrap_or(&Value::Null),
        Some(other) => other,
    };
    NotificationMode::from_json(value)
        .map_err(|e| bad("additionalFilter.policyNotification.mode", e.to_string()))
}

impl FamilyFilter {
    /// The predicate over family alias `f` that these arguments select (`orderBy` aside); `None`
    /// when they select every family. Refuses a wrong argument, naming it.
    pub fn predicate(&self) -> Result<Option<Fragment>, QueryError> {
        Ok(Fragment::all(self.predicates()?))
    }

    /// The predicates of [`Self::predicate`], one per argument.
    pub fn predicates(&self) -> Result<Vec<Fragment>, QueryError> {
        let mut preds = Vec::new();
        if !self.show_history {
            preds.push(Fragment::sql("f.\"ValidityTo\" IS NULL"));
        }
        if let Some(p) = self.parent_location_predicate()? {
            preds.push(p);
        }
        if let Some(b) = self.null_as_false_poverty {
            preds.push(Fragment::sql(if b {
                "f.\"Poverty\" = true"
            } else {
                "(f.\"Poverty\" = false OR f.\"Poverty\" IS NULL)"
            }));
        }
        if let Some(officer) = &self.officer {
            preds.push(
                Fragment::sql(
                    "EXISTS (SELECT 1 FROM \"tblPolicy\" op JOIN \"tblOfficer\" oo ON oo.\"OfficerID\" = op.\"OfficerID\" \
                     WHERE op.\"FamilyID\" = f.\"FamilyID\" AND op.\"ValidityTo\" IS NULL AND lower(oo.\"OfficerUUID\") = lower(",
                )
                .bind(officer.as_str())
                .with_sql("))"),
            );
        }
        if let Some(client_id) = &self.client_mutation_id {
            preds.push(
                Fragment::sql(
                    "EXISTS (SELECT 1 FROM \"insuree_FamilyMutation\" fm JOIN \"core_Mutation_Log\" ml ON ml.id = fm.mutation_id \
                     WHERE fm.family_id = f.\"FamilyID\" AND ml.client_mutation_id = ",
                )
                .bind(client_id.as_str())
                .with_sql(")"),
            );
        }
        if let Some(extra) = &self.additional_filter
            && let Some(c) = notification_mode(extra)?.sql("f")
        {
            preds.push(Fragment::sql(c));
        }
        let mut head = Vec::new();
        let mut member = Vec::new();
        let mut location = Vec::new();
        for (name, value) in &self.lookups {
            let unknown = || bad(name, "unknown filter argument");
            if let Some(rest) = name.strip_prefix("headInsuree_") {
                let (f, l) = split_lookup(INSUREE_FIELDS, rest).ok_or_else(unknown)?;
                head.push(lookup_sql(
                    name,
                    &format!("h.{}", f.column),
                    f.ty,
                    l,
                    value,
                )?);
            } else if let Some(rest) = name.strip_prefix("members_") {
                let (f, l) = split_lookup(INSUREE_FIELDS, rest).ok_or_else(unknown)?;
                member.push(lookup_sql(
                    name,
                    &format!("m.{}", f.column),
                    f.ty,
                    l,
                    value,
                )?);
            } else if let Some(rest) = name.strip_prefix("location_") {
                let (f, l) = split_lookup(LOCATION_FIELDS, rest).ok_or_else(unknown)?;
                location.push(lookup_sql(name, f.column, f.ty, l, value)?);
            } else {
                let (f, l) = split_lookup(FAMILY_FIELDS, name).ok_or_else(unknown)?;
                preds.push(lookup_sql(
                    name,
                    &format!("f.{}", f.column),
                    f.ty,
                    l,
                    value,
                )?);
            }
        }
        // One head, one member (satisfying every member lookup, as in openIMIS), one location.
        if let Some(all) = Fragment::all(head) {
            preds.push(exists(
                "EXISTS (SELECT 1 FROM \"tblInsuree\" h WHERE h.\"InsureeID\" = f.\"InsureeID\" \
                     AND h.\"ValidityTo\" IS NULL AND ",
                all,
            ));
        }
        if let Some(all) = Fragment::all(member) {
            preds.push(exists(
                "EXISTS (SELECT 1 FROM \"tblInsuree\" m WHERE m.\"FamilyID\" = f.\"FamilyID\" \
                     AND m.\"ValidityTo\" IS NULL AND ",
                all,
            ));
        }
        if let Some(all) = Fragment::all(location) {
            preds.push(exists(
                "EXISTS (SELECT 1 FROM \"tblLocations\" l \
                     LEFT JOIN \"tblLocations\" lp ON lp.\"LocationId\" = l.\"ParentLocationId\" \
                     LEFT JOIN \"tblLocations\" lpp ON lpp.\"LocationId\" = lp.\"ParentLocationId\" \
                     LEFT JOIN \"tblLocations\" lppp ON lppp.\"LocationId\" = lpp.\"ParentLocationId\" \
                     WHERE l.\"LocationId\" = f.\"LocationId\" AND ",
                all,
            ));
        }
        Ok(preds)
    }

    /// `parentLocation` at `parentLocationLevel`: the family's village lies under it.
    fn parent_location_predicate(&self) -> Result<Option<Fragment>, QueryError> {
        let (uuid, level) = match (&self.parent_location, self.parent_location_level) {
            (None, _) => return Ok(None),
            (Some(_), None) => {
                return Err(bad(
                    "parentLocationLevel",
                    "Missing parentLocationLevel argument when filtering on parentLocation",
                ));
            }
            (Some(uuid), Some(level)) => (uuid, level),
        };
        let ups = match level {
            0 => 3,
            1 => 2,
            2 => 1,
            3 => 0,
            other => {
                return Err(bad(
                    "parentLocationLevel",
                    format!("must be 0 (region) to 3 (village), not {other}"),
                ));
            }
        };
        let mut joins = String::new();
        let mut top = "p0".to_string();
        for i in 1..=ups {
            joins.push_str(&format!(
                " JOIN \"tblLocations\" p{i} ON p{i}.\"LocationId\" = p{}.\"ParentLocationId\"",
                i - 1
            ));
            top = format!("p{i}");
        }
        Ok(Some(
            Fragment::sql(format!(
                "f.\"LocationId\" IN (SELECT p0.\"LocationId\" FROM \"tblLocations\" p0{joins} \
                 WHERE lower({top}.\"LocationUUID\") = lower("
            ))
            .bind(uuid.as_str())
            .with_sql("))"),
        ))
    }
}

/// `<head><all>)`: `head` opens an `EXISTS (SELECT …` up to its last `AND `.
fn exists(head: &str, all: Fragment) -> Fragment {
    Fragment::sql(head).with(all).with_sql(")")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lookups_split() {
        let (f, l) = split_lookup(INSUREE_FIELDS, "ChfId_Istartswith").unwrap();
        assert_eq!((f.column, l), ("\"CHFID\"", "Istartswith"));
        let (f, l) = split_lookup(INSUREE_FIELDS, "Gender_Code").unwrap();
        assert_eq!((f.column, l), ("\"Gender\"", ""));
        let (f, l) = split_lookup(INSUREE_FIELDS, "Photo_Isnull").unwrap();
        assert_eq!((f.column, l), ("\"PhotoID\"", "Isnull"));
        assert!(split_lookup(INSUREE_FIELDS, "Nope").is_none());
    }

    #[test]
    fn modes_from_additional_filter() {
        let f = json!({"policyNotification": {"mode": {"id": "mode", "value": 2}}});
        assert_eq!(
            notification_mode(&f).unwrap(),
            NotificationMode::ApprovalOnly
        );
        assert_eq!(
            notification_mode(&json!({"other": 1})).unwrap(),
            NotificationMode::All
        );
        let e = notification_mode(&json!({"policyNotification": {"mode": {"value": "1"}}}))
            .unwrap_err();
        assert!(
            e.to_string()
                .starts_with("additionalFilter.policyNotification.mode")
        );
    }

    #[test]
    fn like_patterns_escape() {
        assert_eq!(like_pattern("a%_b", true), "a\\%\\_b%");
    }

    #[test]
    fn values_are_bound() {
        let filter = FamilyFilter {
            lookups: vec![
                ("headInsuree_LastName_Icontains".into(), "O'Brien \\".into()),
                ("members_Dob_Gte".into(), "2000-01-02".into()),
                ("validityFrom_Gte".into(), "2020-01-01T00:00:00".into()),
            ],
            ..FamilyFilter::default()
        };
        let p = filter.predicate().unwrap().unwrap();
        let text = p.render(1);
        assert!(!text.contains("O'Brien") && text.contains("$3"), "{text}");
        assert_eq!(p.bind_count(), 3);
        let bad = FamilyFilter {
            lookups: vec![("headInsuree_Nope".into(), "x".into())],
            ..FamilyFilter::default()
        };
        assert!(
            bad.predicate()
                .unwrap_err()
                .to_string()
                .starts_with("headInsuree_Nope")
        );
    }
}
