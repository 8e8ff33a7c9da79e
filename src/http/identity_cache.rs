//! A short-lived cache of verified access tokens → the caller's identity, so that a burst of
//! requests with the same token costs one user + rights + districts lookup instead of one per
//! request.
//!
//! What is cached: the [`Identity`] that [`crate::auth::authenticate`] built for an access token
//! that verified, keyed by the SHA-256 of the whole token (the token itself is not kept). Only
//! successes are cached; a bad, expired or refresh token always goes to the database.
//!
//! The window: an entry lives at most [`DEFAULT_TTL`] (2 s) after it was loaded, and never past
//! the token's own `exp` (checked on every hit, as the verification does: a token whose `exp`
//! has passed is refused). A change openIMIS makes to the user — a right or role revoked, a
//! district removed, the user deleted, its password or private key changed — therefore reaches
//! the service's decisions at most 2 s later. Nothing else is relaxed: the token is the exact
//! string that verified, so signature and claims are those already checked.
//!
//! Bounded: at most [`MAX_ENTRIES`] tokens; when full, expired entries are dropped, and if none
//! expired the cache is emptied (a flood of distinct tokens costs lookups, never memory).

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::auth::{AuthError, Identity, JwtKeys};

/// How long a loaded identity is reused.
pub const DEFAULT_TTL: Duration = Duration::from_secs(2);
/// How many tokens the cache holds at most.
pub const MAX_ENTRIES: usize = 10_000;

struct Entry {
    identity: Identity,
    /// The token's `exp` (seconds since the epoch).
    exp: i64,
    /// When the entry stops being used.
    until: Instant,
}

/// Verified tokens → identities, for a short window (see the module documentation).
pub struct IdentityCache {
    ttl_ms: AtomicU64,
    entries: Mutex<HashMap<[u8; 32], Entry>>,
}

impl std::fmt::Debug for IdentityCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdentityCache")
            .field("ttl", &self.ttl())
            .field("entries", &self.len())
            .finish()
    }
}

impl Default for IdentityCache {
    fn default() -> Self {
        Self::new(DEFAULT_TTL)
    }
}

fn key(token: &str) -> [u8; 32] {
    let digest = ring::digest::digest(&ring::digest::SHA256, token.as_bytes());
    let mut k = [0u8; 32];
    k.copy_from_slice(digest.as_ref());
    k
}

fn now_epoch() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

impl IdentityCache {
    /// A cache reusing identities for `ttl` (zero: no caching).
    pub fn new(ttl: Duration) -> Self {
        IdentityCache {
            ttl_ms: AtomicU64::new(ttl.as_millis() as u64),
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// The current window.
    pub fn ttl(&self) -> Duration {
        Duration::from_millis(self.ttl_ms.load(Ordering::Relaxed))
    }

    /// Changes the window (zero disables the cache); entries already cached keep their end.
    pub fn set_ttl(&self, ttl: Duration) {
        self.ttl_ms.store(ttl.as_millis() as u64, Ordering::Relaxed);
        if ttl.is_zero() {
            self.clear();
        }
    }

    /// Forgets every entry.
    pub fn clear(&self) {
        if let Ok(mut m) = self.entries.lock() {
            m.clear();
        }
    }

    /// How many tokens are cached.
    pub fn len(&self) -> usize {
        self.entries.lock().map(|m| m.len()).unwrap_or(0)
    }

    /// Whether nothing is cached.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The cached identity of `token`, if it is still within the window and the token's `exp`.
    pub fn get(&self, token: &str) -> Option<Identity> {
        let k = key(token);
        let mut m = self.entries.lock().ok()?;
        let entry = m.get(&k)?;
        if entry.until <= Instant::now() || entry.exp < now_epoch() {
            m.remove(&k);
            return None;
        }
        Some(entry.identity.clone())
    }

    /// Remembers that `token` (with expiry `exp`) verified into `identity`.
    pub fn put(&self, token: &str, exp: i64, identity: &Identity) {
        let ttl = self.ttl();
        if ttl.is_zero() || exp < now_epoch() {
            return;
        }
        let now = Instant::now();
        let Ok(mut m) = self.entries.lock() else {
            return;
        };
        if m.len() >= MAX_ENTRIES {
            let epoch = now_epoch();
            m.retain(|_, e| e.until > now && e.exp >= epoch);
            if m.len() >= MAX_ENTRIES {
                m.clear();
            }
        }
        m.insert(
            key(token),
            Entry {
                identity: identity.clone(),
                exp,
                until: now + ttl,
            },
        );
    }

    /// The identity of an access token: from the cache within the window, else verified and
    /// loaded by [`crate::auth::authenticate`] on a connection from `pool` (and cached).
    pub async fn authenticate(
        &self,
        pool: &crate::db::Pool,
        keys: &JwtKeys,
        token: &str,
    ) -> Result<Identity, AuthError> {
        if let Some(identity) = self.get(token) {
            return Ok(identity);
        }
        let identity = {
            let mut conn = pool.get().await.map_err(crate::db::DbError::from)?;
            crate::auth::authenticate(&mut conn, keys, token).await?
        };
        let exp = crate::auth::unverified_claims(token)
            .ok()
            .and_then(|c| c.get("exp").and_then(serde_json::Value::as_i64));
        if let Some(exp) = exp {
            self.put(token, exp, &identity);
        }
        Ok(identity)
    }
}
