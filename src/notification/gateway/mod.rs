//! Gateways: one trait answering delivered / definitely failed / unknown, and the provider chain
//! that tries them in configured order, moving on only after a definite failure (DECISIONS 18).

pub mod ega;
pub mod text_file;

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};

use crate::config::{ProviderSettings, Settings};

/// What a gateway says about one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendOutcome {
    /// The gateway accepted the message.
    Delivered,
    /// The message definitely did not leave (connection refused, HTTP error, negative answer).
    Failed(String),
    /// The request may have left but no answer tells what happened (timeout, broken answer).
    Unknown(String),
}

impl SendOutcome {
    /// Short label used in metrics and summaries.
    pub fn label(&self) -> &'static str {
        match self {
            SendOutcome::Delivered => "sent",
            SendOutcome::Failed(_) => "failed",
            SendOutcome::Unknown(_) => "unknown",
        }
    }
}

/// A way to deliver a text to a phone number.
#[async_trait]
pub trait Gateway: Send + Sync {
    /// The configured provider name, e.g. `eGASMSGateway`.
    fn name(&self) -> &str;
    /// Sends `text` to `phone` (already normalised).
    async fn send(&self, phone: &str, text: &str) -> SendOutcome;
}

/// A provider that cannot be configured as written.
#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    #[error("provider `{provider}`: {message}")]
    Config { provider: String, message: String },
    #[error(
        "no usable notification provider: configure `TextNotificationProvider` or `eGASMSGateway` under [policy_notification.providers]"
    )]
    NoProvider,
    #[error("no configured provider is named `{0}`")]
    UnknownProvider(String),
}

/// One provider of the chain with its rate limit and timeout.
pub struct Provider {
    gateway: Arc<dyn Gateway>,
    limiter: Option<DefaultDirectRateLimiter>,
    timeout: Duration,
}

impl Provider {
    /// Wraps a gateway with an optional rate (messages per second) and a timeout.
    pub fn new(gateway: Arc<dyn Gateway>, rate_per_second: Option<f64>, timeout: Duration) -> Self {
        let limiter = rate_per_second.and_then(|r| {
            let period = Duration::from_secs_f64(1.0 / r);
            Quota::with_period(period).map(|q| {
                let burst = NonZeroU32::new((r.ceil() as u32).max(1)).unwrap_or(NonZeroU32::MIN);
                RateLimiter::direct(q.allow_burst(burst))
            })
        });
        Provider {
            gateway,
            limiter,
            timeout,
        }
    }

    /// The provider name.
    pub fn name(&self) -> &str {
        self.gateway.name()
    }

    async fn send(&self, phone: &str, text: &str) -> SendOutcome {
        if let Some(l) = &self.limiter {
            l.until_ready().await;
        }
        match tokio::time::timeout(self.timeout, self.gateway.send(phone, text)).await {
            Ok(outcome) => outcome,
            Err(_) => {
                SendOutcome::Unknown(format!("no answer within {} s", self.timeout.as_secs_f64()))
            }
        }
    }
}

/// The result of sending through the chain: the last provider tried and its outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainResult {
    /// Provider that gave the final outcome.
    pub provider: String,
    /// The final outcome; `Failed` joins every provider's reason.
    pub outcome: SendOutcome,
    /// The providers that definitely failed before the final one answered, each as
    /// `"<provider>: <reason>"`, in order (empty when the first provider answered).
    pub failed_before: Vec<String>,
}

impl ChainResult {
    /// `" after eGASMSGateway failed: HTTP 500: …"` when earlier providers failed, else `""`:
    /// what a detail row of a failed-over attempt adds to its provider.
    pub fn failover_note(&self) -> String {
        if self.failed_before.is_empty()
            || !matches!(
                self.outcome,
                SendOutcome::Delivered | SendOutcome::Unknown(_)
            )
        {
            return String::new();
        }
        let parts: Vec<String> = self
            .failed_before
            .iter()
            .map(|r| match r.split_once(": ") {
                Some((name, reason)) => format!("{name} failed: {reason}"),
                None => format!("{r} failed"),
            })
            .collect();
        format!(" after {}", parts.join("; "))
    }
}

/// The providers in configured order.
pub struct GatewayChain {
    providers: Vec<Provider>,
}

impl GatewayChain {
    /// A chain of the given providers, tried in order.
    pub fn new(providers: Vec<Provider>) -> Result<Self, GatewayError> {
        if providers.is_empty() {
            return Err(GatewayError::NoProvider);
        }
        Ok(GatewayChain { providers })
    }

    /// Builds the chain from the configured providers (names matched case-insensitively);
    /// unknown names are logged and skipped; none usable is an error (DECISIONS 21).
    pub fn from_settings(settings: &Settings) -> Result<Self, GatewayError> {
        let mut providers = Vec::new();
        for p in &settings.module.providers {
            let built = match build_gateway(p, settings) {
                Err(GatewayError::Config { provider, message }) if left_empty(p) => {
                    // openIMIS's own module migration stores eGASMSGateway so; openIMIS fails
                    // every send through it. Not a reason to refuse start-up (DECISIONS 21).
                    tracing::warn!(
                        %provider,
                        reason = %message,
                        "notification provider with empty parameters: skipped until they are set"
                    );
                    continue;
                }
                other => other?,
            };
            match built {
                Some(g) => providers.push(Provider::new(
                    g,
                    p.rate_per_second,
                    Duration::from_secs(p.timeout_seconds),
                )),
                None => tracing::error!(
                    provider = %p.name,
                    "unknown notification provider in configuration: skipped (known: eGASMSGateway, TextNotificationProvider)"
                ),
            }
        }
        Self::new(providers)
    }

    /// The chain reduced to the provider called `name` (case-insensitive).
    pub fn only(self, name: &str) -> Result<Self, GatewayError> {
        let providers: Vec<Provider> = self
            .providers
            .into_iter()
            .filter(|p| p.name().eq_ignore_ascii_case(name))
            .collect();
        if providers.is_empty() {
            return Err(GatewayError::UnknownProvider(name.to_string()));
        }
        Ok(GatewayChain { providers })
    }

    /// Provider names in order.
    pub fn names(&self) -> Vec<String> {
        self.providers
            .iter()
            .map(|p| p.name().to_string())
            .collect()
    }

    /// Sends through the providers in order; the next is tried only after a definite failure.
    pub async fn send(&self, phone: &str, text: &str) -> ChainResult {
        let mut reasons = Vec::new();
        let mut last = String::new();
        for p in &self.providers {
            last = p.name().to_string();
            match p.send(phone, text).await {
                SendOutcome::Failed(reason) => {
                    tracing::warn!(provider = %last, phone = %crate::telemetry::mask_phone(phone), %reason, "provider failed; trying the next one");
                    reasons.push(format!("{last}: {reason}"));
                }
                outcome => {
                    return ChainResult {
                        provider: last,
                        outcome,
                        failed_before: reasons,
                    };
                }
            }
        }
        ChainResult {
            provider: last,
            outcome: SendOutcome::Failed(reasons.join("; ")),
            failed_before: Vec::new(),
        }
    }
}

/// Whether a required parameter of `p` is present but empty (a provider stored unconfigured).
fn left_empty(p: &ProviderSettings) -> bool {
    p.params
        .values()
        .any(|v| v.as_str().is_some_and(|s| s.trim().is_empty()))
}

fn build_gateway(
    p: &ProviderSettings,
    settings: &Settings,
) -> Result<Option<Arc<dyn Gateway>>, GatewayError> {
    let g: Arc<dyn Gateway> = match p.name.to_ascii_lowercase().as_str() {
        "egasmsgateway" => Arc::new(ega::EgaGateway::from_settings(p, settings)?),
        "textnotificationprovider" => Arc::new(text_file::TextFileGateway::from_settings(p)?),
        _ => return Ok(None),
    };
    Ok(Some(g))
}
