//! Identity and authentication, split by job: [`password`] (openIMIS's hash), [`token`] (JWT
//! issue and verification, HS256 with the user's `PrivateKey`, else the configured secret),
//! [`identity`] (a user's rights and districts read from openIMIS's tables), [`throttle`] (the
//! login slow-down). This file holds what they share: [`Identity`] and [`AuthError`]
//! (DECISIONS 10, 31, 32). Who sees which families is `families::Scope`, derived from an
//! [`Identity`].
//!
//! Used by both `http/` and `graphql/`, so it holds no HTTP or GraphQL types.

pub mod identity;
pub mod password;
pub mod rsa_key;
pub mod throttle;
pub mod token;

use std::collections::HashSet;

use uuid::Uuid;

use crate::db::DbError;
use crate::error::{ErrorCode, UserFacing};

pub use identity::{ADMIN_ROLE_SYSTEM, load_identity};
pub use password::{hash_password, password_matches};
pub use throttle::{
    ADDRESS_FREE_ATTEMPTS, FAILURE_WINDOW_SECONDS, MAX_WAIT_SECONDS, NAME_UNDER_ATTACK_FAILURES,
    PAIR_FREE_ATTEMPTS, backoff_seconds, login,
};
pub use token::{
    Claims, IssuedToken, JwtKeys, authenticate, refresh, unverified_claims, unverified_username,
};

/// Why authentication failed. The texts are openIMIS's (graphql_jwt) so clients match them.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// Wrong user name or password (never says which), or the user name is locked for a while.
    #[error("Please enter valid credentials")]
    InvalidCredentials {
        /// Seconds until the user name may try again, when it is locked.
        retry_after_seconds: Option<i64>,
    },
    /// The token's `exp` has passed.
    #[error("Signature has expired")]
    Expired,
    /// The token is malformed, or its signature does not verify.
    #[error("Error decoding signature")]
    BadToken,
    /// The token is well signed but names no current user.
    #[error("Invalid payload")]
    InvalidPayload,
    /// The token can no longer be refreshed (`origIat` + refresh delta has passed).
    #[error("Refresh has expired")]
    RefreshExpired,
    /// A refresh was asked for without any token.
    #[error("Token is required")]
    NoToken,
    /// Signing failed (a fault of ours).
    #[error("cannot sign the token: {0}")]
    Sign(String),
    /// The database failed.
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<diesel::result::Error> for AuthError {
    fn from(e: diesel::result::Error) -> Self {
        AuthError::Db(DbError::Query(e))
    }
}

impl UserFacing for AuthError {
    fn code(&self) -> ErrorCode {
        match self {
            AuthError::Sign(_) => ErrorCode::Internal,
            AuthError::Db(e) => e.code(),
            _ => ErrorCode::Unauthenticated,
        }
    }

    fn user_message(&self) -> String {
        match self {
            AuthError::Sign(_) => ErrorCode::Internal.as_str().to_string(),
            AuthError::Db(e) => e.user_message(),
            other => other.to_string(),
        }
    }
}

/// Who is calling: an openIMIS interactive user with its rights and districts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// `tblUsers.UserID`.
    pub user_id: i32,
    /// `core_User.id` (created on first use, as openIMIS does for interactive users).
    pub core_user_id: Uuid,
    /// `tblUsers.LoginName` (the token's `username`).
    pub login: String,
    /// `tblUsers.LanguageID`.
    pub language: String,
    /// Rights of the user's current roles (`tblUserRole` → `tblRoleRight`, current rows).
    pub rights: HashSet<i32>,
    /// Holds a current role with `IsSystem = 64` (IMIS administrator).
    pub is_admin: bool,
    /// District `LocationId`s of the user's current `tblUsersDistricts` rows, ascending.
    pub districts: Vec<i32>,
}

impl Identity {
    /// Whether the user holds `right`.
    pub fn has_right(&self, right: i32) -> bool {
        self.rights.contains(&right)
    }

    /// Whether the user holds at least one of `rights` (an empty list needs no right).
    pub fn has_any_right(&self, rights: &[i32]) -> bool {
        rights.is_empty() || rights.iter().any(|r| self.rights.contains(r))
    }
}
