//! Configuration: defaults < `core_ModuleConfiguration` row < file < environment, provider order,
//! and every rejected value naming its key — through `ConfigSources` and through the binary.
mod support;

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use policy_notification::config::{ConfigSources, Settings};
use policy_notification::db::module_config;
use support::TestDb;

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// A config file in a fresh temporary folder.
fn config_file(text: &str) -> (PathBuf, PathBuf) {
    let dir = std::env::temp_dir().join(format!("pn-config-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("policy-notification.toml");
    std::fs::File::create(&path)
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    (dir, path)
}

fn resolve(toml: &str, vars: &[(&str, &str)], row: Option<&str>) -> Result<Settings, String> {
    let (dir, path) = config_file(toml);
    let result = ConfigSources::load(Some(&path), env(vars))
        .and_then(|s| s.resolve_with_row(row))
        .map_err(|e| e.to_string());
    let _ = std::fs::remove_dir_all(dir);
    result
}

fn provider_names(s: &Settings) -> Vec<&str> {
    s.module.providers.iter().map(|p| p.name.as_str()).collect()
}

#[tokio::test]
async fn database_row_file_and_environment_layer_in_order() {
    let db = TestDb::new().await;
    // The active backend row is read; a frontend row and a disabled row are not.
    db.exec(
        r#"INSERT INTO "core_ModuleConfiguration" (id, module, layer, version, config, is_exposed, is_disabled_until)
           VALUES
           ('00000000-0000-0000-0000-000000000001', 'policy_notification', 'fe', '1', '{"reminder_after_expiry_days": 30}', true, NULL),
           ('00000000-0000-0000-0000-000000000002', 'policy_notification', 'be', '1',
            '{"reminder_before_expiry_days": 10, "reminder_after_expiry_days": 9, "trigger_first_call_hour": 6,
              "eligibleNotificationTypes": {"activation_of_policy": true, "need_for_renewal": 1},
              "family_policy_notification_report_perms": ["131224", "101001"]}', false, NULL),
           ('00000000-0000-0000-0000-000000000003', 'policy_notification', 'be', '1', '{"trigger_first_call_hour": 1}', false, now() + interval '1 day'),
           ('00000000-0000-0000-0000-000000000004', 'insuree', 'be', '1', '{"trigger_first_call_hour": 2}', false, NULL)"#,
    )
    .await;
    let mut conn = db.conn().await;
    let row = module_config::load(&mut conn).await.unwrap();
    assert!(
        row.as_deref()
            .unwrap()
            .contains("\"reminder_before_expiry_days\": 10")
    );

    let s = resolve(
        r#"
        [service]
        listen = "127.0.0.1:9001"
        timezone = "Africa/Dar_es_Salaam"

        [policy_notification]
        reminder_before_expiry_days = 11
        reminder_after_expiry_days = 3
        "#,
        &[
            ("PN_REMINDER_AFTER_EXPIRY_DAYS", "4"),
            ("PN_SERVICE__TIMEZONE", "Europe/Brussels"),
        ],
        row.as_deref(),
    )
    .unwrap();
    // file > row
    assert_eq!(s.module.reminder_before_expiry_days, 11);
    // env > file > row
    assert_eq!(s.module.reminder_after_expiry_days, 4);
    // row > default
    assert_eq!(s.module.trigger_first_call_hour, 6);
    assert!(s.module.eligible_notification_types.activation_of_policy);
    assert!(s.module.eligible_notification_types.need_for_renewal);
    assert!(!s.module.eligible_notification_types.renewal_of_policy);
    assert_eq!(
        s.module.family_policy_notification_report_perms,
        vec![131224, 101001]
    );
    // defaults where nobody says anything (DECISIONS 20: 5 days before expiry)
    assert_eq!(s.module.trigger_last_call_hour, 20);
    assert_eq!(s.module.trigger_time_interval_hours, 4);
    assert_eq!(
        s.module.policy_activation_relevance_maximum_days_timedelta,
        5
    );
    assert_eq!(provider_names(&s), ["TextNotificationProvider"]);
    // the service section: file, then environment
    assert_eq!(s.service.listen.to_string(), "127.0.0.1:9001");
    assert_eq!(s.service.timezone, chrono_tz::Europe::Brussels);

    let defaults = resolve("", &[], None).unwrap();
    assert_eq!(defaults.module.reminder_before_expiry_days, 5);
    assert_eq!(defaults.module.trigger_first_call_hour, 8);
}

#[test]
fn database_url_from_the_environment() {
    use secrecy::ExposeSecret;
    let s = resolve("", &[("DATABASE_URL", "postgres://u:p@db/openimis")], None).unwrap();
    assert_eq!(
        s.service.database_url.unwrap().expose_secret(),
        "postgres://u:p@db/openimis"
    );
    let s = resolve(
        "",
        &[
            ("DATABASE_URL", "postgres://u:p@db/generic"),
            ("PN_SERVICE__DATABASE_URL", "postgres://u:p@db/ours"),
        ],
        None,
    )
    .unwrap();
    assert_eq!(
        s.service.database_url.unwrap().expose_secret(),
        "postgres://u:p@db/ours"
    );
}

#[test]
fn provider_order_is_the_order_written() {
    let s = resolve(
        r#"
        [policy_notification.providers.Zeta]
        GateUrl = "http://127.0.0.1:1"
        [policy_notification.providers.TextNotificationProvider]
        DestinationFolder = "out"
        rate_per_second = 2.5
        timeout_seconds = 7
        [policy_notification.providers.Alpha]
        GateUrl = "http://127.0.0.1:2"
        "#,
        &[("PN_PROVIDERS__ALPHA__GATEURL", "http://127.0.0.1:3")],
        Some(r#"{"providers": {"FromRow": {}}}"#),
    )
    .unwrap();
    assert_eq!(
        provider_names(&s),
        ["Zeta", "TextNotificationProvider", "Alpha"],
        "the file's list replaces the row's, in the file's order"
    );
    let text = &s.module.providers[1];
    assert_eq!(text.rate_per_second, Some(2.5));
    assert_eq!(text.timeout_seconds, 7);
    assert_eq!(text.param_str("destinationfolder").as_deref(), Some("out"));
    assert_eq!(
        s.module.providers[2].param_str("GateUrl").as_deref(),
        Some("http://127.0.0.1:3"),
        "environment overrides a provider parameter"
    );

    // Without a file list, the row's order is kept as written in its JSON.
    let s = resolve(
        "",
        &[],
        Some(r#"{"providers": {"eGASMSGateway": {"GateUrl": "http://x"}, "TextNotificationProvider": {}}}"#),
    )
    .unwrap();
    assert_eq!(
        provider_names(&s),
        ["eGASMSGateway", "TextNotificationProvider"]
    );
}

/// Each bad value, the key its error must name.
const REJECTED: &[(&str, &str)] = &[
    (
        "[policy_notification]\ntrigger_first_call_hour = 25",
        "trigger_first_call_hour",
    ),
    (
        "[policy_notification]\ntrigger_last_call_hour = -1",
        "trigger_last_call_hour",
    ),
    (
        "[policy_notification]\ntrigger_first_call_hour = 21\ntrigger_last_call_hour = 9",
        "trigger_last_call_hour",
    ),
    (
        "[policy_notification]\ntrigger_time_interval_hours = 0",
        "trigger_time_interval_hours",
    ),
    ("[service]\ntimezone = \"Mars/Olympus\"", "service.timezone"),
    ("[service]\nlisten = \"nowhere\"", "service.listen"),
    ("[service]\nlisten = 8000", "service.listen"),
    ("[service]\ncolour = \"blue\"", "colour"),
    ("[policy_notification]\nreminder_days = 3", "reminder_days"),
    ("[elsewhere]\nx = 1", "elsewhere"),
    (
        "[policy_notification.eligibleNotificationTypes]\nbirthday = true",
        "eligibleNotificationTypes.birthday",
    ),
    (
        "[policy_notification.eligibleNotificationTypes]\nneed_for_renewal = \"yes\"",
        "eligibleNotificationTypes.need_for_renewal",
    ),
    (
        "[policy_notification]\nreminder_after_expiry_days = -1",
        "reminder_after_expiry_days",
    ),
    (
        "[policy_notification]\nreminder_before_expiry_days = -5",
        "reminder_before_expiry_days",
    ),
    (
        "[policy_notification]\npolicy_renewal_relevance_maximum_days_timedelta = -1",
        "policy_renewal_relevance_maximum_days_timedelta",
    ),
    ("[service]\ntrigger_hours = \"25\"", "service.trigger_hours"),
    (
        "[service]\ntrigger_hours = \"16-8\"",
        "service.trigger_hours",
    ),
    (
        "[service]\ntrigger_hours = \"eight\"",
        "service.trigger_hours",
    ),
    (
        "[policy_notification.providers.eGASMSGateway]\nrate_per_second = 0",
        "providers.eGASMSGateway.rate_per_second",
    ),
    (
        "[policy_notification.providers.eGASMSGateway]\nrate_per_second = \"fast\"",
        "providers.eGASMSGateway.rate_per_second",
    ),
    (
        "[policy_notification.providers.eGASMSGateway]\ntimeout_seconds = 0",
        "providers.eGASMSGateway.timeout_seconds",
    ),
    (
        "[policy_notification]\nfamily_policy_notification_report_perms = [\"abc\"]",
        "family_policy_notification_report_perms",
    ),
    (
        "[service]\ndatabase_url = \"mysql://x\"",
        "service.database_url",
    ),
    ("[service]\ncountry_code = \"+25a\"", "service.country_code"),
    (
        "[service]\ndefault_approval = \"maybe\"",
        "service.default_approval",
    ),
    (
        "[service]\nsend_concurrency = 0",
        "service.send_concurrency",
    ),
    (
        "[service]\nsweep_batch_size = 0",
        "service.sweep_batch_size",
    ),
    (
        "[service]\nfollow_poll_millis = 5",
        "service.follow_poll_millis",
    ),
    (
        "[service]\nfollow_openimis_mutations = \"yes\"",
        "service.follow_openimis_mutations",
    ),
    ("[service]\npool_size = 0", "service.pool_size"),
    (
        "[service]\nmetrics_listen = \"x\"",
        "service.metrics_listen",
    ),
    (
        "[service]\nsweep_db_retry_seconds = 0",
        "service.sweep_db_retry_seconds",
    ),
    (
        "[service]\nsweep_db_retry_seconds = \"long\"",
        "service.sweep_db_retry_seconds",
    ),
    (
        "[service]\ntrusted_proxies = [\"not-an-address\"]",
        "service.trusted_proxies",
    ),
    (
        "[service]\ntrusted_proxies = [\"127.0.0.1\", 8080]",
        "service.trusted_proxies",
    ),
];

#[test]
fn every_rejected_value_names_its_key() {
    for (toml, key) in REJECTED {
        let err = resolve(toml, &[], None)
            .err()
            .unwrap_or_else(|| panic!("accepted: {toml}"));
        assert!(
            err.contains(key),
            "error for `{toml}` does not name `{key}`: {err}"
        );
    }
}

#[test]
fn rejected_values_from_environment_and_database_row_name_their_key() {
    let err = resolve("", &[("PN_SERVICE__LISTEN", "bad")], None).unwrap_err();
    assert!(err.contains("service.listen"), "{err}");
    let err = resolve("", &[("PN_TRIGGER_FIRST_CALL_HOUR", "24")], None).unwrap_err();
    assert!(err.contains("trigger_first_call_hour"), "{err}");
    let err = resolve("", &[("PN_SERVICE__TIMEZONE", "Nowhere")], None).unwrap_err();
    assert!(err.contains("service.timezone"), "{err}");
    let err = resolve("", &[], Some(r#"{"reminder_before_expiry_days": "soon"}"#)).unwrap_err();
    assert!(err.contains("reminder_before_expiry_days"), "{err}");
    let err = resolve("", &[], Some("[1, 2]")).unwrap_err();
    assert!(
        err.contains("core_ModuleConfiguration") || err.contains("module configuration"),
        "{err}"
    );
    let err = resolve("not toml at all = = =", &[], None).unwrap_err();
    assert!(err.contains("policy-notification.toml"), "{err}");
}

/// Each config file with an unknown key, the key its error must name (and suggest).
const UNKNOWN_IN_FILE: &[(&str, &str, Option<&str>)] = &[
    ("[elsewhere]\nx = 1", "`elsewhere`", None),
    ("[service]\ncolour = \"blue\"", "`service.colour`", None),
    (
        "[service]\nlistn = \"127.0.0.1:1\"",
        "`service.listn`",
        Some("listen"),
    ),
    (
        "[policy_notification]\nreminder_before_expiry_dayz = 3",
        "`reminder_before_expiry_dayz`",
        Some("reminder_before_expiry_days"),
    ),
    (
        "[policy_notification.eligibleNotificationTypes]\nbirthday = true",
        "`eligibleNotificationTypes.birthday`",
        None,
    ),
    (
        "[policy_notification.providers.TextNotificationProvider]\nDestinationFoldr = \"out\"",
        "`providers.TextNotificationProvider.DestinationFoldr`",
        Some("DestinationFolder"),
    ),
    (
        "[policy_notification.providers.eGASMSGateway]\nGateUrl = \"http://x\"\nSenderID = \"s\"\nGateURI = \"http://y\"",
        "`providers.eGASMSGateway.GateURI`",
        Some("GateUrl"),
    ),
    (
        "[policy_notification.providers.eGASMSGateway]\ntimeout = 5",
        "`providers.eGASMSGateway.timeout`",
        None,
    ),
];

#[test]
fn unknown_keys_are_refused_at_every_level_naming_the_key_and_the_file() {
    for (toml, key, suggestion) in UNKNOWN_IN_FILE {
        let (dir, path) = config_file(toml);
        let err = ConfigSources::load(Some(&path), Vec::new())
            .and_then(|s| s.resolve())
            .err()
            .unwrap_or_else(|| panic!("accepted: {toml}"))
            .to_string();
        let _ = std::fs::remove_dir_all(dir);
        assert!(err.contains(&format!("unknown key {key}")), "{toml}: {err}");
        assert!(
            err.contains(&path.display().to_string()),
            "{toml}: the file is not named: {err}"
        );
        assert!(err.contains("known keys: "), "{toml}: {err}");
        match suggestion {
            Some(s) => assert!(err.contains(&format!("did you mean `{s}`?")), "{err}"),
            None => assert!(!err.contains("did you mean"), "{err}"),
        }
    }
}

#[test]
fn provider_parameters_are_checked_against_the_provider() {
    // Case-insensitive names, and a parameter that eGA's HeaderValues names, are accepted.
    let s = resolve(
        "[policy_notification.providers.egasmsgateway]\ngateurl = \"http://x\"\nHeaderKeys = \"X-Id,X-Version\"\nHeaderValues = \"UserId,ApiVersion\"\nApiVersion = \"2\"\nRATE_PER_SECOND = 3",
        &[("PN_PROVIDERS__EGASMSGATEWAY__PRIVATEKEY", "k")],
        None,
    )
    .unwrap();
    let ega = &s.module.providers[0];
    assert_eq!(ega.param_str("ApiVersion").as_deref(), Some("2"));
    assert_eq!(ega.rate_per_second, Some(3.0));
    // A provider we do not implement keeps whatever it is given (it is skipped at start).
    let s = resolve(
        "[policy_notification.providers.SomeOtherGateway]\nUrl = \"x\"",
        &[],
        None,
    )
    .unwrap();
    assert_eq!(s.module.providers[0].param_str("url").as_deref(), Some("x"));
}

#[test]
fn unknown_keys_from_the_environment_name_the_variable() {
    for (var, key, suggestion) in [
        (
            "PN_PROVIDERS__TEXTNOTIFICATIONPROVIDER__DESTINATIONFOLDR",
            "providers.TextNotificationProvider.destinationfoldr",
            Some("DestinationFolder"),
        ),
        ("PN_SERVICE__COLOUR", "service.colour", None),
        ("PN_REMINDER_DAYS", "reminder_days", None),
        (
            "PN_ELIGIBLENOTIFICATIONTYPES__NEED_FOR_RENEWALS",
            "eligibleNotificationTypes.need_for_renewals",
            Some("need_for_renewal"),
        ),
    ] {
        let err = resolve("", &[(var, "1")], None).unwrap_err();
        assert!(
            err.contains(&format!("unknown key `{key}`")),
            "{var}: {err}"
        );
        assert!(
            err.contains(&format!("environment variable {var}")),
            "{var}: {err}"
        );
        if let Some(s) = suggestion {
            assert!(err.contains(&format!("did you mean `{s}`?")), "{err}");
        }
    }
}

#[test]
fn wrong_values_name_the_key_the_expected_form_and_the_source() {
    let (dir, path) = config_file("[service]\nhttps = \"yes\"\n");
    let err = ConfigSources::load(Some(&path), Vec::new())
        .and_then(|s| s.resolve())
        .unwrap_err()
        .to_string();
    let _ = std::fs::remove_dir_all(dir);
    assert!(
        err.contains("`service.https`")
            && err.contains(&format!("config file {}", path.display()))
            && err.contains("expected a boolean"),
        "{err}"
    );

    let err = resolve("", &[("PN_SERVICE__SEND_CONCURRENCY", "many")], None).unwrap_err();
    assert!(
        err.contains("`service.send_concurrency`")
            && err.contains("environment variable PN_SERVICE__SEND_CONCURRENCY")
            && err.contains("expected a whole number from 1 to 256"),
        "{err}"
    );

    // The value from the last layer that set it is the one named.
    let err = resolve(
        "[policy_notification.providers.TextNotificationProvider]\ntimeout_seconds = 5",
        &[(
            "PN_PROVIDERS__TEXTNOTIFICATIONPROVIDER__TIMEOUT_SECONDS",
            "0",
        )],
        None,
    )
    .unwrap_err();
    assert!(
        err.contains("`providers.TextNotificationProvider.timeout_seconds`")
            && err.contains("PN_PROVIDERS__TEXTNOTIFICATIONPROVIDER__TIMEOUT_SECONDS")
            && err.contains("0 is out of range (expected a whole number from 1 to 600)"),
        "{err}"
    );

    let err = resolve("", &[], Some(r#"{"trigger_time_interval_hours": 0}"#)).unwrap_err();
    assert!(
        err.contains("`trigger_time_interval_hours` in the core_ModuleConfiguration row"),
        "{err}"
    );

    // A rejected secret is never echoed.
    let err = resolve(
        "",
        &[("PN_SERVICE__DATABASE_URL", "mysql://u:hunter2@db/x")],
        None,
    )
    .unwrap_err();
    assert!(err.contains("service.database_url"), "{err}");
    assert!(!err.contains("hunter2"), "{err}");
}

#[test]
fn unknown_keys_of_the_database_row_are_reported_and_ignored() {
    let sources = ConfigSources::load(Some(&config_file("").1), Vec::new()).unwrap();
    let (s, warnings) = sources
        .resolve_with_row_and_warnings(Some(
            r#"{"reminder_before_expiry_dayz": 3, "reminder_after_expiry_days": 6,
                "providers": {"TextNotificationProvider": {"DestinationFoldr": "out"}},
                "eligibleNotificationTypes": {"birthday": true, "need_for_renewal": true}}"#,
        ))
        .expect("the row's unknown keys do not stop start-up");
    assert_eq!(s.module.reminder_after_expiry_days, 6);
    assert!(s.module.eligible_notification_types.need_for_renewal);
    assert_eq!(s.module.providers[0].param_str("DestinationFoldr"), None);
    assert_eq!(warnings.len(), 3, "{warnings:?}");
    for (key, suggestion) in [
        (
            "reminder_before_expiry_dayz",
            Some("reminder_before_expiry_days"),
        ),
        (
            "providers.TextNotificationProvider.DestinationFoldr",
            Some("DestinationFolder"),
        ),
        ("eligibleNotificationTypes.birthday", None),
    ] {
        let w = warnings
            .iter()
            .find(|w| w.contains(&format!("unknown key `{key}`")))
            .unwrap_or_else(|| panic!("no warning for {key}: {warnings:?}"));
        assert!(
            w.contains("core_ModuleConfiguration row") && w.contains("ignored"),
            "{w}"
        );
        if let Some(s) = suggestion {
            assert!(w.contains(&format!("did you mean `{s}`?")), "{w}");
        }
    }
    // The same typo in the file (ours to fix) is refused.
    let err = resolve(
        "[policy_notification.providers.TextNotificationProvider]\nDestinationFoldr = \"out\"",
        &[],
        Some(r#"{"providers": {"TextNotificationProvider": {}}}"#),
    )
    .unwrap_err();
    assert!(err.contains("DestinationFoldr"), "{err}");
}

/// The defaults column of docs/configuration.md, as `(section, key, default)`.
fn documented_defaults() -> Vec<(String, String, String)> {
    let doc = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/docs/configuration.md"
    ))
    .unwrap();
    let mut section = String::new();
    let mut out = Vec::new();
    for line in doc.lines() {
        if let Some(h) = line.strip_prefix("## `[") {
            section = h.split(']').next().unwrap().to_string();
            continue;
        }
        if line.starts_with("### ") {
            section.clear();
        }
        let cells: Vec<&str> = line.split(" | ").map(str::trim).collect();
        if section.is_empty() || cells.len() < 3 || !cells[0].starts_with("| `") {
            continue;
        }
        let key = cells[0]
            .trim_start_matches("| ")
            .trim_matches('`')
            .to_string();
        out.push((section.clone(), key, cells[1].to_string()));
    }
    out
}

#[test]
fn the_defaults_of_an_empty_file_are_the_documented_ones() {
    let s = resolve("", &[], None).unwrap();
    let service = serde_json::to_value(&s.service).unwrap();
    let module = serde_json::to_value(&s.module).unwrap();
    let documented = documented_defaults();
    let keys: Vec<&str> = documented.iter().map(|(_, k, _)| k.as_str()).collect();
    let all: Vec<&str> = policy_notification::config::service_keys()
        .iter()
        .chain(policy_notification::config::module_keys())
        .copied()
        .collect();
    assert_eq!(keys, all, "docs/configuration.md lists every key, in order");
    for (section, key, default) in documented {
        let value = if section == "service" {
            &service[&key]
        } else {
            &module[&key]
        };
        match (key.as_str(), default.as_str()) {
            ("eligibleNotificationTypes", "all six `false`") => {
                assert!(
                    value
                        .as_object()
                        .unwrap()
                        .values()
                        .all(|v| v.as_bool() == Some(false))
                )
            }
            ("providers", doc) => {
                let doc: serde_json::Value = serde_json::from_str(doc.trim_matches('`')).unwrap();
                let mut effective = value.clone();
                // The provider's own keys are documented with the providers.
                for p in effective.as_object_mut().unwrap().values_mut() {
                    p.as_object_mut().unwrap().remove("timeout_seconds");
                }
                assert_eq!(effective, doc, "providers");
            }
            (_, "—") => assert!(value.is_null(), "{key} has a default: {value}"),
            (_, doc) => {
                let doc = doc.trim_matches('`');
                let effective = match value {
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                assert_eq!(effective, doc, "default of `{key}`");
            }
        }
    }
}

#[test]
fn command_line_flags_win_over_every_layer() {
    let (dir, path) =
        config_file("[service]\nlisten = \"127.0.0.1:1\"\ndata_dir = \"/tmp/file\"\n");
    let mut sources =
        ConfigSources::load(Some(&path), env(&[("PN_SERVICE__LISTEN", "127.0.0.1:2")])).unwrap();
    sources.add_flag("--listen", "listen", "127.0.0.1:3");
    sources.add_flag("--data-dir", "data_dir", "/tmp/flag");
    // Even a variable added after the flags does not override them.
    sources
        .add_env(env(&[("PN_SERVICE__DATA_DIR", "/tmp/env")]))
        .unwrap();
    let s = sources.resolve().unwrap();
    let _ = std::fs::remove_dir_all(dir);
    assert_eq!(s.service.listen.port(), 3);
    assert_eq!(s.service.data_dir, PathBuf::from("/tmp/flag"));
}

/// Runs the binary with `args`; kills it after `limit`.
fn run_binary(args: &[&str], vars: &[(&str, &str)], limit: Duration) -> (Option<i32>, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_policy-notification"));
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .env_remove("DATABASE_URL")
        .env("NO_COLOR", "1");
    for (k, v) in vars {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let mut stderr = String::new();
            use std::io::Read;
            child
                .stderr
                .take()
                .unwrap()
                .read_to_string(&mut stderr)
                .unwrap();
            return (status.code(), stderr);
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("`policy-notification {}` did not exit", args.join(" "));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn the_binary_refuses_a_bad_config_file_naming_the_key() {
    let (dir, path) = config_file("[policy_notification]\ntrigger_last_call_hour = 30\n");
    let path = path.to_str().unwrap();
    for command in ["serve", "migrate"] {
        let (code, stderr) = run_binary(
            &["--config", path, command],
            &[("PN_SERVICE__JWT_SECRET", "test-secret")],
            Duration::from_secs(30),
        );
        assert_ne!(code, Some(0), "{command}: {stderr}");
        assert!(code.is_some(), "{command} exits, not killed by a signal");
        assert!(
            stderr.contains("trigger_last_call_hour") && stderr.contains("from 0 to 23"),
            "{command}: {stderr}"
        );
    }
    let (code, stderr) = run_binary(
        &["serve"],
        &[("PN_SERVICE__LISTEN", "not-an-address")],
        Duration::from_secs(30),
    );
    assert_ne!(code, Some(0));
    assert!(stderr.contains("service.listen"), "{stderr}");
    let (code, stderr) = run_binary(
        &["migrate"],
        &[("PN_SERVICE__LISTN", "127.0.0.1:1")],
        Duration::from_secs(30),
    );
    assert_ne!(code, Some(0));
    assert!(
        stderr.contains("unknown key `service.listn` in environment variable PN_SERVICE__LISTN")
            && stderr.contains("did you mean `listen`?"),
        "{stderr}"
    );

    // A flag's value is checked like any other, naming the flag; the secret is not repeated.
    let (code, stderr) = run_binary(
        &["migrate", "--database-url", "mysql://u:hunter2@db/x"],
        &[],
        Duration::from_secs(30),
    );
    assert_ne!(code, Some(0));
    assert!(
        stderr.contains("`service.database_url` in command-line flag --database-url"),
        "{stderr}"
    );
    assert!(!stderr.contains("hunter2"), "{stderr}");

    let missing = format!("{}/absent.toml", dir.display());
    let (code, stderr) = run_binary(&["--config", &missing], &[], Duration::from_secs(30));
    assert_ne!(code, Some(0));
    assert!(stderr.contains("absent.toml"), "{stderr}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn the_example_config_is_valid_and_mentions_every_key() {
    let path = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/policy-notification.example.toml"
    ));
    let s = ConfigSources::load(Some(&path), Vec::new())
        .and_then(|s| s.resolve())
        .unwrap();
    assert_eq!(provider_names(&s), ["TextNotificationProvider"]);
    assert_eq!(s.module.reminder_before_expiry_days, 5);
    let text = std::fs::read_to_string(&path).unwrap();
    // Every accepted key (the parser's own lists) and the per-provider ones are documented.
    for key in policy_notification::config::service_keys()
        .iter()
        .chain(policy_notification::config::module_keys())
        .chain(&["rate_per_second", "timeout_seconds"])
    {
        assert!(
            text.contains(&format!("{key} "))
                || text.contains(&format!(".{key}]"))
                || text.contains(&format!(".{key}.")),
            "{key} missing"
        );
    }
    // Uncommenting the optional keys still gives a valid configuration.
    let uncommented: String = text
        .lines()
        .map(|l| match l.strip_prefix("# ") {
            Some(rest)
                if rest.starts_with('[')
                    || rest
                        .split_once(" = ")
                        .is_some_and(|(k, _)| !k.contains(' ')) =>
            {
                rest.to_string()
            }
            _ => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n");
    let s = ConfigSources::from_toml(&uncommented)
        .and_then(|s| s.resolve())
        .unwrap_or_else(|e| panic!("{e}\n{uncommented}"));
    assert_eq!(
        provider_names(&s),
        ["eGASMSGateway", "TextNotificationProvider"]
    );
    assert_eq!(s.service.trigger_hours.unwrap().hours(), &[8, 12, 16]);
}
