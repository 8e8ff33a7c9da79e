//! Settings: built-in defaults, openIMIS's `core_ModuleConfiguration` row, a TOML file and `PN_*`
//! environment variables, layered in that order (later wins).
//!
//! The file has two sections: `[service]` holds this service's own keys (DECISIONS 35) and
//! `[policy_notification]` holds the openIMIS module keys under openIMIS's names. Environment
//! variables use the prefix `PN_` and `__` between levels: `PN_SERVICE__LISTEN` sets
//! `service.listen`, any other `PN_X__Y` sets the module key `X.Y`
//! (e.g. `PN_PROVIDERS__EGASMSGATEWAY__PRIVATEKEY`). Keys match case-insensitively.
//!
//! The settings are types: each key, its default (in `impl Default`) and its accepted form (the
//! serde attributes) are stated once, on the struct. The layers are merged as JSON first, every
//! value remembering where it came from, then deserialized; an error names the key, the expected
//! form and the file, variable or database row that gave the value.

use std::collections::BTreeMap;
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use indexmap::IndexMap;
use secrecy::{ExposeSecret, SecretString};
use serde::de::{self, DeserializeOwned, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::{Map, Value};

/// Name of the openIMIS module whose configuration we read (`core_ModuleConfiguration.module`).
pub const MODULE_NAME: &str = "policy_notification";
/// Default config file read from the working directory when `--config` is not given.
pub const DEFAULT_CONFIG_FILE: &str = "policy-notification.toml";
/// Prefix of the environment variables read as configuration.
pub const ENV_PREFIX: &str = "PN_";

/// Where a configuration value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// The built-in defaults.
    Default,
    /// A TOML file (`<inline>` for text given directly).
    File(PathBuf),
    /// An environment variable, by name.
    Env(String),
    /// openIMIS's `core_ModuleConfiguration` row.
    Row,
    /// A command-line flag, e.g. `--listen`.
    Flag(String),
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Default => f.write_str("the built-in defaults"),
            Origin::File(path) => write!(f, "config file {}", path.display()),
            Origin::Env(name) => write!(f, "environment variable {name}"),
            Origin::Flag(name) => write!(f, "command-line flag {name}"),
            Origin::Row => write!(
                f,
                "the core_ModuleConfiguration row of module `{MODULE_NAME}`"
            ),
        }
    }
}

fn in_origin(origin: &Option<Origin>) -> String {
    origin
        .as_ref()
        .map(|o| format!(" in {o}"))
        .unwrap_or_default()
}

fn did_you_mean(suggestion: &Option<String>) -> String {
    suggestion
        .as_ref()
        .map(|s| format!("; did you mean `{s}`?"))
        .unwrap_or_default()
}

/// A configuration value that cannot be used; names the key, the expected form and the source.
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
    /// `message` ends with the expected form, e.g. `30 is out of range (expected …)`.
    #[error("invalid value for `{key}`{}: {message}", in_origin(.origin))]
    Invalid {
        key: String,
        message: String,
        origin: Option<Origin>,
    },
    #[error("unknown key `{key}` in {origin}{} (known keys: {known})", did_you_mean(.suggestion))]
    UnknownKey {
        key: String,
        origin: Origin,
        suggestion: Option<String>,
        known: String,
    },
}

/// The whole configuration of a running service.
#[derive(Debug, Clone)]
pub struct Settings {
    pub service: ServiceSettings,
    pub module: ModuleSettings,
}

/// Our own keys, the `[service]` section (DECISIONS 35). Secrets are never serialized.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServiceSettings {
    /// Address the HTTP server listens on.
    #[serde(deserialize_with = "listen")]
    pub listen: SocketAddr,
    /// Folder of the embedded PostgreSQL cluster and of generated secrets.
    pub data_dir: PathBuf,
    /// External database; `None` means the embedded default.
    #[serde(deserialize_with = "database_url", skip_serializing)]
    pub database_url: Option<SecretString>,
    /// Fallback HS256 secret for users without a `PrivateKey`.
    #[serde(deserialize_with = "secret", skip_serializing)]
    pub jwt_secret: Option<SecretString>,
    /// Served over HTTPS (makes the `JWT` cookie `Secure`).
    pub https: bool,
    /// Time zone of "today" and of the trigger window.
    #[serde(deserialize_with = "timezone", serialize_with = "display")]
    pub timezone: chrono_tz::Tz,
    /// Approval given to a family that states none.
    pub default_approval: bool,
    /// Language given to a family that states none; `None` = first by `SortOrder`, then code.
    #[serde(deserialize_with = "language")]
    pub default_language: Option<String>,
    /// Country calling code used to normalise recipients (digits only).
    #[serde(deserialize_with = "country_code")]
    pub country_code: String,
    /// Folder of operator `.po` catalogs that add or override languages.
    pub templates_dir: Option<PathBuf>,
    /// openIMIS-style hour spec ("8", "8,12,16", "8-16"); overrides the three trigger keys.
    #[serde(deserialize_with = "trigger_hours")]
    pub trigger_hours: Option<TriggerHours>,
    /// Messages sent at once by the sender.
    #[serde(deserialize_with = "int::<1, 256, _, _>")]
    pub send_concurrency: usize,
    /// Messages a sweep claims in one transaction, sends (`send_concurrency` at once) and whose
    /// outcomes it then records in one statement: the most a crash can leave in doubt.
    #[serde(deserialize_with = "int::<1, 10_000, _, _>")]
    pub sweep_batch_size: usize,
    /// How long a sweep waits out database errors (one operation, seconds) before giving up.
    #[serde(deserialize_with = "int::<1, 86_400, _, _>")]
    pub sweep_db_retry_seconds: u64,
    /// Folder of the PostgreSQL server binaries (`initdb`, `pg_ctl`, `postgres`).
    pub pg_bin: Option<PathBuf>,
    /// Separate listen address that serves `/metrics` without a token.
    #[serde(deserialize_with = "metrics_listen")]
    pub metrics_listen: Option<SocketAddr>,
    /// Reverse proxies whose `X-Forwarded-For` names the client's address (login throttling).
    #[serde(deserialize_with = "addresses")]
    pub trusted_proxies: Vec<IpAddr>,
    /// Bearer token that opens `/metrics` on the main listener.
    #[serde(deserialize_with = "secret", skip_serializing)]
    pub metrics_token: Option<SecretString>,
    /// Lifetime of an access token, seconds (openIMIS: one day).
    #[serde(deserialize_with = "int::<60, { 90 * 86_400 }, _, _>")]
    pub jwt_expiration_seconds: i64,
    /// How long a token may be refreshed after login, seconds (openIMIS: 30 days).
    #[serde(deserialize_with = "int::<60, { 365 * 86_400 }, _, _>")]
    pub jwt_refresh_expiration_seconds: i64,
    /// Largest accepted request body, bytes.
    #[serde(deserialize_with = "int::<1024, { 64 * 1024 * 1024 }, _, _>")]
    pub max_body_bytes: usize,
    /// Deepest accepted GraphQL query.
    #[serde(deserialize_with = "int::<3, 100, _, _>")]
    pub graphql_max_depth: usize,
    /// Largest accepted GraphQL query complexity.
    #[serde(deserialize_with = "int::<10, 1_000_000, _, _>")]
    pub graphql_max_complexity: usize,
    /// Right that lets a user see and settle unknown send outcomes.
    #[serde(deserialize_with = "rights", serialize_with = "rights_as_text")]
    pub notification_admin_perms: Vec<i32>,
    /// Connections in the pool.
    #[serde(deserialize_with = "int::<1, 512, _, _>")]
    pub pool_size: usize,
    /// Apply openIMIS's own completed family mutations (its mutation log) to `tblFamilySMS`
    /// (DECISIONS 45).
    pub follow_openimis_mutations: bool,
    /// How often the follower reads the mutation log, milliseconds.
    #[serde(deserialize_with = "int::<100, 60_000, _, _>")]
    pub follow_poll_millis: u64,
    /// PEM file of the RSA public key openIMIS signs RS256 tokens with (DECISIONS 47).
    #[serde(deserialize_with = "public_key_file")]
    pub jwt_public_key_file: Option<PublicKeyFile>,
}

impl Default for ServiceSettings {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8000)),
            data_dir: PathBuf::from(".data"),
            database_url: None,
            jwt_secret: None,
            https: false,
            timezone: chrono_tz::UTC,
            default_approval: false,
            default_language: None,
            country_code: "255".into(),
            templates_dir: None,
            trigger_hours: None,
            send_concurrency: 8,
            sweep_batch_size: 200,
            sweep_db_retry_seconds: 120,
            pg_bin: None,
            metrics_listen: None,
            trusted_proxies: Vec::new(),
            metrics_token: None,
            jwt_expiration_seconds: 86_400,
            jwt_refresh_expiration_seconds: 30 * 86_400,
            max_body_bytes: 1024 * 1024,
            graphql_max_depth: 15,
            graphql_max_complexity: 5000,
            notification_admin_perms: vec![131224],
            pool_size: 16,
            follow_openimis_mutations: false,
            follow_poll_millis: 2000,
            jwt_public_key_file: None,
        }
    }
}

/// The openIMIS module keys, under openIMIS's names and in openIMIS's JSON shapes.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct ModuleSettings {
    /// Providers in the order written; each entry keeps its raw parameters.
    #[serde(deserialize_with = "providers", serialize_with = "providers_as_map")]
    pub providers: Vec<ProviderSettings>,
    #[serde(rename = "eligibleNotificationTypes")]
    pub eligible_notification_types: EligibleNotificationTypes,
    #[serde(deserialize_with = "rights", serialize_with = "rights_as_text")]
    pub family_policy_notification_report_perms: Vec<i32>,
    #[serde(deserialize_with = "int::<1, 24, _, _>")]
    pub trigger_time_interval_hours: u32,
    #[serde(deserialize_with = "int::<0, 23, _, _>")]
    pub trigger_first_call_hour: u32,
    #[serde(deserialize_with = "int::<0, 23, _, _>")]
    pub trigger_last_call_hour: u32,
    #[serde(deserialize_with = "int::<0, 3650, _, _>")]
    pub reminder_before_expiry_days: i64,
    #[serde(deserialize_with = "int::<0, 3650, _, _>")]
    pub reminder_after_expiry_days: i64,
    #[serde(deserialize_with = "int::<0, 3650, _, _>")]
    pub policy_activation_relevance_maximum_days_timedelta: i64,
    #[serde(deserialize_with = "int::<0, 3650, _, _>")]
    pub policy_renewal_relevance_maximum_days_timedelta: i64,
}

impl Default for ModuleSettings {
    /// openIMIS's defaults, except 5 days before expiry (DECISIONS 20) and no eGA entry with empty
    /// parameters (DECISIONS 21).
    fn default() -> Self {
        let mut text = Map::new();
        text.insert("DestinationFolder".into(), "sent_notification".into());
        Self {
            providers: vec![ProviderSettings {
                name: "TextNotificationProvider".into(),
                params: text,
                rate_per_second: None,
                timeout_seconds: default_timeout(),
            }],
            eligible_notification_types: EligibleNotificationTypes::default(),
            family_policy_notification_report_perms: vec![131224],
            trigger_time_interval_hours: 4,
            trigger_first_call_hour: 8,
            trigger_last_call_hour: 20,
            reminder_before_expiry_days: 5,
            reminder_after_expiry_days: 5,
            policy_activation_relevance_maximum_days_timedelta: 5,
            policy_renewal_relevance_maximum_days_timedelta: 5,
        }
    }
}

/// The parameters each provider we implement takes, besides our [`PROVIDER_OWN_KEYS`]. An eGA
/// entry also takes every parameter its `HeaderValues` names.
pub const PROVIDER_PARAMS: &[(&str, &[&str])] = &[
    ("TextNotificationProvider", &["DestinationFolder"]),
    (
        "eGASMSGateway",
        &[
            "GateUrl",
            "SmsResource",
            "PrivateKey",
            "UserId",
            "SenderId",
            "ServiceId",
            "RequestType",
            "HeaderKeys",
            "HeaderValues",
        ],
    ),
];

/// Our keys every provider takes ([`ProviderSettings::rate_per_second`], `timeout_seconds`).
pub const PROVIDER_OWN_KEYS: &[&str] = &["rate_per_second", "timeout_seconds"];

fn default_timeout() -> u64 {
    30
}

/// One configured notification provider, as written (name and parameters).
#[derive(Clone, Deserialize, Serialize)]
pub struct ProviderSettings {
    /// The name as configured, e.g. `eGASMSGateway` (matched case-insensitively).
    #[serde(skip)]
    pub name: String,
    /// Messages per second this provider may take; `None` = unlimited.
    #[serde(
        default,
        deserialize_with = "rate",
        skip_serializing_if = "Option::is_none"
    )]
    pub rate_per_second: Option<f64>,
    /// Request timeout in seconds.
    #[serde(default = "default_timeout", deserialize_with = "int::<1, 600, _, _>")]
    pub timeout_seconds: u64,
    /// Provider parameters other than ours, e.g. `GateUrl`, `PrivateKey`.
    #[serde(flatten)]
    pub params: Map<String, Value>,
}

impl fmt::Debug for ProviderSettings {
    /// Parameter names only: values such as `PrivateKey` are secrets.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProviderSettings")
            .field("name", &self.name)
            .field("params", &self.params.keys().collect::<Vec<_>>())
            .field("rate_per_second", &self.rate_per_second)
            .field("timeout_seconds", &self.timeout_seconds)
            .finish()
    }
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

/// Which of the six events are sent (`eligibleNotificationTypes`); `true`/`false` or `1`/`0`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct EligibleNotificationTypes {
    #[serde(deserialize_with = "flag")]
    pub activation_of_policy: bool,
    #[serde(deserialize_with = "flag")]
    pub starting_of_policy: bool,
    #[serde(deserialize_with = "flag")]
    pub need_for_renewal: bool,
    #[serde(deserialize_with = "flag")]
    pub expiration_of_policy: bool,
    #[serde(deserialize_with = "flag")]
    pub reminder_after_expiration: bool,
    #[serde(deserialize_with = "flag")]
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

impl Serialize for TriggerHours {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
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

/// Every key `[service]` accepts (anything else is an error naming the key).
pub fn service_keys() -> &'static [&'static str] {
    fields_of::<ServiceSettings>()
}

/// Every key `[policy_notification]` accepts, as openIMIS names them.
pub fn module_keys() -> &'static [&'static str] {
    fields_of::<ModuleSettings>()
}

/// The six event names of `eligibleNotificationTypes`.
pub fn event_keys() -> &'static [&'static str] {
    fields_of::<EligibleNotificationTypes>()
}

/// One `PN_*` variable or command-line flag: the key path it sets and its typed value.
#[derive(Clone)]
struct Override {
    origin: Origin,
    service: bool,
    path: Vec<String>,
    value: Value,
}

/// The configuration sources other than the database row, read once at start-up.
#[derive(Clone, Default)]
pub struct ConfigSources {
    file_service: Map<String, Value>,
    file_module: Map<String, Value>,
    /// The file read (`<inline>` for [`ConfigSources::from_toml`]).
    file: Option<PathBuf>,
    overrides: Vec<Override>,
}

impl fmt::Debug for ConfigSources {
    /// Names only: the values may be secrets.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConfigSources")
            .field("file", &self.file)
            .field(
                "overrides",
                &self.overrides.iter().map(|o| &o.origin).collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
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
            sources.add_toml(&text, path)?;
        }
        sources.add_env(env)?;
        Ok(sources)
    }

    /// Sources from TOML text alone (tests, tools).
    pub fn from_toml(text: &str) -> Result<Self, ConfigError> {
        let mut sources = ConfigSources::default();
        sources.add_toml(text, Path::new("<inline>"))?;
        Ok(sources)
    }

    fn add_toml(&mut self, text: &str, path: &Path) -> Result<(), ConfigError> {
        let toml_error = |message: String| ConfigError::Toml {
            path: path.to_path_buf(),
            message,
        };
        let table: toml::Table = toml::from_str(text).map_err(|e| toml_error(e.to_string()))?;
        let value = serde_json::to_value(table).map_err(|e| toml_error(e.to_string()))?;
        let Value::Object(top) = value else {
            return Err(toml_error("not a table".into()));
        };
        let origin = Origin::File(path.to_path_buf());
        for (key, value) in top {
            let target = if key.eq_ignore_ascii_case("service") {
                &mut self.file_service
            } else if key.eq_ignore_ascii_case(MODULE_NAME) {
                &mut self.file_module
            } else {
                return Err(unknown_key(&key, origin, &["service", MODULE_NAME]));
            };
            match value {
                Value::Object(map) => {
                    deep_merge(target, map, "", &origin, &mut Provenance::default())
                }
                other => {
                    return Err(ConfigError::Invalid {
                        key,
                        message: format!("{} (expected a table)", shown(&other)),
                        origin: Some(origin),
                    });
                }
            }
        }
        self.file = Some(path.to_path_buf());
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
            let mut path: Vec<String> = rest.split("__").map(|s| s.to_ascii_lowercase()).collect();
            let form = |message: &str, expected: &str| ConfigError::Invalid {
                key: name.clone(),
                message: format!("{message} (expected {expected})"),
                origin: None,
            };
            if path.iter().any(String::is_empty) {
                return Err(form("empty level", "PN_KEY or PN_SECTION__KEY"));
            }
            let service = path[0] == "service";
            if service {
                path.remove(0);
                if path.is_empty() {
                    return Err(form("no key after the section", "PN_SERVICE__KEY"));
                }
            }
            self.overrides.push(Override {
                value: env_value(&value),
                origin: Origin::Env(name),
                service,
                path,
            });
        }
        // PN_SERVICE__DATABASE_URL wins over the generic DATABASE_URL.
        if let Some(url) = database_url
            && !self
                .overrides
                .iter()
                .any(|e| e.service && e.path == ["database_url"])
        {
            self.overrides.push(Override {
                origin: Origin::Env("DATABASE_URL".into()),
                service: true,
                path: vec!["database_url".into()],
                value: Value::String(url),
            });
        }
        Ok(())
    }

    /// Adds the command-line flag `flag` that sets `[service] key` to `value`; flags win over
    /// every other layer.
    pub fn add_flag(&mut self, flag: &str, key: &str, value: &str) {
        self.overrides.push(Override {
            origin: Origin::Flag(flag.into()),
            service: true,
            path: vec![key.into()],
            value: Value::String(value.into()),
        });
    }

    /// Resolves the settings without a database row (defaults < file < environment).
    pub fn resolve(&self) -> Result<Settings, ConfigError> {
        self.resolve_with_row(None)
    }

    /// Resolves the settings with openIMIS's module configuration JSON (defaults < row < file < env);
    /// unknown keys of the row are logged as warnings and ignored.
    pub fn resolve_with_row(&self, row: Option<&str>) -> Result<Settings, ConfigError> {
        let (settings, warnings) = self.resolve_with_row_and_warnings(row)?;
        for warning in warnings {
            tracing::warn!("{warning}");
        }
        Ok(settings)
    }

    /// Like [`ConfigSources::resolve_with_row`], returning the row's problems (unknown keys, which
    /// are ignored) instead of logging them.
    pub fn resolve_with_row_and_warnings(
        &self,
        row: Option<&str>,
    ) -> Result<(Settings, Vec<String>), ConfigError> {
        let mut prov = Provenance::default();
        let file = Origin::File(self.file.clone().unwrap_or_default());

        let mut service = Map::new();
        deep_merge(
            &mut service,
            self.file_service.clone(),
            "service",
            &file,
            &mut prov,
        );

        let mut module = match serde_json::to_value(ModuleSettings::default()) {
            Ok(Value::Object(map)) => map,
            _ => Map::new(),
        };
        prov.record("", &Value::Object(module.clone()), &Origin::Default);
        if let Some(row) = row {
            let parsed: Value =
                serde_json::from_str(row).map_err(|e| ConfigError::DatabaseRow(e.to_string()))?;
            let Value::Object(map) = parsed else {
                return Err(ConfigError::DatabaseRow("the JSON is not an object".into()));
            };
            // openIMIS's merge: each top-level key of the row replaces the default as a whole.
            for (key, value) in map {
                if let Some(k) = find_key(&module, &key).cloned() {
                    module.remove(&k);
                    prov.forget(&k);
                }
                prov.record(&key, &value, &Origin::Row);
                module.insert(key, value);
            }
        }
        // A file that lists providers replaces the list: the order written is the order used.
        if find_key(&self.file_module, "providers").is_some()
            && let Some(k) = find_key(&module, "providers").cloned()
        {
            module.insert(k.clone(), Value::Object(Map::new()));
            prov.forget(&k);
        }
        deep_merge(&mut module, self.file_module.clone(), "", &file, &mut prov);

        // The environment, then the flags.
        let (flags, env): (Vec<&Override>, Vec<&Override>) =
            (self.overrides.iter()).partition(|o| matches!(o.origin, Origin::Flag(_)));
        for o in env.into_iter().chain(flags) {
            let (map, base) = match o.service {
                true => (&mut service, "service"),
                false => (&mut module, ""),
            };
            set_path(map, &o.path, o.value.clone(), base, &o.origin, &mut prov);
        }

        strip_nulls(&mut service);
        strip_nulls(&mut module);
        let mut check = KeyCheck {
            prov: &prov,
            warnings: Vec::new(),
        };
        check.table(&mut service, "service", service_keys(), true)?;
        check.module(&mut module)?;
        let warnings = check.warnings;

        let service: ServiceSettings = deserialize(service, "service.", &prov)?;
        let module: ModuleSettings = deserialize(module, "", &prov)?;
        if module.trigger_first_call_hour > module.trigger_last_call_hour {
            let origin = [
                prov.of("trigger_last_call_hour"),
                prov.of("trigger_first_call_hour"),
            ]
            .into_iter()
            .flatten()
            .find(|o| **o != Origin::Default)
            .cloned();
            return Err(ConfigError::Invalid {
                key: "trigger_last_call_hour".into(),
                message: format!(
                    "{} is before trigger_first_call_hour {} (expected an hour at or after trigger_first_call_hour)",
                    module.trigger_last_call_hour, module.trigger_first_call_hour
                ),
                origin,
            });
        }
        Ok((Settings { service, module }, warnings))
    }
}

/// Deserializes the merged `map` into `T`; an error names the key (after `prefix`) and its origin.
fn deserialize<T: DeserializeOwned>(
    map: Map<String, Value>,
    prefix: &str,
    prov: &Provenance,
) -> Result<T, ConfigError> {
    serde_path_to_error::deserialize(Value::Object(map)).map_err(|e| {
        let path = e.path().to_string();
        let key = if path == "." {
            prefix.trim_end_matches('.').to_string()
        } else {
            format!("{prefix}{path}")
        };
        ConfigError::Invalid {
            origin: prov.of(&key).cloned(),
            key,
            message: e.into_inner().to_string(),
        }
    })
}

/// Where each merged value came from, by lower-case key path (`service.listen`,
/// `providers.egasmsgateway.gateurl`).
#[derive(Default)]
struct Provenance(BTreeMap<String, Origin>);

impl Provenance {
    fn record(&mut self, path: &str, value: &Value, origin: &Origin) {
        if !path.is_empty() {
            self.0.insert(path.to_ascii_lowercase(), origin.clone());
        }
        if let Value::Object(map) = value {
            for (k, v) in map {
                self.record(&join(path, k), v, origin);
            }
        }
    }

    fn forget(&mut self, path: &str) {
        let path = path.to_ascii_lowercase();
        let below = format!("{path}.");
        self.0.retain(|k, _| *k != path && !k.starts_with(&below));
    }

    /// The origin of the value at `path`, or of the nearest value around it.
    fn of(&self, path: &str) -> Option<&Origin> {
        let mut path: String = path
            .split('[')
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        loop {
            if let Some(origin) = self.0.get(&path) {
                return Some(origin);
            }
            path.truncate(path.rfind('.')?);
        }
    }

    /// The origin of the value at `path` or below it, preferring any source but the row.
    fn under(&self, path: &str) -> Origin {
        let path = path.to_ascii_lowercase();
        let below = format!("{path}.");
        let mut found = self
            .0
            .range(path.clone()..)
            .take_while(|(k, _)| **k == path || k.starts_with(&below))
            .map(|(_, o)| o);
        let first = found.next().cloned().unwrap_or(Origin::Default);
        if first == Origin::Row {
            found.find(|o| **o != Origin::Row).cloned().unwrap_or(first)
        } else {
            first
        }
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// Checks the merged keys against the types: renames each to its declared spelling (keys match
/// case-insensitively); an unknown key is an error, or a warning when only the database row
/// states it (openIMIS's shared row may carry keys of other versions; it is then ignored).
struct KeyCheck<'a> {
    prov: &'a Provenance,
    warnings: Vec<String>,
}

impl KeyCheck<'_> {
    fn table(
        &mut self,
        map: &mut Map<String, Value>,
        path: &str,
        known: &[&str],
        strict: bool,
    ) -> Result<(), ConfigError> {
        let mut checked = Map::new();
        for (key, value) in std::mem::take(map) {
            match known.iter().find(|k| k.eq_ignore_ascii_case(&key)) {
                Some(k) => {
                    checked.insert(k.to_string(), value);
                }
                None if !strict => {
                    checked.insert(key, value);
                }
                None => {
                    let full = join(path, &key);
                    match self.prov.under(&full) {
                        Origin::Row => {
                            let suggestion = did_you_mean(&closest(&key, known));
                            self.warnings.push(format!(
                                "unknown key `{full}` in {} ignored{suggestion} (known keys: {})",
                                Origin::Row,
                                known.join(", ")
                            ));
                        }
                        origin => return Err(unknown_key(&full, origin, known)),
                    }
                }
            }
        }
        *map = checked;
        Ok(())
    }

    fn module(&mut self, module: &mut Map<String, Value>) -> Result<(), ConfigError> {
        self.table(module, "", module_keys(), true)?;
        if let Some(types) = module.get_mut("eligibleNotificationTypes") {
            let types = self.subtable(
                types,
                "eligibleNotificationTypes",
                "a table of the six event names with true or false",
            )?;
            self.table(types, "eligibleNotificationTypes", event_keys(), true)?;
        }
        if let Some(providers) = module.get_mut("providers") {
            let providers = self.subtable(
                providers,
                "providers",
                "a table of provider name → parameters",
            )?;
            for (name, params) in providers.iter_mut() {
                let path = format!("providers.{name}");
                let params = self.subtable(params, &path, "a table of provider parameters")?;
                let known = PROVIDER_PARAMS
                    .iter()
                    .find(|(n, _)| n.eq_ignore_ascii_case(name))
                    .map(|(_, p)| *p);
                // eGA headers may take further parameters, named in `HeaderValues`.
                let named = find_key(params, "HeaderValues")
                    .and_then(|k| params[k].as_str())
                    .unwrap_or_default()
                    .to_string();
                let keys: Vec<&str> = (known.unwrap_or_default().iter().copied())
                    .chain(named.split(',').map(str::trim).filter(|v| !v.is_empty()))
                    .chain(PROVIDER_OWN_KEYS.iter().copied())
                    .collect();
                // A provider we do not implement is skipped with an error at start; its
                // parameters are not ours to judge.
                self.table(params, &path, &keys, known.is_some())?;
            }
        }
        Ok(())
    }

    fn subtable<'v>(
        &self,
        value: &'v mut Value,
        path: &str,
        expected: &str,
    ) -> Result<&'v mut Map<String, Value>, ConfigError> {
        match value {
            Value::Object(map) => Ok(map),
            other => Err(ConfigError::Invalid {
                key: path.to_string(),
                message: format!("{} (expected {expected})", shown(other)),
                origin: self.prov.of(path).cloned(),
            }),
        }
    }
}

fn unknown_key(key: &str, origin: Origin, known: &[&str]) -> ConfigError {
    let last = key.rsplit('.').next().unwrap_or(key);
    ConfigError::UnknownKey {
        key: key.to_string(),
        origin,
        suggestion: closest(last, known),
        known: known.join(", "),
    }
}

/// The known key nearest to `key` when it is a likely typo (a few letters apart).
fn closest(key: &str, known: &[&str]) -> Option<String> {
    let key = key.to_ascii_lowercase();
    known
        .iter()
        .map(|k| (edit_distance(&key, &k.to_ascii_lowercase()), k))
        .filter(|(d, k)| *d <= (k.len() / 4).clamp(1, 3))
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k.to_string())
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let next = (prev + usize::from(ca != *cb))
                .min(row[j] + 1)
                .min(row[j + 1] + 1);
            prev = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[b.len()]
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

/// Sets `value` at `path` below `map` (at `base`), creating tables; keys match
/// case-insensitively and keep the spelling already present.
fn set_path(
    map: &mut Map<String, Value>,
    path: &[String],
    value: Value,
    base: &str,
    origin: &Origin,
    prov: &mut Provenance,
) {
    let key = find_key(map, &path[0])
        .cloned()
        .unwrap_or_else(|| path[0].clone());
    let here = join(base, &key);
    if path.len() == 1 {
        prov.forget(&here);
        prov.record(&here, &value, origin);
        map.insert(key, value);
        return;
    }
    let entry = map.entry(key).or_insert_with(|| Value::Object(Map::new()));
    if !entry.is_object() {
        *entry = Value::Object(Map::new());
    }
    if let Value::Object(inner) = entry {
        set_path(inner, &path[1..], value, &here, origin, prov);
    }
}

/// Merges `over` into `base`, recursing into tables; keys match case-insensitively and keep
/// the spelling already present.
fn deep_merge(
    base: &mut Map<String, Value>,
    over: Map<String, Value>,
    path: &str,
    origin: &Origin,
    prov: &mut Provenance,
) {
    for (key, value) in over {
        let existing = find_key(base, &key).cloned();
        let here = join(path, existing.as_deref().unwrap_or(&key));
        match (existing, value) {
            (Some(k), Value::Object(o)) if base.get(&k).is_some_and(Value::is_object) => {
                if let Some(Value::Object(inner)) = base.get_mut(&k) {
                    deep_merge(inner, o, &here, origin, prov);
                }
            }
            (existing, v) => {
                prov.forget(&here);
                prov.record(&here, &v, origin);
                base.insert(existing.unwrap_or(key), v);
            }
        }
    }
}

/// A `null` (JSON rows) means the key is not set.
fn strip_nulls(map: &mut Map<String, Value>) {
    map.retain(|_, v| !v.is_null());
    for v in map.values_mut() {
        if let Value::Object(inner) = v {
            strip_nulls(inner);
        }
    }
}

/// The probe that reads the field names serde derives for a struct.
struct FieldNames<'a>(&'a mut &'static [&'static str]);

impl<'de> Deserializer<'de> for FieldNames<'_> {
    type Error = de::value::Error;

    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
        Err(de::Error::custom("not a struct"))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        _: V,
    ) -> Result<V::Value, Self::Error> {
        *self.0 = fields;
        Err(de::Error::custom("names read"))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
        ignored_any
    }
}

/// The keys of the struct `T`, as its serde derive names them.
fn fields_of<T: DeserializeOwned>() -> &'static [&'static str] {
    let mut fields: &'static [&'static str] = &[];
    let _ = T::deserialize(FieldNames(&mut fields));
    fields
}

// Field parsers: each names the expected form; serde_path_to_error adds the key.

/// A value as an error message shows it: text as written, anything else as JSON.
fn shown(v: &Value) -> String {
    match v {
        Value::String(s) => format!("`{s}`"),
        other => format!("`{other}`"),
    }
}

fn wrong<E: de::Error>(v: &Value, expected: &str) -> E {
    E::custom(format!("{} (expected {expected})", shown(v)))
}

/// Text (with `numbers`, a number written out), parsed by `parse`.
fn parsed<'de, D: Deserializer<'de>, T>(
    d: D,
    numbers: bool,
    expected: &str,
    parse: impl FnOnce(&str) -> Result<T, String>,
) -> Result<T, D::Error> {
    let v = Value::deserialize(d)?;
    let text = match &v {
        Value::String(s) => s.clone(),
        Value::Number(n) if numbers => n.to_string(),
        _ => return Err(wrong(&v, expected)),
    };
    parse(&text).map_err(|message| {
        let message = if message.is_empty() {
            shown(&v)
        } else {
            message
        };
        de::Error::custom(format!("{message} (expected {expected})"))
    })
}

fn listen<'de, D: Deserializer<'de>>(d: D) -> Result<SocketAddr, D::Error> {
    parsed(d, false, "an address such as 127.0.0.1:8000", |s| {
        s.parse().map_err(|_| String::new())
    })
}

fn metrics_listen<'de, D: Deserializer<'de>>(d: D) -> Result<Option<SocketAddr>, D::Error> {
    listen(d).map(Some)
}

fn secret<'de, D: Deserializer<'de>>(d: D) -> Result<Option<SecretString>, D::Error> {
    match Value::deserialize(d)? {
        Value::String(s) if !s.trim().is_empty() => Ok(Some(SecretString::from(s))),
        Value::String(_) => Err(de::Error::custom("empty (expected a non-empty string)")),
        // Not shown: it may be the secret.
        _ => Err(de::Error::custom(
            "not a string (expected a non-empty string)",
        )),
    }
}

/// An RSA public key file, read and checked when the settings are read.
#[derive(Clone)]
pub struct PublicKeyFile {
    /// Where it was read from.
    pub path: PathBuf,
    /// Its PEM text.
    pub pem: String,
}

impl fmt::Debug for PublicKeyFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PublicKeyFile")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl Serialize for PublicKeyFile {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&self.path.display())
    }
}

fn public_key_file<'de, D: Deserializer<'de>>(d: D) -> Result<Option<PublicKeyFile>, D::Error> {
    let path = match Value::deserialize(d)? {
        Value::String(s) if !s.trim().is_empty() => PathBuf::from(s.trim()),
        _ => return Err(de::Error::custom("expected the path of a PEM file")),
    };
    let pem = std::fs::read_to_string(&path)
        .map_err(|e| de::Error::custom(format!("cannot read {}: {e}", path.display())))?;
    crate::auth::rsa_key::pkcs1_der(&pem).map_err(|e| {
        de::Error::custom(format!(
            "{} is not an RSA public key in PEM form ({e})",
            path.display()
        ))
    })?;
    Ok(Some(PublicKeyFile { path, pem }))
}

fn database_url<'de, D: Deserializer<'de>>(d: D) -> Result<Option<SecretString>, D::Error> {
    let url = secret(d)?;
    if let Some(u) = &url
        && !(u.expose_secret().starts_with("postgres://")
            || u.expose_secret().starts_with("postgresql://"))
    {
        return Err(de::Error::custom(
            "not a PostgreSQL URL (expected postgres://user:password@host:port/database)",
        ));
    }
    Ok(url)
}

fn timezone<'de, D: Deserializer<'de>>(d: D) -> Result<chrono_tz::Tz, D::Error> {
    parsed(
        d,
        false,
        "an IANA time zone name such as Africa/Dar_es_Salaam or UTC",
        |s| {
            s.parse::<chrono_tz::Tz>()
                .map_err(|_| format!("`{s}` is not a known time zone"))
        },
    )
}

fn language<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    parsed(d, false, "a tblLanguages code of 1 to 5 characters", |s| {
        if s.is_empty() || s.len() > 5 {
            Err(String::new())
        } else {
            Ok(Some(s.to_string()))
        }
    })
}

fn country_code<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    parsed(
        d,
        true,
        "a country calling code of 1 to 4 digits, e.g. 255",
        |s| {
            let s = s.trim().trim_start_matches('+');
            if s.is_empty() || s.len() > 4 || !s.chars().all(|c| c.is_ascii_digit()) {
                Err(format!("`{s}`"))
            } else {
                Ok(s.to_string())
            }
        },
    )
}

fn trigger_hours<'de, D: Deserializer<'de>>(d: D) -> Result<Option<TriggerHours>, D::Error> {
    parsed(
        d,
        true,
        "an hour spec such as \"8\", \"8,12,16\" or \"8-16\"",
        |s| s.parse().map(Some),
    )
}

/// A whole number from `MIN` to `MAX`; openIMIS rows sometimes hold numbers as text.
fn int<'de, const MIN: i64, const MAX: i64, D: Deserializer<'de>, T: TryFrom<i64>>(
    d: D,
) -> Result<T, D::Error> {
    let expected = format!("a whole number from {MIN} to {MAX}");
    let v = Value::deserialize(d)?;
    let n = match &v {
        Value::String(s) => s.trim().parse::<i64>().map_err(|_| {
            de::Error::custom(format!("`{s}` is not a number (expected {expected})"))
        })?,
        Value::Number(n) => n.as_i64().ok_or_else(|| wrong(&v, &expected))?,
        _ => return Err(wrong(&v, &expected)),
    };
    if !(MIN..=MAX).contains(&n) {
        return Err(de::Error::custom(format!(
            "{n} is out of range (expected {expected})"
        )));
    }
    T::try_from(n).map_err(|_| wrong(&v, &expected))
}

fn flag<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    match Value::deserialize(d)? {
        Value::Bool(b) => Ok(b),
        Value::Number(n) if n.as_i64() == Some(0) => Ok(false),
        Value::Number(n) if n.as_i64() == Some(1) => Ok(true),
        other => Err(wrong(&other, "true or false, or 1 or 0")),
    }
}

fn rate<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    let v = Value::deserialize(d)?;
    match v.as_f64() {
        Some(r) if r.is_finite() && r > 0.0 => Ok(Some(r)),
        _ => Err(wrong(&v, "a positive number of messages per second")),
    }
}

/// A list of items, a single item standing for a one-item list.
fn items(v: Value) -> Vec<Value> {
    match v {
        Value::Array(items) => items,
        other => vec![other],
    }
}

fn addresses<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<IpAddr>, D::Error> {
    let expected = "a list of IP addresses, e.g. [\"127.0.0.1\"]";
    let items = match Value::deserialize(d)? {
        // An environment variable: comma-separated.
        Value::String(s) => s
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| Value::String(s.to_string()))
            .collect(),
        other => items(other),
    };
    items
        .into_iter()
        .map(|item| {
            item.as_str()
                .and_then(|s| s.trim().parse().ok())
                .ok_or_else(|| {
                    de::Error::custom(format!(
                        "{} is not an IP address (expected {expected})",
                        shown(&item)
                    ))
                })
        })
        .collect()
}

fn rights<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<i32>, D::Error> {
    let expected = "a list of openIMIS right codes, e.g. [\"131224\"]";
    items(Value::deserialize(d)?)
        .into_iter()
        .map(|item| {
            match &item {
                Value::String(s) => s.trim().parse::<i32>().ok(),
                Value::Number(n) => n.as_i64().and_then(|n| i32::try_from(n).ok()),
                _ => None,
            }
            .filter(|n| *n > 0)
            .ok_or_else(|| {
                de::Error::custom(format!(
                    "{} is not a right code (expected {expected})",
                    shown(&item)
                ))
            })
        })
        .collect()
}

fn providers<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<ProviderSettings>, D::Error> {
    let map = IndexMap::<String, ProviderSettings>::deserialize(d)?;
    Ok(map
        .into_iter()
        .map(|(name, mut p)| {
            p.name = name;
            p
        })
        .collect())
}

fn providers_as_map<S: Serializer>(
    providers: &[ProviderSettings],
    s: S,
) -> Result<S::Ok, S::Error> {
    s.collect_map(providers.iter().map(|p| (&p.name, p)))
}

/// Rights as openIMIS writes them: strings.
fn rights_as_text<S: Serializer>(rights: &[i32], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(rights.iter().map(i32::to_string))
}

fn display<T: fmt::Display, S: Serializer>(v: &T, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(v)
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
    fn key_lists_come_from_the_types() {
        assert_eq!(service_keys().len(), 28);
        assert!(service_keys().contains(&"jwt_secret"));
        assert_eq!(module_keys().len(), 10);
        assert!(module_keys().contains(&"eligibleNotificationTypes"));
        assert_eq!(event_keys().len(), 6);
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
    fn typos_get_a_suggestion() {
        assert_eq!(
            closest(
                "DestinationFoldr",
                &["DestinationFolder", "timeout_seconds"]
            )
            .as_deref(),
            Some("DestinationFolder")
        );
        assert_eq!(closest("colour", service_keys()), None);
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
        assert!(
            !format!("{:?}", s.module.providers[0]).contains("from-env"),
            "provider parameters stay out of Debug output"
        );
        assert_eq!(s.service.listen.port(), 9999);
        assert_eq!(s.module.reminder_before_expiry_days, 7);
    }
}
