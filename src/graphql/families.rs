//! The families GraphQL API in openIMIS's shapes: `createFamily`, `updateFamily`,
//! `deleteFamilies` (the mutation protocol: a `core_Mutation_Log` row, `{clientMutationId
//! internalId}`), the `families` search with every filter argument of both frontends,
//! `familyNotification` and `mutationLogs`. Resolvers parse arguments, call the services and map
//! the results; they hold no SQL.

use async_graphql::{
    Context, Error, ErrorExtensions, ID, InputObject, MaybeUndefined, Object, SimpleObject,
};
use chrono::TimeZone;

use super::context::{coded_error, identity, pool, require_right, user_error};
use super::family_types::{
    FamilyGql, FamilyNotificationGql, MutationLogGql, prime_families, prime_logs,
    prime_notification_families, request_loaders,
};
use super::relay::{ExtendedConnection, Pagination, decode_global_id, total_count_selected};
use super::scalars::{Date, DateTime, JsonString};
use crate::auth::Identity;
use crate::db::catalog::CatalogCell;
use crate::error::ErrorCode;
use crate::families::Scope;
use crate::families::mutations::{
    self, Actor, DeleteFamiliesInput, FamilyInput, HeadInsureeInput, MutationReceipt,
};
use crate::families::query::{
    self as fq, ArgValue, FamilyFilter, NotificationFilter, QueryError, RIGHT_QUERY,
};
use crate::hooks::SharedHooks;
use crate::mutation_log::{self, LogViewer, MutationLogFilter, MutationMeta};
use crate::paging::Window;

impl crate::error::UserFacing for QueryError {
    fn code(&self) -> ErrorCode {
        match self {
            QueryError::BadArgument { .. } => ErrorCode::BadUserInput,
            QueryError::Db(_) => ErrorCode::Internal,
        }
    }

    fn user_message(&self) -> String {
        match self {
            QueryError::BadArgument { .. } => self.to_string(),
            QueryError::Db(_) => "internal error; the details are in the service log".into(),
        }
    }
}

impl crate::error::UserFacing for mutation_log::LogQueryError {
    fn code(&self) -> ErrorCode {
        match self {
            mutation_log::LogQueryError::BadOrder(_) => ErrorCode::BadUserInput,
            mutation_log::LogQueryError::Db(_) => ErrorCode::Internal,
        }
    }

    fn user_message(&self) -> String {
        match self {
            mutation_log::LogQueryError::BadOrder(_) => self.to_string(),
            mutation_log::LogQueryError::Db(_) => {
                "internal error; the details are in the service log".into()
            }
        }
    }
}

/// A value of a generated filter argument.
trait IntoArg {
    fn into_arg(self) -> ArgValue;

    /// Refuses a value of the wrong kind for lookup `name` (a global ID of another type).
    fn check(&self, _name: &str) -> Result<(), Error> {
        Ok(())
    }
}

impl IntoArg for String {
    fn into_arg(self) -> ArgValue {
        ArgValue::Str(self)
    }
}

impl IntoArg for bool {
    fn into_arg(self) -> ArgValue {
        ArgValue::Bool(self)
    }
}

impl IntoArg for ID {
    fn check(&self, name: &str) -> Result<(), Error> {
        let expected = name
            .to_ascii_lowercase()
            .starts_with("location")
            .then_some("LocationGQLType");
        super::relay::check_id_type(name, &self.0, expected).map_err(|e| e.extend())
    }

    fn into_arg(self) -> ArgValue {
        // A global id (`LocationGQLType:35`) or a plain value.
        match decode_global_id(&self.0) {
            Ok((Some(_), pk)) => ArgValue::Str(pk),
            _ => ArgValue::Str(self.0),
        }
    }
}

impl IntoArg for Date {
    fn into_arg(self) -> ArgValue {
        ArgValue::Date(self.0)
    }
}

impl IntoArg for DateTime {
    fn into_arg(self) -> ArgValue {
        ArgValue::DateTime(chrono::Utc.from_utc_datetime(&self.0))
    }
}

async fn db_conn(ctx: &Context<'_>) -> Result<crate::db::Conn, Error> {
    super::context::conn(ctx).await
}

/// Reads the rows of a connection: the count first when the window depends on it.
macro_rules! connection {
    ($ctx:expr, $p:expr, $run:expr) => {{
        let p: Pagination = $p;
        let want_total = total_count_selected($ctx) || p.needs_total();
        let total = if p.needs_total() {
            $run(Window {
                offset: 0,
                limit: 0,
                with_total: true,
            })
            .await?
            .total
        } else {
            None
        };
        let w = p.window(total);
        let page = $run(Window {
            offset: w.offset,
            limit: w.fetch,
            with_total: want_total && total.is_none(),
        })
        .await?;
        let total = total.or(page.total);
        (p, w, page.rows, total)
    }};
}

macro_rules! families_query {
    ($($arg:ident : $ty:ty = $name:literal,)*) => {
        /// The family queries.
        #[derive(Default)]
        pub struct FamilyQuery;

        /// The family queries.
        #[Object]
        impl FamilyQuery {
            /// Families (right 101001), within the user's districts.
            #[allow(clippy::too_many_arguments)]
            async fn families(
                &self,
                ctx: &Context<'_>,
                first: Option<i32>,
                last: Option<i32>,
                before: Option<String>,
                after: Option<String>,
                offset: Option<i32>,
                order_by: Option<Vec<Option<String>>>,
                show_history: Option<bool>,
                parent_location: Option<String>,
                parent_location_level: Option<i32>,
                null_as_false_poverty: Option<bool>,
                officer: Option<String>,
                client_mutation_id: Option<String>,
                additional_filter: Option<JsonString>,
                $( #[graphql(name = $name)] $arg: Option<$ty>, )*
            ) -> Result<Option<ExtendedConnection<FamilyGql>>, Error> {
                let id = require_right(ctx, RIGHT_QUERY)?;
                let p = Pagination::from_ctx(ctx, first, last, after.as_deref(), before.as_deref(), offset)
                    .map_err(|e| e.extend())?;
                let mut lookups: Vec<(String, ArgValue)> = Vec::new();
                $( if let Some(v) = $arg { v.check($name)?; lookups.push(($name.to_string(), v.into_arg())); } )*
                let filter = FamilyFilter {
                    show_history: show_history.unwrap_or(false),
                    parent_location,
                    parent_location_level,
                    null_as_false_poverty,
                    officer,
                    client_mutation_id,
                    additional_filter: additional_filter.map(|j| j.0),
                    lookups,
                    order_by: order_by.unwrap_or_default().into_iter().flatten().collect(),
                };
                let scope = Scope::of(id);
                let mut conn = db_conn(ctx).await?;
                let mut run = async |w: Window| {
                    fq::families(&mut conn, &scope, &filter, w).await.map_err(|e| user_error(&e))
                };
                let (p, w, rows, total) = connection!(ctx, p, run);
                // Give the connection back before the related data is loaded.
                drop(conn);
                let loaders = request_loaders(ctx)?;
                prime_families(&loaders, &ctx.look_ahead().field("edges").field("node"), &rows).await?;
                let nodes = rows
                    .into_iter()
                    .map(|row| FamilyGql { row, loaders: loaders.clone() })
                    .collect();
                Ok(Some(p.connection(w, nodes, total)))
            }

            /// Families' notification settings (right 101001, the user's districts): the current
            /// rows of current families, or with `showHistory` every row.
            #[allow(clippy::too_many_arguments)]
            async fn family_notification(
                &self,
                ctx: &Context<'_>,
                first: Option<i32>,
                last: Option<i32>,
                before: Option<String>,
                after: Option<String>,
                offset: Option<i32>,
                #[graphql(name = "family_Uuid")] family_uuid: Option<String>,
                approval_of_notification: Option<bool>,
                language_of_notification: Option<String>,
                #[graphql(desc = "Also the end-dated rows: history rows and those of deleted families (default: only current rows of current families).")]
                show_history: Option<bool>,
            ) -> Result<Option<ExtendedConnection<FamilyNotificationGql>>, Error> {
                let id = require_right(ctx, RIGHT_QUERY)?;
                let p = Pagination::from_ctx(ctx, first, last, after.as_deref(), before.as_deref(), offset)
                    .map_err(|e| e.extend())?;
                let filter = NotificationFilter {
                    family_uuid,
                    approval: approval_of_notification,
                    language: language_of_notification,
                    show_history: show_history.unwrap_or(false),
                };
                let scope = Scope::of(id);
                let mut conn = db_conn(ctx).await?;
                let mut run = async |w: Window| {
                    fq::family_notifications(&mut conn, &scope, &filter, w)
                        .await
                        .map_err(|e| user_error(&e))
                };
                let (p, w, rows, total) = connection!(ctx, p, run);
                // Give the connection back before the related data is loaded.
                drop(conn);
                let loaders = request_loaders(ctx)?;
                let ids: Vec<i32> = rows.iter().map(|r| r.family_id).collect();
                prime_notification_families(&loaders, &ctx.look_ahead().field("edges").field("node"), &ids).await?;
                let nodes = rows
                    .into_iter()
                    .map(|row| FamilyNotificationGql { row, loaders: loaders.clone() })
                    .collect();
                Ok(Some(p.connection(w, nodes, total)))
            }

            /// Mutation logs: a user sees their own rows, an administrator every row.
            #[allow(clippy::too_many_arguments)]
            async fn mutation_logs(
                &self,
                ctx: &Context<'_>,
                first: Option<i32>,
                last: Option<i32>,
                before: Option<String>,
                after: Option<String>,
                offset: Option<i32>,
                order_by: Option<Vec<Option<String>>>,
                id: Option<ID>,
                client_mutation_id: Option<String>,
                client_mutation_label: Option<String>,
                request_date_time: Option<DateTime>,
                #[graphql(name = "requestDateTime_Gte")] request_date_time_gte: Option<DateTime>,
                #[graphql(name = "requestDateTime_Lte")] request_date_time_lte: Option<DateTime>,
                status: Option<i32>,
                #[graphql(name = "status_Gte")] status_gte: Option<i32>,
                user: Option<ID>,
            ) -> Result<Option<ExtendedConnection<MutationLogGql>>, Error> {
                let viewer = match identity(ctx)? {
                    None => LogViewer::Nobody,
                    Some(i) if i.is_admin => LogViewer::Everyone,
                    Some(i) => LogViewer::User(i.core_user_id),
                };
                let p = Pagination::from_ctx(ctx, first, last, after.as_deref(), before.as_deref(), offset)
                    .map_err(|e| e.extend())?;
                let parse_uuid = |arg: &str, v: ID| -> Result<uuid::Uuid, Error> {
                    let expected = (arg == "id").then_some("MutationLogGQLType");
                    super::relay::check_id_type(arg, &v.0, expected).map_err(|e| e.extend())?;
                    let raw = match decode_global_id(&v.0) {
                        Ok((Some(_), pk)) => pk,
                        _ => v.0.clone(),
                    };
                    uuid::Uuid::parse_str(&raw).map_err(|_| {
                        coded_error(ErrorCode::BadUserInput, format!("{arg}: invalid ID `{}`", v.0))
                    })
                };
                let utc = |t: DateTime| chrono::Utc.from_utc_datetime(&t.0);
                let filter = MutationLogFilter {
                    id: id.map(|v| parse_uuid("id", v)).transpose()?,
                    client_mutation_id,
                    client_mutation_label,
                    request_date_time: request_date_time.map(utc),
                    request_date_time_gte: request_date_time_gte.map(utc),
                    request_date_time_lte: request_date_time_lte.map(utc),
                    status,
                    status_gte,
                    user: user.map(|v| parse_uuid("user", v)).transpose()?,
                    order_by: order_by.unwrap_or_default().into_iter().flatten().collect(),
                };
                let mut conn = db_conn(ctx).await?;
                let mut run = async |w: Window| {
                    mutation_log::list(&mut conn, viewer, &filter, w)
                        .await
                        .map_err(|e| user_error(&e))
                };
                let (p, w, rows, total) = connection!(ctx, p, run);
                // Give the connection back before the related data is loaded.
                drop(conn);
                let loaders = request_loaders(ctx)?;
                let ids: Vec<uuid::Uuid> = rows.iter().map(|r| r.id).collect();
                prime_logs(&loaders, &ctx.look_ahead().field("edges").field("node"), &ids).await?;
                let nodes = rows
                    .into_iter()
                    .map(|row| MutationLogGql { row, loaders: loaders.clone() })
                    .collect();
                Ok(Some(p.connection(w, nodes, total)))
            }
        }
    };
}

families_query! {
    a000: String = "uuid",
    a001: String = "uuid_Iexact",
    a002: bool = "poverty",
    a003: bool = "poverty_Isnull",
    a004: String = "confirmationNo",
    a005: String = "confirmationNo_Istartswith",
    a006: String = "confirmationNo_Icontains",
    a007: String = "confirmationNo_Iexact",
    a008: String = "address",
    a009: String = "address_Istartswith",
    a010: String = "address_Icontains",
    a011: String = "address_Iexact",
    a012: ID = "confirmationType",
    a013: ID = "familyType",
    a014: String = "ethnicity",
    a015: bool = "isOffline",
    a016: ID = "location_Id",
    a017: String = "location_Uuid",
    a018: String = "location_Code",
    a019: String = "location_Code_Istartswith",
    a020: String = "location_Code_Icontains",
    a021: String = "location_Code_Iexact",
    a022: String = "location_Name",
    a023: String = "location_Name_Istartswith",
    a024: String = "location_Name_Icontains",
    a025: String = "location_Name_Iexact",
    a026: String = "location_Type",
    a027: String = "location_Parent_Uuid",
    a028: ID = "location_Parent_Id",
    a029: String = "headInsuree_Uuid",
    a030: String = "headInsuree_Uuid_Iexact",
    a031: String = "headInsuree_ChfId",
    a032: String = "headInsuree_ChfId_Istartswith",
    a033: String = "headInsuree_ChfId_Icontains",
    a034: String = "headInsuree_ChfId_Iexact",
    a035: String = "headInsuree_LastName",
    a036: String = "headInsuree_LastName_Istartswith",
    a037: String = "headInsuree_LastName_Icontains",
    a038: String = "headInsuree_LastName_Iexact",
    a039: String = "headInsuree_OtherNames",
    a040: String = "headInsuree_OtherNames_Istartswith",
    a041: String = "headInsuree_OtherNames_Icontains",
    a042: String = "headInsuree_OtherNames_Iexact",
    a043: String = "headInsuree_Email",
    a044: String = "headInsuree_Email_Istartswith",
    a045: String = "headInsuree_Email_Icontains",
    a046: String = "headInsuree_Email_Iexact",
    a047: bool = "headInsuree_Email_Isnull",
    a048: String = "headInsuree_Phone",
    a049: String = "headInsuree_Phone_Istartswith",
    a050: String = "headInsuree_Phone_Icontains",
    a051: String = "headInsuree_Phone_Iexact",
    a052: bool = "headInsuree_Phone_Isnull",
    a053: String = "headInsuree_Passport",
    a054: String = "headInsuree_Passport_Istartswith",
    a055: String = "headInsuree_Passport_Icontains",
    a056: String = "headInsuree_Passport_Iexact",
    a057: bool = "headInsuree_Passport_Isnull",
    a058: Date = "headInsuree_Dob",
    a059: Date = "headInsuree_Dob_Lt",
    a060: Date = "headInsuree_Dob_Lte",
    a061: Date = "headInsuree_Dob_Gt",
    a062: Date = "headInsuree_Dob_Gte",
    a063: bool = "headInsuree_Dob_Isnull",
    a064: bool = "headInsuree_Head",
    a065: String = "headInsuree_Gender_Code",
    a066: String = "headInsuree_Marital",
    a067: bool = "headInsuree_Marital_Isnull",
    a068: DateTime = "headInsuree_ValidityFrom",
    a069: DateTime = "headInsuree_ValidityFrom_Lt",
    a070: DateTime = "headInsuree_ValidityFrom_Lte",
    a071: DateTime = "headInsuree_ValidityFrom_Gt",
    a072: DateTime = "headInsuree_ValidityFrom_Gte",
    a073: bool = "headInsuree_ValidityFrom_Isnull",
    a074: DateTime = "headInsuree_ValidityTo",
    a075: DateTime = "headInsuree_ValidityTo_Lt",
    a076: DateTime = "headInsuree_ValidityTo_Lte",
    a077: DateTime = "headInsuree_ValidityTo_Gt",
    a078: DateTime = "headInsuree_ValidityTo_Gte",
    a079: bool = "headInsuree_ValidityTo_Isnull",
    a080: ID = "headInsuree_Photo_Id",
    a081: bool = "headInsuree_Photo_Isnull",
    a082: String = "headInsuree_Status",
    a083: bool = "headInsuree_Family_Isnull",
    a084: String = "members_Uuid",
    a085: String = "members_Uuid_Iexact",
    a086: String = "members_ChfId",
    a087: String = "members_ChfId_Istartswith",
    a088: String = "members_ChfId_Icontains",
    a089: String = "members_ChfId_Iexact",
    a090: String = "members_LastName",
    a091: String = "members_LastName_Istartswith",
    a092: String = "members_LastName_Icontains",
    a093: String = "members_LastName_Iexact",
    a094: String = "members_OtherNames",
    a095: String = "members_OtherNames_Istartswith",
    a096: String = "members_OtherNames_Icontains",
    a097: String = "members_OtherNames_Iexact",
    a098: String = "members_Email",
    a099: String = "members_Email_Istartswith",
    a100: String = "members_Email_Icontains",
    a101: String = "members_Email_Iexact",
    a102: bool = "members_Email_Isnull",
    a103: String = "members_Phone",
    a104: String = "members_Phone_Istartswith",
    a105: String = "members_Phone_Icontains",
    a106: String = "members_Phone_Iexact",
    a107: bool = "members_Phone_Isnull",
    a108: String = "members_Passport",
    a109: String = "members_Passport_Istartswith",
    a110: String = "members_Passport_Icontains",
    a111: String = "members_Passport_Iexact",
    a112: bool = "members_Passport_Isnull",
    a113: Date = "members_Dob",
    a114: Date = "members_Dob_Lt",
    a115: Date = "members_Dob_Lte",
    a116: Date = "members_Dob_Gt",
    a117: Date = "members_Dob_Gte",
    a118: bool = "members_Dob_Isnull",
    a119: bool = "members_Head",
    a120: String = "members_Gender_Code",
    a121: String = "members_Marital",
    a122: bool = "members_Marital_Isnull",
    a123: DateTime = "members_ValidityFrom",
    a124: DateTime = "members_ValidityFrom_Lt",
    a125: DateTime = "members_ValidityFrom_Lte",
    a126: DateTime = "members_ValidityFrom_Gt",
    a127: DateTime = "members_ValidityFrom_Gte",
    a128: bool = "members_ValidityFrom_Isnull",
    a129: DateTime = "members_ValidityTo",
    a130: DateTime = "members_ValidityTo_Lt",
    a131: DateTime = "members_ValidityTo_Lte",
    a132: DateTime = "members_ValidityTo_Gt",
    a133: DateTime = "members_ValidityTo_Gte",
    a134: bool = "members_ValidityTo_Isnull",
    a135: ID = "members_Photo_Id",
    a136: bool = "members_Photo_Isnull",
    a137: String = "members_Status",
    a138: bool = "members_Family_Isnull",
}

/// `PhotoInputType` (accepted; photos are not kept by this service).
#[derive(InputObject, Debug, Clone)]
#[graphql(name = "PhotoInputType")]
pub struct PhotoInput {
    pub id: Option<i32>,
    pub uuid: Option<String>,
    pub date: Option<Date>,
    pub officer_id: Option<i32>,
    pub photo: Option<String>,
    pub filename: Option<String>,
    pub folder: Option<String>,
}

/// `FamilyHeadInsureeInputType`: the head insuree, both frontend generations' fields.
#[derive(InputObject, Debug, Clone)]
#[graphql(name = "FamilyHeadInsureeInputType")]
pub struct HeadInsureeGqlInput {
    pub id: Option<i32>,
    pub uuid: Option<String>,
    pub chf_id: Option<String>,
    pub last_name: String,
    pub other_names: String,
    pub gender_id: String,
    pub dob: Date,
    pub head: Option<bool>,
    pub marital: Option<String>,
    pub passport: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub current_address: Option<String>,
    pub geolocation: Option<String>,
    /// The village's `LocationId`, a plain number: the decoded relay id of a `locations`
    /// answer (`LocationGQLType:12` → 12).
    pub current_village_id: Option<i32>,
    pub photo_id: Option<i32>,
    pub photo_date: Option<Date>,
    pub photo: Option<PhotoInput>,
    pub card_issued: Option<bool>,
    pub family_id: Option<i32>,
    pub relationship_id: Option<i32>,
    pub profession_id: Option<i32>,
    pub education_id: Option<i32>,
    pub type_of_id_id: Option<String>,
    pub health_facility_id: Option<i32>,
    pub offline: Option<bool>,
    pub json_ext: MaybeUndefined<JsonString>,
    /// `AC`, `IN` or `DE` (stored in `tblInsuree.status`).
    pub status: Option<String>,
    /// Accepted and ignored (no legacy column).
    pub status_reason: Option<String>,
    /// Stored in `tblInsuree.status_date`.
    pub status_date: Option<Date>,
}

/// The fields `createFamily` and `updateFamily` share.
#[derive(InputObject, Debug, Clone)]
pub struct FamilyFields {
    pub client_mutation_id: Option<String>,
    pub client_mutation_label: Option<String>,
    pub client_mutation_details: Option<Vec<Option<String>>>,
    pub mutation_extensions: Option<JsonString>,
    pub id: Option<i32>,
    pub uuid: Option<String>,
    pub head_insuree: Option<HeadInsureeGqlInput>,
    /// The family's village, as its `LocationId`: a plain number, the decoded relay id of a
    /// `locations(type: "V")` answer (`LocationGQLType:12` → 12). Left out on update, the
    /// family loses its village (full replacement, docs/compatibility.md).
    pub location_id: Option<i32>,
    pub poverty: Option<bool>,
    pub family_type_id: Option<String>,
    pub address: Option<String>,
    pub is_offline: Option<bool>,
    pub ethnicity: Option<String>,
    pub confirmation_no: Option<String>,
    pub confirmation_type_id: Option<String>,
    pub json_ext: MaybeUndefined<JsonString>,
    pub contribution: Option<JsonString>,
}

/// `CreateFamilyMutationInput`.
#[derive(InputObject, Debug, Clone)]
#[graphql(name = "CreateFamilyMutationInput")]
pub struct CreateFamilyInput {
    #[graphql(flatten)]
    pub fields: FamilyFields,
}

/// `UpdateFamilyMutationInput`.
#[derive(InputObject, Debug, Clone)]
#[graphql(name = "UpdateFamilyMutationInput")]
pub struct UpdateFamilyInput {
    #[graphql(flatten)]
    pub fields: FamilyFields,
}

/// `DeleteFamiliesMutationInput`.
#[derive(InputObject, Debug, Clone)]
#[graphql(name = "DeleteFamiliesMutationInput")]
pub struct DeleteFamiliesGqlInput {
    pub client_mutation_id: Option<String>,
    pub client_mutation_label: Option<String>,
    pub client_mutation_details: Option<Vec<Option<String>>>,
    pub mutation_extensions: Option<JsonString>,
    pub uuids: Option<Vec<Option<String>>>,
    #[graphql(default = false)]
    pub delete_members: bool,
}

macro_rules! payload {
    ($ty:ident, $name:literal) => {
        /// The mutation's answer: the client's id and the mutation log row's id.
        #[derive(SimpleObject, Debug, Clone)]
        #[graphql(name = $name)]
        pub struct $ty {
            pub client_mutation_id: Option<String>,
            pub internal_id: Option<String>,
        }

        impl $ty {
            fn from_receipt(client_mutation_id: Option<String>, r: &MutationReceipt) -> Self {
                $ty {
                    client_mutation_id,
                    internal_id: Some(r.internal_id.to_string()),
                }
            }
        }
    };
}

payload!(CreateFamilyPayload, "CreateFamilyMutationPayload");
payload!(UpdateFamilyPayload, "UpdateFamilyMutationPayload");
payload!(DeleteFamiliesPayload, "DeleteFamiliesMutationPayload");

fn maybe_json(v: &MaybeUndefined<JsonString>) -> Option<Option<serde_json::Value>> {
    match v {
        MaybeUndefined::Undefined => None,
        MaybeUndefined::Null => Some(None),
        MaybeUndefined::Value(j) => Some(Some(j.0.clone())),
    }
}

fn head_input(h: &HeadInsureeGqlInput) -> HeadInsureeInput {
    HeadInsureeInput {
        uuid: h.uuid.clone(),
        chf_id: h.chf_id.clone(),
        last_name: h.last_name.clone(),
        other_names: h.other_names.clone(),
        gender_id: h.gender_id.clone(),
        dob: Some(h.dob.0),
        marital: h.marital.clone(),
        passport: h.passport.clone(),
        phone: h.phone.clone(),
        email: h.email.clone(),
        current_address: h.current_address.clone(),
        geolocation: h.geolocation.clone(),
        current_village_id: h.current_village_id,
        photo_date: h.photo_date.map(|d| d.0),
        card_issued: h.card_issued,
        relationship_id: h.relationship_id,
        profession_id: h.profession_id,
        education_id: h.education_id,
        type_of_id_id: h.type_of_id_id.clone(),
        health_facility_id: h.health_facility_id,
        offline: h.offline,
        json_ext: maybe_json(&h.json_ext),
        status: h.status.clone(),
        status_date: h.status_date.map(|d| d.0),
    }
}

fn family_input(f: &FamilyFields) -> FamilyInput {
    FamilyInput {
        uuid: f.uuid.clone(),
        head_insuree: f.head_insuree.as_ref().map(head_input),
        location_id: f.location_id,
        poverty: f.poverty,
        family_type_id: f.family_type_id.clone(),
        address: f.address.clone(),
        is_offline: f.is_offline,
        ethnicity: f.ethnicity.clone(),
        confirmation_no: f.confirmation_no.clone(),
        confirmation_type_id: f.confirmation_type_id.clone(),
        json_ext: maybe_json(&f.json_ext),
        contribution: f.contribution.as_ref().map(|c| c.0.clone()),
    }
}

/// `value` as compact JSON with its object keys camelCase → snake_case, recursively (openIMIS
/// stores the input that way), written straight from the GraphQL value; `false` (and `out`
/// unfinished) for a value JSON has no form for (bytes).
fn write_snake_json(out: &mut Vec<u8>, value: &async_graphql::Value) -> bool {
    use async_graphql::Value as V;
    match value {
        V::Null => out.extend_from_slice(b"null"),
        V::Boolean(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        V::Number(n) => out.extend_from_slice(n.to_string().as_bytes()),
        V::String(text) => return serde_json::to_writer(&mut *out, text).is_ok(),
        V::Enum(name) => return serde_json::to_writer(&mut *out, name.as_str()).is_ok(),
        V::List(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                if !write_snake_json(out, item) {
                    return false;
                }
            }
            out.push(b']');
        }
        V::Object(fields) => {
            out.push(b'{');
            for (i, (name, item)) in fields.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                let key = crate::paging::snake_case(name.as_str());
                if serde_json::to_writer(&mut *out, &key).is_err() {
                    return false;
                }
                out.push(b':');
                if !write_snake_json(out, item) {
                    return false;
                }
            }
            out.push(b'}');
        }
        V::Binary(_) => return false,
    }
    true
}

/// The mutation's `input` argument as the log stores it ([`write_snake_json`]); `null` when it
/// has none or no JSON form.
fn input_json(ctx: &Context<'_>) -> String {
    let input = ctx
        .field()
        .arguments()
        .ok()
        .and_then(|args| args.into_iter().find(|(n, _)| n.as_str() == "input"));
    let mut out = Vec::with_capacity(1024);
    match input {
        Some((_, value)) if write_snake_json(&mut out, &value) => {
            // serde_json writes UTF-8 only; the check is a formality
            String::from_utf8(out).unwrap_or_else(|_| "null".to_string())
        }
        _ => "null".to_string(),
    }
}

/// The log metadata of a mutation: its whole input as JSON, the client fields, the caller.
fn meta(
    ctx: &Context<'_>,
    caller: Option<&Identity>,
    client_mutation_id: &Option<String>,
    label: &Option<String>,
    details: &Option<Vec<Option<String>>>,
) -> MutationMeta {
    MutationMeta {
        json_content: input_json(ctx),
        client_mutation_id: client_mutation_id.clone(),
        client_mutation_label: label.clone(),
        client_mutation_details: details
            .as_ref()
            .map(|d| d.iter().map(|s| s.clone().unwrap_or_default()).collect()),
        user_id: caller.map(|i| i.core_user_id),
    }
}

fn actor(caller: Option<&Identity>) -> Actor {
    match caller {
        Some(i) => Actor {
            authenticated: true,
            audit_user_id: i.user_id,
            core_user_id: Some(i.core_user_id),
            rights: i.rights.iter().copied().collect(),
            scope: Scope::of(i),
        },
        None => Actor {
            authenticated: false,
            audit_user_id: -1,
            core_user_id: None,
            rights: Vec::new(),
            scope: Scope::of_caller(None),
        },
    }
}

fn hooks<'a>(ctx: &Context<'a>) -> Result<&'a SharedHooks, Error> {
    ctx.data::<SharedHooks>()
}

/// The family mutations.
#[derive(Default)]
pub struct FamilyMutation;

/// Which of the two family writes `save_family` runs.
enum FamilySave {
    Create,
    Update,
}

/// A mutation refused before it ran because a client field is wider than its column: the
/// status-1 log row (with the fields cut) and its receipt; `None` when the fields fit.
async fn refuse_over_long(
    ctx: &Context<'_>,
    m: &MutationMeta,
    what: &str,
) -> Result<Option<MutationReceipt>, Error> {
    let Some((cut, detail)) = mutation_log::over_long(m) else {
        return Ok(None);
    };
    let errors = vec![mutation_log::MutationError::detailed(what, detail)];
    let mut conn = super::context::conn(ctx).await?;
    let id = mutation_log::refuse(&mut conn, &cut, &errors)
        .await
        .map_err(|e| user_error(&crate::db::DbError::Query(e)))?;
    Ok(Some(MutationReceipt {
        internal_id: id,
        outcome: Err(errors),
    }))
}

/// `createFamily` / `updateFamily`: the same input and metadata, the service call differs.
async fn save_family(
    ctx: &Context<'_>,
    f: &FamilyFields,
    how: FamilySave,
) -> Result<MutationReceipt, Error> {
    let caller = identity(ctx)?;
    let m = meta(
        ctx,
        caller,
        &f.client_mutation_id,
        &f.client_mutation_label,
        &f.client_mutation_details,
    );
    let what = match how {
        FamilySave::Create => "Failed to create family",
        FamilySave::Update => "Failed to update family",
    };
    if let Some(r) = refuse_over_long(ctx, &m, what).await? {
        return Ok(r);
    }
    let (pool, hooks, actor, input) = (pool(ctx)?, hooks(ctx)?, actor(caller), family_input(f));
    let catalog = ctx.data::<CatalogCell>()?;
    match how {
        FamilySave::Create => {
            mutations::create_family(pool, catalog, hooks.as_ref(), &actor, &m, &input).await
        }
        FamilySave::Update => {
            mutations::update_family(pool, catalog, hooks.as_ref(), &actor, &m, &input).await
        }
    }
    .map_err(|e| user_error(&e))
}

/// The family mutations (openIMIS's protocol: the outcome is in `mutationLogs`).
#[Object]
impl FamilyMutation {
    /// Creates a family with its head insuree (right 101002).
    async fn create_family(
        &self,
        ctx: &Context<'_>,
        input: CreateFamilyInput,
    ) -> Result<Option<CreateFamilyPayload>, Error> {
        let f = &input.fields;
        let r = save_family(ctx, f, FamilySave::Create).await?;
        Ok(Some(CreateFamilyPayload::from_receipt(
            f.client_mutation_id.clone(),
            &r,
        )))
    }

    /// Updates a family and its head insuree (right 101003).
    async fn update_family(
        &self,
        ctx: &Context<'_>,
        input: UpdateFamilyInput,
    ) -> Result<Option<UpdateFamilyPayload>, Error> {
        let f = &input.fields;
        let r = save_family(ctx, f, FamilySave::Update).await?;
        Ok(Some(UpdateFamilyPayload::from_receipt(
            f.client_mutation_id.clone(),
            &r,
        )))
    }

    /// Deletes families (right 101004).
    async fn delete_families(
        &self,
        ctx: &Context<'_>,
        input: DeleteFamiliesGqlInput,
    ) -> Result<Option<DeleteFamiliesPayload>, Error> {
        let caller = identity(ctx)?;
        let m = meta(
            ctx,
            caller,
            &input.client_mutation_id,
            &input.client_mutation_label,
            &input.client_mutation_details,
        );
        if let Some(r) = refuse_over_long(ctx, &m, "Failed to delete families").await? {
            return Ok(Some(DeleteFamiliesPayload::from_receipt(
                input.client_mutation_id.clone(),
                &r,
            )));
        }
        let del = DeleteFamiliesInput {
            uuids: input
                .uuids
                .clone()
                .unwrap_or_default()
                .into_iter()
                .flatten()
                .collect(),
            delete_members: input.delete_members,
        };
        let r = mutations::delete_families(
            pool(ctx)?,
            ctx.data::<CatalogCell>()?,
            hooks(ctx)?.as_ref(),
            &actor(caller),
            &m,
            &del,
        )
        .await
        .map_err(|e| user_error(&e))?;
        Ok(Some(DeleteFamiliesPayload::from_receipt(
            input.client_mutation_id.clone(),
            &r,
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::write_snake_json;
    use async_graphql::{Name, Value};

    /// What the log held before `write_snake_json`: the value as serde_json, keys renamed.
    fn through_serde(v: &Value) -> String {
        fn snake(v: serde_json::Value) -> serde_json::Value {
            match v {
                serde_json::Value::Object(m) => serde_json::Value::Object(
                    m.into_iter()
                        .map(|(k, v)| (crate::paging::snake_case(&k), snake(v)))
                        .collect(),
                ),
                serde_json::Value::Array(a) => {
                    serde_json::Value::Array(a.into_iter().map(snake).collect())
                }
                other => other,
            }
        }
        snake(v.clone().into_json().expect("json")).to_string()
    }

    #[test]
    fn the_logged_input_is_the_json_openimis_stores() {
        let inner = Value::Object(
            [
                (Name::new("chfId"), Value::String("X\"1\\\n\u{1}é".into())),
                (Name::new("dob"), Value::Null),
                (Name::new("head"), Value::Boolean(true)),
                (Name::new("genderId"), Value::Enum(Name::new("M"))),
            ]
            .into_iter()
            .collect(),
        );
        let input = Value::Object(
            [
                (Name::new("headInsuree"), inner),
                (Name::new("locationId"), Value::Number(22.into())),
                (
                    Name::new("ratio"),
                    Value::Number(serde_json::Number::from_f64(-1.5e-7).expect("finite")),
                ),
                (
                    Name::new("uuids"),
                    Value::List(vec![Value::String("a".into()), Value::Null]),
                ),
                (Name::new("jsonExt"), Value::String("{\"a\": 1}".into())),
            ]
            .into_iter()
            .collect(),
        );
        let mut out = Vec::new();
        assert!(write_snake_json(&mut out, &input));
        let written = String::from_utf8(out).expect("utf-8");
        assert_eq!(written, through_serde(&input));
        assert!(
            written.starts_with("{\"head_insuree\":{\"chf_id\":"),
            "{written}"
        );
        let mut out = Vec::new();
        assert!(!write_snake_json(
            &mut out,
            &Value::Binary(vec![1u8].into())
        ));
    }
}
