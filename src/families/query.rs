//! The families query (openIMIS `families`) and `familyNotification` (docs/compatibility.md,
//! "Families, notification preferences and the mutation log"): every filter
//! argument becomes a predicate of ONE parameterised SQL statement (values are always bound,
//! never spliced), the user's district scope is applied (DECISIONS 10), and the related data of a
//! page is loaded in batches by ids, so a page costs a bounded number of statements.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::sql_types::{Array, Bool, Date, Int4, Nullable, Text, Timestamptz, Varchar};
use diesel_async::{AnsiTransactionManager, AsyncPgConnection, RunQueryDsl, TransactionManager};
use serde_json::Value;

use crate::db::schema::{
    tbl_confirmation_types, tbl_families, tbl_family_sms, tbl_family_types, tbl_gender, tbl_insuree,
};
use crate::families::Scope;
use crate::families::rules::NotificationMode;
use crate::paging::{Page, Window, snake_case};

/// Right to search and view families (and their notification settings).
pub const RIGHT_QUERY: i32 = 101001;

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
#[derive(Debug, Clone, Default)]
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

/// One bound parameter.
#[derive(Debug, Clone)]
enum Bind {
    Text(String),
    Int(i32),
    Bool(bool),
    Date(NaiveDate),
    Timestamp(DateTime<Utc>),
    IntArray(Vec<i32>),
}

/// A SQL text with its bound parameters, numbered `$1…` in order.
#[derive(Debug, Default)]
struct Sql {
    conds: Vec<String>,
    binds: Vec<Bind>,
}

impl Sql {
    fn param(&mut self, b: Bind) -> String {
        self.binds.push(b);
        format!("${}", self.binds.len())
    }

    fn cond(&mut self, c: String) {
        self.conds.push(c);
    }

    fn where_clause(&self) -> String {
        if self.conds.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", self.conds.join(" AND "))
        }
    }

    fn query(
        &self,
        sql: String,
    ) -> diesel::query_builder::BoxedSqlQuery<'static, Pg, diesel::query_builder::SqlQuery> {
        let mut q = diesel::sql_query(sql).into_boxed::<Pg>();
        for b in &self.binds {
            q = match b.clone() {
                Bind::Text(v) => q.bind::<Text, _>(v),
                Bind::Int(v) => q.bind::<Int4, _>(v),
                Bind::Bool(v) => q.bind::<Bool, _>(v),
                Bind::Date(v) => q.bind::<Date, _>(v),
                Bind::Timestamp(v) => q.bind::<Timestamptz, _>(v),
                Bind::IntArray(v) => q.bind::<Array<Int4>, _>(v),
            };
        }
        q
    }
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

fn like_pattern(v: &str, prefix: bool) -> String {
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
        _ => return Err(bad(name, format!("wrong type of value {v:?}"))),
    })
}

/// The predicate of one lookup on `column` (already qualified).
fn lookup_sql(
    sql: &mut Sql,
    name: &str,
    column: &str,
    ty: ColType,
    lookup: &str,
    v: &ArgValue,
) -> Result<String, QueryError> {
    if lookup == "Isnull" {
        let ArgValue::Bool(b) = v else {
            return Err(bad(name, "expects a boolean"));
        };
        return Ok(format!("{column} IS {}NULL", if *b { "" } else { "NOT " }));
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
    Ok(match lookup {
        "" => {
            let p = sql.param(typed_bind(name, ty, v)?);
            if ty == ColType::Text && (name.ends_with("uuid") || name.ends_with("Uuid")) {
                format!("lower({column}) = lower({p})")
            } else {
                format!("{column} = {p}")
            }
        }
        "Ne" => {
            let p = sql.param(typed_bind(name, ty, v)?);
            format!("{column} IS DISTINCT FROM {p}")
        }
        "Iexact" => {
            let p = sql.param(Bind::Text(s()?));
            format!("upper({column}) = upper({p})")
        }
        "Istartswith" => {
            let p = sql.param(Bind::Text(like_pattern(&s()?, true)));
            format!("{column} ILIKE {p}")
        }
        "Icontains" => {
            let p = sql.param(Bind::Text(like_pattern(&s()?, false)));
            format!("{column} ILIKE {p}")
        }
        op => {
            let p = sql.param(typed_bind(name, ty, v)?);
            let sym = match op {
                "Lt" => "<",
                "Lte" => "<=",
                "Gt" => ">",
                _ => ">=",
            };
            format!("{column} {sym} {p}")
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

/// FROM clause and predicates of the families query.
fn family_predicates(filter: &FamilyFilter, scope: &Scope) -> Result<Sql, QueryError> {
    let mut sql = Sql::default();
    if !filter.show_history {
        sql.cond("f.\"ValidityTo\" IS NULL".into());
    }
    if let Some(ids) = match scope {
        Scope::All => None,
        Scope::Districts(d) => Some(d.clone()),
    } {
        let p = sql.binds.len() + 1;
        if let Some(c) = scope.sql("f", p) {
            sql.binds.push(Bind::IntArray(ids));
            sql.cond(c);
        }
    }
    match (&filter.parent_location, filter.parent_location_level) {
        (None, _) => {}
        (Some(_), None) => {
            return Err(bad(
                "parentLocationLevel",
                "Missing parentLocationLevel argument when filtering on parentLocation",
            ));
        }
        (Some(uuid), Some(level)) => {
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
            let p = sql.param(Bind::Text(uuid.clone()));
            sql.cond(format!(
                "f.\"LocationId\" IN (SELECT p0.\"LocationId\" FROM \"tblLocations\" p0{joins} \
                 WHERE lower({top}.\"LocationUUID\") = lower({p}))"
            ));
        }
    }
    if let Some(b) = filter.null_as_false_poverty {
        sql.cond(if b {
            "f.\"Poverty\" = true".into()
        } else {
            "(f.\"Poverty\" = false OR f.\"Poverty\" IS NULL)".into()
        });
    }
    if let Some(officer) = &filter.officer {
        let p = sql.param(Bind::Text(officer.clone()));
        sql.cond(format!(
            "EXISTS (SELECT 1 FROM \"tblPolicy\" op JOIN \"tblOfficer\" oo ON oo.\"OfficerID\" = op.\"OfficerID\" \
             WHERE op.\"FamilyID\" = f.\"FamilyID\" AND op.\"ValidityTo\" IS NULL AND lower(oo.\"OfficerUUID\") = lower({p}))"
        ));
    }
    if let Some(client_id) = &filter.client_mutation_id {
        let p = sql.param(Bind::Text(client_id.clone()));
        sql.cond(format!(
            "EXISTS (SELECT 1 FROM \"insuree_FamilyMutation\" fm JOIN \"core_Mutation_Log\" ml ON ml.id = fm.mutation_id \
             WHERE fm.family_id = f.\"FamilyID\" AND ml.client_mutation_id = {p})"
        ));
    }
    if let Some(extra) = &filter.additional_filter
        && let Some(c) = notification_mode(extra)?.sql("f")
    {
        sql.cond(c);
    }
    let mut head = Vec::new();
    let mut member = Vec::new();
    let mut location = Vec::new();
    for (name, value) in &filter.lookups {
        if let Some(rest) = name.strip_prefix("headInsuree_") {
            let (f, l) = split_lookup(INSUREE_FIELDS, rest)
                .ok_or_else(|| bad(name, "unknown filter argument"))?;
            head.push(lookup_sql(
                &mut sql,
                name,
                &format!("h.{}", f.column),
                f.ty,
                l,
                value,
            )?);
        } else if let Some(rest) = name.strip_prefix("members_") {
            let (f, l) = split_lookup(INSUREE_FIELDS, rest)
                .ok_or_else(|| bad(name, "unknown filter argument"))?;
            member.push(lookup_sql(
                &mut sql,
                name,
                &format!("m.{}", f.column),
                f.ty,
                l,
                value,
            )?);
        } else if let Some(rest) = name.strip_prefix("location_") {
            let (f, l) = split_lookup(LOCATION_FIELDS, rest)
                .ok_or_else(|| bad(name, "unknown filter argument"))?;
            location.push(lookup_sql(&mut sql, name, f.column, f.ty, l, value)?);
        } else {
            let (f, l) = split_lookup(FAMILY_FIELDS, name)
                .ok_or_else(|| bad(name, "unknown filter argument"))?;
            let c = lookup_sql(&mut sql, name, &format!("f.{}", f.column), f.ty, l, value)?;
            sql.cond(c);
        }
    }
    if !head.is_empty() {
        sql.cond(format!(
            "EXISTS (SELECT 1 FROM \"tblInsuree\" h WHERE h.\"InsureeID\" = f.\"InsureeID\" \
             AND h.\"ValidityTo\" IS NULL AND {})",
            head.join(" AND ")
        ));
    }
    if !member.is_empty() {
        sql.cond(format!(
            "EXISTS (SELECT 1 FROM \"tblInsuree\" m WHERE m.\"FamilyID\" = f.\"FamilyID\" \
             AND m.\"ValidityTo\" IS NULL AND {})",
            member.join(" AND ")
        ));
    }
    if !location.is_empty() {
        sql.cond(format!(
            "EXISTS (SELECT 1 FROM \"tblLocations\" l \
             LEFT JOIN \"tblLocations\" lp ON lp.\"LocationId\" = l.\"ParentLocationId\" \
             LEFT JOIN \"tblLocations\" lpp ON lpp.\"LocationId\" = lp.\"ParentLocationId\" \
             LEFT JOIN \"tblLocations\" lppp ON lppp.\"LocationId\" = lpp.\"ParentLocationId\" \
             WHERE l.\"LocationId\" = f.\"LocationId\" AND {})",
            location.join(" AND ")
        ));
    }
    Ok(sql)
}

/// ORDER BY expressions for `orderBy`, and whether the head / location must be joined.
fn order_clause(order_by: &[String]) -> Result<(String, bool, bool), QueryError> {
    let mut parts = Vec::new();
    let (mut head, mut loc) = (false, false);
    for entry in order_by {
        let cleaned: String = entry
            .chars()
            .filter(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '+' | ','))
            .collect();
        for item in cleaned.split(',').filter(|s| !s.is_empty()) {
            let (desc, name) = match item.strip_prefix('-') {
                Some(rest) => (true, rest),
                None => (false, item.trim_start_matches('+')),
            };
            let column = match snake_case(name).as_str() {
                "id" => "f.\"FamilyID\"",
                "uuid" => "f.\"FamilyUUID\"",
                "validity_from" => "f.\"ValidityFrom\"",
                "validity_to" => "f.\"ValidityTo\"",
                "confirmation_no" => "f.\"ConfirmationNo\"",
                "poverty" => "f.\"Poverty\"",
                "address" => "f.\"FamilyAddress\"",
                "head_insuree__chf_id" => "h.\"CHFID\"",
                "head_insuree__last_name" => "h.\"LastName\"",
                "head_insuree__other_names" => "h.\"OtherNames\"",
                "head_insuree__email" => "h.\"Email\"",
                "head_insuree__phone" => "h.\"Phone\"",
                "head_insuree__dob" => "h.\"DOB\"",
                "location__code" => "l.\"LocationCode\"",
                "location__name" => "l.\"LocationName\"",
                _ => return Err(bad("orderBy", format!("cannot order families by {item:?}"))),
            };
            head |= column.starts_with("h.");
            loc |= column.starts_with("l.");
            parts.push(format!(
                "{column} {}",
                if desc {
                    "DESC NULLS LAST"
                } else {
                    "ASC NULLS FIRST"
                }
            ));
        }
    }
    parts.push("f.\"FamilyID\" DESC".into());
    Ok((parts.join(", "), head, loc))
}

#[derive(QueryableByName)]
struct IdRow {
    #[diesel(sql_type = Int4)]
    id: i32,
}

#[derive(QueryableByName)]
struct CountRow {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

/// A `tblFamilies` row.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = tbl_families)]
pub struct FamilyRow {
    pub family_id: i32,
    pub family_uuid: String,
    pub insuree_id: i32,
    pub location_id: Option<i32>,
    pub poverty: Option<bool>,
    pub family_type: Option<String>,
    pub family_address: Option<String>,
    pub is_offline: Option<bool>,
    pub ethnicity: Option<String>,
    pub confirmation_no: Option<String>,
    pub confirmation_type: Option<String>,
    pub validity_from: DateTime<Utc>,
    pub validity_to: Option<DateTime<Utc>>,
    pub legacy_id: Option<i32>,
    pub audit_user_id: i32,
    pub json_ext: Option<Value>,
}

/// The families page the user may see: one statement for the ids, one for the rows, one for
/// the total when asked.
pub async fn families(
    conn: &mut AsyncPgConnection,
    scope: &Scope,
    filter: &FamilyFilter,
    window: Window,
) -> Result<Page<FamilyRow>, QueryError> {
    let mut sql = family_predicates(filter, scope)?;
    let (order, head, loc) = order_clause(&filter.order_by)?;
    let mut from = "\"tblFamilies\" f".to_string();
    if head {
        from.push_str(" LEFT JOIN \"tblInsuree\" h ON h.\"InsureeID\" = f.\"InsureeID\"");
    }
    if loc {
        from.push_str(" LEFT JOIN \"tblLocations\" l ON l.\"LocationId\" = f.\"LocationId\"");
    }
    let where_clause = sql.where_clause();
    let total = if window.with_total {
        let q = sql.query(format!(
            "SELECT count(*) AS n FROM \"tblFamilies\" f{where_clause}"
        ));
        Some(count_serially(conn, q).await?)
    } else {
        None
    };
    let limit = sql.param(Bind::Int(
        i32::try_from(window.limit.max(0)).unwrap_or(i32::MAX),
    ));
    let offset = sql.param(Bind::Int(i32::try_from(window.offset).unwrap_or(i32::MAX)));
    let ids: Vec<IdRow> = sql
        .query(format!(
            "SELECT f.\"FamilyID\" AS id FROM {from}{where_clause} ORDER BY {order} LIMIT {limit} OFFSET {offset}"
        ))
        .load(conn)
        .await?;
    let ids: Vec<i32> = ids.into_iter().map(|r| r.id).collect();
    let rows = families_by_ids(conn, &ids).await?;
    Ok(Page { rows, total })
}

/// Runs a `SELECT count(*) AS n` without parallel workers, in a transaction of its own.
///
/// A count visits every matching family. With the rule indexes (`pn_families_current`,
/// `pn_family_sms_approved_current`, `pn_insuree_family_phone_current`) its cheapest plan is a
/// merge of index-only scans, but the planner prefers a parallel hash plan that costs several times
/// the CPU: at 32 concurrent clients on 100,000 families the page's statements ran at ~15 instead
/// of ~45 per second (pgbench, bench/pgbench/families_page.sql). `SET LOCAL` lasts until the end
/// of this transaction only; every other statement keeps the server's settings. `BEGIN` and
/// `SET LOCAL` go in one round trip, so `conn` must not be in a transaction already.
async fn count_serially(
    conn: &mut AsyncPgConnection,
    query: diesel::query_builder::BoxedSqlQuery<'static, Pg, diesel::query_builder::SqlQuery>,
) -> Result<i64, QueryError> {
    AnsiTransactionManager::begin_transaction_sql(
        conn,
        "BEGIN; SET LOCAL max_parallel_workers_per_gather = 0",
    )
    .await?;
    match query.get_result::<CountRow>(conn).await {
        Ok(row) => {
            AnsiTransactionManager::commit_transaction(conn).await?;
            Ok(row.n)
        }
        Err(e) => {
            // The query's error is the one to report; a failed rollback marks the connection
            // broken, so the pool does not hand it out again.
            let _ = AnsiTransactionManager::rollback_transaction(conn).await;
            Err(e.into())
        }
    }
}

/// Families by ids, in the order of `ids` (missing ones skipped).
pub async fn families_by_ids(
    conn: &mut AsyncPgConnection,
    ids: &[i32],
) -> Result<Vec<FamilyRow>, diesel::result::Error> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut rows: Vec<FamilyRow> = tbl_families::table
        .filter(tbl_families::family_id.eq_any(ids))
        .select(FamilyRow::as_select())
        .load(conn)
        .await?;
    let pos = |id: i32| ids.iter().position(|x| *x == id).unwrap_or(usize::MAX);
    rows.sort_by_key(|r| pos(r.family_id));
    Ok(rows)
}

/// A `tblInsuree` row.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = tbl_insuree)]
pub struct InsureeRow {
    pub insuree_id: i32,
    pub insuree_uuid: String,
    pub family_id: Option<i32>,
    pub chf_id: Option<String>,
    pub last_name: String,
    pub other_names: String,
    pub dob: Option<NaiveDate>,
    pub gender: Option<String>,
    pub marital: Option<String>,
    pub is_head: bool,
    pub passport: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub current_address: Option<String>,
    pub geo_location: Option<String>,
    pub current_village: Option<i32>,
    pub photo_date: Option<NaiveDate>,
    pub card_issued: bool,
    pub relationship: Option<i16>,
    pub profession: Option<i16>,
    pub education: Option<i16>,
    pub type_of_id: Option<String>,
    pub hf_id: Option<i32>,
    pub is_offline: Option<bool>,
    pub validity_from: DateTime<Utc>,
    pub validity_to: Option<DateTime<Utc>>,
    pub legacy_id: Option<i32>,
    pub audit_user_id: i32,
    pub json_ext: Option<Value>,
    pub status: Option<String>,
    pub status_date: Option<NaiveDate>,
}

/// Insurees by ids, in one statement.
pub async fn insurees_by_ids(
    conn: &mut AsyncPgConnection,
    ids: &[i32],
) -> Result<Vec<InsureeRow>, diesel::result::Error> {
    tbl_insuree::table
        .filter(tbl_insuree::insuree_id.eq_any(ids))
        .select(InsureeRow::as_select())
        .load(conn)
        .await
}

/// A `tblLocations` row.
#[derive(Debug, Clone, QueryableByName)]
pub struct LocationRow {
    #[diesel(sql_type = Int4)]
    pub location_id: i32,
    #[diesel(sql_type = Varchar)]
    pub location_uuid: String,
    #[diesel(sql_type = Nullable<Varchar>)]
    pub location_code: Option<String>,
    #[diesel(sql_type = Nullable<Varchar>)]
    pub location_name: Option<String>,
    #[diesel(sql_type = Varchar)]
    pub location_type: String,
    #[diesel(sql_type = Nullable<Int4>)]
    pub parent_location_id: Option<i32>,
    #[diesel(sql_type = Timestamptz)]
    pub validity_from: DateTime<Utc>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub validity_to: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<Int4>)]
    pub legacy_id: Option<i32>,
}

/// Locations by ids together with all their ancestors (up to the region), in one statement.
pub async fn locations_with_ancestors(
    conn: &mut AsyncPgConnection,
    ids: &[i32],
) -> Result<Vec<LocationRow>, diesel::result::Error> {
    diesel::sql_query(
        "WITH RECURSIVE chain AS ( \
           SELECT * FROM \"tblLocations\" WHERE \"LocationId\" = ANY($1) \
           UNION \
           SELECT p.* FROM \"tblLocations\" p JOIN chain c ON p.\"LocationId\" = c.\"ParentLocationId\" \
         ) SELECT \"LocationId\" AS location_id, \"LocationUUID\" AS location_uuid, \
           \"LocationCode\" AS location_code, \"LocationName\" AS location_name, \
           \"LocationType\" AS location_type, \"ParentLocationId\" AS parent_location_id, \
           \"ValidityFrom\" AS validity_from, \"ValidityTo\" AS validity_to, \"LegacyID\" AS legacy_id \
         FROM chain",
    )
    .bind::<Array<Int4>, _>(ids)
    .load(conn)
    .await
}

/// A `tblFamilySMS` row.
#[derive(Debug, Clone, Queryable, Selectable, QueryableByName)]
#[diesel(table_name = tbl_family_sms)]
pub struct FamilyNotificationRow {
    pub family_id: i32,
    pub approval_of_sms: bool,
    pub language_of_sms: String,
    pub validity_from: DateTime<Utc>,
    pub validity_to: Option<DateTime<Utc>>,
}

/// Notification rows of these families, in one statement.
pub async fn notifications_by_family(
    conn: &mut AsyncPgConnection,
    family_ids: &[i32],
) -> Result<Vec<FamilyNotificationRow>, diesel::result::Error> {
    tbl_family_sms::table
        .filter(tbl_family_sms::family_id.eq_any(family_ids))
        .select(FamilyNotificationRow::as_select())
        .load(conn)
        .await
}

/// A code list entry (family type, confirmation type, gender).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeRow {
    pub code: String,
    pub name: Option<String>,
    pub sort_order: Option<i32>,
    pub alt_language: Option<String>,
}

type CodeTuple = (String, Option<String>, Option<i32>, Option<String>);

/// Which code list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CodeList {
    /// `tblFamilyTypes`.
    FamilyType,
    /// `tblConfirmationTypes`.
    ConfirmationType,
    /// `tblGender`.
    Gender,
}

/// Entries of a code list by codes, in one statement.
pub async fn codes(
    conn: &mut AsyncPgConnection,
    list: CodeList,
    codes: &[String],
) -> Result<Vec<CodeRow>, diesel::result::Error> {
    let rows: Vec<CodeTuple> = match list {
        CodeList::FamilyType => {
            use tbl_family_types::dsl as t;
            t::tbl_family_types
                .filter(t::family_type_code.eq_any(codes))
                .select((
                    t::family_type_code,
                    t::family_type.nullable(),
                    t::sort_order,
                    t::alt_language,
                ))
                .load(conn)
                .await?
        }
        CodeList::ConfirmationType => {
            use tbl_confirmation_types::dsl as t;
            t::tbl_confirmation_types
                .filter(t::confirmation_type_code.eq_any(codes))
                .select((
                    t::confirmation_type_code,
                    t::confirmation_type.nullable(),
                    t::sort_order,
                    t::alt_language,
                ))
                .load(conn)
                .await?
        }
        CodeList::Gender => {
            use tbl_gender::dsl as t;
            t::tbl_gender
                .filter(t::code.eq_any(codes))
                .select((t::code, t::gender, t::sort_order, t::alt_language))
                .load(conn)
                .await?
        }
    };
    Ok(rows
        .into_iter()
        .map(|(code, name, sort_order, alt_language)| CodeRow {
            code,
            name,
            sort_order,
            alt_language,
        })
        .collect())
}

/// The `familyNotification` filters.
#[derive(Debug, Clone, Default)]
pub struct NotificationFilter {
    /// `family_Uuid`.
    pub family_uuid: Option<String>,
    /// `approvalOfNotification`.
    pub approval: Option<bool>,
    /// `languageOfNotification`.
    pub language: Option<String>,
}

/// The `familyNotification` page the user may see (DECISIONS 9), ordered by family.
pub async fn family_notifications(
    conn: &mut AsyncPgConnection,
    scope: &Scope,
    filter: &NotificationFilter,
    window: Window,
) -> Result<Page<FamilyNotificationRow>, QueryError> {
    let mut sql = Sql::default();
    if let Scope::Districts(d) = scope {
        let p = sql.binds.len() + 1;
        if let Some(c) = scope.sql("f", p) {
            sql.binds.push(Bind::IntArray(d.clone()));
            sql.cond(c);
        }
    }
    if let Some(u) = &filter.family_uuid {
        let p = sql.param(Bind::Text(u.clone()));
        sql.cond(format!("lower(f.\"FamilyUUID\") = lower({p})"));
    }
    if let Some(a) = filter.approval {
        let p = sql.param(Bind::Bool(a));
        sql.cond(format!("s.\"ApprovalOfSMS\" = {p}"));
    }
    if let Some(l) = &filter.language {
        let p = sql.param(Bind::Text(l.clone()));
        sql.cond(format!("s.\"LanguageOfSMS\" = {p}"));
    }
    let from = "\"tblFamilySMS\" s JOIN \"tblFamilies\" f ON f.\"FamilyID\" = s.\"FamilyID\"";
    let where_clause = sql.where_clause();
    let total = if window.with_total {
        let row: CountRow = sql
            .query(format!("SELECT count(*) AS n FROM {from}{where_clause}"))
            .get_result(conn)
            .await?;
        Some(row.n)
    } else {
        None
    };
    let limit = sql.param(Bind::Int(
        i32::try_from(window.limit.max(0)).unwrap_or(i32::MAX),
    ));
    let offset = sql.param(Bind::Int(i32::try_from(window.offset).unwrap_or(i32::MAX)));
    let rows: Vec<FamilyNotificationRow> = sql
        .query(format!(
            "SELECT s.\"FamilyID\" AS family_id, s.\"ApprovalOfSMS\" AS approval_of_sms, \
             s.\"LanguageOfSMS\" AS language_of_sms, s.\"ValidityFrom\" AS validity_from, s.\"ValidityTo\" AS validity_to \
             FROM {from}{where_clause} ORDER BY s.\"FamilyID\" LIMIT {limit} OFFSET {offset}"
        ))
        .load(conn)
        .await?;
    Ok(Page { rows, total })
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
}
