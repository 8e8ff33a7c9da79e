//! The family hooks: what other modules do when a family is created, updated or deleted.
//! `families/` calls them inside the family write's transaction, with that transaction's
//! connection; `notification/` implements them; start-up wires the two together, so neither
//! module depends on the other. A hook error rolls the whole mutation back.

use std::sync::Arc;

use async_trait::async_trait;
use diesel_async::AsyncPgConnection;

use crate::db::sql::Fragment;

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

/// The hooks' share of a `createFamily` that is written in one statement (docs/decisions.md
/// 50): checks that the statement evaluates before it writes anything, and the rows it then
/// writes for the new family. The statement names the new family `fam` (a data-modifying CTE
/// with the column `"FamilyID"`); `writes` are further CTEs, each starting with `, name AS (`,
/// that read `fam` (and write nothing when it is empty). Their names start with the hook's own
/// prefix, so that they never clash with the family's.
#[derive(Debug, Default)]
pub struct CreatePart {
    /// What is wrong with the `contribution` itself (found without the database): when any,
    /// the create is not written in one statement, the hooks' `check_input` reports them.
    pub problems: Vec<HookError>,
    /// Boolean SQL expressions that must all be true (false: nothing is written), each with the
    /// error reported when it is false.
    pub checks: Vec<(Fragment, HookError)>,
    /// The CTEs that write the hooks' rows for `fam`.
    pub writes: Fragment,
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

    /// The hooks' part of a create written in one statement ([`CreatePart`]), which then runs
    /// neither `check_input` nor `after_create`. `None` (the default): the hooks cannot take
    /// part, and the create runs in a transaction of several statements that calls them.
    fn create_part(&self, _contribution: Option<&serde_json::Value>) -> Option<CreatePart> {
        None
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
    fn create_part(&self, _contribution: Option<&serde_json::Value>) -> Option<CreatePart> {
        Some(CreatePart::default())
    }

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
