//! The family hooks: what other modules do when a family is created, updated or deleted.
//! `families/` calls them inside the family write's transaction, with that transaction's
//! connection; `notification/` implements them; start-up wires the two together, so neither
//! module depends on the other. A hook error rolls the whole mutation back.

use std::sync::Arc;

use async_trait::async_trait;
use diesel_async::AsyncPgConnection;

/// A family that was just created or updated.
#[derive(Debug, Clone)]
pub struct FamilyEvent {
    /// `tblFamilies.FamilyID` of the current row.
    pub family_id: i32,
    /// `tblFamilies.FamilyUUID`.
    pub family_uuid: String,
    /// The mutation's `contribution` (data for contributing modules, keyed by module), if any.
    pub contribution: Option<serde_json::Value>,
}

/// Why a hook refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum HookError {
    /// The input is wrong; `field` names it (e.g. `languageOfNotification`).
    #[error("{field}: {message}")]
    Invalid {
        /// The input field at fault.
        field: String,
        /// What is wrong with it.
        message: String,
    },
    /// A database failure.
    #[error("database error: {0}")]
    Db(#[from] diesel::result::Error),
}

impl HookError {
    /// An input error on `field`.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        HookError::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Reactions to family writes, run inside the write's transaction.
#[async_trait]
pub trait FamilyHooks: Send + Sync {
    /// Every problem the hooks find in a create's or update's `contribution`, before anything
    /// is written, so that the mutation reports them together with its own (a wrong approval
    /// and an unknown language both named). The family mutations call it before writing, so
    /// `after_create` and `after_update` may take its checks as passed. Default: none.
    async fn check_input(
        &self,
        _conn: &mut AsyncPgConnection,
        _contribution: Option<&serde_json::Value>,
    ) -> Result<Vec<HookError>, diesel::result::Error> {
        Ok(Vec::new())
    }

    /// After a family (and its head) was inserted.
    async fn after_create(
        &self,
        conn: &mut AsyncPgConnection,
        family: &FamilyEvent,
    ) -> Result<(), HookError>;

    /// After a family was updated (its history row written).
    async fn after_update(
        &self,
        conn: &mut AsyncPgConnection,
        family: &FamilyEvent,
    ) -> Result<(), HookError>;

    /// After families were soft-deleted; `family_ids` are their `FamilyID`s.
    async fn after_delete(
        &self,
        conn: &mut AsyncPgConnection,
        family_ids: &[i32],
    ) -> Result<(), HookError>;
}

/// Hooks that do nothing (tools and tests that need no reactions).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoHooks;

#[async_trait]
impl FamilyHooks for NoHooks {
    async fn after_create(
        &self,
        _conn: &mut AsyncPgConnection,
        _family: &FamilyEvent,
    ) -> Result<(), HookError> {
        Ok(())
    }

    async fn after_update(
        &self,
        _conn: &mut AsyncPgConnection,
        _family: &FamilyEvent,
    ) -> Result<(), HookError> {
        Ok(())
    }

    async fn after_delete(
        &self,
        _conn: &mut AsyncPgConnection,
        _family_ids: &[i32],
    ) -> Result<(), HookError> {
        Ok(())
    }
}

/// The hooks registered at start-up, shared by every request.
pub type SharedHooks = Arc<dyn FamilyHooks>;
