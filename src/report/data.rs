//! The report's data: the header, the counts per mode and the family rows, read from PostgreSQL in
//! chunks by key so that memory stays bounded however many families a region holds.
//!
//! Reading happens in two steps. [`prepare`] resolves the locations and the officer, checks the
//! user's districts, and runs one aggregate over the selection: per village, how many families fall
//! under each (approved, has a phone) combination. That gives the counts per mode, the villages in
//! report order and how many rows each will yield. [`PreparedReport::rows`] then reads the families
//! village window by village window (about [`CHUNK`] rows per query, keyset on village, insurance
//! number and family id), so no query scans more than its window.

use std::sync::Arc;

use diesel::QueryableByName;
use diesel::sql_types::{Bool, Integer, Nullable, Text};
use diesel_async::RunQueryDsl;
use futures::Stream;
use uuid::Uuid;

use crate::db::sql::Fragment;
use crate::db::{DbError, Pool};
use crate::error::{ErrorCode, UserFacing};
use crate::families::filter::FamilyFilter;
use crate::families::rules::{NotificationMode, approved_sql, has_phone_sql, phone_present_sql};

/// Rows read per query.
pub const CHUNK: usize = 1000;

/// The report's title.
pub const TITLE: &str = "Family Policy Notification Report";

/// Which districts the requesting user may see (DECISIONS 10): the families module's scope.
pub use crate::families::Scope as DistrictScope;

/// A location below the district that narrows the report (from `familyFilterJson`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubLocation {
    /// A municipality (ward), `parentLocationLevel: 2`.
    Municipality(Uuid),
    /// A village, `parentLocationLevel: 3`.
    Village(Uuid),
}

/// What the user asked for, before it is resolved against the database.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportQuery {
    /// Region UUID (used when no district is given).
    pub region: Option<Uuid>,
    /// District UUID (takes precedence over the region).
    pub district: Option<Uuid>,
    /// A municipality or village that narrows the rows.
    pub sub_location: Option<SubLocation>,
    /// Enrolment officer UUID: families with a current policy of that officer.
    pub officer: Option<Uuid>,
    /// Notification mode 0–4.
    pub mode: NotificationMode,
    /// The other families-page filters (from `familyFilterJson`), as the families query takes
    /// them; their predicate is the families query's, with bound values.
    pub families: FamilyFilter,
    /// The other filters in words, for the header.
    pub other_filters: Vec<String>,
    /// Whether the query came from `familyFilterJson` (errors then name that parameter).
    pub from_filter_json: bool,
}

impl ReportQuery {
    /// A query for a region or district, with optional officer and mode.
    pub fn new(region: Option<Uuid>, district: Option<Uuid>) -> Self {
        ReportQuery {
            region,
            district,
            sub_location: None,
            officer: None,
            mode: NotificationMode::All,
            families: FamilyFilter::default(),
            other_filters: Vec::new(),
            from_filter_json: false,
        }
    }

    fn param(&self, name: &'static str) -> &'static str {
        if self.from_filter_json {
            "familyFilterJson"
        } else {
            name
        }
    }
}

/// Why a report could not be produced.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// A parameter is wrong; `param` names it.
    #[error("{param}: {message}")]
    BadInput {
        /// The request parameter at fault.
        param: &'static str,
        /// What is wrong with it.
        message: String,
    },
    /// The user may not see the requested location.
    #[error("{0}")]
    Forbidden(String),
    /// The database failed.
    #[error(transparent)]
    Db(#[from] DbError),
    /// Rendering failed (a fault of ours).
    #[error("rendering the report failed: {0}")]
    Render(String),
}

impl From<diesel::result::Error> for ReportError {
    fn from(e: diesel::result::Error) -> Self {
        ReportError::Db(DbError::Query(e))
    }
}

impl ReportError {
    /// A bad-input error for `param`.
    pub fn bad(param: &'static str, message: impl Into<String>) -> Self {
        ReportError::BadInput {
            param,
            message: message.into(),
        }
    }
}

impl UserFacing for ReportError {
    fn code(&self) -> ErrorCode {
        match self {
            ReportError::BadInput { .. } => ErrorCode::BadUserInput,
            ReportError::Forbidden(_) => ErrorCode::Forbidden,
            ReportError::Db(e) => e.code(),
            ReportError::Render(_) => ErrorCode::Internal,
        }
    }

    fn user_message(&self) -> String {
        match self {
            ReportError::BadInput { .. } | ReportError::Forbidden(_) => self.to_string(),
            ReportError::Db(e) => e.user_message(),
            ReportError::Render(_) => "internal error; the details are in the service log".into(),
        }
    }
}

/// The enrolment officer the report is restricted to.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct OfficerInfo {
    /// Officer code.
    pub code: String,
    /// "<other names> <last name>".
    pub name: String,
}

/// The report's header block.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReportHeader {
    /// The report title.
    pub title: String,
    /// The region as "code name".
    pub region: String,
    /// The district as "code name"; for a region report empty when it covers every district
    /// of the region, else the user's districts it covers ("code name, code name (your
    /// districts)").
    pub district: String,
    /// The districts the report covers, as "code name", by code.
    pub districts: Vec<String>,
    /// The officer, when the report is restricted to one.
    pub officer: Option<OfficerInfo>,
    /// The mode number, 0–4.
    pub mode: i64,
    /// The mode label.
    pub mode_label: String,
    /// The other filters in words.
    pub other_filters: Vec<String>,
    /// When the report was produced (UTC).
    pub printed_at: chrono::DateTime<chrono::Utc>,
}

/// How many families of the selection fall under each mode (before the mode filter).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ModeCounts {
    /// Mode 0: every family of the selection.
    pub all: i64,
    /// Mode 1: approval and a phone.
    pub approval_and_phone: i64,
    /// Mode 2: approval, no phone.
    pub approval_only: i64,
    /// Mode 3: a phone, no approval.
    pub phone_only: i64,
    /// Mode 4: neither.
    pub neither: i64,
}

impl ModeCounts {
    /// The count for one mode.
    pub fn get(&self, mode: NotificationMode) -> i64 {
        match mode {
            NotificationMode::All => self.all,
            NotificationMode::ApprovalAndPhone => self.approval_and_phone,
            NotificationMode::ApprovalOnly => self.approval_only,
            NotificationMode::PhoneOnly => self.phone_only,
            NotificationMode::Neither => self.neither,
        }
    }

    fn add(&mut self, approved: bool, has_phone: bool, n: i64) {
        for mode in NotificationMode::ALL {
            if mode.matches(approved, has_phone) {
                match mode {
                    NotificationMode::All => self.all += n,
                    NotificationMode::ApprovalAndPhone => self.approval_and_phone += n,
                    NotificationMode::ApprovalOnly => self.approval_only += n,
                    NotificationMode::PhoneOnly => self.phone_only += n,
                    NotificationMode::Neither => self.neither += n,
                }
            }
        }
    }
}

/// A village of the report, with its municipality and district, in report order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VillageGroup {
    /// `tblLocations.LocationId` of the village.
    pub village_id: i32,
    /// The district as "code name".
    pub district: Arc<str>,
    /// The municipality as "code name".
    pub municipality: Arc<str>,
    /// The village as "code name".
    pub village: Arc<str>,
    /// How many rows the village yields (families under the selected mode).
    pub rows: i64,
}

/// One family of the report.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReportRow {
    /// The family's UUID.
    pub family_uuid: String,
    /// District as "code name".
    #[serde(serialize_with = "ser_arc")]
    pub district: Arc<str>,
    /// Municipality as "code name".
    #[serde(serialize_with = "ser_arc")]
    pub municipality: Arc<str>,
    /// Village as "code name".
    #[serde(serialize_with = "ser_arc")]
    pub village: Arc<str>,
    /// The head's insurance number (CHFID).
    pub insurance_number: String,
    /// The head's given (other) names.
    pub given_name: String,
    /// The head's last name.
    pub last_name: String,
    /// Approval of notification (false without a notification row).
    pub approval: bool,
    /// Language of notification (empty without a notification row).
    pub language: String,
    /// The head's phone, or empty.
    pub phone: String,
    /// When the head has no phone: the first other current member with one; `-` if none; empty
    /// when the head has a phone.
    pub alternative_given_name: String,
    /// Last name of that member (same rule).
    pub alternative_last_name: String,
    /// Phone of that member (same rule).
    pub alternative_phone: String,
}

fn ser_arc<S: serde::Serializer>(v: &Arc<str>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(v)
}

/// A report ready to stream: header, counts and the villages in order.
#[derive(Debug, Clone)]
pub struct PreparedReport {
    /// The header block.
    pub header: ReportHeader,
    /// Families per mode in the selection.
    pub counts: ModeCounts,
    /// The villages that yield rows, in report order.
    pub villages: Arc<Vec<VillageGroup>>,
    filter: Arc<RowFilter>,
}

/// The family-level conditions the row queries repeat (the location ones are in the villages).
#[derive(Debug, Clone)]
struct RowFilter {
    officer_id: Option<i32>,
    mode: NotificationMode,
    families: Option<Fragment>,
}

impl RowFilter {
    /// `" AND …"` for the officer and the families filter (values bound), or nothing.
    fn sql(&self) -> Fragment {
        let mut out = Fragment::new();
        if let Some(id) = self.officer_id {
            out.push_sql(
                " AND EXISTS (SELECT 1 FROM \"tblPolicy\" op WHERE op.\"FamilyID\" = f.\"FamilyID\" \
                 AND op.\"ValidityTo\" IS NULL AND op.\"OfficerID\" = ",
            )
            .push_bind(id)
            .push_sql(")");
        }
        if let Some(p) = &self.families {
            out.push_sql(" AND (").push(p.clone()).push_sql(")");
        }
        out
    }
}

impl PreparedReport {
    /// Total number of rows the report yields.
    pub fn row_count(&self) -> i64 {
        self.villages.iter().map(|v| v.rows).sum()
    }

    /// One page of rows: at most `limit` rows from 0-based position `offset` in report order
    /// (for paginated clients such as GraphQL). Reads only the villages the page spans.
    pub async fn rows_page(
        &self,
        pool: &Pool,
        offset: i64,
        limit: i64,
    ) -> Result<Vec<ReportRow>, ReportError> {
        if limit <= 0 || offset < 0 {
            return Ok(Vec::new());
        }
        let mut before = 0i64;
        let mut start = self.villages.len();
        for (i, v) in self.villages.iter().enumerate() {
            if before + v.rows > offset {
                start = i;
                break;
            }
            before += v.rows;
        }
        if start >= self.villages.len() {
            return Ok(Vec::new());
        }
        let skip = offset - before;
        let mut end = start;
        let mut covered = -skip;
        while end < self.villages.len() && covered < limit {
            covered += self.villages[end].rows;
            end += 1;
        }
        let raw = load_rows(
            pool,
            &self.villages,
            start..end,
            &self.filter,
            None,
            skip,
            limit,
        )
        .await?;
        Ok(rows_of(raw, &self.villages))
    }

    /// The rows in report order, read in chunks of about [`CHUNK`] rows.
    pub fn rows(
        &self,
        pool: Pool,
    ) -> impl Stream<Item = Result<Vec<ReportRow>, ReportError>> + Send + 'static {
        self.rows_chunked(pool, CHUNK)
    }

    /// The rows in report order, read in chunks of at most `chunk` rows.
    pub fn rows_chunked(
        &self,
        pool: Pool,
        chunk: usize,
    ) -> impl Stream<Item = Result<Vec<ReportRow>, ReportError>> + Send + 'static {
        let chunk = chunk.max(1);
        let state = ChunkState {
            pool,
            villages: self.villages.clone(),
            filter: self.filter.clone(),
            next: 0,
            cursor: None,
            chunk,
        };
        futures::stream::try_unfold(state, |mut st| async move {
            loop {
                if st.next >= st.villages.len() {
                    return Ok(None);
                }
                let rows = st.fetch().await?;
                if !rows.is_empty() {
                    return Ok(Some((rows, st)));
                }
            }
        })
    }
}

struct ChunkState {
    pool: Pool,
    villages: Arc<Vec<VillageGroup>>,
    filter: Arc<RowFilter>,
    /// Index of the first village of the next window.
    next: usize,
    /// Keyset position inside the village `next`: (insurance number, family id) of the last row.
    cursor: Option<(String, i32)>,
    chunk: usize,
}

#[derive(QueryableByName)]
struct RawRow {
    #[diesel(sql_type = Integer)]
    ord: i32,
    #[diesel(sql_type = Integer)]
    family_id: i32,
    #[diesel(sql_type = Text)]
    family_uuid: String,
    #[diesel(sql_type = Text)]
    chfid: String,
    #[diesel(sql_type = Nullable<Text>)]
    given_name: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    last_name: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    phone: Option<String>,
    #[diesel(sql_type = Bool)]
    head_has_phone: bool,
    #[diesel(sql_type = Bool)]
    approval: bool,
    #[diesel(sql_type = Nullable<Text>)]
    language: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    alt_given_name: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    alt_last_name: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    alt_phone: Option<String>,
}

impl ChunkState {
    /// The end (exclusive) of the village window starting at `next`: villages whose rows add up to
    /// at most one chunk, and at least one village.
    fn window_end(&self) -> usize {
        let mut total = 0i64;
        let mut end = self.next;
        while end < self.villages.len() {
            let rows = self.villages[end].rows;
            if end > self.next && total + rows > self.chunk as i64 {
                break;
            }
            total += rows;
            end += 1;
        }
        end
    }

    async fn fetch(&mut self) -> Result<Vec<ReportRow>, ReportError> {
        let start = self.next;
        let end = self.window_end();
        let after = self.cursor.clone().map(|(c, id)| (start as i32, c, id));
        let raw = load_rows(
            &self.pool,
            &self.villages,
            start..end,
            &self.filter,
            after,
            0,
            self.chunk as i64,
        )
        .await?;
        if raw.len() < self.chunk {
            self.next = end;
            self.cursor = None;
        } else if let Some(last) = raw.last() {
            self.next = last.ord.max(0) as usize;
            self.cursor = Some((last.chfid.clone(), last.family_id));
        }
        Ok(rows_of(raw, &self.villages))
    }
}

fn rows_of(raw: Vec<RawRow>, villages: &[VillageGroup]) -> Vec<ReportRow> {
    raw.into_iter()
        .filter_map(|r| {
            let v = villages.get(usize::try_from(r.ord).ok()?)?;
            Some(to_row(r, v))
        })
        .collect()
}

/// Reads the rows of villages `range` in report order: after the keyset position `after`
/// (village position, insurance number, family id) when given, skipping `skip` rows, at most
/// `limit` rows.
async fn load_rows(
    pool: &Pool,
    villages: &[VillageGroup],
    range: std::ops::Range<usize>,
    filter: &RowFilter,
    after: Option<(i32, String, i32)>,
    skip: i64,
    limit: i64,
) -> Result<Vec<RawRow>, ReportError> {
    let ids: Vec<i32> = villages[range.clone()]
        .iter()
        .map(|v| v.village_id)
        .collect();
    let ords: Vec<i32> = range.map(|i| i as i32).collect();
    let (after_ord, after_chf, after_id) = after.unwrap_or((-1, String::new(), 0));
    let row_filter = filter.sql();
    let mode = filter
        .mode
        .sql("f")
        .map(|p| format!(" AND {p}"))
        .unwrap_or_default();
    let query = Fragment::sql(format!(
        "SELECT vo.ord AS ord, f.\"FamilyID\" AS family_id, f.\"FamilyUUID\" AS family_uuid, \
                COALESCE(h.\"CHFID\", '') AS chfid, h.\"OtherNames\" AS given_name, \
                h.\"LastName\" AS last_name, h.\"Phone\" AS phone, \
                COALESCE({head_phone}, false) AS head_has_phone, \
                COALESCE(s.\"ApprovalOfSMS\", false) AS approval, s.\"LanguageOfSMS\" AS language, \
                alt.\"OtherNames\" AS alt_given_name, alt.\"LastName\" AS alt_last_name, \
                alt.\"Phone\" AS alt_phone \
         FROM unnest(",
        head_phone = phone_present_sql("h.\"Phone\""),
    ))
    .bind(ids)
    .with_sql("::int[], ")
    .bind(ords)
    .with_sql(format!(
        "::int[]) AS vo(loc, ord) \
         JOIN \"tblFamilies\" f ON f.\"LocationId\" = vo.loc AND f.\"ValidityTo\" IS NULL \
         LEFT JOIN \"tblInsuree\" h ON h.\"InsureeID\" = f.\"InsureeID\" \
         LEFT JOIN \"tblFamilySMS\" s ON s.\"FamilyID\" = f.\"FamilyID\" AND s.\"ValidityTo\" IS NULL \
         LEFT JOIN LATERAL ( \
             SELECT am.\"OtherNames\", am.\"LastName\", am.\"Phone\" FROM \"tblInsuree\" am \
             WHERE am.\"FamilyID\" = f.\"FamilyID\" AND am.\"ValidityTo\" IS NULL \
               AND am.\"InsureeID\" <> f.\"InsureeID\" AND {alt_phone} \
             ORDER BY am.\"InsureeID\" LIMIT 1) alt ON NOT COALESCE({head_phone}, false) \
         WHERE (vo.ord, COALESCE(h.\"CHFID\", '') COLLATE \"C\", f.\"FamilyID\") > (",
        head_phone = phone_present_sql("h.\"Phone\""),
        alt_phone = phone_present_sql("am.\"Phone\""),
    ))
    .bind(after_ord)
    .with_sql(", ")
    .bind(after_chf)
    .with_sql(" COLLATE \"C\", ")
    .bind(after_id)
    .with_sql(") ")
    .with_sql(mode)
    .with(row_filter)
    .with_sql(
        " ORDER BY vo.ord, COALESCE(h.\"CHFID\", '') COLLATE \"C\", f.\"FamilyID\" OFFSET ",
    )
    .bind(skip.max(0))
    .with_sql(" LIMIT ")
    .bind(limit.max(0));
    let mut conn = pool.get().await.map_err(DbError::from)?;
    Ok(query.query().load(&mut conn).await?)
}

fn to_row(r: RawRow, v: &VillageGroup) -> ReportRow {
    let (ag, al, ap) = if r.head_has_phone {
        (String::new(), String::new(), String::new())
    } else {
        match r.alt_phone {
            Some(phone) => (
                r.alt_given_name.unwrap_or_default(),
                r.alt_last_name.unwrap_or_default(),
                phone.trim().to_string(),
            ),
            None => ("-".into(), "-".into(), "-".into()),
        }
    };
    ReportRow {
        family_uuid: r.family_uuid,
        district: v.district.clone(),
        municipality: v.municipality.clone(),
        village: v.village.clone(),
        insurance_number: r.chfid,
        given_name: r.given_name.unwrap_or_default(),
        last_name: r.last_name.unwrap_or_default(),
        approval: r.approval,
        language: r.language.unwrap_or_default(),
        phone: if r.head_has_phone {
            r.phone.unwrap_or_default().trim().to_string()
        } else {
            String::new()
        },
        alternative_given_name: ag,
        alternative_last_name: al,
        alternative_phone: ap,
    }
}

#[derive(QueryableByName)]
struct LocationRow {
    #[diesel(sql_type = Integer)]
    id: i32,
    #[diesel(sql_type = Text)]
    kind: String,
    #[diesel(sql_type = Text)]
    label: String,
    #[diesel(sql_type = Nullable<Integer>)]
    parent_id: Option<i32>,
    #[diesel(sql_type = Nullable<Text>)]
    parent_label: Option<String>,
}

#[derive(QueryableByName)]
struct OfficerRow {
    #[diesel(sql_type = Integer)]
    id: i32,
    #[diesel(sql_type = Text)]
    code: String,
    #[diesel(sql_type = Text)]
    name: String,
}

#[derive(QueryableByName)]
struct GroupRow {
    #[diesel(sql_type = Integer)]
    village_id: i32,
    #[diesel(sql_type = Text)]
    d_code: String,
    #[diesel(sql_type = Text)]
    district: String,
    #[diesel(sql_type = Text)]
    m_code: String,
    #[diesel(sql_type = Text)]
    municipality: String,
    #[diesel(sql_type = Text)]
    v_code: String,
    #[diesel(sql_type = Text)]
    village: String,
    #[diesel(sql_type = Bool)]
    approved: bool,
    #[diesel(sql_type = Bool)]
    has_phone: bool,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

const LABEL_SQL: &str =
    "btrim(COALESCE(l.\"LocationCode\", '') || ' ' || COALESCE(l.\"LocationName\", ''))";

async fn location(
    conn: &mut crate::db::Conn,
    uuid: Uuid,
) -> Result<Option<LocationRow>, ReportError> {
    let sql = format!(
        "SELECT l.\"LocationId\" AS id, l.\"LocationType\" AS kind, {LABEL_SQL} AS label, \
                p.\"LocationId\" AS parent_id, \
                btrim(COALESCE(p.\"LocationCode\", '') || ' ' || COALESCE(p.\"LocationName\", '')) AS parent_label \
         FROM \"tblLocations\" l LEFT JOIN \"tblLocations\" p ON p.\"LocationId\" = l.\"ParentLocationId\" \
         WHERE l.\"LocationUUID\" IN ($1, upper($1)) ORDER BY l.\"ValidityTo\" IS NULL DESC LIMIT 1"
    );
    let rows: Vec<LocationRow> = diesel::sql_query(sql)
        .bind::<Text, _>(uuid.to_string())
        .load(conn)
        .await?;
    Ok(rows.into_iter().next())
}

#[derive(QueryableByName)]
struct UuidRow {
    #[diesel(sql_type = Text)]
    uuid: String,
}

/// The district `up` levels above location `uuid` (1 for a municipality, 2 for a village).
async fn district_of(
    conn: &mut crate::db::Conn,
    uuid: Uuid,
    up: u8,
) -> Result<Option<Uuid>, ReportError> {
    let sql = if up == 1 {
        "SELECT p.\"LocationUUID\" AS uuid FROM \"tblLocations\" l \
         JOIN \"tblLocations\" p ON p.\"LocationId\" = l.\"ParentLocationId\" \
         WHERE l.\"LocationUUID\" IN ($1, upper($1)) AND l.\"LocationType\" = 'W' LIMIT 1"
    } else {
        "SELECT d.\"LocationUUID\" AS uuid FROM \"tblLocations\" l \
         JOIN \"tblLocations\" p ON p.\"LocationId\" = l.\"ParentLocationId\" \
         JOIN \"tblLocations\" d ON d.\"LocationId\" = p.\"ParentLocationId\" \
         WHERE l.\"LocationUUID\" IN ($1, upper($1)) AND l.\"LocationType\" = 'V' LIMIT 1"
    };
    let rows: Vec<UuidRow> = diesel::sql_query(sql)
        .bind::<Text, _>(uuid.to_string())
        .load(conn)
        .await?;
    Ok(rows
        .into_iter()
        .next()
        .and_then(|r| Uuid::parse_str(r.uuid.trim()).ok()))
}

#[derive(QueryableByName)]
struct LabelRow {
    #[diesel(sql_type = Text)]
    label: String,
}

/// The labels of the current districts `d` that `area` (a predicate over `d`) selects, by code.
async fn covered_districts(
    conn: &mut crate::db::Conn,
    area: &Fragment,
) -> Result<Vec<String>, ReportError> {
    let rows: Vec<LabelRow> = Fragment::sql(format!(
        "SELECT {} AS label FROM \"tblLocations\" d WHERE d.\"LocationType\" = 'D' \
         AND d.\"ValidityTo\" IS NULL AND ",
        LABEL_SQL.replace("l.", "d.")
    ))
    .with(area.clone())
    .with_sql(" ORDER BY d.\"LocationCode\", d.\"LocationId\"")
    .query()
    .load(conn)
    .await?;
    Ok(rows.into_iter().map(|r| r.label).collect())
}

/// The answer for a location a restricted user may not see, whether it exists or not.
fn hidden(uuid: Uuid) -> ReportError {
    ReportError::Forbidden(format!("no location with UUID {uuid} in your districts"))
}

/// Resolves the query, checks the user's districts and reads the counts and villages.
pub async fn prepare(
    pool: &Pool,
    query: &ReportQuery,
    scope: &DistrictScope,
) -> Result<PreparedReport, ReportError> {
    let mut conn = pool.get().await.map_err(DbError::from)?;

    // A municipality or village alone: its district is the area.
    let mut district = query.district;
    if district.is_none()
        && query.region.is_none()
        && let Some(sub) = query.sub_location
    {
        let (uuid, up) = match sub {
            SubLocation::Municipality(u) => (u, 1),
            SubLocation::Village(u) => (u, 2),
        };
        district = Some(district_of(&mut conn, uuid, up).await?.ok_or_else(|| {
            match scope {
                // The same text as a location outside the user's districts (issue 11).
                DistrictScope::Districts(_) => hidden(uuid),
                DistrictScope::All => ReportError::bad(
                    query.param("parentLocation"),
                    format!("no location with UUID {uuid} at the given level"),
                ),
            }
        })?);
    }

    // The area: a district (precedence) or a region.
    let (region_label, district_label, area_sql) = match (district, query.region) {
        (Some(d), region) => {
            let p = query.param("districtUuid");
            let loc = location(&mut conn, d).await?;
            // A restricted user learns nothing about locations outside their districts: a
            // missing one and a foreign one get the same answer (issue 11).
            if !loc.as_ref().is_some_and(|l| scope.sees_district(l.id)) {
                return Err(hidden(d));
            }
            let loc =
                loc.ok_or_else(|| ReportError::bad(p, format!("no location with UUID {d}")))?;
            if loc.kind != "D" {
                return Err(ReportError::bad(
                    p,
                    format!("location {d} is not a district"),
                ));
            }
            if let Some(r) = region {
                let rp = query.param("regionUuid");
                let rloc = location(&mut conn, r)
                    .await?
                    .ok_or_else(|| ReportError::bad(rp, format!("no location with UUID {r}")))?;
                if rloc.kind != "R" {
                    return Err(ReportError::bad(
                        rp,
                        format!("location {r} is not a region"),
                    ));
                }
                if loc.parent_id != Some(rloc.id) {
                    return Err(ReportError::bad(
                        p,
                        format!("district {d} does not lie in region {r}"),
                    ));
                }
            }
            (
                loc.parent_label.unwrap_or_default(),
                loc.label,
                Fragment::sql("d.\"LocationId\" = ").bind(loc.id),
            )
        }
        (None, Some(r)) => {
            let p = query.param("regionUuid");
            let loc = location(&mut conn, r)
                .await?
                .ok_or_else(|| ReportError::bad(p, format!("no location with UUID {r}")))?;
            if loc.kind != "R" {
                return Err(ReportError::bad(p, format!("location {r} is not a region")));
            }
            (
                loc.label,
                String::new(),
                Fragment::sql("d.\"ParentLocationId\" = ").bind(loc.id),
            )
        }
        (None, None) => {
            return Err(ReportError::bad(
                query.param("regionUuid"),
                "a region or a district is required (regionUuid or districtUuid)",
            ));
        }
    };

    let mut location_sql = area_sql;
    if let Some(visible) = scope.district(Fragment::sql("d.\"LocationId\"")) {
        location_sql.push_sql(" AND ").push(visible);
    }
    // The districts covered; a restricted user's region report names them (it covers only
    // the user's districts of the region, not the whole region).
    let districts = covered_districts(&mut conn, &location_sql).await?;
    let district_label = if district.is_none() && scope.district_ids().is_some() {
        if districts.is_empty() {
            "none of your districts".to_string()
        } else {
            format!("{} (your districts)", districts.join(", "))
        }
    } else {
        district_label
    };
    if let Some(sub) = query.sub_location {
        let (uuid, kind, alias) = match sub {
            SubLocation::Municipality(u) => (u, "W", "m"),
            SubLocation::Village(u) => (u, "V", "v"),
        };
        let p = query.param("parentLocation");
        if scope.district_ids().is_some() {
            let up = if kind == "W" { 1 } else { 2 };
            let district = match district_of(&mut conn, uuid, up).await? {
                Some(d) => location(&mut conn, d).await?,
                None => None,
            };
            if !district.is_some_and(|d| scope.sees_district(d.id)) {
                return Err(hidden(uuid));
            }
        }
        let loc = location(&mut conn, uuid)
            .await?
            .ok_or_else(|| ReportError::bad(p, format!("no location with UUID {uuid}")))?;
        if loc.kind != kind {
            return Err(ReportError::bad(
                p,
                format!("location {uuid} is not at the level given by parentLocationLevel"),
            ));
        }
        location_sql
            .push_sql(format!(" AND {alias}.\"LocationId\" = "))
            .push_bind(loc.id);
    }

    // The officer.
    let officer = match query.officer {
        None => None,
        Some(o) => {
            let p = query.param("officerUuid");
            // A restricted user sees only officers of their districts (an officer of another
            // district answers as an unknown one, issue 11).
            let districts: Option<Vec<i32>> = scope.district_ids().map(<[i32]>::to_vec);
            let rows: Vec<OfficerRow> = diesel::sql_query(
                "SELECT \"OfficerID\" AS id, \"Code\" AS code, \
                        btrim(\"OtherNames\" || ' ' || \"LastName\") AS name \
                 FROM \"tblOfficer\" WHERE \"OfficerUUID\" IN ($1, upper($1)) \
                   AND ($2::int[] IS NULL OR \"LocationId\" = ANY($2)) \
                 ORDER BY \"ValidityTo\" IS NULL DESC LIMIT 1",
            )
            .bind::<Text, _>(o.to_string())
            .bind::<diesel::sql_types::Nullable<diesel::sql_types::Array<diesel::sql_types::Int4>>, _>(districts)
            .load(&mut conn)
            .await?;
            let row = rows.into_iter().next().ok_or_else(|| {
                ReportError::bad(p, format!("no enrolment officer with UUID {o}"))
            })?;
            Some(row)
        }
    };

    let filter = RowFilter {
        officer_id: officer.as_ref().map(|o| o.id),
        mode: query.mode,
        families: query
            .families
            .predicate()
            .map_err(|e| ReportError::bad(query.param("familyFilterJson"), e.to_string()))?,
    };

    // One aggregate over the selection: per village and (approved, has a phone).
    let label = |a: &str| {
        format!(
            "btrim(COALESCE({a}.\"LocationCode\", '') || ' ' || COALESCE({a}.\"LocationName\", ''))"
        )
    };
    let sql = format!(
        "SELECT v.\"LocationId\" AS village_id, \
                COALESCE(d.\"LocationCode\", '') AS d_code, {dl} AS district, \
                COALESCE(m.\"LocationCode\", '') AS m_code, {ml} AS municipality, \
                COALESCE(v.\"LocationCode\", '') AS v_code, {vl} AS village, \
                {approved} AS approved, {phone} AS has_phone, count(*) AS n \
         FROM \"tblFamilies\" f \
         JOIN \"tblLocations\" v ON v.\"LocationId\" = f.\"LocationId\" \
         JOIN \"tblLocations\" m ON m.\"LocationId\" = v.\"ParentLocationId\" \
         JOIN \"tblLocations\" d ON d.\"LocationId\" = m.\"ParentLocationId\" \
         WHERE f.\"ValidityTo\" IS NULL AND ",
        dl = label("d"),
        ml = label("m"),
        vl = label("v"),
        approved = approved_sql("f"),
        phone = has_phone_sql("f"),
    );
    let sql = Fragment::sql(sql)
        .with(location_sql)
        .with(filter.sql())
        .with_sql(" GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9");
    let groups: Vec<GroupRow> = sql.query().load(&mut conn).await?;
    drop(conn);

    let mut counts = ModeCounts::default();
    let mut villages: Vec<(String, String, String, GroupRow)> = Vec::new();
    let mut by_id: std::collections::HashMap<i32, usize> = std::collections::HashMap::new();
    let mut selected: Vec<i64> = Vec::new();
    for g in groups {
        counts.add(g.approved, g.has_phone, g.n);
        let n = if query.mode.matches(g.approved, g.has_phone) {
            g.n
        } else {
            0
        };
        match by_id.get(&g.village_id) {
            Some(&i) => selected[i] += n,
            None => {
                by_id.insert(g.village_id, villages.len());
                selected.push(n);
                villages.push((g.d_code.clone(), g.m_code.clone(), g.v_code.clone(), g));
            }
        }
    }
    let mut order: Vec<usize> = (0..villages.len()).collect();
    order.sort_by(|&a, &b| {
        let (ad, am, av, ag) = &villages[a];
        let (bd, bm, bv, bg) = &villages[b];
        (
            ad,
            &ag.district,
            am,
            &ag.municipality,
            av,
            &ag.village,
            ag.village_id,
        )
            .cmp(&(
                bd,
                &bg.district,
                bm,
                &bg.municipality,
                bv,
                &bg.village,
                bg.village_id,
            ))
    });
    let mut groups_out = Vec::with_capacity(order.len());
    let mut last: Option<(Arc<str>, Arc<str>)> = None;
    for i in order {
        if selected[i] == 0 {
            continue;
        }
        let g = &villages[i].3;
        // Share the district and municipality labels between consecutive villages.
        let (district, municipality) = match &last {
            Some((d, m)) if **d == *g.district && **m == *g.municipality => (d.clone(), m.clone()),
            _ => (
                Arc::from(g.district.as_str()),
                Arc::from(g.municipality.as_str()),
            ),
        };
        last = Some((district.clone(), municipality.clone()));
        groups_out.push(VillageGroup {
            village_id: g.village_id,
            district,
            municipality,
            village: Arc::from(g.village.as_str()),
            rows: selected[i],
        });
    }

    let header = ReportHeader {
        title: TITLE.to_string(),
        region: region_label,
        district: district_label,
        districts,
        officer: officer.map(|o| OfficerInfo {
            code: o.code,
            name: o.name,
        }),
        mode: query.mode.number(),
        mode_label: query.mode.label().to_string(),
        other_filters: query.other_filters.clone(),
        printed_at: chrono::Utc::now(),
    };
    Ok(PreparedReport {
        header,
        counts,
        villages: Arc::new(groups_out),
        filter: Arc::new(filter),
    })
}
