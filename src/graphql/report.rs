//! `communicationByNotificationReport`: the report's header, counts per mode and rows (a relay
//! connection), with the same right and district restrictions as the HTTP endpoint.

use async_graphql::{Context, Object, Result, SimpleObject};
use uuid::Uuid;

use super::context::{coded_error, pool, require_user, settings, unauthorized, user_error};
use super::relay::{ExtendedConnection, Pagination};
use crate::families::rules::NotificationMode;
use crate::report::{self, PreparedReport, ReportError, ReportQuery as ReportRequest, ReportRow};

/// The report's query root fields (merged into the query root).
#[derive(Default)]
pub struct ReportQuery;

fn uuid_arg(name: &'static str, v: Option<String>) -> Result<Option<Uuid>, ReportError> {
    match v.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => Uuid::parse_str(s)
            .map(Some)
            .map_err(|_| ReportError::bad(name, format!("{s:?} is not a UUID"))),
    }
}

#[Object]
impl ReportQuery {
    /// The communication-by-notification report for a region or district (optionally an
    /// officer and a mode 0–4), or for the families-page filters (`familyFilterJson`).
    #[allow(clippy::too_many_arguments)]
    async fn communication_by_notification_report(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The region's `uuid` (as `locations(type: \"R\")` or `userDistricts { parent { uuid } }` answer)."
        )]
        region_uuid: Option<String>,
        #[graphql(
            desc = "The district's `uuid` (as `locations(type: \"D\")` or `userDistricts { uuid }` answer); takes precedence over the region."
        )]
        district_uuid: Option<String>,
        officer_uuid: Option<String>,
        mode: Option<i32>,
        family_filter_json: Option<String>,
    ) -> Result<Option<CommunicationByNotificationReport>> {
        let identity = require_user(ctx)?;
        let rights = &settings(ctx)?
            .module
            .family_policy_notification_report_perms;
        if !rights.iter().all(|r| identity.has_right(*r)) {
            return Err(unauthorized());
        }
        let query = build_query(
            region_uuid,
            district_uuid,
            officer_uuid,
            mode,
            family_filter_json,
        )
        .map_err(|e| user_error(&e))?;
        let prepared = report::prepare(pool(ctx)?, &query, &crate::families::Scope::of(identity))
            .await
            .map_err(|e| user_error(&e))?;
        Ok(Some(CommunicationByNotificationReport(prepared)))
    }
}

fn build_query(
    region_uuid: Option<String>,
    district_uuid: Option<String>,
    officer_uuid: Option<String>,
    mode: Option<i32>,
    family_filter_json: Option<String>,
) -> Result<ReportRequest, ReportError> {
    if let Some(json) = family_filter_json.filter(|s| !s.trim().is_empty()) {
        return report::filter_json::parse(&json);
    }
    let mut q = ReportRequest::new(
        uuid_arg("regionUuid", region_uuid)?,
        uuid_arg("districtUuid", district_uuid)?,
    );
    q.officer = uuid_arg("officerUuid", officer_uuid)?;
    if let Some(m) = mode {
        q.mode = NotificationMode::from_number(i64::from(m))
            .map_err(|e| ReportError::bad("mode", e.to_string()))?;
    }
    if q.region.is_none() && q.district.is_none() {
        return Err(ReportError::bad(
            "regionUuid",
            "a region or a district is required (regionUuid or districtUuid)",
        ));
    }
    Ok(q)
}

/// The report: header, counts per mode and the family rows.
pub struct CommunicationByNotificationReport(PreparedReport);

/// Families of the selection per notification mode (before the mode filter).
#[derive(SimpleObject)]
pub struct NotificationModeCounts {
    /// Mode 0: every family of the selection.
    pub all: i64,
    /// Mode 1: approval and a phone.
    pub approval_and_phone: i64,
    /// Mode 2: approval, no phone.
    pub approval_only: i64,
    /// Mode 3: a phone, no approval.
    pub phone_only: i64,
    /// Mode 4: neither approval nor a phone.
    pub neither: i64,
}

#[Object]
impl CommunicationByNotificationReport {
    /// The report title.
    async fn title(&self) -> &str {
        &self.0.header.title
    }
    /// The region as "code name".
    async fn region(&self) -> &str {
        &self.0.header.region
    }
    /// The district as "code name"; for a region report empty when it covers the whole region,
    /// else the user's districts it covers ("code name, code name (your districts)").
    async fn district(&self) -> &str {
        &self.0.header.district
    }
    /// The districts the report covers, as "code name", by code.
    async fn districts(&self) -> &[String] {
        &self.0.header.districts
    }
    /// The officer's code, when the report is restricted to one.
    async fn officer_code(&self) -> Option<&str> {
        self.0.header.officer.as_ref().map(|o| o.code.as_str())
    }
    /// The officer's name ("other names last name").
    async fn officer_name(&self) -> Option<&str> {
        self.0.header.officer.as_ref().map(|o| o.name.as_str())
    }
    /// The notification mode, 0–4.
    async fn mode(&self) -> i64 {
        self.0.header.mode
    }
    /// The mode's label.
    async fn mode_label(&self) -> &str {
        &self.0.header.mode_label
    }
    /// The other filters in words.
    async fn other_filters(&self) -> &[String] {
        &self.0.header.other_filters
    }
    /// When the report was produced.
    async fn printed_at(&self) -> chrono::DateTime<chrono::Utc> {
        self.0.header.printed_at
    }
    /// Families per mode in the selection.
    async fn counts(&self) -> NotificationModeCounts {
        let c = self.0.counts;
        NotificationModeCounts {
            all: c.all,
            approval_and_phone: c.approval_and_phone,
            approval_only: c.approval_only,
            phone_only: c.phone_only,
            neither: c.neither,
        }
    }
    /// The family rows, in report order.
    async fn rows(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        last: Option<i32>,
        after: Option<String>,
        before: Option<String>,
        offset: Option<i32>,
    ) -> Result<ExtendedConnection<CommunicationByNotificationRow>> {
        let page = Pagination::parse(
            "rows",
            first,
            last,
            after.as_deref(),
            before.as_deref(),
            offset,
        )
        .map_err(|e| coded_error(e.code(), e.to_string()))?;
        let total = self.0.row_count();
        let window = page.window(Some(total));
        let rows = self
            .0
            .rows_page(pool(ctx)?, window.offset, window.fetch)
            .await
            .map_err(|e| user_error(&e))?;
        let rows = rows
            .into_iter()
            .map(CommunicationByNotificationRow)
            .collect();
        Ok(page.connection(window, rows, Some(total)))
    }
}

/// One family of the report.
pub struct CommunicationByNotificationRow(ReportRow);

#[Object]
impl CommunicationByNotificationRow {
    /// The family's UUID.
    async fn family_uuid(&self) -> &str {
        &self.0.family_uuid
    }
    /// District as "code name".
    async fn district(&self) -> &str {
        &self.0.district
    }
    /// Municipality as "code name".
    async fn municipality(&self) -> &str {
        &self.0.municipality
    }
    /// Village as "code name".
    async fn village(&self) -> &str {
        &self.0.village
    }
    /// The head's insurance number.
    async fn insurance_number(&self) -> &str {
        &self.0.insurance_number
    }
    /// The head's given names.
    async fn given_name(&self) -> &str {
        &self.0.given_name
    }
    /// The head's last name.
    async fn last_name(&self) -> &str {
        &self.0.last_name
    }
    /// Approval of notification (false without a notification row).
    async fn approval(&self) -> bool {
        self.0.approval
    }
    /// Language of notification (empty without a notification row).
    async fn language(&self) -> &str {
        &self.0.language
    }
    /// The head's phone, or empty.
    async fn phone(&self) -> &str {
        &self.0.phone
    }
    /// When the head has no phone: given names of the first other current member with one;
    /// `-` if none; empty when the head has a phone.
    async fn alternative_given_name(&self) -> &str {
        &self.0.alternative_given_name
    }
    /// Last name of that member (same rule).
    async fn alternative_last_name(&self) -> &str {
        &self.0.alternative_last_name
    }
    /// Phone of that member (same rule).
    async fn alternative_phone(&self) -> &str {
        &self.0.alternative_phone
    }
}
