//! Settings: built-in defaults, openIMIS's `core_ModuleConfiguration` row, a TOML file and `PN_*`
//! environment variables, layered in that order (later wins).
//!
//! The file has two sections: `[service]` holds this service's own keys (DECISIONS 35) and
//! `[policy_notification]` holds the openIMIS module keys under openIMIS's names. Environment
//! variables use the prefix `PN_` and `__` between levels: `PN_SERVICE__LISTEN` sets
//! `service.listen`, any other `PN_X__Y` sets the module key `X.Y`
//! (e.g. `PN_PROVIDERS__EGASMSGATEWAY__PRIVATEKEY`). Keys match case-insensitively.

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use indexmap::IndexMap;
use secrecy::SecretString;
use serde::Deserialize;
use serde::de::{self, Deserializer};
use serde_json::{Map, Value};

/// Name of the openIMIS module whose configuration we read (`core_ModuleConfiguration.module`).
pub const MODULE_NAME: &str = "policy_notification";
/// Default config file read from the working directory when `--config` is not given.
pub const DEFAULT_CONFIG_FILE: &str = "policy-notification.toml";
/// Prefix of the environment variables read as configuration.
pub const ENV_PREFIX: &str = "PN_";

/// A configuration value that cannot be used; names the key and the expected form.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config file {path} is not valid TOML: {message}")]
    Toml { path: PathBuf, message: String },
    #[error("the openIMIS module configuration row for `{MODULE_NAME}` is not a JSON object: {0}")]
    DatabaseRow(String),
    #[error("invalid value for `{key}`: {message} (expected {expected})")]
    Invalid {
        key: String,
        message: String,
        expected: String,
    },
    #[error("unknown key `{key}` in the [{section}] section (known keys: {known})")]
    UnknownKey {
        section: &'static str,
        key: String,
        known: String,
    },
}

impl ConfigError {
    fn invalid(
        key: impl Into<String>,
        message: impl Into<String>,
        expected: impl Into<String>,
    ) -> Self {
        ConfigError::Invalid {
            key: key.into(),
            message: message.into(),
            expected: expected.into(),
        }
    }
}

/// The whole configuration of a running service.
#[derive(Debug, Clone)]
pub struct Settings {
    pub service: ServiceSettings,
    pub module: ModuleSettings,
}

/// Our own keys, the `[service]` section (DECISIONS 35).
#[derive(Debug, Clone)]
pub struct ServiceSettings {
    /// Address the HTTP server listens on.
    pub listen: SocketAddr,
    /// Folder of the embedded PostgreSQL cluster and of generated secrets.
    pub data_dir: PathBuf,
    /// External database; `None` means the embedded default.
    pub database_url: Option<SecretString>,
    /// Fallback HS256 secret for users without a `PrivateKey`.
    pub jwt_secret: Option<SecretString>,
    /// Served over HTTPS (makes the `JWT` cookie `Secure`).
    pub https: bool,
    /// Time zone of "today" and of the trigger window.
    pub timezone: chrono_tz::Tz,
    /// Approval given to a family that states none.
    pub default_approval: bool,
    /// Language given to a family that states none; `None` = first by `SortOrder`, then code.
    pub default_language: Option<String>,
    /// Country calling code used to normalise recipients (digits only).
    pub country_code: String,
    /// Folder of operator `.po` catalogs that add or override languages.
    pub templates_dir: Option<PathBuf>,
    /// openIMIS-style hour spec ("8", "8,12,16", "8-16"); overrides the three trigger keys.
    pub trigger_hours: Option<TriggerHours>,
    /// Messages sent at once by the sender.
    pub send_concurrency: usize,
    /// How long a sweep waits out database errors (one operation, seconds) before giving up.
    pub sweep_db_retry_seconds: u64,
    /// Folder of the PostgreSQL server binaries (`initdb`, `pg_ctl`, `postgres`).
    pub pg_bin: Option<PathBuf>,
    /// Separate listen address that serves `/metrics` without a token.
    pub metrics_listen: Option<SocketAddr>,
    /// Bearer token that opens `/metrics` on the main listener.
    pub metrics_token: Option<SecretString>,
    /// Reverse proxies whose `X-Forwarded-For` names the client's address (login throttling).
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// Lifetime of an access token, seconds (openIMIS: one day).
    pub jwt_expiration_seconds: i64,
    /// How long a token may be refreshed after login, seconds (openIMIS: 30 days).
    pub jwt_refresh_expiration_seconds: i64,
    /// Largest accepted request body, bytes.
    pub max_body_bytes: usize,
    /// Deepest accepted GraphQL query.
    pub graphql_max_depth: usize,
    /// Largest accepted GraphQL query complexity.
    pub graphql_max_complexity: usize,
    /// Right that lets a user see and settle unknown send outcomes.
    pub notification_admin_perms: Vec<i32>,
    /// Connections in the pool.
    pub pool_size: usize,
}

/// The openIMIS module keys, under openIMIS's names.
#[derive(Debug, Clone)]
pub struct ModuleSettings {
    /// Providers in the order written; each entry keeps its raw parameters.
    pub providers: Vec<ProviderSettings>,
    pub eligible_notification_types: EligibleNotificationTypes,
    pub family_policy_notification_report_perms: Vec<i32>,
    pub trigger_time_interval_hours: u32,
    pub trigger_first_call_hour: u32,
    pub trigger_last_call_hour: u32,
    pub reminder_before_expiry_days: i64,
    pub reminder_after_expiry_days: i64,
    pub policy_activation_relevance_maximum_days_timedelta: i64,
    pub policy_renewal_relevance_maximum_days_timedelta: i64,
}

/// One configured notification provider, as written (name and parameters).
#[derive(Debug, Clone)]
pub struct ProviderSettings {
    /// The name as configured, e.g. `eGASMSGateway` (matched case-insensitively).
    pub name: String,
    /// Provider parameters other than ours, e.g. `GateUrl`, `PrivateKey`.
    pub params: Map<String, Value>,
    /// Messages per second this provider may take; `None` = unlimited.
    pub rate_per_second: Option<f64>,
    /// Request timeout in seconds.
    pub timeout_seconds: u64,
}

impl ProviderSettings {
    /// The parameter `key`, matched case-insensitively.
    pub fn param(&self, key: &str) -> Option<&Value> {
        self.params
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v)
    }

    /// The parameter `key` as text (numbers are accepted and written out).
    pub fn param_str(&self, key: &str) -> Option<String> {
        match self.param(key)? {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }
}

/// Which of the six events are sent (`eligibleNotificationTypes`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EligibleNotificationTypes {
    pub activation_of_policy: bool,
    pub starting_of_policy: bool,
    pub need_for_renewal: bool,
    pub expiration_of_policy: bool,
    pub reminder_after_expiration: bool,
    pub renewal_of_policy: bool,
}

impl EligibleNotificationTypes {
    /// Every event type enabled (used by `serve --demo`).
    pub fn all() -> Self {
        Self {
            activation_of_policy: true,
            starting_of_policy: true,
            need_for_renewal: true,
            expiration_of_policy: true,
            reminder_after_expiration: true,
            renewal_of_policy: true,
        }
    }
}

/// The hours at which the scheduler sends, in the configured time zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TriggerHours {
    hours: Vec<u32>,
}

impl TriggerHours {
    /// Every `interval` hours from `first` to `last` inclusive.
    pub fn from_window(first: u32, last: u32, interval: u32) -> Self {
        let step = interval.max(1) as usize;
        Self {
            hours: (first..=last).step_by(step).collect(),
        }
    }

    /// The hours, ascending.
    pub fn hours(&self) -> &[u32] {
        &self.hours
    }

    /// First hour of the window.
    pub fn first(&self) -> u32 {
        self.hours.first().copied().unwrap_or(0)
    }

    /// Last hour of the window.
    pub fn last(&self) -> u32 {
        self.hours.last().copied().unwrap_or(23)
    }
}

impl FromStr for TriggerHours {
    type Err = String;

    fn from_str(spec: &str) -> Result<Self, Self::Err> {
        let spec = spec.trim();
        let hour = |s: &str| -> Result<u32, String> {
            let h: u32 = s
                .trim()
                .parse()
                .map_err(|_| format!("`{s}` is not an hour"))?;
            if h > 23 {
                return Err(format!("hour {h} is not between 0 and 23"));
            }
            Ok(h)
        };
        let mut hours = if let Some((a, b)) = spec.split_once('-') {
            let (a, b) = (hour(a)?, hour(b)?);
            if a > b {
                return Err(format!("range {a}-{b} runs backwards"));
            }
            (a..=b).collect::<Vec<_>>()
        } else {
            spec.split(',').map(hour).collect::<Result<Vec<_>, _>>()?
        };
        hours.sort_unstable();
        hours.dedup();
        if hours.is_empty() {
            return Err("no hour given".into());
        }
        Ok(Self { hours })
    }
}

impl fmt::Display for TriggerHours {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.hours.iter().map(u32::to_string).collect();
        f.write_str(&parts.join(","))
    }
}

impl Settings {
    /// The effective trigger hours: `service.trigger_hours`, else the module's window keys.
    pub fn trigger_hours(&self) -> TriggerHours {
        self.service.trigger_hours.clone().unwrap_or_else(|| {
            TriggerHours::from_window(
                self.module.trigger_first_call_hour,
                self.module.trigger_last_call_hour,
                self.module.trigger_time_interval_hours,
            )
        })
    }
}

/// The configuration sources other than the database row, read once at start-up.
#[derive(Debug, Clone, Default)]
pub struct ConfigSources {
    file_service: Map<String, Value>,
    file_module: Map<String, Value>,
    env_service: Map<String, Value>,
    env_module: Map<String, Value>,
    file: Option<PathBuf>,
}

impl ConfigSources {
    /// Reads `path` (or `policy-notification.toml` in the working directory when present) and the
    /// `PN_*` variables among `env`. `DATABASE_URL` is honoured as `service.database_url`.
    pub fn load(
        path: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        let mut sources = ConfigSources::default();
        let file = match path {
            Some(p) => Some(p.to_path_buf()),
            None => {
                let p = PathBuf::from(DEFAULT_CONFIG_FILE);
                p.is_file().then_some(p)
            }
        };
        if let Some(path) = &file {
            let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                path: path.clone(),
                source,
            })?;
            sources
                .add_toml(&text)
                .map_err(|message| ConfigError::Toml {
                    path: path.clone(),
                    message,
                })?;
        }
        sources.file = file;
        sources.add_env(env)?;
        Ok(sources)
    }

    /// Sources from TOML text alone (tests, tools).
    pub fn from_toml(text: &str) -> Result<Self, ConfigError> {
        let mut sources = ConfigSources::default();
        sources
            .add_toml(text)
            .map_err(|message| ConfigError::Toml {
                path: PathBuf::from("<inline>"),
                message,
            })?;
        Ok(sources)
    }

    /// The file that was read, if any.
    pub fn file(&self) -> Option<&Path> {
        self.file.as_deref()
    }

    fn add_toml(&mut self, text: &str) -> Result<(), String> {
        let table: toml::Table = toml::from_str(text).map_err(|e| e.to_string())?;
        let value = serde_json::to_value(table).map_err(|e| e.to_string())?;
        let Value::Object(top) = value else {
            return Err("not a table".into());
        };
        for (key, value) in top {
            let target = if key.eq_ignore_ascii_case("service") {
                &mut self.file_service
            } else if key.eq_ignore_ascii_case(MODULE_NAME) {
                &mut self.file_module
            } else {
                return Err(format!(
                    "unknown section [{key}] (expected [service] or [{MODULE_NAME}])"
                ));
            };
            match value {
                Value::Object(map) => deep_merge(target, map),
                _ => return Err(format!("`{key}` must be a table")),
            }
        }
        Ok(())
    }

    /// Adds the `PN_*` variables (and `DATABASE_URL`) among `env`.
    pub fn add_env(
        &mut self,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<(), ConfigError> {
        let mut database_url = None;
        for (name, value) in env {
            if name == "DATABASE_URL" {
                database_url = Some(value);
                continue;
            }
            let Some(rest) = name
                .get(..ENV_PREFIX.len())
                .filter(|p| p.eq_ignore_ascii_case(ENV_PREFIX))
                .map(|_| &name[ENV_PREFIX.len()..])
            else {
                continue;
            };
            let path: Vec<String> = rest.split("__").map(|s| s.to_ascii_lowercase()).collect();
            if path.iter().any(String::is_empty) {
                return Err(ConfigError::invalid(
                    name,
                    "empty level",
                    "PN_KEY or PN_SECTION__KEY",
                ));
            }
            let (target, path) = if path[0] == "service" {
                (&mut self.env_service, &path[1..])
            } else {
                (&mut self.env_module, &path[..])
            };
            if path.is_empty() {
                return Err(ConfigError::invalid(
                    name,
                    "no key after the section",
                    "PN_SERVICE__KEY",
                ));
            }
            set_path(target, path, env_value(&value));
        }
        // PN_SERVICE__DATABASE_URL wins over the generic DATABASE_URL.
        if let Some(url) = database_url
            && find_key(&self.env_service, "database_url").is_none()
        {
            self.env_service
                .insert("database_url".into(), Value::String(url));
        }
        Ok(())
    }

    /// Resolves the settings without a database row (defaults < file < environment).
    pub fn resolve(&self) -> Result<Settings, ConfigError> {
        self.resolve_with_row(None)
    }

    /// Resolves the settings with openIMIS's module configuration JSON (defaults < row < file < env).
    pub fn resolve_with_row(&self, row: Option<&str>) -> Result<Settings, ConfigError> {
        let mut service = Map::new();
        deep_merge(&mut service, self.file_service.clone());
        deep_merge(&mut service, self.env_service.clone());
        let service = parse_service(service)?;

        let mut module = default_module();
        if let Some(row) = row {
            let parsed: Value =
                serde_json::from_str(row).map_err(|e| ConfigError::DatabaseRow(e.to_string()))?;
            let Value::Object(map) = parsed else {
                return Err(ConfigError::DatabaseRow("the JSON is not an object".into()));
            };
            shallow_merge(&mut module, map);
        }
        // A file that lists providers replaces the list: the order written is the order used.
        shallow_merge_providers(&mut module, &self.file_module);
        deep_merge(&mut module, self.file_module.clone());
        deep_merge(&mut module, self.env_module.clone());
        let module = parse_module(module)?;
        Ok(Settings { service, module })
    }
}

fn env_value(raw: &str) -> Value {
    // Booleans and numbers are typed; anything else stays text. Secrets stay text.
    match raw {
        "true" | "TRUE" | "True" => Value::Bool(true),
        "false" | "FALSE" | "False" => Value::Bool(false),
        _ => {
            if let Ok(i) = raw.parse::<i64>() {
                Value::from(i)
            } else if let Ok(f) = raw.parse::<f64>()
                && f.is_finite()
                && raw.contains('.')
            {
                Value::from(f)
            } else {
                Value::String(raw.to_string())
            }
        }
    }
}

fn find_key<'a>(map: &'a Map<String, Value>, key: &str) -> Option<&'a String> {
    map.keys().find(|k| k.eq_ignore_ascii_case(key))
}

fn set_path(map: &mut Map<String, Value>, path: &[String], value: Value) {
    let key = find_key(map, &path[0])
        .cloned()
        .unwrap_or_else(|| path[0].clone());
    if path.len() == 1 {
        map.insert(key, value);
        return;
    }
    let entry = map.entry(key).or_insert_with(|| Value::Object(Map::new()));
    if !entry.is_object() {
        *entry = Value::Object(Map::new());
    }
    if let Value::Object(inner) = entry {
        set_path(inner, &path[1..], value);
    }
}

/// Merges `over` into `base`, recursing into tables; keys match case-insensitively and keep
/// the spelling already present.
fn deep_merge(base: &mut Map<String, Value>, over: Map<String, Value>) {
    for (key, value) in over {
        let existing = find_key(base, &key).cloned();
        match (existing, value) {
            (Some(k), Value::Object(o)) if base.get(&k).is_some_and(Value::is_object) => {
                if let Some(Value::Object(inner)) = base.get_mut(&k) {
                    deep_merge(inner, o);
                }
            }
            (Some(k), v) => {
                base.insert(k, v);
            }
            (None, v) => {
                base.insert(key, v);
            }
        }
    }
}

/// openIMIS's merge: each top-level key of `over` replaces the one in `base`.
fn shallow_merge(base: &mut Map<String, Value>, over: Map<String, Value>) {
    for (key, value) in over {
        if let Some(k) = find_key(base, &key).cloned() {
            base.remove(&k);
        }
        base.insert(key, value);
    }
}

fn shallow_merge_providers(base: &mut Map<String, Value>, file: &Map<String, Value>) {
    if let Some(k) = find_key(file, "providers")
        && let Some(existing) = find_key(base, "providers").cloned()
    {
        let _ = k;
        base.insert(existing, Value::Object(Map::new()));
    }
}

fn default_module() -> Map<String, Value> {
    let defaults = serde_json::json!({
        "providers": {
            "TextNotificationProvider": { "DestinationFolder": "sent_notification" }
        },
        "eligibleNotificationTypes": {
            "activation_of_policy": false,
            "starting_of_policy": false,
            "need_for_renewal": false,
            "expiration_of_policy": false,
            "reminder_after_expiration": false,
            "renewal_of_policy": false
        },
        "family_policy_notification_report_perms": ["131224"],
        "trigger_time_interval_hours": 4,
        "trigger_first_call_hour": 8,
        "trigger_last_call_hour": 20,
        "reminder_before_expiry_days": 5,
        "reminder_after_expiry_days": 5,
        "policy_activation_relevance_maximum_days_timedelta": 5,
        "policy_renewal_relevance_maximum_days_timedelta": 5
    });
    match defaults {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// Takes the key `name` out of `map` (case-insensitively).
fn take(map: &mut Map<String, Value>, name: &str) -> Option<Value> {
    let key = find_key(map, name).cloned()?;
    map.remove(&key).filter(|v| !v.is_null())
}

fn reject_unknown(
    section: &'static str,
    map: &Map<String, Value>,
    known: &[&str],
) -> Result<(), ConfigError> {
    if let Some(key) = map.keys().next() {
        return Err(ConfigError::UnknownKey {
            section,
            key: key.clone(),
            known: known.join(", "),
        });
    }
    Ok(())
}

fn typed<T: for<'de> Deserialize<'de>>(
    key: &str,
    value: Value,
    expected: &str,
) -> Result<T, ConfigError> {
    serde_path_to_error::deserialize::<_, T>(value).map_err(|e| {
        let path = e.path().to_string();
        let key = if path == "." || path.is_empty() {
            key.to_string()
        } else {
            format!("{key}.{path}")
        };
        ConfigError::invalid(key, e.into_inner().to_string(), expected)
    })
}

fn text(key: &str, v: Value) -> Result<String, ConfigError> {
    typed::<String>(key, v, "a string")
}

fn boolean(key: &str, v: Value) -> Result<bool, ConfigError> {
    typed::<bool>(key, v, "true or false")
}

fn int_in(key: &str, v: Value, min: i64, max: i64) -> Result<i64, ConfigError> {
    let expected = format!("a whole number from {min} to {max}");
    let n: i64 = match &v {
        // openIMIS rows sometimes hold numbers as strings.
        Value::String(s) => s
            .trim()
            .parse()
            .map_err(|_| ConfigError::invalid(key, format!("`{s}` is not a number"), &expected))?,
        _ => typed::<i64>(key, v, &expected)?,
    };
    if n < min || n > max {
        return Err(ConfigError::invalid(
            key,
            format!("{n} is out of range"),
            expected,
        ));
    }
    Ok(n)
}

fn addresses(key: &str, v: Value) -> Result<Vec<std::net::IpAddr>, ConfigError> {
    let expected = "a list of IP addresses, e.g. [\"127.0.0.1\"]";
    let items: Vec<Value> = match v {
        Value::Array(items) => items,
        // An environment variable: comma-separated.
        Value::String(s) => s
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| Value::String(s.to_string()))
            .collect(),
        other => vec![other],
    };
    items
        .into_iter()
        .map(|item| {
            item.as_str()
                .and_then(|s| s.trim().parse().ok())
                .ok_or_else(|| {
                    ConfigError::invalid(key, format!("{item} is not an IP address"), expected)
                })
        })
        .collect()
}

fn rights(key: &str, v: Value) -> Result<Vec<i32>, ConfigError> {
    let expected = "a list of openIMIS right codes, e.g. [\"131224\"]";
    let items: Vec<Value> = match v {
        Value::Array(items) => items,
        other => vec![other],
    };
    items
        .into_iter()
        .map(|item| {
            match &item {
                Value::String(s) => s.trim().parse::<i32>().ok(),
                Value::Number(n) => n.as_i64().and_then(|n| i32::try_from(n).ok()),
                _ => None,
            }
            .filter(|n| *n > 0)
            .ok_or_else(|| {
                ConfigError::invalid(key, format!("{item} is not a right code"), expected)
            })
        })
        .collect()
}

/// Every key `[service]` accepts (anything else is an error naming the key).
pub const SERVICE_KEYS: &[&str] = &[
    "listen",
    "data_dir",
    "database_url",
    "jwt_secret",
    "https",
    "timezone",
    "default_approval",
    "default_language",
    "country_code",
    "templates_dir",
    "trigger_hours",
    "send_concurrency",
    "sweep_db_retry_seconds",
    "pg_bin",
    "metrics_listen",
    "trusted_proxies",
    "metrics_token",
    "jwt_expiration_seconds",
    "jwt_refresh_expiration_seconds",
    "max_body_bytes",
    "graphql_max_depth",
    "graphql_max_complexity",
    "notification_admin_perms",
    "pool_size",
];

fn parse_service(mut m: Map<String, Value>) -> Result<ServiceSettings, ConfigError> {
    let key = |k: &str| format!("service.{k}");
    let listen = match take(&mut m, "listen") {
        Some(v) => {
            let s = text(&key("listen"), v)?;
            s.parse().map_err(|_| {
                ConfigError::invalid(
                    key("listen"),
                    format!("`{s}`"),
                    "an address such as 127.0.0.1:8000",
                )
            })?
        }
        None => SocketAddr::from(([127, 0, 0, 1], 8000)),
    };
    let data_dir = match take(&mut m, "data_dir") {
        Some(v) => PathBuf::from(text(&key("data_dir"), v)?),
        None => PathBuf::from(".data"),
    };
    let secret =
        |m: &mut Map<String, Value>, k: &str| -> Result<Option<SecretString>, ConfigError> {
            match take(m, k) {
                Some(v) => {
                    let s = text(&key(k), v)?;
                    if s.trim().is_empty() {
                        return Err(ConfigError::invalid(key(k), "empty", "a non-empty string"));
                    }
                    Ok(Some(SecretString::from(s)))
                }
                None => Ok(None),
            }
        };
    let database_url = secret(&mut m, "database_url")?;
    if let Some(url) = &database_url {
        use secrecy::ExposeSecret;
        let u = url.expose_secret();
        if !(u.starts_with("postgres://") || u.starts_with("postgresql://")) {
            return Err(ConfigError::invalid(
                key("database_url"),
                "not a PostgreSQL URL",
                "postgres://user:password@host:port/database",
            ));
        }
    }
    let jwt_secret = secret(&mut m, "jwt_secret")?;
    let https = take(&mut m, "https")
        .map(|v| boolean(&key("https"), v))
        .transpose()?
        .unwrap_or(false);
    let timezone = match take(&mut m, "timezone") {
        Some(v) => {
            let s = text(&key("timezone"), v)?;
            s.parse::<chrono_tz::Tz>().map_err(|_| {
                ConfigError::invalid(
                    key("timezone"),
                    format!("`{s}` is not a known time zone"),
                    "an IANA time zone name such as Africa/Dar_es_Salaam or UTC",
                )
            })?
        }
        None => chrono_tz::UTC,
    };
    let default_approval = take(&mut m, "default_approval")
        .map(|v| boolean(&key("default_approval"), v))
        .transpose()?
        .unwrap_or(false);
    let default_language = match take(&mut m, "default_language") {
        Some(v) => {
            let s = text(&key("default_language"), v)?;
            if s.is_empty() || s.len() > 5 {
                return Err(ConfigError::invalid(
                    key("default_language"),
                    format!("`{s}`"),
                    "a tblLanguages code of 1 to 5 characters",
                ));
            }
            Some(s)
        }
        None => None,
    };
    let country_code = match take(&mut m, "country_code") {
        Some(v) => {
            let s = match v {
                Value::Number(n) => n.to_string(),
                other => text(&key("country_code"), other)?,
            };
            let s = s.trim().trim_start_matches('+').to_string();
            if s.is_empty() || s.len() > 4 || !s.chars().all(|c| c.is_ascii_digit()) {
                return Err(ConfigError::invalid(
                    key("country_code"),
                    format!("`{s}`"),
                    "a country calling code of 1 to 4 digits, e.g. 255",
                ));
            }
            s
        }
        None => "255".to_string(),
    };
    let templates_dir = take(&mut m, "templates_dir")
        .map(|v| text(&key("templates_dir"), v).map(PathBuf::from))
        .transpose()?;
    let trigger_hours = match take(&mut m, "trigger_hours") {
        Some(v) => {
            let s = match v {
                Value::Number(n) => n.to_string(),
                other => text(&key("trigger_hours"), other)?,
            };
            Some(s.parse::<TriggerHours>().map_err(|e| {
                ConfigError::invalid(
                    key("trigger_hours"),
                    e,
                    "an hour spec such as \"8\", \"8,12,16\" or \"8-16\"",
                )
            })?)
        }
        None => None,
    };
    let send_concurrency = take(&mut m, "send_concurrency")
        .map(|v| int_in(&key("send_concurrency"), v, 1, 256))
        .transpose()?
        .unwrap_or(8) as usize;
    let sweep_db_retry_seconds = take(&mut m, "sweep_db_retry_seconds")
        .map(|v| int_in(&key("sweep_db_retry_seconds"), v, 1, 86_400))
        .transpose()?
        .unwrap_or(120) as u64;
    let pg_bin = take(&mut m, "pg_bin")
        .map(|v| text(&key("pg_bin"), v).map(PathBuf::from))
        .transpose()?;
    let metrics_listen = match take(&mut m, "metrics_listen") {
        Some(v) => {
            let s = text(&key("metrics_listen"), v)?;
            Some(s.parse().map_err(|_| {
                ConfigError::invalid(
                    key("metrics_listen"),
                    format!("`{s}`"),
                    "an address such as 127.0.0.1:9100",
                )
            })?)
        }
        None => None,
    };
    let metrics_token = secret(&mut m, "metrics_token")?;
    let trusted_proxies = take(&mut m, "trusted_proxies")
        .map(|v| addresses(&key("trusted_proxies"), v))
        .transpose()?
        .unwrap_or_default();
    let jwt_expiration_seconds = take(&mut m, "jwt_expiration_seconds")
        .map(|v| int_in(&key("jwt_expiration_seconds"), v, 60, 90 * 86_400))
        .transpose()?
        .unwrap_or(86_400);
    let jwt_refresh_expiration_seconds = take(&mut m, "jwt_refresh_expiration_seconds")
        .map(|v| int_in(&key("jwt_refresh_expiration_seconds"), v, 60, 365 * 86_400))
        .transpose()?
        .unwrap_or(30 * 86_400);
    let max_body_bytes = take(&mut m, "max_body_bytes")
        .map(|v| int_in(&key("max_body_bytes"), v, 1024, 64 * 1024 * 1024))
        .transpose()?
        .unwrap_or(1024 * 1024) as usize;
    let graphql_max_depth = take(&mut m, "graphql_max_depth")
        .map(|v| int_in(&key("graphql_max_depth"), v, 3, 100))
        .transpose()?
        .unwrap_or(15) as usize;
    let graphql_max_complexity = take(&mut m, "graphql_max_complexity")
        .map(|v| int_in(&key("graphql_max_complexity"), v, 10, 1_000_000))
        .transpose()?
        .unwrap_or(5000) as usize;
    let notification_admin_perms = take(&mut m, "notification_admin_perms")
        .map(|v| rights(&key("notification_admin_perms"), v))
        .transpose()?
        .unwrap_or_else(|| vec![131224]);
    let pool_size = take(&mut m, "pool_size")
        .map(|v| int_in(&key("pool_size"), v, 1, 512))
        .transpose()?
        .unwrap_or(16) as usize;
    reject_unknown("service", &m, SERVICE_KEYS)?;
    Ok(ServiceSettings {
        listen,
        data_dir,
        database_url,
        jwt_secret,
        https,
        timezone,
        default_approval,
        default_language,
        country_code,
        templates_dir,
        trigger_hours,
        send_concurrency,
        sweep_db_retry_seconds,
        pg_bin,
        metrics_listen,
        trusted_proxies,
        metrics_token,
        jwt_expiration_seconds,
        jwt_refresh_expiration_seconds,
        max_body_bytes,
        graphql_max_depth,
        graphql_max_complexity,
        notification_admin_perms,
        pool_size,
    })
}

/// Every key `[policy_notification]` accepts, as openIMIS names them.
pub const MODULE_KEYS: &[&str] = &[
    "providers",
    "eligibleNotificationTypes",
    "family_policy_notification_report_perms",
    "trigger_time_interval_hours",
    "trigger_first_call_hour",
    "trigger_last_call_hour",
    "reminder_before_expiry_days",
    "reminder_after_expiry_days",
    "policy_activation_relevance_maximum_days_timedelta",
    "policy_renewal_relevance_maximum_days_timedelta",
];

const EVENT_KEYS: [&str; 6] = [
    "activation_of_policy",
    "starting_of_policy",
    "need_for_renewal",
    "expiration_of_policy",
    "reminder_after_expiration",
    "renewal_of_policy",
];

fn parse_module(mut m: Map<String, Value>) -> Result<ModuleSettings, ConfigError> {
    let providers =
        parse_providers(take(&mut m, "providers").unwrap_or(Value::Object(Map::new())))?;
    let eligible_notification_types = match take(&mut m, "eligibleNotificationTypes") {
        Some(Value::Object(mut types)) => {
            let mut flags = BTreeMap::new();
            for name in EVENT_KEYS {
                let k = format!("eligibleNotificationTypes.{name}");
                let on = match take(&mut types, name) {
                    Some(Value::Number(n)) if n.as_i64() == Some(0) || n.as_i64() == Some(1) => {
                        n.as_i64() == Some(1)
                    }
                    Some(v) => boolean(&k, v)?,
                    None => false,
                };
                flags.insert(name, on);
            }
            if let Some(unknown) = types.keys().next() {
                return Err(ConfigError::invalid(
                    format!("eligibleNotificationTypes.{unknown}"),
                    "unknown notification type",
                    format!("one of {}", EVENT_KEYS.join(", ")),
                ));
            }
            EligibleNotificationTypes {
                activation_of_policy: flags["activation_of_policy"],
                starting_of_policy: flags["starting_of_policy"],
                need_for_renewal: flags["need_for_renewal"],
                expiration_of_policy: flags["expiration_of_policy"],
                reminder_after_expiration: flags["reminder_after_expiration"],
                renewal_of_policy: flags["renewal_of_policy"],
            }
        }
        Some(other) => {
            return Err(ConfigError::invalid(
                "eligibleNotificationTypes",
                format!("{other}"),
                "a table of the six event names with true or false",
            ));
        }
        None => EligibleNotificationTypes::default(),
    };
    let perms = take(&mut m, "family_policy_notification_report_perms")
        .map(|v| rights("family_policy_notification_report_perms", v))
        .transpose()?
        .unwrap_or_else(|| vec![131224]);
    let hour = |m: &mut Map<String, Value>, k: &str, d: i64| -> Result<u32, ConfigError> {
        Ok(take(m, k)
            .map(|v| int_in(k, v, 0, 23))
            .transpose()?
            .unwrap_or(d) as u32)
    };
    let first = hour(&mut m, "trigger_first_call_hour", 8)?;
    let last = hour(&mut m, "trigger_last_call_hour", 20)?;
    if first > last {
        return Err(ConfigError::invalid(
            "trigger_last_call_hour",
            format!("{last} is before trigger_first_call_hour {first}"),
            "an hour at or after trigger_first_call_hour",
        ));
    }
    let interval = take(&mut m, "trigger_time_interval_hours")
        .map(|v| int_in("trigger_time_interval_hours", v, 1, 24))
        .transpose()?
        .unwrap_or(4) as u32;
    let days = |m: &mut Map<String, Value>, k: &str, d: i64| -> Result<i64, ConfigError> {
        Ok(take(m, k)
            .map(|v| int_in(k, v, 0, 3650))
            .transpose()?
            .unwrap_or(d))
    };
    let settings = ModuleSettings {
        providers,
        eligible_notification_types,
        family_policy_notification_report_perms: perms,
        trigger_time_interval_hours: interval,
        trigger_first_call_hour: first,
        trigger_last_call_hour: last,
        reminder_before_expiry_days: days(&mut m, "reminder_before_expiry_days", 5)?,
        reminder_after_expiry_days: days(&mut m, "reminder_after_expiry_days", 5)?,
        policy_activation_relevance_maximum_days_timedelta: days(
            &mut m,
            "policy_activation_relevance_maximum_days_timedelta",
            5,
        )?,
        policy_renewal_relevance_maximum_days_timedelta: days(
            &mut m,
            "policy_renewal_relevance_maximum_days_timedelta",
            5,
        )?,
    };
    reject_unknown(MODULE_NAME, &m, MODULE_KEYS)?;
    Ok(settings)
}

fn parse_providers(v: Value) -> Result<Vec<ProviderSettings>, ConfigError> {
    let Value::Object(map) = v else {
        return Err(ConfigError::invalid(
            "providers",
            format!("{v}"),
            "a table of provider name → parameters",
        ));
    };
    let mut out = Vec::new();
    for (name, params) in map {
        let key = format!("providers.{name}");
        let Value::Object(mut params) = params else {
            return Err(ConfigError::invalid(
                key,
                "not a table",
                "a table of provider parameters",
            ));
        };
        let rate_per_second = match take(&mut params, "rate_per_second") {
            Some(v) => {
                let r = typed::<f64>(
                    &format!("{key}.rate_per_second"),
                    v,
                    "a positive number of messages per second",
                )?;
                if !(r.is_finite() && r > 0.0) {
                    return Err(ConfigError::invalid(
                        format!("{key}.rate_per_second"),
                        format!("{r}"),
                        "a positive number of messages per second",
                    ));
                }
                Some(r)
            }
            None => None,
        };
        let timeout_seconds = take(&mut params, "timeout_seconds")
            .map(|v| int_in(&format!("{key}.timeout_seconds"), v, 1, 600))
            .transpose()?
            .unwrap_or(30) as u64;
        out.push(ProviderSettings {
            name,
            params,
            rate_per_second,
            timeout_seconds,
        });
    }
    Ok(out)
}

/// Deserializes an openIMIS "string or number" field as text.
pub fn string_or_number<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    match Value::deserialize(d)? {
        Value::String(s) => Ok(s),
        Value::Number(n) => Ok(n.to_string()),
        other => Err(de::Error::custom(format!("expected a string, got {other}"))),
    }
}

/// Providers keyed by lower-case name, for case-insensitive lookup.
pub fn providers_by_name(settings: &ModuleSettings) -> IndexMap<String, &ProviderSettings> {
    settings
        .providers
        .iter()
        .map(|p| (p.name.to_ascii_lowercase(), p))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn defaults_follow_openimis_except_decisions_20_21() {
        let s = ConfigSources::default().resolve().unwrap();
        assert_eq!(s.module.reminder_before_expiry_days, 5);
        assert_eq!(s.module.reminder_after_expiry_days, 5);
        assert_eq!(s.module.trigger_time_interval_hours, 4);
        assert_eq!(s.module.trigger_first_call_hour, 8);
        assert_eq!(s.module.trigger_last_call_hour, 20);
        assert_eq!(
            s.module.family_policy_notification_report_perms,
            vec![131224]
        );
        assert_eq!(s.module.providers.len(), 1);
        assert_eq!(s.module.providers[0].name, "TextNotificationProvider");
        assert_eq!(
            s.module.eligible_notification_types,
            EligibleNotificationTypes::default()
        );
        assert_eq!(s.service.listen.to_string(), "127.0.0.1:8000");
        assert_eq!(s.trigger_hours().hours(), &[8, 12, 16, 20]);
    }

    #[test]
    fn trigger_hour_specs() {
        assert_eq!("8".parse::<TriggerHours>().unwrap().hours(), &[8]);
        assert_eq!(
            "8,12,16".parse::<TriggerHours>().unwrap().hours(),
            &[8, 12, 16]
        );
        assert_eq!(
            "8-11".parse::<TriggerHours>().unwrap().hours(),
            &[8, 9, 10, 11]
        );
        assert!("24".parse::<TriggerHours>().is_err());
        assert!("16-8".parse::<TriggerHours>().is_err());
        assert!("a".parse::<TriggerHours>().is_err());
        assert!("".parse::<TriggerHours>().is_err());
    }

    #[test]
    fn env_keys_are_case_insensitive_and_deep() {
        let mut sources = ConfigSources::from_toml(
            r#"
            [policy_notification.providers.eGASMSGateway]
            GateUrl = "http://127.0.0.1:1"
            PrivateKey = "from-file"
            "#,
        )
        .unwrap();
        sources
            .add_env(env(&[
                ("PN_PROVIDERS__EGASMSGATEWAY__PRIVATEKEY", "from-env"),
                ("PN_SERVICE__LISTEN", "127.0.0.1:9999"),
                ("PN_REMINDER_BEFORE_EXPIRY_DAYS", "7"),
                ("UNRELATED", "x"),
            ]))
            .unwrap();
        let s = sources.resolve().unwrap();
        assert_eq!(
            s.module.providers.len(),
            1,
            "a file that lists providers replaces the default list"
        );
        assert_eq!(
            s.module.providers[0].param_str("privatekey").as_deref(),
            Some("from-env")
        );
        assert_eq!(s.service.listen.port(), 9999);
        assert_eq!(s.module.reminder_before_expiry_days, 7);
    }
}
