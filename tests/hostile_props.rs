//! The hostile-input suite (issue 11): generated GraphQL requests, JSON-in-string values, report
//! parameters and hour specs, sent through HTTP to the real application on PostgreSQL. Every
//! answer must be below 500, be JSON where the endpoint answers JSON, never say
//! INTERNAL_SERVER_ERROR, and come back quickly; the service must keep answering /health.
//!
//! Cases per property: `HOSTILE_CASES` (default 40, CI); raise it for a longer run, e.g.
//! `HOSTILE_CASES=2000 scripts/test --test hostile_props`.
mod support;

use support::app::encode;

use std::time::{Duration, Instant};

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use reqwest::StatusCode;
use serde_json::{Value, json};
use support::TestDb;
use support::app::TestApp;
use support::fixtures;

const BASE: &str = include_str!("fixtures/families_base.sql");
const REPORT: &str = "/api/policy_notification/communication_by_notification_report/";
/// The slowest answer accepted for one hostile request.
const MAX_ANSWER: Duration = Duration::from_secs(3);

fn cases() -> u32 {
    std::env::var("HOSTILE_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(40)
}

fn runner() -> TestRunner {
    TestRunner::new(Config {
        cases: cases(),
        failure_persistence: None,
        max_shrink_iters: 64,
        ..Config::default()
    })
}

struct Env {
    /// Answers seen, by HTTP status and whether `data` came back (the request was executed).
    seen: std::sync::Mutex<std::collections::BTreeMap<(u16, bool), u32>>,
    rt: tokio::runtime::Runtime,
    _db: TestDb,
    app: TestApp,
    admin: String,
}

fn env() -> Env {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let (db, app, admin) = rt.block_on(async {
        let db = TestDb::new().await;
        db.exec(BASE).await;
        fixtures::user(
            &db,
            "admin",
            "pw-admin",
            &[101001, 101002, 101003, 101004, 131224],
            &[],
            true,
        )
        .await;
        let app = TestApp::spawn(&db).await;
        let admin = app.login("admin", "pw-admin").await;
        (db, app, admin)
    });
    Env {
        seen: Default::default(),
        rt,
        _db: db,
        app,
        admin,
    }
}

impl Env {
    /// POSTs `body` to /api/graphql and checks the answer; a description of what went wrong.
    fn post(&self, body: String, token: Option<&str>, content_type: &str) -> Result<(), String> {
        self.rt.block_on(async {
            let mut req = self
                .app
                .client
                .post(self.app.url("/api/graphql"))
                .header("content-type", content_type)
                .timeout(Duration::from_secs(20))
                .body(body);
            if let Some(t) = token {
                req = req.bearer_auth(t);
            }
            let started = Instant::now();
            let resp = req.send().await.map_err(|e| format!("no answer: {e}"))?;
            let status = resp.status();
            let text = resp.text().await.map_err(|e| format!("no body: {e}"))?;
            let executed = text.starts_with("{\"data\"");
            if status == StatusCode::BAD_REQUEST && std::env::var_os("PN_HOSTILE_DEBUG").is_some() {
                eprintln!("400: {}", text.chars().take(200).collect::<String>());
            }
            if let Ok(mut seen) = self.seen.lock() {
                *seen.entry((status.as_u16(), executed)).or_default() += 1;
            }
            check(status, &text, started.elapsed(), true)
        })
    }

    /// GETs the report with `params` (already encoded) and checks the answer.
    fn report(&self, params: &str) -> Result<(), String> {
        self.rt.block_on(async {
            let started = Instant::now();
            let resp = self
                .app
                .client
                .get(format!("{}?{params}", self.app.url(REPORT)))
                .bearer_auth(&self.admin)
                .timeout(Duration::from_secs(20))
                .send()
                .await
                .map_err(|e| format!("no answer: {e}"))?;
            let status = resp.status();
            let json = resp
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.starts_with("application/json"));
            let bytes = resp.bytes().await.map_err(|e| format!("no body: {e}"))?;
            let text = String::from_utf8_lossy(&bytes);
            check(
                status,
                &text,
                started.elapsed(),
                json && !status.is_success(),
            )
        })
    }

    fn summary(&self) -> String {
        self.seen
            .lock()
            .map(|m| {
                m.iter()
                    .map(|((s, x), n)| {
                        format!("{n}× HTTP {s}{}", if *x { " (executed)" } else { "" })
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .unwrap_or_default()
    }

    fn health(&self) {
        self.rt.block_on(async {
            let resp = self
                .app
                .client
                .get(self.app.url("/health"))
                .timeout(Duration::from_secs(5))
                .send()
                .await
                .expect("/health answers");
            assert_eq!(resp.status(), StatusCode::OK);
        });
    }
}

fn check(status: StatusCode, text: &str, took: Duration, must_be_json: bool) -> Result<(), String> {
    let short: String = text.chars().take(300).collect();
    if status.is_server_error() {
        return Err(format!("HTTP {status}: {short}"));
    }
    if took > MAX_ANSWER {
        return Err(format!("took {took:?}: {short}"));
    }
    if must_be_json && serde_json::from_str::<Value>(text).is_err() {
        return Err(format!("not JSON (HTTP {status}): {short}"));
    }
    if text.contains("INTERNAL_SERVER_ERROR") {
        return Err(format!("internal error: {short}"));
    }
    Ok(())
}

/// Strings an attacker would try.
fn hostile_string() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[\\x00-\\x1f\\x7f\"\\\\{}()\\[\\]:$@#.!,=|&-]{0,40}",
        "[0-9]{1,40}",
        "-?[0-9]{1,6}-[0-9]{2}-[0-9]{2}(T[0-9]{2}:[0-9]{2}:[0-9]{2})?",
        Just("\u{0}".to_string()),
        Just("a\nINFO forged line\u{1b}[31m".to_string()),
        Just("-4714-11-23T00:00:00".to_string()),
        Just("RmFtaWx5R1FMVHlwZTo0".to_string()), // FamilyGQLType:4
        Just("TG9jYXRpb25HUUxUeXBlOjk5OTk5OTk5OTk5".to_string()),
        Just("' OR 1=1 --".to_string()),
        Just("%_\\".to_string()),
        (0usize..600).prop_map(|n| "x".repeat(n)),
        (0usize..2000).prop_map(|n| "{[(".repeat(n)),
    ]
}

/// A GraphQL string literal holding `s` (JSON escapes are GraphQL escapes).
fn gql_string(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
}

/// GraphQL input values, nested a little.
fn gql_value() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        any::<i64>().prop_map(|i| i.to_string()),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| format!("{f:e}")),
        hostile_string().prop_map(|s| gql_string(&s)),
        Just("true".to_string()),
        Just("null".to_string()),
        "[A-Z_]{1,8}",
        Just("99999999999999999999999999".to_string()),
    ];
    leaf.prop_recursive(6, 48, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(|v| format!("[{}]", v.join(", "))),
            prop::collection::vec(("[a-zA-Z_][a-zA-Z0-9_]{0,12}", inner), 0..4).prop_map(|v| {
                let fields: Vec<String> = v.into_iter().map(|(k, v)| format!("{k}: {v}")).collect();
                format!("{{{}}}", fields.join(", "))
            }),
        ]
    })
}

/// Values nested very deep (the stack-overflow shapes).
fn deep_value() -> impl Strategy<Value = String> {
    (1usize..3000, 0usize..3).prop_map(|(n, kind)| match kind {
        0 => format!("{}1{}", "{a:".repeat(n), "}".repeat(n)),
        1 => format!("{}1{}", "[".repeat(n), "]".repeat(n)),
        _ => format!("{}1", "[{a:".repeat(n)),
    })
}

/// Root fields: operation, name, arguments as `name:kind` (`s` string, `i` integer, `b`
/// boolean, `j` JSON in a string, `d` date, `t` date-time, `id` relay ID, `l` list of strings,
/// `f` a family input, `x` a deleteFamilies input, `e` an enum), selection.
const FIELDS: [(&str, &str, &[&str], &str); 12] = [
    (
        "query",
        "families",
        &[
            "first:i",
            "offset:i",
            "orderBy:l",
            "officer:s",
            "parentLocation:s",
            "parentLocationLevel:i",
            "additionalFilter:j",
            "location_Id:id",
            "headInsuree_ChfId:s",
            "headInsuree_Dob_Gte:d",
            "headInsuree_LastName_Icontains:s",
            "uuid:s",
            "showHistory:b",
        ],
        "{ totalCount edges { node { uuid headInsuree { chfId } } } }",
    ),
    (
        "query",
        "familyNotification",
        &[
            "first:i",
            "family_Uuid:s",
            "languageOfNotification:s",
            "approvalOfNotification:b",
        ],
        "{ totalCount }",
    ),
    (
        "query",
        "mutationLogs",
        &[
            "id:id",
            "clientMutationId:s",
            "requestDateTime_Gte:t",
            "user:id",
            "orderBy:l",
            "status:i",
        ],
        "{ totalCount edges { node { status error } } }",
    ),
    ("query", "languages", &[], "{ code name }"),
    (
        "query",
        "policyNotificationHistory",
        &["policyUuid:s", "familyUuid:s"],
        "{ __typename }",
    ),
    (
        "query",
        "communicationByNotificationReport",
        &[
            "regionUuid:s",
            "districtUuid:s",
            "officerUuid:s",
            "mode:i",
            "familyFilterJson:s",
        ],
        "{ mode region }",
    ),
    (
        "mutation",
        "tokenAuth",
        &["username:s!", "password:s!"],
        "{ token }",
    ),
    (
        "mutation",
        "createFamily",
        &["input:f!"],
        "{ clientMutationId internalId }",
    ),
    (
        "mutation",
        "updateFamily",
        &["input:f!"],
        "{ clientMutationId internalId }",
    ),
    (
        "mutation",
        "deleteFamilies",
        &["input:x!"],
        "{ clientMutationId internalId }",
    ),
    (
        "mutation",
        "settleNotificationOutcome",
        &["attemptId:i!", "settlement:e!"],
        "{ __typename }",
    ),
    ("mutation", "verifyToken", &["token:s"], "{ payload }"),
];

/// Candidate values of every kind for one argument; the argument's kind picks one.
#[derive(Debug, Clone)]
struct Candidates {
    well_typed: bool,
    string: String,
    int: i64,
    json: Value,
    date: String,
    any: String,
    family: String,
    ids: Vec<String>,
}

fn candidates() -> impl Strategy<Value = Candidates> {
    (
        prop::bool::weighted(0.8),
        hostile_string(),
        prop_oneof![any::<i64>(), -5i64..200],
        json_value(),
        "-?[0-9]{1,6}-[0-9]{1,2}-[0-9]{1,2}(T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{1,9})?)?",
        prop_oneof![12 => gql_value(), 1 => deep_value()],
        family_input(),
        prop::collection::vec(hostile_string(), 0..4),
    )
        .prop_map(
            |(well_typed, string, int, json, date, any, family, ids)| Candidates {
                well_typed,
                string,
                int,
                json,
                date,
                any,
                family,
                ids,
            },
        )
}

fn typed_value(kind: &str, c: &Candidates) -> String {
    if !c.well_typed {
        return c.any.clone();
    }
    match kind {
        "s" => gql_string(&c.string),
        "i" => c.int.to_string(),
        "b" => (c.int % 2 == 0).to_string(),
        "j" => gql_string(&c.json.to_string()),
        "d" | "t" => gql_string(&c.date),
        "id" => {
            use base64::Engine;
            let ty = [
                "LocationGQLType",
                "FamilyGQLType",
                "MutationLogGQLType",
                "X",
            ][c.int.unsigned_abs() as usize % 4];
            gql_string(
                &base64::engine::general_purpose::STANDARD.encode(format!("{ty}:{}", c.string)),
            )
        }
        "l" => format!(
            "[{}]",
            c.ids
                .iter()
                .map(|s| gql_string(s))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        "f" => c.family.clone(),
        "x" => format!(
            "{{clientMutationId: {}, uuids: [{}], deleteMembers: {}}}",
            gql_string(&c.string),
            c.ids
                .iter()
                .map(|s| gql_string(s))
                .collect::<Vec<_>>()
                .join(", "),
            c.int % 2 == 0
        ),
        "e" => ["MARK_SENT", "RELEASE", "BOGUS"][c.int.unsigned_abs() as usize % 3].into(),
        _ => c.any.clone(),
    }
}

/// A family input with hostile values in some of its fields.
fn family_input() -> impl Strategy<Value = String> {
    (
        hostile_string(),
        hostile_string(),
        prop_oneof![json_value().prop_map(|v| v.to_string()), hostile_string()],
        prop_oneof![
            3 => prop_oneof![Just(6i64), Just(7), any::<i64>()].prop_map(|i| i.to_string()),
            1 => gql_value()
        ],
        prop::option::of(prop_oneof![
            Just("00000000-0000-0000-0000-00000000f001".to_string()),
            hostile_string()
        ]),
    )
        .prop_map(|(id, name, json, loc, uuid)| {
            let uuid = uuid.map_or(String::new(), |u| format!("uuid: {}, ", gql_string(&u)));
            format!(
                "{{clientMutationId: {}, {uuid}headInsuree: {{chfId: {}, lastName: {}, otherNames: \"A\", genderId: \"M\", dob: \"1980-01-01\", head: true, cardIssued: false}}, locationId: {loc}, poverty: false, jsonExt: {}, contribution: {}}}",
                gql_string(&id),
                gql_string(&name),
                gql_string(&name),
                gql_string(&json),
                gql_string(&json),
            )
        })
}

/// A whole document: one or two root fields with hostile arguments, aliases and fragments.
fn document() -> impl Strategy<Value = String> {
    let field = (
        0..FIELDS.len(),
        prop::collection::vec((0usize..40, candidates()), 0..4),
        prop::collection::vec(candidates(), 2),
        prop::option::of("[a-z][a-z0-9]{0,5}"),
        prop::bool::weighted(0.05),
    );
    (
        prop::collection::vec(field, 1..3),
        prop::option::weighted(0.1, 0usize..40),
    )
        .prop_map(|(fields, frags)| {
        let op = FIELDS[fields[0].0].0;
        let mut body = String::new();
        for (i, args, required_values, alias, bad_selection) in fields {
            let (_, name, arg_names, selection) = FIELDS[i];
            let mut used = Vec::new();
            // The required arguments first, then some of the others (now and then a bogus one).
            let required = arg_names
                .iter()
                .filter(|a| a.ends_with('!'))
                .zip(required_values.iter())
                .map(|(spec, c)| (*spec, c.clone()));
            let optional = args.into_iter().map(|(a, c)| {
                let spec = if a < 38 && !arg_names.is_empty() {
                    arg_names[a % arg_names.len()]
                } else {
                    "bogus:any"
                };
                (spec, c)
            });
            let args: Vec<String> = required
                .chain(optional)
                .filter_map(|(spec, c)| {
                    let spec = spec.trim_end_matches('!');
                    let (arg, kind) = spec.split_once(':').unwrap_or((spec, "any"));
                    // A repeated argument is a validation error; keep the first.
                    if used.contains(&arg) {
                        return None;
                    }
                    used.push(arg);
                    Some(format!("{arg}: {}", typed_value(kind, &c)))
                })
                .collect();
            let args = if args.is_empty() {
                String::new()
            } else {
                format!("({})", args.join(", "))
            };
            let alias = alias.map_or(String::new(), |a| format!("{a}: "));
            let selection = if bad_selection { "{ nope { nope } }" } else { selection };
            body.push_str(&format!("{alias}{name}{args} {selection} "));
        }
        let mut doc = format!("{op} {{ {body} }}");
        if let Some(n) = frags {
            // Fragments that double at every level (the CPU shape).
            doc = format!("query {{ families {{ ...F{n} }} }}\nfragment F0 on FamilyGQLTypeConnection {{ totalCount }}\n");
            for i in 1..=n {
                doc.push_str(&format!(
                    "fragment F{i} on FamilyGQLTypeConnection {{ ...F{p} ...F{p} }}\n",
                    p = i - 1
                ));
            }
        }
        doc
    })
}

/// JSON values, nested a little, with hostile strings.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        hostile_string().prop_map(Value::from),
    ];
    leaf.prop_recursive(5, 32, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            prop::collection::btree_map(hostile_string(), inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

#[test]
fn generated_graphql_requests_never_fail_the_service() {
    let e = env();
    let started = Instant::now();
    let strategy = (document(), any::<bool>(), prop::option::of(json_value()));
    let n = std::sync::atomic::AtomicU32::new(0);
    runner()
        .run(&strategy, |(doc, as_admin, variables)| {
            n.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let mut body = json!({ "query": doc });
            if let Some(v) = variables {
                body["variables"] = json!({ "v": v });
            }
            let token = as_admin.then_some(e.admin.as_str());
            e.post(body.to_string(), token, "application/json")
                .map_err(|m| TestCaseError::fail(format!("{m}\ndocument: {doc}")))
        })
        .unwrap_or_else(|err| panic!("{err}"));
    e.health();
    eprintln!(
        "{} generated documents in {:?} ({}); RSS {} kB",
        n.into_inner(),
        started.elapsed(),
        e.summary(),
        rss_kb()
    );
}

#[test]
fn raw_bodies_and_variables_never_fail_the_service() {
    let e = env();
    let strategy = (
        prop_oneof![
            prop::collection::vec(any::<u8>(), 0..400)
                .prop_map(|b| String::from_utf8_lossy(&b).into_owned()),
            json_value().prop_map(|v| v.to_string()),
            (hostile_string(), json_value())
                .prop_map(|(q, v)| json!({"query": q, "variables": v}).to_string()),
            deep_value().prop_map(|v| format!(
                "{{\"query\": \"{{ languages {{ code }} }}\", \"variables\": {v}}}"
            )),
        ],
        prop_oneof![
            Just("application/json"),
            Just("text/plain"),
            Just("application/json; charset=latin1"),
        ],
    );
    runner()
        .run(&strategy, |(body, ct)| {
            e.post(body, Some(&e.admin), ct)
                .map_err(TestCaseError::fail)
        })
        .unwrap_or_else(|err| panic!("{err}"));
    e.health();
}

/// A families-page filter fragment, as openIMIS's frontend writes them, with hostile parts.
fn filter_fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        hostile_string().prop_map(|s| format!("parentLocation: {}", gql_string(&s))),
        any::<i64>().prop_map(|n| format!("parentLocationLevel: {n}")),
        hostile_string().prop_map(|s| format!("officer: {}", gql_string(&s))),
        json_value().prop_map(|v| format!("additionalFilter: {}", gql_string(&v.to_string()))),
        hostile_string()
            .prop_map(|s| format!("headInsuree_LastName_Icontains: {}", gql_string(&s))),
        hostile_string().prop_map(|s| format!("headInsuree_Dob_Gte: {}", gql_string(&s))),
        gql_value().prop_map(|v| format!("showHistory: {v}")),
        deep_value().prop_map(|v| format!("parentLocation: {v}")),
        hostile_string(),
    ]
}

#[test]
fn generated_report_parameters_and_family_filters_never_fail_the_service() {
    let e = env();
    let param = prop_oneof![
        Just("regionUuid"),
        Just("districtUuid"),
        Just("officerUuid"),
        Just("mode"),
        Just("format"),
        Just("familyFilterJson"),
        Just("bogus"),
    ];
    let filter = prop::collection::btree_map("[a-z]{1,6}", filter_fragment(), 0..4)
        .prop_map(|m| serde_json::to_string(&m).unwrap_or_default());
    let strategy = (
        prop::collection::vec((param, hostile_string()), 0..4),
        prop::option::of(filter),
        prop_oneof![Just("json"), Just("csv"), Just("pdf")],
    );
    runner()
        .run(&strategy, |(params, filter, format)| {
            let mut query: Vec<String> = params
                .iter()
                .map(|(k, v)| format!("{k}={}", encode(v)))
                .collect();
            query.push(format!("format={format}"));
            if let Some(f) = &filter {
                query.push(format!("familyFilterJson={}", encode(f)));
                // The same filter through GraphQL.
                let body = json!({
                    "query": "query($f: String) { communicationByNotificationReport(familyFilterJson: $f) { mode } }",
                    "variables": {"f": f},
                });
                e.post(body.to_string(), Some(&e.admin), "application/json")
                    .map_err(|m| TestCaseError::fail(format!("{m}\nfilter: {f}")))?;
            }
            let q = query.join("&");
            e.report(&q)
                .map_err(|m| TestCaseError::fail(format!("{m}\nparameters: {q}")))
        })
        .unwrap_or_else(|err| panic!("{err}"));
    e.health();
}

#[test]
fn generated_hour_specs_parse_or_fail_cleanly() {
    use policy_notification::config::TriggerHours;
    let spec = prop_oneof![
        hostile_string(),
        "[0-9, -]{0,20}",
        (0u32..40, 0u32..40).prop_map(|(a, b)| format!("{a}-{b}")),
        prop::collection::vec(0u32..30, 0..30)
            .prop_map(|v| { v.iter().map(u32::to_string).collect::<Vec<_>>().join(",") }),
    ];
    let zones = [
        "UTC",
        "Africa/Dar_es_Salaam",
        "America/St_Johns",
        "Pacific/Chatham",
        "Asia/Kathmandu",
    ];
    runner()
        .run(
            &(spec, 0..zones.len(), 0i64..4_000_000_000),
            |(spec, z, secs)| {
                let started = Instant::now();
                if let Ok(hours) = spec.parse::<TriggerHours>() {
                    prop_assert!(hours.hours().iter().all(|h| *h < 24));
                    let tz: chrono_tz::Tz =
                        zones[z].parse().map_err(|_| TestCaseError::fail("zone"))?;
                    let now = chrono::DateTime::from_timestamp(secs, 0).unwrap_or_default();
                    let next =
                        policy_notification::notification::scheduler::next_run(now, &hours, tz);
                    prop_assert!(
                        next.is_none_or(|n| n > now && n - now <= chrono::Duration::hours(50)),
                        "{spec}: {next:?} after {now}"
                    );
                }
                prop_assert!(started.elapsed() < Duration::from_millis(100));
                Ok(())
            },
        )
        .unwrap_or_else(|err| panic!("{err}"));
}

fn rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}
