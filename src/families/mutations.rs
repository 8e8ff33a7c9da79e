//! The family write model: create, update and delete families with openIMIS's versioning
//! (history rows with `LegacyID`, soft delete), the head insuree, the family hooks, the
//! `insuree_FamilyMutation` link and the mutation-log outcome — all in one transaction. On any
//! error the transaction is rolled back and only the error log row is written (DECISIONS 5, 8).

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, Int4, Text, Timestamptz};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde_json::Value;
use uuid::Uuid;

use crate::db::catalog::{Catalog, CatalogCell};
use crate::db::prepared::cached;
use crate::db::schema::{tbl_families, tbl_insuree, tbl_insuree_policy};
use crate::db::sql::{Bind, Fragment};
use crate::db::{DbError, Pool};
use crate::families::Scope;
use crate::hooks::{CreatePart, FamilyEvent, FamilyHooks, HookError};
use crate::mutation_log::{self, MutationError, MutationMeta};

/// Right to create families.
pub const RIGHT_CREATE: i32 = 101002;
/// Right to update families.
pub const RIGHT_UPDATE: i32 = 101003;
/// Right to delete families.
pub const RIGHT_DELETE: i32 = 101004;

/// Who runs a mutation.
#[derive(Debug, Clone)]
pub struct Actor {
    /// Whether the caller is logged in.
    pub authenticated: bool,
    /// `tblUsers.UserID`, written to `AuditUserID`.
    pub audit_user_id: i32,
    /// The caller's `core_User` id, written to the mutation log.
    pub core_user_id: Option<Uuid>,
    /// The caller's rights.
    pub rights: Vec<i32>,
    /// The families the caller may see and change.
    pub scope: Scope,
}

impl Actor {
    /// Whether the caller holds `right`.
    pub fn has_right(&self, right: i32) -> bool {
        self.authenticated && self.rights.contains(&right)
    }
}

/// The head insuree of a family mutation (`FamilyHeadInsureeInputType`).
#[derive(Debug, Clone, Default)]
pub struct HeadInsureeInput {
    pub uuid: Option<String>,
    pub chf_id: Option<String>,
    pub last_name: String,
    pub other_names: String,
    pub gender_id: String,
    pub dob: Option<NaiveDate>,
    pub marital: Option<String>,
    pub passport: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub current_address: Option<String>,
    pub geolocation: Option<String>,
    pub current_village_id: Option<i32>,
    pub photo_date: Option<NaiveDate>,
    pub card_issued: Option<bool>,
    pub relationship_id: Option<i32>,
    pub profession_id: Option<i32>,
    pub education_id: Option<i32>,
    pub type_of_id_id: Option<String>,
    pub health_facility_id: Option<i32>,
    pub offline: Option<bool>,
    /// `None` = omitted (kept on update); `Some(None)` = set to NULL.
    pub json_ext: Option<Option<Value>>,
    /// `AC`, `IN` or `DE`.
    pub status: Option<String>,
    pub status_date: Option<NaiveDate>,
}

/// The fields of `createFamily` / `updateFamily`.
#[derive(Debug, Clone, Default)]
pub struct FamilyInput {
    /// Update: the family to change. Create: an optional uuid for the new family.
    pub uuid: Option<String>,
    pub head_insuree: Option<HeadInsureeInput>,
    pub location_id: Option<i32>,
    pub poverty: Option<bool>,
    pub family_type_id: Option<String>,
    pub address: Option<String>,
    pub is_offline: Option<bool>,
    pub ethnicity: Option<String>,
    pub confirmation_no: Option<String>,
    pub confirmation_type_id: Option<String>,
    /// `None` = omitted (kept on update, DECISIONS 6); `Some(None)` = set to NULL.
    pub json_ext: Option<Option<Value>>,
    /// Data for contributing modules (`{"PolicyNotification": {...}}`), passed to the hooks.
    pub contribution: Option<Value>,
}

/// The fields of `deleteFamilies`.
#[derive(Debug, Clone, Default)]
pub struct DeleteFamiliesInput {
    pub uuids: Vec<String>,
    /// `true`: members are soft-deleted; `false`: detached from the family.
    pub delete_members: bool,
}

/// What a mutation answers: the log row id and the outcome written there.
#[derive(Debug, Clone)]
pub struct MutationReceipt {
    /// `core_Mutation_Log.id` (`internalId`).
    pub internal_id: Uuid,
    /// The outcome recorded in the log.
    pub outcome: Result<Vec<i32>, Vec<MutationError>>,
}

/// Why the work inside the transaction stopped.
#[derive(Debug)]
enum Failure {
    Rejected(Vec<MutationError>),
    Db(diesel::result::Error),
}

impl From<diesel::result::Error> for Failure {
    fn from(e: diesel::result::Error) -> Self {
        Failure::Db(e)
    }
}

/// The user-facing error list for a failure under `what` ("Failed to create family"). Every
/// failure becomes a list, so that its mutation-log row is always written (status 1).
fn failure_errors(what: &str, failure: Failure) -> Vec<MutationError> {
    use diesel::result::{DatabaseErrorKind, Error};
    match failure {
        Failure::Rejected(errors) => errors,
        Failure::Db(Error::DatabaseError(DatabaseErrorKind::SerializationFailure, _)) => {
            vec![MutationError::detailed(
                what,
                "another change to the same data was committed at the same time; nothing was \
                 changed, try again",
            )]
        }
        Failure::Db(Error::DatabaseError(kind, info)) => {
            tracing::warn!(
                ?kind,
                constraint = info.constraint_name(),
                message = %crate::telemetry::user_text(info.message()),
                "family mutation refused by the database"
            );
            let field = info.constraint_name().and_then(constraint_field);
            let detail = match field {
                Some(field) => format!("{field}: refused by the database ({})", info.message()),
                None => format!("refused by the database ({})", info.message()),
            };
            vec![MutationError::detailed(what, detail)]
        }
        Failure::Db(e) => {
            tracing::error!(error = %e, "family mutation failed");
            vec![MutationError::detailed(
                what,
                "the database failed while saving; nothing was changed",
            )]
        }
    }
}

/// The input field behind a constraint of openIMIS's tables, for a readable error (the
/// constraint names differ between eras, the column names in them do not).
fn constraint_field(constraint: &str) -> Option<&'static str> {
    const FIELDS: &[(&str, &str)] = &[
        ("_HFID_", "headInsuree.healthFacilityId"),
        ("_PhotoID_", "headInsuree.photo"),
        ("_CurrentVillage_", "headInsuree.currentVillageId"),
        ("_Gender_", "headInsuree.genderId"),
        ("_Relationship_", "headInsuree.relationshipId"),
        ("_Profession_", "headInsuree.professionId"),
        ("_Education_", "headInsuree.educationId"),
        ("_LocationId_", "locationId"),
        ("_FamilyType_", "familyTypeId"),
        ("_ConfirmationType_", "confirmationTypeId"),
    ];
    FIELDS
        .iter()
        .find(|(part, _)| constraint.contains(part))
        .map(|(_, field)| *field)
}

fn hook_failure(what: &str, e: HookError) -> Failure {
    match e {
        HookError::Db(db) => Failure::Db(db),
        invalid @ HookError::Invalid { .. } => {
            Failure::Rejected(vec![MutationError::detailed(what, invalid.to_string())])
        }
    }
}

fn invalid(what: &str, field: &str, message: impl std::fmt::Display) -> Failure {
    Failure::Rejected(vec![MutationError::detailed(
        what,
        format!("{field}: {message}"),
    )])
}

fn denied(actor: &Actor, what: &str) -> Vec<MutationError> {
    let detail = if actor.authenticated {
        "User not authorized for this operation"
    } else {
        "User must be authenticated for this operation"
    };
    vec![MutationError::detailed(what, detail)]
}

/// Writes the failure log row after the rollback.
async fn record_failure(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    requested: DateTime<Utc>,
    meta: &MutationMeta,
    errors: Vec<MutationError>,
) -> Result<MutationReceipt, DbError> {
    mutation_log::record(conn, id, requested, meta, Err(&errors)).await?;
    Ok(MutationReceipt {
        internal_id: id,
        outcome: Err(errors),
    })
}

const CREATE: &str = "Failed to create family";
const UPDATE: &str = "Failed to update family";
const DELETE: &str = "Failed to delete families";

/// The head insuree's columns, written in full on create and update (openIMIS's full
/// replacement); `JsonExt` is written separately so that an omitted one is kept.
#[derive(Debug, Clone, AsChangeset)]
#[diesel(table_name = tbl_insuree, treat_none_as_null = true)]
struct InsureeValues {
    chf_id: Option<String>,
    last_name: String,
    other_names: String,
    dob: Option<NaiveDate>,
    gender: Option<String>,
    marital: Option<String>,
    is_head: bool,
    passport: Option<String>,
    phone: Option<String>,
    email: Option<String>,
    current_address: Option<String>,
    geo_location: Option<String>,
    current_village: Option<i32>,
    photo_date: Option<NaiveDate>,
    card_issued: bool,
    relationship: Option<i16>,
    profession: Option<i16>,
    education: Option<i16>,
    type_of_id: Option<String>,
    hf_id: Option<i32>,
    is_offline: Option<bool>,
    status: Option<String>,
    status_date: Option<NaiveDate>,
    validity_from: DateTime<Utc>,
    audit_user_id: i32,
}

/// The family's columns, written in full on create and update.
#[derive(Debug, Clone, AsChangeset)]
#[diesel(table_name = tbl_families, treat_none_as_null = true)]
struct FamilyValues {
    insuree_id: i32,
    location_id: Option<i32>,
    poverty: Option<bool>,
    family_type: Option<String>,
    family_address: Option<String>,
    is_offline: Option<bool>,
    ethnicity: Option<String>,
    confirmation_no: Option<String>,
    confirmation_type: Option<String>,
    validity_from: DateTime<Utc>,
    audit_user_id: i32,
}

fn small(what: &str, field: &str, v: Option<i32>) -> Result<Option<i16>, Failure> {
    v.map(|n| i16::try_from(n).map_err(|_| invalid(what, field, format!("{n} is out of range"))))
        .transpose()
}

fn empty_to_none(v: &Option<String>) -> Option<String> {
    v.as_ref()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

fn insuree_values(
    what: &str,
    h: &HeadInsureeInput,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<InsureeValues, Failure> {
    if let Some(s) = &h.status
        && !matches!(s.as_str(), "AC" | "IN" | "DE")
    {
        return Err(invalid(
            what,
            "headInsuree.status",
            format!("must be AC, IN or DE, not {s:?}"),
        ));
    }
    Ok(InsureeValues {
        chf_id: empty_to_none(&h.chf_id),
        last_name: h.last_name.clone(),
        other_names: h.other_names.clone(),
        dob: h.dob,
        gender: Some(h.gender_id.clone()).filter(|g| !g.is_empty()),
        marital: h.marital.clone(),
        is_head: true,
        passport: h.passport.clone(),
        phone: h.phone.clone(),
        email: h.email.clone(),
        current_address: h.current_address.clone(),
        geo_location: h.geolocation.clone(),
        current_village: h.current_village_id,
        photo_date: h.photo_date,
        card_issued: h.card_issued.unwrap_or(false),
        relationship: small(what, "headInsuree.relationshipId", h.relationship_id)?,
        profession: small(what, "headInsuree.professionId", h.profession_id)?,
        education: small(what, "headInsuree.educationId", h.education_id)?,
        type_of_id: h.type_of_id_id.clone(),
        hf_id: h.health_facility_id,
        is_offline: h.offline,
        status: h.status.clone(),
        status_date: h.status_date,
        validity_from: now,
        audit_user_id: actor.audit_user_id,
    })
}

/// Columns a history copy sets itself rather than copying.
const FAMILY_COPY_SKIP: &[&str] = &["FamilyID", "FamilyUUID", "ValidityTo", "LegacyID"];
const INSUREE_COPY_SKIP: &[&str] = &["InsureeID", "InsureeUUID", "ValidityTo", "LegacyID"];

/// Writes history copies of rows of `table` (new key and uuid, `LegacyID` = the current key,
/// `ValidityTo` = `now`), as openIMIS's `save_history` does, copying exactly the columns the
/// table has in this database.
async fn copy_rows(
    conn: &mut AsyncPgConnection,
    catalog: &Catalog,
    (table, key, uuid, skip): (&str, &str, &str, &[&str]),
    ids: &[i32],
    now: DateTime<Utc>,
) -> Result<(), diesel::result::Error> {
    if ids.is_empty() {
        return Ok(());
    }
    let columns = catalog.copy_list(table, skip);
    let sql = format!(
        "INSERT INTO \"{table}\" (\"{uuid}\", \"ValidityTo\", \"LegacyID\", {columns}) \
         SELECT gen_random_uuid()::text, $2, \"{key}\", {columns} \
         FROM \"{table}\" WHERE \"{key}\" = ANY($1)"
    );
    // one text per table for the process's life (the catalog is read once): cached
    cached(
        diesel::sql_query(sql)
            .bind::<Array<Int4>, _>(ids)
            .bind::<Timestamptz, _>(now),
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// History copies of families.
async fn copy_families(
    conn: &mut AsyncPgConnection,
    catalog: &Catalog,
    ids: &[i32],
    now: DateTime<Utc>,
) -> Result<(), diesel::result::Error> {
    let table = ("tblFamilies", "FamilyID", "FamilyUUID", FAMILY_COPY_SKIP);
    copy_rows(conn, catalog, table, ids, now).await
}

/// History copies of insurees.
async fn copy_insurees(
    conn: &mut AsyncPgConnection,
    catalog: &Catalog,
    ids: &[i32],
    now: DateTime<Utc>,
) -> Result<(), diesel::result::Error> {
    let table = ("tblInsuree", "InsureeID", "InsureeUUID", INSUREE_COPY_SKIP);
    copy_rows(conn, catalog, table, ids, now).await
}

/// The string inputs of a family mutation with the column each is stored in.
fn string_fields(
    input: &FamilyInput,
) -> Vec<(&'static str, &'static str, &'static str, Option<&str>)> {
    let mut out = vec![
        (
            "address",
            "tblFamilies",
            "FamilyAddress",
            input.address.as_deref(),
        ),
        (
            "ethnicity",
            "tblFamilies",
            "Ethnicity",
            input.ethnicity.as_deref(),
        ),
        (
            "confirmationNo",
            "tblFamilies",
            "ConfirmationNo",
            input.confirmation_no.as_deref(),
        ),
        (
            "familyTypeId",
            "tblFamilies",
            "FamilyType",
            input.family_type_id.as_deref(),
        ),
        (
            "confirmationTypeId",
            "tblFamilies",
            "ConfirmationType",
            input.confirmation_type_id.as_deref(),
        ),
    ];
    if let Some(h) = &input.head_insuree {
        out.extend([
            (
                "headInsuree.chfId",
                "tblInsuree",
                "CHFID",
                h.chf_id.as_deref().map(str::trim),
            ),
            (
                "headInsuree.lastName",
                "tblInsuree",
                "LastName",
                Some(h.last_name.as_str()),
            ),
            (
                "headInsuree.otherNames",
                "tblInsuree",
                "OtherNames",
                Some(h.other_names.as_str()),
            ),
            (
                "headInsuree.genderId",
                "tblInsuree",
                "Gender",
                Some(h.gender_id.as_str()),
            ),
            (
                "headInsuree.marital",
                "tblInsuree",
                "Marital",
                h.marital.as_deref(),
            ),
            (
                "headInsuree.passport",
                "tblInsuree",
                "passport",
                h.passport.as_deref(),
            ),
            (
                "headInsuree.phone",
                "tblInsuree",
                "Phone",
                h.phone.as_deref(),
            ),
            (
                "headInsuree.email",
                "tblInsuree",
                "Email",
                h.email.as_deref(),
            ),
            (
                "headInsuree.currentAddress",
                "tblInsuree",
                "CurrentAddress",
                h.current_address.as_deref(),
            ),
            (
                "headInsuree.geolocation",
                "tblInsuree",
                "GeoLocation",
                h.geolocation.as_deref(),
            ),
            (
                "headInsuree.typeOfIdId",
                "tblInsuree",
                "TypeOfId",
                h.type_of_id_id.as_deref(),
            ),
            (
                "headInsuree.status",
                "tblInsuree",
                "status",
                h.status.as_deref(),
            ),
        ]);
    }
    out
}

/// Every string input longer than its column in this database (`headInsuree.chfId: at most 12
/// characters`), all reported together.
fn check_lengths(what: &str, catalog: &Catalog, input: &FamilyInput) -> Vec<MutationError> {
    string_fields(input)
        .into_iter()
        .filter_map(|(field, table, column, value)| {
            let max = catalog.max_chars(table, column)?;
            let len = value?.chars().count();
            (len > max).then(|| {
                MutationError::detailed(what, format!("{field}: at most {max} characters"))
            })
        })
        .collect()
}

/// `value` (cast to `cast`) is NULL or names a row: `EXISTS (SELECT 1 FROM <row>$value<rest>)`.
fn names_a_row(value: Bind, cast: &str, row: &str, rest: &str) -> Fragment {
    Fragment::sql("(")
        .bind(value.clone())
        .with_sql("::")
        .with_sql(cast)
        .with_sql(" IS NULL OR EXISTS (SELECT 1 FROM ")
        .with_sql(row)
        .bind(value)
        .with_sql(rest)
        .with_sql("))")
}

/// Every id and code of the input that must name an existing row (current, for versioned
/// tables), as boolean SQL expressions (true: it does, or the field is not given), each with
/// the problem reported when it does not. `new_family`: the uuid of the family a create is
/// about to insert; last, the check that no family has it yet. The SQL text never depends on
/// the values (a field not given is a NULL), so each statement built from it is prepared once.
fn reference_checks(
    what: &str,
    input: &FamilyInput,
    new_family: Option<&str>,
) -> Vec<(Fragment, MutationError)> {
    let head = input.head_insuree.as_ref();
    let code = |v: Option<&String>| Bind::OptText(v.cloned().filter(|s| !s.is_empty()));
    let int = |v: Option<i32>| Bind::OptInt(v);
    let small_id = |v: Option<i32>| Bind::OptSmallInt(v.and_then(|n| i16::try_from(n).ok()));
    let current = " AND \"ValidityTo\" IS NULL";
    let checks = [
        (
            names_a_row(
                int(input.location_id),
                "int",
                "\"tblLocations\" WHERE \"LocationId\" = ",
                current,
            ),
            "locationId",
            "no such location",
        ),
        (
            names_a_row(
                int(head.and_then(|h| h.current_village_id)),
                "int",
                "\"tblLocations\" WHERE \"LocationId\" = ",
                current,
            ),
            "headInsuree.currentVillageId",
            "no such location",
        ),
        (
            names_a_row(
                code(head.map(|h| &h.gender_id)),
                "text",
                "\"tblGender\" WHERE \"Code\" = ",
                "",
            ),
            "headInsuree.genderId",
            "no such gender",
        ),
        (
            names_a_row(
                code(input.family_type_id.as_ref()),
                "text",
                "\"tblFamilyTypes\" WHERE \"FamilyTypeCode\" = ",
                "",
            ),
            "familyTypeId",
            "no such family type",
        ),
        (
            names_a_row(
                code(input.confirmation_type_id.as_ref()),
                "text",
                "\"tblConfirmationTypes\" WHERE \"ConfirmationTypeCode\" = ",
                "",
            ),
            "confirmationTypeId",
            "no such confirmation type",
        ),
        (
            names_a_row(
                small_id(head.and_then(|h| h.relationship_id)),
                "smallint",
                "\"tblRelations\" WHERE \"RelationId\" = ",
                "",
            ),
            "headInsuree.relationshipId",
            "no such relationship",
        ),
        (
            names_a_row(
                small_id(head.and_then(|h| h.profession_id)),
                "smallint",
                "\"tblProfessions\" WHERE \"ProfessionId\" = ",
                "",
            ),
            "headInsuree.professionId",
            "no such profession",
        ),
        (
            names_a_row(
                small_id(head.and_then(|h| h.education_id)),
                "smallint",
                "\"tblEducations\" WHERE \"EducationId\" = ",
                "",
            ),
            "headInsuree.educationId",
            "no such education",
        ),
        (
            names_a_row(
                int(head.and_then(|h| h.health_facility_id)),
                "int",
                "\"tblHF\" WHERE \"HfID\" = ",
                current,
            ),
            "headInsuree.healthFacilityId",
            "no such health facility",
        ),
        (
            names_a_row(
                code(head.and_then(|h| h.type_of_id_id.as_ref())),
                "text",
                "\"tblIdentificationTypes\" WHERE \"IdentificationCode\" = ",
                "",
            ),
            "headInsuree.typeOfIdId",
            "no such identification type",
        ),
    ];
    let mut out: Vec<(Fragment, MutationError)> = checks
        .into_iter()
        .map(|(sql, field, why)| {
            (
                sql,
                MutationError::detailed(what, format!("{field}: {why}")),
            )
        })
        .collect();
    if let Some(uuid) = new_family {
        out.push((
            Fragment::sql("NOT EXISTS (SELECT 1 FROM \"tblFamilies\" WHERE \"FamilyUUID\" = ")
                .bind(uuid)
                .with_sql(")"),
            MutationError::detailed(what, format!("uuid: a family {uuid} already exists")),
        ));
    }
    out
}

/// `ARRAY[check, …]::bool[]`: the checks' answers in one column.
fn answers(checks: &mut [(Fragment, MutationError)]) -> Fragment {
    let mut sql = Fragment::sql("ARRAY[");
    for (i, (check, _)) in checks.iter_mut().enumerate() {
        if i > 0 {
            sql.push_sql(", ");
        }
        // taken, not copied: afterwards only the problems are read
        sql.push(std::mem::take(check));
    }
    sql.with_sql("]::bool[]")
}

/// The problems of the checks that answered false (a missing answer counts as false).
fn failed(checks: Vec<(Fragment, MutationError)>, answers: &[bool]) -> Vec<MutationError> {
    checks
        .into_iter()
        .enumerate()
        .filter(|(i, _)| !answers.get(*i).copied().unwrap_or(false))
        .map(|(_, (_, problem))| problem)
        .collect()
}

#[derive(QueryableByName)]
struct References {
    #[diesel(sql_type = Array<diesel::sql_types::Bool>)]
    answers: Vec<bool>,
    #[diesel(sql_type = diesel::sql_types::Nullable<Int4>)]
    reserved_id: Option<i32>,
}

/// Checks, in one query, the input's references ([`reference_checks`]), so that a bad one is a
/// clear error naming the field rather than a foreign-key failure at COMMIT. All unknown
/// references are reported together.
///
/// `new_family`: the uuid of the family a create is about to insert. The same statement then
/// reserves the new family's `FamilyID` (the next value of its sequence), returned with the
/// problems; the head is inserted with that id, since openIMIS's dumps make both
/// `tblInsuree."FamilyID"` and `tblFamilies."InsureeID"` NOT NULL.
async fn check_references(
    conn: &mut AsyncPgConnection,
    what: &str,
    input: &FamilyInput,
    new_family: Option<&str>,
) -> Result<(Vec<MutationError>, Option<i32>), diesel::result::Error> {
    let mut checks = reference_checks(what, input, new_family);
    let chf = input
        .head_insuree
        .as_ref()
        .and_then(|h| empty_to_none(&h.chf_id));
    // The head's insurance number is locked here (see `check_chf_id`), in a statement the
    // mutation runs anyway: the uniqueness check, a later statement, then sees every earlier
    // holder's commit.
    let row: References = Fragment::sql("WITH lk AS (SELECT pg_advisory_xact_lock(hashtext('pn-chfid:' || ")
        .bind(chf.clone())
        .with_sql(")) WHERE ")
        .bind(chf)
        .with_sql("::text IS NOT NULL) SELECT (SELECT count(*) FROM lk) AS locked, ")
        .with(answers(&mut checks))
        .with_sql(" AS answers, CASE WHEN ")
        .bind(new_family)
        .with_sql(
            "::text IS NOT NULL THEN nextval(pg_get_serial_sequence('\"tblFamilies\"', 'FamilyID'))::int4 END \
             AS reserved_id",
        )
        .prepared()
        .get_result(conn)
        .await?;
    Ok((failed(checks, &row.answers), row.reserved_id))
}

/// Length and reference checks of a create or update and the hooks' checks of its
/// `contribution`, every problem reported together. For a create (`new_family`: the new
/// family's uuid) also reserves and returns the new `FamilyID` ([`check_references`]; `None`
/// when the table has no sequence).
async fn check_input(
    conn: &mut AsyncPgConnection,
    catalog: &Catalog,
    hooks: &dyn FamilyHooks,
    what: &str,
    input: &FamilyInput,
    new_family: Option<&str>,
) -> Result<Option<i32>, Failure> {
    let mut problems = check_lengths(what, catalog, input);
    let (unknown, reserved) = check_references(conn, what, input, new_family).await?;
    problems.extend(unknown);
    let from_hooks = hooks.check_input(conn, input.contribution.as_ref()).await?;
    problems.extend(
        from_hooks
            .into_iter()
            .map(|e| MutationError::detailed(what, e.to_string())),
    );
    if !problems.is_empty() {
        return Err(Failure::Rejected(problems));
    }
    Ok(reserved)
}

#[derive(QueryableByName, Debug)]
struct CurrentFamily {
    #[diesel(sql_type = Int4)]
    family_id: i32,
    #[diesel(sql_type = Int4)]
    insuree_id: i32,
    #[diesel(sql_type = Text)]
    family_uuid: String,
}

/// The current families with these uuids that the actor may see, locked for the write.
async fn lock_visible_families(
    conn: &mut AsyncPgConnection,
    uuids: &[String],
    scope: &Scope,
) -> Result<Vec<CurrentFamily>, diesel::result::Error> {
    let lowered: Vec<String> = uuids.iter().map(|u| u.to_lowercase()).collect();
    let mut sql = Fragment::sql(
        "SELECT f.\"FamilyID\" AS family_id, f.\"InsureeID\" AS insuree_id, f.\"FamilyUUID\" AS family_uuid \
         FROM \"tblFamilies\" f WHERE lower(f.\"FamilyUUID\") = ANY(",
    )
    .bind(lowered)
    .with_sql(") AND f.\"ValidityTo\" IS NULL");
    if let Some(visible) = scope.families("f") {
        sql.push_sql(" AND ").push(visible);
    }
    sql.push_sql(" ORDER BY f.\"FamilyID\" FOR UPDATE");
    // two shapes (with and without the district restriction)
    sql.prepared().load(conn).await
}

/// A family written by a user with districts must have a village: one without is visible to
/// administrators only (DECISIONS 10), and `updateFamily` replaces every family field
/// (DECISIONS 6), so an update that leaves `locationId` out would take the family out of the
/// user's reach. Said as such, rather than as "not in one of your districts".
fn require_village(what: &str, location_id: Option<i32>, scope: &Scope) -> Result<(), Failure> {
    if location_id.is_some() || scope.district_ids().is_none() {
        return Ok(());
    }
    let why = if what == UPDATE {
        "is required: updateFamily replaces every family field, and a family without a village \
         is visible to administrators only; send the family's village (its current one to keep it)"
    } else {
        "is required: a family without a village is visible to administrators only"
    };
    Err(invalid(what, "locationId", why))
}

/// Whether a location lies in the actor's districts (always true for administrators).
async fn location_in_scope(
    conn: &mut AsyncPgConnection,
    location_id: Option<i32>,
    scope: &Scope,
) -> Result<bool, diesel::result::Error> {
    let Some(location_id) = location_id else {
        return Ok(scope.district_ids().is_none());
    };
    let Some(visible) = scope.village(Fragment::value(location_id)) else {
        return Ok(true);
    };
    #[derive(QueryableByName)]
    struct Hit {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        hit: bool,
    }
    let row: Hit = Fragment::sql("SELECT COALESCE(")
        .with(visible)
        .with_sql(", false) AS hit")
        .prepared()
        .get_result(conn)
        .await?;
    Ok(row.hit)
}

/// Rejects an insurance number used by another current insuree (openIMIS HEAD's rule: history
/// rows do not count). Serialised per number with an advisory lock, taken by
/// [`check_references`] earlier in the transaction.
async fn check_chf_id(
    conn: &mut AsyncPgConnection,
    chf_id: &str,
    own_uuid: Option<&str>,
) -> Result<(), Failure> {
    let mut q = tbl_insuree::table
        .filter(tbl_insuree::chf_id.eq(chf_id))
        .filter(tbl_insuree::validity_to.is_null())
        .into_boxed();
    if let Some(own) = own_uuid {
        q = q.filter(tbl_insuree::insuree_uuid.ne(own.to_lowercase()));
    }
    let taken: i64 = q.count().get_result(conn).await?;
    chf_id_free(chf_id, taken > 0)
}

/// The answer of the insurance-number check.
fn chf_id_free(chf_id: &str, taken: bool) -> Result<(), Failure> {
    if taken {
        return Err(Failure::Rejected(vec![MutationError::message(format!(
            "Insuree number has to be unique, {chf_id} exists in system"
        ))]));
    }
    Ok(())
}

fn json_ext_value(v: &Option<Value>) -> Option<Value> {
    v.clone().filter(|v| !v.is_null())
}

/// The head's insurance number and columns, after the checks that need no database: the
/// number, both names and the birth date given, the status and the small ids in range.
fn head_values(
    what: &str,
    head: &HeadInsureeInput,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<(String, InsureeValues), Failure> {
    let chf_id = empty_to_none(&head.chf_id).ok_or_else(|| {
        invalid(
            what,
            "headInsuree.chfId",
            "the insurance number is required",
        )
    })?;
    if head.last_name.trim().is_empty() {
        return Err(invalid(what, "headInsuree.lastName", "is required"));
    }
    if head.other_names.trim().is_empty() {
        return Err(invalid(what, "headInsuree.otherNames", "is required"));
    }
    if head.dob.is_none() {
        return Err(invalid(what, "headInsuree.dob", "is required"));
    }
    Ok((chf_id, insuree_values(what, head, actor, now)?))
}

/// Creates or updates the head insuree; returns its `InsureeID`. `family_id` is the family it
/// heads. `check_new_chf`: whether to check a new head's insurance number here; `false` when
/// the caller checks it in a later statement of the transaction ([`insert_family`]).
#[allow(clippy::too_many_arguments)]
async fn write_head(
    conn: &mut AsyncPgConnection,
    catalog: &Catalog,
    what: &str,
    actor: &Actor,
    family_id: Option<i32>,
    head: &HeadInsureeInput,
    now: DateTime<Utc>,
    check_new_chf: bool,
) -> Result<i32, Failure> {
    let (chf_id, values) = head_values(what, head, actor, now)?;
    match &head.uuid {
        None => {
            if check_new_chf {
                check_chf_id(conn, &chf_id, None).await?;
            }
            #[derive(QueryableByName)]
            struct Inserted {
                #[diesel(sql_type = Int4)]
                id: i32,
            }
            let json_ext = head.json_ext.as_ref().and_then(json_ext_value);
            let row = head_row(
                &values,
                Uuid::new_v4(),
                Fragment::value(family_id),
                json_ext,
            );
            let inserted: Inserted = Fragment::sql(format!(
                "INSERT INTO \"tblInsuree\" ({HEAD_COLUMNS}) VALUES ("
            ))
            .with(row)
            .with_sql(") RETURNING \"InsureeID\" AS id")
            .prepared()
            .get_result(conn)
            .await?;
            Ok(inserted.id)
        }
        Some(uuid) => {
            let found: Option<(i32, Option<i32>)> = tbl_insuree::table
                .filter(tbl_insuree::insuree_uuid.eq(uuid.to_lowercase()))
                .filter(tbl_insuree::validity_to.is_null())
                .select((tbl_insuree::insuree_id, tbl_insuree::family_id))
                .for_update()
                .first(conn)
                .await
                .optional()?;
            // One answer for "does not exist" and "not yours to see" (docs/security.md).
            let unknown = || {
                invalid(
                    what,
                    "headInsuree.uuid",
                    format!("no current insuree {uuid} in your districts"),
                )
            };
            let Some((id, current_family)) = found else {
                return Err(unknown());
            };
            if !insuree_in_scope(conn, id, current_family, &actor.scope).await? {
                return Err(unknown());
            }
            if current_family.is_some() && current_family != family_id {
                return Err(invalid(
                    what,
                    "headInsuree.uuid",
                    format!("insuree {uuid} belongs to another family"),
                ));
            }
            check_chf_id(conn, &chf_id, Some(uuid)).await?;
            copy_insurees(conn, catalog, &[id], now).await?;
            diesel::update(tbl_insuree::table.find(id))
                .set((&values, tbl_insuree::family_id.eq(family_id)))
                .execute(conn)
                .await?;
            if let Some(ext) = &head.json_ext {
                diesel::update(tbl_insuree::table.find(id))
                    .set(tbl_insuree::json_ext.eq(json_ext_value(ext)))
                    .execute(conn)
                    .await?;
            }
            Ok(id)
        }
    }
}

/// Whether the actor may see insuree `id`: through its current family, or, for an insuree that
/// a `deleteFamilies(deleteMembers: false)` left without one, through the family it last
/// belonged to (its history rows keep that family). An insuree without any family is visible
/// to administrators only, like a family without a location (DECISIONS 10).
async fn insuree_in_scope(
    conn: &mut AsyncPgConnection,
    id: i32,
    current_family: Option<i32>,
    scope: &Scope,
) -> Result<bool, diesel::result::Error> {
    if matches!(scope, Scope::All) {
        return Ok(true);
    }
    let family = match current_family {
        Some(f) => Some(f),
        None => tbl_insuree::table
            .filter(tbl_insuree::legacy_id.eq(id))
            .filter(tbl_insuree::family_id.is_not_null())
            .order(tbl_insuree::validity_to.desc())
            .select(tbl_insuree::family_id)
            .first::<Option<i32>>(conn)
            .await
            .optional()?
            .flatten(),
    };
    let Some(family) = family else {
        return Ok(false);
    };
    let location: Option<Option<i32>> = tbl_families::table
        .find(family)
        .select(tbl_families::location_id)
        .first(conn)
        .await
        .optional()?;
    location_in_scope(conn, location.flatten(), scope).await
}

fn family_values(
    input: &FamilyInput,
    head_id: i32,
    actor: &Actor,
    now: DateTime<Utc>,
) -> FamilyValues {
    FamilyValues {
        insuree_id: head_id,
        location_id: input.location_id,
        poverty: input.poverty,
        family_type: input.family_type_id.clone().filter(|s| !s.is_empty()),
        family_address: input.address.clone(),
        is_offline: input.is_offline,
        ethnicity: input.ethnicity.clone(),
        confirmation_no: input.confirmation_no.clone(),
        confirmation_type: input.confirmation_type_id.clone().filter(|s| !s.is_empty()),
        validity_from: now,
        audit_user_id: actor.audit_user_id,
    }
}

/// Runs one family mutation: `body` and the success log row in one transaction, or, when
/// anything fails (validation, a hook, the database, the COMMIT itself — a deferred foreign
/// key, a serialisation failure), the rollback and then the error log row (status 1).
macro_rules! logged_transaction {
    ($pool:expr, $meta:expr, $what:expr, |$conn:ident| $body:expr) => {{
        let (pool, meta, what): (&Pool, &MutationMeta, &str) = ($pool, $meta, $what);
        let id = Uuid::new_v4();
        let requested = Utc::now();
        let mut conn = pool.get().await?;
        let result = AsyncConnection::transaction(&mut *conn, async |$conn| {
            let families: Vec<i32> = $body.await?;
            mutation_log::record_success($conn, id, requested, meta, &families).await?;
            Ok::<_, Failure>(families)
        })
        .await;
        conclude(pool, conn, id, requested, meta, what, result).await
    }};
}

/// The receipt of a finished mutation; on failure writes the error log row, on a fresh
/// connection when the failed one can no longer be used.
async fn conclude(
    pool: &Pool,
    mut conn: crate::db::Conn,
    id: Uuid,
    requested: DateTime<Utc>,
    meta: &MutationMeta,
    what: &str,
    result: Result<Vec<i32>, Failure>,
) -> Result<MutationReceipt, DbError> {
    let failure = match result {
        Ok(families) => {
            return Ok(MutationReceipt {
                internal_id: id,
                outcome: Ok(families),
            });
        }
        Err(failure) => failure,
    };
    let errors = failure_errors(what, failure);
    match record_failure(&mut conn, id, requested, meta, errors.clone()).await {
        Ok(receipt) => Ok(receipt),
        Err(first) => {
            tracing::warn!(error = %first, "writing the error log row failed; retrying on a fresh connection");
            drop(deadpool::managed::Object::take(conn));
            let mut fresh = pool.get().await?;
            record_failure(&mut fresh, id, requested, meta, errors).await
        }
    }
}

/// Writes a log row for a caller without the right, changing nothing else.
async fn reject(
    pool: &Pool,
    meta: &MutationMeta,
    errors: Vec<MutationError>,
) -> Result<MutationReceipt, DbError> {
    let mut conn = pool.get().await?;
    record_failure(&mut conn, Uuid::new_v4(), Utc::now(), meta, errors).await
}

/// Inserts the new family row. `new_head_chf`: the insurance number of the head just inserted
/// with the family, when it is new; the insert then also checks, in the same statement, that no
/// other current insuree holds it (openIMIS HEAD's rule, see [`check_chf_id`]; serialised by the
/// advisory lock [`check_references`] took in an earlier statement, so this statement's snapshot
/// sees every earlier holder's commit). No row inserted = the number is taken.
async fn insert_family(
    conn: &mut AsyncPgConnection,
    family_id: i32,
    family_uuid: &str,
    v: &FamilyValues,
    json_ext: Option<Value>,
    new_head_chf: Option<&str>,
) -> Result<(), Failure> {
    let row = family_row(
        Fragment::value(family_id),
        family_uuid,
        Fragment::value(v.insuree_id),
        v,
        json_ext,
    );
    let inserted = Fragment::sql(format!(
        "INSERT INTO \"tblFamilies\" ({FAMILY_COLUMNS}) SELECT "
    ))
    .with(row)
    .with_sql(" WHERE ")
    .bind(new_head_chf)
    .with_sql("::text IS NULL OR NOT EXISTS (SELECT 1 FROM \"tblInsuree\" WHERE \"CHFID\" = ")
    .bind(new_head_chf)
    .with_sql(" AND \"ValidityTo\" IS NULL AND \"InsureeID\" <> ")
    .bind(v.insuree_id)
    .with_sql(")")
    .prepared()
    .execute(conn)
    .await?;
    match new_head_chf {
        Some(chf_id) if inserted == 0 => chf_id_free(chf_id, true),
        _ => Ok(()),
    }
}

/// The columns of a new head insuree, in the order of [`head_row`]'s values: [`InsureeValues`],
/// then the uuid, the family and `JsonExt` (both create paths insert with them).
const HEAD_COLUMNS: &str = "\"CHFID\", \"LastName\", \"OtherNames\", \"DOB\", \"Gender\", \"Marital\", \"IsHead\", \
     \"passport\", \"Phone\", \"Email\", \"CurrentAddress\", \"GeoLocation\", \"CurrentVillage\", \"PhotoDate\", \
     \"CardIssued\", \"Relationship\", \"Profession\", \"Education\", \"TypeOfId\", \"HFID\", \"isOffline\", \
     \"status\", \"status_date\", \"ValidityFrom\", \"AuditUserID\", \"InsureeUUID\", \"FamilyID\", \"JsonExt\"";

/// `a, b, c`: the fragments separated by commas.
fn comma_list(items: impl IntoIterator<Item = Fragment>) -> Fragment {
    let mut out = Fragment::new();
    for (i, item) in items.into_iter().enumerate() {
        if i > 0 {
            out.push_sql(", ");
        }
        out.push(item);
    }
    out
}

/// The values of [`HEAD_COLUMNS`]; `family_id` is a value or an SQL expression.
fn head_row(
    v: &InsureeValues,
    uuid: Uuid,
    family_id: Fragment,
    json_ext: Option<Value>,
) -> Fragment {
    let values: Vec<Bind> = vec![
        v.chf_id.clone().into(),
        v.last_name.clone().into(),
        v.other_names.clone().into(),
        v.dob.into(),
        v.gender.clone().into(),
        v.marital.clone().into(),
        v.is_head.into(),
        v.passport.clone().into(),
        v.phone.clone().into(),
        v.email.clone().into(),
        v.current_address.clone().into(),
        v.geo_location.clone().into(),
        v.current_village.into(),
        v.photo_date.into(),
        v.card_issued.into(),
        v.relationship.into(),
        v.profession.into(),
        v.education.into(),
        v.type_of_id.clone().into(),
        v.hf_id.into(),
        v.is_offline.into(),
        v.status.clone().into(),
        v.status_date.into(),
        v.validity_from.into(),
        v.audit_user_id.into(),
        uuid.to_string().into(),
    ];
    comma_list(
        values
            .into_iter()
            .map(Fragment::value)
            .chain([family_id, Fragment::value(Bind::Jsonb(json_ext))]),
    )
}

/// The columns of a new family, in the order of [`family_row`]'s values (both create paths
/// insert with them).
const FAMILY_COLUMNS: &str = "\"FamilyID\", \"FamilyUUID\", \"InsureeID\", \"LocationId\", \"Poverty\", \
     \"FamilyType\", \"FamilyAddress\", \"isOffline\", \"Ethnicity\", \"ConfirmationNo\", \"ConfirmationType\", \
     \"ValidityFrom\", \"AuditUserID\", \"JsonExt\"";

/// The values of [`FAMILY_COLUMNS`]; `family_id` and `head_id` are values or SQL expressions
/// (`v.insuree_id` is not used: the head is `head_id`).
fn family_row(
    family_id: Fragment,
    uuid: &str,
    head_id: Fragment,
    v: &FamilyValues,
    json_ext: Option<Value>,
) -> Fragment {
    let values: Vec<Bind> = vec![
        v.location_id.into(),
        v.poverty.into(),
        v.family_type.clone().into(),
        v.family_address.clone().into(),
        v.is_offline.into(),
        v.ethnicity.clone().into(),
        v.confirmation_no.clone().into(),
        v.confirmation_type.clone().into(),
        v.validity_from.into(),
        v.audit_user_id.into(),
        Bind::Jsonb(json_ext),
    ];
    comma_list(
        [family_id, Fragment::value(uuid), head_id]
            .into_iter()
            .chain(values.into_iter().map(Fragment::value)),
    )
}

/// A create that can be written in one statement (docs/decisions.md 50): its head is new and
/// its input passes every check that needs no database.
struct OneStatement {
    family_uuid: String,
    chf_id: String,
    head: InsureeValues,
    part: CreatePart,
}

/// The one-statement plan of a create, or `None`: the create then runs in a transaction of
/// several statements, which reports the problems found here together with the database's
/// (input too long, a required field missing, …), takes an existing insuree as head, and calls
/// hooks that cannot take part in one statement.
fn one_statement(
    catalog: &Catalog,
    hooks: &dyn FamilyHooks,
    actor: &Actor,
    input: &FamilyInput,
    now: DateTime<Utc>,
) -> Option<OneStatement> {
    let head = input.head_insuree.as_ref().filter(|h| h.uuid.is_none())?;
    let family_uuid = match &input.uuid {
        Some(u) => Uuid::parse_str(u).ok()?.to_string(),
        None => Uuid::new_v4().to_string(),
    };
    if !check_lengths(CREATE, catalog, input).is_empty() {
        return None;
    }
    let (chf_id, head_values) = head_values(CREATE, head, actor, now).ok()?;
    require_village(CREATE, input.location_id, &actor.scope).ok()?;
    let part = hooks
        .create_part(input.contribution.as_ref())
        .filter(|p| p.problems.is_empty())?;
    Some(OneStatement {
        family_uuid,
        chf_id,
        head: head_values,
        part,
    })
}

#[derive(QueryableByName)]
struct Created {
    #[diesel(sql_type = Array<diesel::sql_types::Bool>)]
    answers: Vec<bool>,
    #[diesel(sql_type = diesel::sql_types::Bool)]
    in_scope: bool,
    #[diesel(sql_type = diesel::sql_types::Bool)]
    chf_free: bool,
    #[diesel(sql_type = diesel::sql_types::Nullable<Int4>)]
    reserved_id: Option<i32>,
    #[diesel(sql_type = diesel::sql_types::Nullable<Int4>)]
    family_id: Option<i32>,
}

/// createFamily in one statement, one round trip, its own implicit transaction
/// (docs/decisions.md 50): the checks (the input's references, the family's uuid, the village
/// in the caller's districts, the hooks' checks, the insurance number under its lock —
/// `pn_chfid_free`), then, only when all pass, the family's id from its sequence, the head, the
/// family, the hooks' rows, the log row and its link. When a check fails nothing is written and
/// the error row is logged after, with every problem the checks found.
async fn create_in_one_statement(
    pool: &Pool,
    actor: &Actor,
    meta: &MutationMeta,
    input: &FamilyInput,
    plan: OneStatement,
    now: DateTime<Utc>,
) -> Result<MutationReceipt, DbError> {
    let id = Uuid::new_v4();
    let requested = Utc::now();
    let mut checks = reference_checks(CREATE, input, Some(&plan.family_uuid));
    checks.extend(
        plan.part
            .checks
            .into_iter()
            .map(|(sql, e)| (sql, MutationError::detailed(CREATE, e.to_string()))),
    );
    let in_scope = actor
        .scope
        .village(Fragment::value(input.location_id))
        .unwrap_or_else(|| Fragment::sql("true"));
    // its head's id is the statement's (`head`), not a value: 0 is never written
    let family = family_values(input, 0, actor, now);
    let json_ext = |v: &Option<Option<Value>>| v.as_ref().and_then(json_ext_value);
    let head_json_ext = input
        .head_insuree
        .as_ref()
        .and_then(|h| json_ext(&h.json_ext));
    let statement = Fragment::sql("WITH chk AS MATERIALIZED (SELECT ")
        .with(answers(&mut checks))
        .with_sql(" AS answers, COALESCE(")
        .with(in_scope)
        .with_sql(", false) AS in_scope, pn_chfid_free(")
        .bind(plan.chf_id.as_str())
        .with_sql(
            "::text, NULL) AS chf_free), \
             pass AS MATERIALIZED (SELECT nextval(pg_get_serial_sequence('\"tblFamilies\"', 'FamilyID'))::int4 AS id \
                 FROM chk WHERE true = ALL(chk.answers) AND chk.in_scope AND chk.chf_free), ",
        )
        .with_sql(format!("head AS (INSERT INTO \"tblInsuree\" ({HEAD_COLUMNS}) SELECT "))
        .with(head_row(&plan.head, Uuid::new_v4(), Fragment::sql("pass.id"), head_json_ext))
        .with_sql(format!(
            " FROM pass WHERE pass.id IS NOT NULL RETURNING \"InsureeID\", \"FamilyID\"), \
             fam AS (INSERT INTO \"tblFamilies\" ({FAMILY_COLUMNS}) SELECT "
        ))
        .with(family_row(
            Fragment::sql("head.\"FamilyID\""),
            &plan.family_uuid,
            Fragment::sql("head.\"InsureeID\""),
            &family,
            json_ext(&input.json_ext),
        ))
        .with_sql(" FROM head RETURNING \"FamilyID\")")
        .with(plan.part.writes)
        .with_sql(", ")
        .with(mutation_log::success_ctes(
            id,
            requested,
            meta,
            Fragment::sql("(SELECT ")
                .bind(Uuid::new_v4())
                .with_sql("::uuid AS link, \"FamilyID\" AS family FROM fam) f"),
        ))
        .with_sql(
            " SELECT chk.answers, chk.in_scope, chk.chf_free, (SELECT id FROM pass) AS reserved_id, \
             (SELECT \"FamilyID\" FROM fam) AS family_id FROM chk",
        );
    let mut conn = pool.get().await?;
    // Read to the end (`load`, not `get_result`): the statement commits when its answer has been
    // sent, and a refusal at that commit (a deferred key) comes after the row — `get_result`
    // would stop at the row and report a family that was never written.
    let answer = statement.prepared().load::<Created>(&mut conn).await;
    let result = match answer.map(|rows| rows.into_iter().next()) {
        Err(e) => Err(Failure::Db(e)),
        Ok(Some(Created {
            family_id: Some(family_id),
            ..
        })) => Ok(vec![family_id]),
        Ok(Some(row)) => Err(not_created(checks, row, &plan.chf_id)),
        Ok(None) => Err(Failure::Db(diesel::result::Error::NotFound)),
    };
    conclude(pool, conn, id, requested, meta, CREATE, result).await
}

/// Why createFamily's one statement wrote nothing, said as the transactional path says it: the
/// input's and the hooks' problems together, else the village out of the caller's districts,
/// else the insurance number taken, else the family table without a sequence.
fn not_created(checks: Vec<(Fragment, MutationError)>, row: Created, chf_id: &str) -> Failure {
    let problems = failed(checks, &row.answers);
    if !problems.is_empty() {
        return Failure::Rejected(problems);
    }
    if !row.in_scope {
        return invalid(
            CREATE,
            "locationId",
            "the village is not in one of your districts",
        );
    }
    if !row.chf_free {
        return match chf_id_free(chf_id, true) {
            Err(taken) => taken,
            Ok(()) => Failure::Rejected(Vec::new()),
        };
    }
    if row.reserved_id.is_none() {
        return no_sequence();
    }
    // every check passed and an id was reserved, yet no family came back
    Failure::Rejected(vec![MutationError::detailed(
        CREATE,
        "the family was not written; nothing was changed",
    )])
}

/// A create on a database whose `tblFamilies.FamilyID` has no sequence to take the id from.
fn no_sequence() -> Failure {
    Failure::Rejected(vec![MutationError::message(
        "tblFamilies.FamilyID has no sequence in this database; the family cannot be created",
    )])
}

/// `createFamily`: the head insuree, the family, the hooks, the log — one transaction. The
/// family's id is reserved first (with the input's checks), so that the head is inserted with
/// it: openIMIS's dumps make both `tblInsuree."FamilyID"` and `tblFamilies."InsureeID"` NOT
/// NULL (the keys are deferred).
pub async fn create_family(
    pool: &Pool,
    catalog: &CatalogCell,
    hooks: &dyn FamilyHooks,
    actor: &Actor,
    meta: &MutationMeta,
    input: &FamilyInput,
) -> Result<MutationReceipt, DbError> {
    if !actor.has_right(RIGHT_CREATE) {
        return reject(pool, meta, denied(actor, CREATE)).await;
    }
    let catalog = catalog.get(pool).await?;
    let catalog = catalog.as_ref();
    let now = Utc::now();
    if let Some(plan) = one_statement(catalog, hooks, actor, input, now) {
        return create_in_one_statement(pool, actor, meta, input, plan, now).await;
    }
    logged_transaction!(pool, meta, CREATE, |conn| async {
        let head = input
            .head_insuree
            .as_ref()
            .ok_or_else(|| invalid(CREATE, "headInsuree", "is required"))?;
        let family_uuid = match &input.uuid {
            Some(u) => Uuid::parse_str(u)
                .map_err(|_| invalid(CREATE, "uuid", format!("{u:?} is not a UUID")))?
                .to_string(),
            None => Uuid::new_v4().to_string(),
        };
        let reserved = check_input(conn, catalog, hooks, CREATE, input, Some(&family_uuid)).await?;
        let Some(family_id) = reserved else {
            return Err(no_sequence());
        };
        require_village(CREATE, input.location_id, &actor.scope)?;
        if !location_in_scope(conn, input.location_id, &actor.scope).await? {
            return Err(invalid(
                CREATE,
                "locationId",
                "the village is not in one of your districts",
            ));
        }
        // A new head's insurance number is checked by the family's insert (one statement less).
        let new_chf = empty_to_none(&head.chf_id).filter(|_| head.uuid.is_none());
        let head_id = write_head(
            conn,
            catalog,
            CREATE,
            actor,
            Some(family_id),
            head,
            now,
            new_chf.is_none(),
        )
        .await?;
        insert_family(
            conn,
            family_id,
            &family_uuid,
            &family_values(input, head_id, actor, now),
            input.json_ext.as_ref().and_then(json_ext_value),
            new_chf.as_deref(),
        )
        .await?;
        let event = FamilyEvent {
            family_id,
            family_uuid,
            contribution: input.contribution.clone(),
        };
        hooks
            .after_create(conn, &event)
            .await
            .map_err(|e| hook_failure(CREATE, e))?;
        Ok(vec![family_id])
    })
}

/// `updateFamily`: history rows, full replacement (except an omitted `jsonExt`), the head
/// insuree, the hooks, the log — one transaction.
pub async fn update_family(
    pool: &Pool,
    catalog: &CatalogCell,
    hooks: &dyn FamilyHooks,
    actor: &Actor,
    meta: &MutationMeta,
    input: &FamilyInput,
) -> Result<MutationReceipt, DbError> {
    if !actor.has_right(RIGHT_UPDATE) {
        return reject(pool, meta, denied(actor, UPDATE)).await;
    }
    let catalog = catalog.get(pool).await?;
    let catalog = catalog.as_ref();
    logged_transaction!(pool, meta, UPDATE, |conn| async {
        let now = Utc::now();
        let uuid = input
            .uuid
            .as_ref()
            .ok_or_else(|| invalid(UPDATE, "uuid", "is required to update a family"))?;
        check_input(conn, catalog, hooks, UPDATE, input, None).await?;
        let found = lock_visible_families(conn, std::slice::from_ref(uuid), &actor.scope).await?;
        let Some(family) = found.into_iter().next() else {
            return Err(invalid(UPDATE, "uuid", format!("no family {uuid}")));
        };
        require_village(UPDATE, input.location_id, &actor.scope)?;
        if !location_in_scope(conn, input.location_id, &actor.scope).await? {
            return Err(invalid(
                UPDATE,
                "locationId",
                "the village is not in one of your districts",
            ));
        }
        copy_families(conn, catalog, &[family.family_id], now).await?;
        let head_id = match &input.head_insuree {
            Some(head) => {
                let new_head = write_head(
                    conn,
                    catalog,
                    UPDATE,
                    actor,
                    Some(family.family_id),
                    head,
                    now,
                    true,
                )
                .await?;
                if new_head != family.insuree_id {
                    copy_insurees(conn, catalog, &[family.insuree_id], now).await?;
                    diesel::update(tbl_insuree::table.find(family.insuree_id))
                        .set((
                            tbl_insuree::is_head.eq(false),
                            tbl_insuree::validity_from.eq(now),
                            tbl_insuree::audit_user_id.eq(actor.audit_user_id),
                        ))
                        .execute(conn)
                        .await?;
                }
                new_head
            }
            None => family.insuree_id,
        };
        diesel::update(tbl_families::table.find(family.family_id))
            .set(&family_values(input, head_id, actor, now))
            .execute(conn)
            .await?;
        if let Some(ext) = &input.json_ext {
            diesel::update(tbl_families::table.find(family.family_id))
                .set(tbl_families::json_ext.eq(json_ext_value(ext)))
                .execute(conn)
                .await?;
        }
        let event = FamilyEvent {
            family_id: family.family_id,
            family_uuid: family.family_uuid.clone(),
            contribution: input.contribution.clone(),
        };
        hooks
            .after_update(conn, &event)
            .await
            .map_err(|e| hook_failure(UPDATE, e))?;
        Ok(vec![family.family_id])
    })
}

/// `deleteFamilies`: members soft-deleted or detached, the families soft-deleted (history row +
/// `ValidityFrom = ValidityTo = now`), the hooks, the log — one transaction, all or nothing.
///
/// `deleteMembers: false` detaches the members (`FamilyID` NULL, with a history row), as
/// openIMIS does; on a database where `tblInsuree."FamilyID"` is NOT NULL (openIMIS's dumps
/// before its own migrations) an insuree cannot exist without a family, so the mutation is
/// refused with a message saying so and changes nothing (docs/compatibility.md).
pub async fn delete_families(
    pool: &Pool,
    catalog: &CatalogCell,
    hooks: &dyn FamilyHooks,
    actor: &Actor,
    meta: &MutationMeta,
    input: &DeleteFamiliesInput,
) -> Result<MutationReceipt, DbError> {
    if !actor.has_right(RIGHT_DELETE) {
        return reject(pool, meta, denied(actor, DELETE)).await;
    }
    let catalog = catalog.get(pool).await?;
    let catalog = catalog.as_ref();
    logged_transaction!(pool, meta, DELETE, |conn| async {
        let now = Utc::now();
        if input.uuids.is_empty() {
            return Err(invalid(DELETE, "uuids", "no family given"));
        }
        let found = lock_visible_families(conn, &input.uuids, &actor.scope).await?;
        let missing: Vec<MutationError> = input
            .uuids
            .iter()
            .filter(|u| !found.iter().any(|f| f.family_uuid.eq_ignore_ascii_case(u)))
            .map(|u| MutationError::Group {
                title: u.clone(),
                list: vec![MutationError::message(format!(
                    "Failed to delete family {u}"
                ))],
            })
            .collect();
        if !missing.is_empty() {
            return Err(Failure::Rejected(missing));
        }
        if !input.delete_members && !catalog.insuree_family_nullable() {
            return Err(invalid(
                DELETE,
                "deleteMembers",
                "false is not possible on this database: tblInsuree.FamilyID is NOT NULL here, \
                 so an insuree cannot be left without a family; delete the members with the \
                 family (deleteMembers: true) or move them to another family first",
            ));
        }
        let ids: Vec<i32> = found.iter().map(|f| f.family_id).collect();
        let members: Vec<i32> = tbl_insuree::table
            .filter(tbl_insuree::family_id.eq_any(&ids))
            .filter(tbl_insuree::validity_to.is_null())
            .select(tbl_insuree::insuree_id)
            .for_update()
            .load(conn)
            .await?;
        copy_insurees(conn, catalog, &members, now).await?;
        if input.delete_members {
            diesel::update(tbl_insuree::table.filter(tbl_insuree::insuree_id.eq_any(&members)))
                .set((
                    tbl_insuree::validity_from.eq(now),
                    tbl_insuree::validity_to.eq(Some(now)),
                    tbl_insuree::audit_user_id.eq(actor.audit_user_id),
                ))
                .execute(conn)
                .await?;
            diesel::update(
                tbl_insuree_policy::table
                    .filter(tbl_insuree_policy::insuree_id.eq_any(&members))
                    .filter(tbl_insuree_policy::validity_to.is_null()),
            )
            .set(tbl_insuree_policy::validity_to.eq(Some(now)))
            .execute(conn)
            .await?;
        } else {
            diesel::update(tbl_insuree::table.filter(tbl_insuree::insuree_id.eq_any(&members)))
                .set((
                    tbl_insuree::family_id.eq(None::<i32>),
                    tbl_insuree::validity_from.eq(now),
                    tbl_insuree::audit_user_id.eq(actor.audit_user_id),
                ))
                .execute(conn)
                .await?;
        }
        copy_families(conn, catalog, &ids, now).await?;
        diesel::update(tbl_families::table.filter(tbl_families::family_id.eq_any(&ids)))
            .set((
                tbl_families::validity_from.eq(now),
                tbl_families::validity_to.eq(Some(now)),
                tbl_families::audit_user_id.eq(actor.audit_user_id),
            ))
            .execute(conn)
            .await?;
        hooks
            .after_delete(conn, &ids)
            .await
            .map_err(|e| hook_failure(DELETE, e))?;
        Ok(ids)
    })
}
