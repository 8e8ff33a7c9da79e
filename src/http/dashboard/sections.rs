//! The dashboard's figures as a list of sections. Each section has an id (its JSON is
//! `<BASE><id>.json`), a title, and a loader that reads its data for the viewer and answers it
//! both as JSON and as an HTML fragment. A new figure is one function here and one line in
//! [`SECTIONS`].

use std::collections::BTreeMap;
use std::fmt::Write;

use chrono::NaiveDate;
use futures::future::BoxFuture;
use serde_json::{Value, json};

use super::BASE;
use super::html::{Series, bar_chart, esc};
use crate::auth::Identity;
use crate::db::{Conn, DbError};
use crate::families::Scope;
use crate::families::rules::NotificationMode;
use crate::http::AppState;
use crate::notification::{dashboard, records, sweeps};

/// What a section's loader may use: the state, the viewer, the viewer's family scope, the
/// CSRF token for forms, and today in the configured time zone.
pub struct Ctx<'a> {
    pub state: &'a AppState,
    pub identity: &'a Identity,
    pub scope: Scope,
    pub csrf: &'a str,
    pub today: NaiveDate,
}

impl Ctx<'_> {
    async fn conn(&self) -> Result<Conn, DbError> {
        self.state.pool.get().await.map_err(DbError::from)
    }
}

/// A loaded figure: its data as JSON and as an HTML fragment (the section's body).
pub struct Figure {
    pub json: Value,
    pub html: String,
}

/// A section's loader.
pub type Load = for<'a> fn(&'a Ctx<'a>) -> BoxFuture<'a, Result<Figure, DbError>>;

/// One figure of the dashboard.
pub struct Section {
    /// The id: the HTML anchor and the JSON file name (`<id>.json`).
    pub id: &'static str,
    /// The heading.
    pub title: &'static str,
    /// Reads and renders it.
    pub load: Load,
}

/// The dashboard's figures, in page order.
pub const SECTIONS: &[Section] = &[
    Section {
        id: "messages",
        title: "Messages per day (last 30 days)",
        load: messages,
    },
    Section {
        id: "unknown",
        title: "Unknown outcomes waiting",
        load: unknown,
    },
    Section {
        id: "sweeps",
        title: "Last sweeps",
        load: recent_sweeps,
    },
    Section {
        id: "providers",
        title: "Providers' health (last 24 hours)",
        load: providers,
    },
    Section {
        id: "consent",
        title: "Consent coverage per district",
        load: consent,
    },
    Section {
        id: "follower",
        title: "Consent followed from openIMIS",
        load: follower,
    },
];

/// Days in the messages figure.
const DAYS: i32 = 30;
/// Sweeps listed.
const SWEEPS: i64 = 20;
/// Unknown outcomes listed on the page (the JSON has them all).
const UNKNOWN_SHOWN: usize = 100;
/// The providers' health window, hours.
const PROVIDER_HOURS: i32 = 24;

/// The outcomes in chart order, with their CSS class and label.
const OUTCOMES: [(&str, &str); 6] = [
    ("sent", "Sent"),
    ("failed", "Failed"),
    ("unknown", "Unknown"),
    ("not_approved", "Not approved"),
    ("obsolete", "Obsolete"),
    ("invalid", "Invalid"),
];

fn table(head: &[&str], rows: &[Vec<String>], id: &str) -> String {
    let mut t = format!("<div class=\"scroll\"><table id=\"{id}\"><thead><tr>");
    for h in head {
        let _ = write!(t, "<th>{}</th>", esc(h));
    }
    t.push_str("</tr></thead><tbody>");
    for r in rows {
        t.push_str("<tr>");
        for c in r {
            let _ = write!(t, "<td>{c}</td>");
        }
        t.push_str("</tr>");
    }
    t.push_str("</tbody></table></div>");
    t
}

/// A time in the configured zone, as a `<time>` that does not wrap.
fn when(t: Option<chrono::DateTime<chrono::Utc>>, ctx: &Ctx<'_>) -> String {
    t.map(|t| {
        format!(
            "<time>{}</time>",
            t.with_timezone(&ctx.state.settings.service.timezone)
                .format("%Y-%m-%d %H:%M")
        )
    })
    .unwrap_or_else(|| "-".to_string())
}

/// A day as a `<time>` that does not wrap.
fn day(d: NaiveDate) -> String {
    format!("<time>{d}</time>")
}

fn messages<'a>(ctx: &'a Ctx<'a>) -> BoxFuture<'a, Result<Figure, DbError>> {
    Box::pin(async move {
        let tz = ctx.state.settings.service.timezone;
        let rows = dashboard::messages_per_day(
            &mut *ctx.conn().await?,
            &ctx.scope,
            ctx.today,
            DAYS,
            tz.name(),
        )
        .await?;
        let days: Vec<NaiveDate> = (0..DAYS)
            .rev()
            .map(|i| ctx.today - chrono::Duration::days(i64::from(i)))
            .collect();
        let labels: Vec<String> = days.iter().map(|d| d.format("%m-%d").to_string()).collect();
        let series: Vec<Series<'_>> = OUTCOMES
            .iter()
            .map(|(class, name)| Series {
                name,
                class,
                values: days
                    .iter()
                    .map(|d| {
                        rows.iter()
                            .filter(|r| r.day == *d && r.outcome == *class)
                            .map(|r| r.count)
                            .sum()
                    })
                    .collect(),
            })
            .collect();
        let today_of = |outcome: &str| -> i64 {
            rows.iter()
                .filter(|r| r.day == ctx.today && r.outcome == outcome)
                .map(|r| r.count)
                .sum()
        };
        let mut html = format!(
            "<p class=\"summary\">Today ({}): <b id=\"today-sent\">{}</b> sent, \
             <b id=\"today-failed\">{}</b> failed, <b id=\"today-unknown\">{}</b> unknown.</p>",
            ctx.today,
            today_of("sent"),
            today_of("failed"),
            today_of("unknown"),
        );
        html.push_str("<div class=\"split\"><div class=\"chartbox\">");
        html.push_str(&bar_chart(
            &labels,
            &series,
            "Messages per day by outcome, last 30 days",
        ));
        html.push_str("</div>");
        // Per day (newest first) and event: sent, failed, unknown, and the rest (not approved,
        // obsolete, invalid) as "not sent"; the JSON keeps every outcome apart.
        let mut by: BTreeMap<(NaiveDate, &str), [i64; 4]> = BTreeMap::new();
        for r in &rows {
            let e = by.entry((r.day, r.event.as_str())).or_default();
            let i = match r.outcome {
                "sent" => 0,
                "failed" => 1,
                "unknown" => 2,
                _ => 3,
            };
            e[i] += r.count;
        }
        let table_rows: Vec<Vec<String>> = by
            .iter()
            .rev()
            .map(|((day, event), n)| {
                let mut r = vec![self::day(*day), esc(event)];
                r.extend(n.iter().map(i64::to_string));
                r
            })
            .collect();
        if table_rows.is_empty() {
            html.push_str("<p class=\"empty\">No message in the last 30 days.</p>");
        } else {
            let head = ["Day", "Event", "Sent", "Failed", "Unknown", "Not sent"];
            html.push_str("<details open><summary>By day and event</summary>");
            html.push_str(&table(&head, &table_rows, "messages-table"));
            html.push_str("</details>");
        }
        html.push_str("</div>");
        Ok(Figure {
            json: json!({"today": ctx.today, "days": DAYS, "timezone": tz.name(), "rows": rows}),
            html,
        })
    })
}

fn unknown<'a>(ctx: &'a Ctx<'a>) -> BoxFuture<'a, Result<Figure, DbError>> {
    Box::pin(async move {
        let rows = records::unknown_outcomes(&mut *ctx.conn().await?, &ctx.scope).await?;
        let kind = |k: Option<&str>| match k {
            Some("in_flight") => "in flight",
            Some("interrupted") => "interrupted",
            Some("no_answer") => "no answer",
            _ => "-",
        };
        let mut html = format!(
            "<p class=\"summary\">Attempts with an unknown outcome: <b id=\"unknown-count\">{}</b>. \
             Check the gateway's own records first: <i>Mark sent</i> records the message as sent, \
             <i>Release</i> lets a later sweep send it again.</p>",
            rows.len()
        );
        let table_rows: Vec<Vec<String>> = rows
            .iter()
            .take(UNKNOWN_SHOWN)
            .map(|r| {
                let actions = if r.unknown_kind.as_deref() == Some("in_flight") {
                    format!("wait (until {})", when(r.lease_until, ctx))
                } else {
                    format!(
                        "<form method=\"post\" action=\"{BASE}settle\" class=\"settle\">\
                         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
                         <input type=\"hidden\" name=\"attempt_id\" value=\"{id}\">\
                         <button name=\"settlement\" value=\"mark_sent\" id=\"mark-sent-{id}\">Mark sent</button>\
                         <button name=\"settlement\" value=\"release\" id=\"release-{id}\" class=\"secondary\">Release</button></form>",
                        csrf = esc(ctx.csrf),
                        id = r.id,
                    )
                };
                vec![
                    r.id.to_string(),
                    esc(&r.notification_type),
                    kind(r.unknown_kind.as_deref()).to_string(),
                    actions,
                    esc(r.provider.as_deref().unwrap_or("-")),
                    when(Some(r.at), ctx),
                    format!("<span class=\"details\">{}</span>", esc(r.details.as_deref().unwrap_or(""))),
                ]
            })
            .collect();
        if rows.is_empty() {
            html.push_str("<p class=\"empty\">Nothing waits for an operator.</p>");
        } else {
            html.push_str(&table(
                &[
                    "Attempt", "Event", "Kind", "Settle", "Provider", "Recorded", "Details",
                ],
                &table_rows,
                "unknown-table",
            ));
            if rows.len() > UNKNOWN_SHOWN {
                let _ = write!(
                    html,
                    "<p>The oldest {UNKNOWN_SHOWN} are shown; all are in <a href=\"{BASE}unknown.json\">unknown.json</a>.</p>"
                );
            }
        }
        let json_rows: Vec<Value> = rows
            .iter()
            .map(|r| {
                json!({
                    "attemptId": r.id, "policyUuid": r.policy_uuid, "familyUuid": r.family_uuid,
                    "notificationType": r.notification_type, "recordedAt": r.at,
                    "provider": r.provider, "unknownKind": r.unknown_kind,
                    "leaseUntil": r.lease_until, "details": r.details,
                })
            })
            .collect();
        Ok(Figure {
            json: json!({"count": rows.len(), "rows": json_rows}),
            html,
        })
    })
}

fn recent_sweeps<'a>(ctx: &'a Ctx<'a>) -> BoxFuture<'a, Result<Figure, DbError>> {
    Box::pin(async move {
        let rows = sweeps::recent(&mut *ctx.conn().await?, SWEEPS).await?;
        let table_rows: Vec<Vec<String>> = rows
            .iter()
            .map(|s| {
                vec![
                    when(Some(s.started_at), ctx),
                    day(s.as_of),
                    esc(s.outcome.as_deref().unwrap_or(if s.finished_at.is_some() {
                        "-"
                    } else {
                        "running or died"
                    })),
                    s.seconds
                        .map(|x| format!("{x:.1} s"))
                        .unwrap_or_else(|| "-".into()),
                    s.total("sent").to_string(),
                    s.total("failed").to_string(),
                    s.total("unknown").to_string(),
                    (s.total("not_approved") + s.total("obsolete") + s.total("invalid"))
                        .to_string(),
                    esc(s.error.as_deref().unwrap_or("")),
                ]
            })
            .collect();
        let html = if rows.is_empty() {
            "<p class=\"empty\">No sweep recorded yet.</p>".to_string()
        } else {
            table(
                &[
                    "Started", "For day", "Outcome", "Took", "Sent", "Failed", "Unknown",
                    "Not sent", "Error",
                ],
                &table_rows,
                "sweeps-table",
            )
        };
        Ok(Figure {
            json: json!({ "rows": rows }),
            html,
        })
    })
}

fn providers<'a>(ctx: &'a Ctx<'a>) -> BoxFuture<'a, Result<Figure, DbError>> {
    Box::pin(async move {
        let configured = &ctx.state.settings.module.providers;
        let names: Vec<String> = configured.iter().map(|p| p.name.clone()).collect();
        let rows =
            dashboard::provider_health(&mut *ctx.conn().await?, &names, PROVIDER_HOURS).await?;
        let table_rows: Vec<Vec<String>> = rows
            .iter()
            .map(|p| {
                vec![
                    p.position.to_string(),
                    esc(&p.provider),
                    format!("<span class=\"status {0}\">{0}</span>", p.status),
                    p.sent.to_string(),
                    p.failed.to_string(),
                    p.unknown.to_string(),
                    when(p.last_sent_at, ctx),
                    when(p.last_problem_at, ctx),
                ]
            })
            .collect();
        let html = if rows.is_empty() {
            "<p class=\"empty\">No provider is configured: nothing can be sent.</p>".to_string()
        } else {
            table(
                &[
                    "#",
                    "Provider",
                    "Status",
                    "Sent",
                    "Failed",
                    "Unknown",
                    "Last sent",
                    "Last problem",
                ],
                &table_rows,
                "providers-table",
            )
        };
        let json_rows: Vec<Value> = rows
            .iter()
            .zip(configured)
            .map(|(h, p)| {
                let mut v = serde_json::to_value(h).unwrap_or(Value::Null);
                v["ratePerSecond"] = json!(p.rate_per_second);
                v["timeoutSeconds"] = json!(p.timeout_seconds);
                v
            })
            .collect();
        Ok(Figure {
            json: json!({"windowHours": PROVIDER_HOURS, "rows": json_rows}),
            html,
        })
    })
}

fn consent<'a>(ctx: &'a Ctx<'a>) -> BoxFuture<'a, Result<Figure, DbError>> {
    Box::pin(async move {
        let rows = dashboard::consent_coverage(&mut *ctx.conn().await?, &ctx.scope).await?;
        let modes = &NotificationMode::ALL[1..];
        let mut html = String::from(
            "<p class=\"summary\">Current families of each district by notification mode (as in the \
             report): 1 approval and phone, 2 approval only, 3 phone only, 4 neither.</p>",
        );
        let table_rows: Vec<Vec<String>> = rows
            .iter()
            .map(|d| {
                let total = d.modes[0].max(1);
                // One stacked bar per district, the share of each mode.
                let mut bar = String::from(
                    "<svg class=\"share\" viewBox=\"0 0 100 8\" preserveAspectRatio=\"none\">",
                );
                let mut x = 0.0;
                for m in modes {
                    let i = usize::try_from(m.number()).unwrap_or(0);
                    let w = 100.0 * d.modes[i] as f64 / total as f64;
                    let _ = write!(
                        bar,
                        "<rect class=\"mode{i}\" x=\"{x:.2}\" width=\"{w:.2}\" height=\"8\"><title>{}: {}</title></rect>",
                        esc(m.label()),
                        d.modes[i]
                    );
                    x += w;
                }
                bar.push_str("</svg>");
                let mut r = vec![format!(
                    "{} {}",
                    esc(d.district_code.as_deref().unwrap_or("")),
                    esc(d.district_name.as_deref().unwrap_or(""))
                )];
                r.extend(d.modes.iter().map(i64::to_string));
                r.push(bar);
                r
            })
            .collect();
        if rows.is_empty() {
            html.push_str("<p class=\"empty\">No family in your districts.</p>");
        } else {
            html.push_str(&table(
                &["District", "All (0)", "1", "2", "3", "4", "Share"],
                &table_rows,
                "consent-table",
            ));
        }
        let json_rows: Vec<Value> = rows
            .iter()
            .map(|d| {
                json!({
                    "districtId": d.district_id, "districtCode": d.district_code,
                    "districtName": d.district_name,
                    "modes": NotificationMode::ALL.iter().map(|m| {
                        let i = usize::try_from(m.number()).unwrap_or(0);
                        json!({"mode": m.number(), "label": m.label(), "families": d.modes[i]})
                    }).collect::<Vec<_>>(),
                })
            })
            .collect();
        Ok(Figure {
            json: json!({ "rows": json_rows }),
            html,
        })
    })
}

/// The consent follower (DECISIONS 45): its lag, what waits, what it applied and the problems it
/// recorded. The figures are database-wide; the problems (which name families) are listed to
/// administrators only.
fn follower<'a>(ctx: &'a Ctx<'a>) -> BoxFuture<'a, Result<Figure, DbError>> {
    Box::pin(async move {
        let enabled = ctx.state.settings.service.follow_openimis_mutations;
        let status = crate::follower::status(&mut *ctx.conn().await?).await?;
        let admin = ctx.identity.is_admin;
        let mut html = String::new();
        let Some(st) = status else {
            html.push_str(
                "<p class=\"empty\">The follower's tables are not there (migrations not run).</p>",
            );
            return Ok(Figure {
                json: json!({"enabled": enabled, "status": null}),
                html,
            });
        };
        let _ = write!(
            html,
            "<p class=\"summary\">{}: lag <b id=\"follow-lag\">{:.0}</b> s, \
             <b id=\"follow-waiting\">{}</b> waiting; applied {}, end-dated {}, ignored {}, \
             problems {}; last pass {}.</p>",
            if enabled {
                "Following openIMIS's mutations"
            } else {
                "Not following openIMIS's mutations (service.follow_openimis_mutations = false)"
            },
            st.lag_seconds,
            st.waiting,
            st.applied,
            st.deleted,
            st.ignored,
            st.problems,
            when(st.last_run, ctx),
        );
        let problems: Vec<Value> = if admin {
            st.recent_problems
                .iter()
                .map(|p| {
                    json!({"mutationId": p.mutation_id, "familyId": p.family_id,
                           "field": p.field, "message": p.message, "recordedAt": p.recorded_at})
                })
                .collect()
        } else {
            Vec::new()
        };
        if admin && !st.recent_problems.is_empty() {
            let rows: Vec<Vec<String>> = st
                .recent_problems
                .iter()
                .map(|p| {
                    vec![
                        when(Some(p.recorded_at), ctx),
                        esc(&p.mutation_id.to_string()),
                        p.family_id.map(|f| f.to_string()).unwrap_or_default(),
                        esc(&p.field),
                        esc(&p.message),
                    ]
                })
                .collect();
            html.push_str(&table(
                &["Recorded", "Mutation", "Family", "Field", "Problem"],
                &rows,
                "follow-problems",
            ));
        }
        Ok(Figure {
            json: json!({
                "enabled": enabled,
                "lagSeconds": st.lag_seconds,
                "waiting": st.waiting,
                "applied": st.applied,
                "deleted": st.deleted,
                "ignored": st.ignored,
                "problems": st.problems,
                "lastRun": st.last_run,
                "horizon": st.horizon,
                "recentProblems": problems,
            }),
            html,
        })
    })
}
