//! Family notification preferences (`tblFamilySMS`), maintained from a family mutation's
//! `contribution.PolicyNotification` (DECISIONS 2–7): defaults on create, a patch on update, the
//! row end-dated on delete. Implements the family hooks.

use async_trait::async_trait;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde_json::Value;

use crate::db::schema::{tbl_family_sms, tbl_languages};
use crate::hooks::{FamilyEvent, FamilyHooks, HookError};

/// The module key of the contribution.
pub const CONTRIBUTION_KEY: &str = "PolicyNotification";
/// The approval field of the contribution.
pub const APPROVAL_FIELD: &str = "approvalOfNotification";
/// The language field of the contribution.
pub const LANGUAGE_FIELD: &str = "languageOfNotification";

/// The notification fields a mutation gave; `None` = not given (absent or `null`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PreferencePatch {
    /// `approvalOfNotification`.
    pub approval: Option<bool>,
    /// `languageOfNotification` (a `tblLanguages` code).
    pub language: Option<String>,
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

impl PreferencePatch {
    /// Reads `contribution.PolicyNotification`; absent parts and `null`s are "not given".
    pub fn from_contribution(contribution: Option<&Value>) -> Result<Self, HookError> {
        let (patch, mut problems) = Self::read(contribution);
        match problems.is_empty() {
            true => Ok(patch),
            false => Err(problems.remove(0)),
        }
    }

    /// Reads `contribution.PolicyNotification` as far as it can: the fields that are right and
    /// every problem found (both a wrong approval and a wrong language, not only the first).
    pub fn read(contribution: Option<&Value>) -> (Self, Vec<HookError>) {
        let section = match contribution {
            None | Some(Value::Null) => return (Self::default(), Vec::new()),
            Some(Value::Object(map)) => map.get(CONTRIBUTION_KEY),
            Some(other) => {
                let e = HookError::invalid(
                    "contribution",
                    format!("has to be a JSON object, not {}", json_type(other)),
                );
                return (Self::default(), vec![e]);
            }
        };
        let fields = match section {
            None | Some(Value::Null) => return (Self::default(), Vec::new()),
            Some(Value::Object(map)) => map,
            Some(other) => {
                let e = HookError::invalid(
                    format!("contribution.{CONTRIBUTION_KEY}"),
                    format!("has to be a JSON object, not {}", json_type(other)),
                );
                return (Self::default(), vec![e]);
            }
        };
        let mut problems = Vec::new();
        let approval = match fields.get(APPROVAL_FIELD) {
            None | Some(Value::Null) => None,
            Some(Value::Bool(b)) => Some(*b),
            Some(other) => {
                problems.push(HookError::invalid(
                    APPROVAL_FIELD,
                    format!("has to be a boolean, not {}", json_type(other)),
                ));
                None
            }
        };
        let language = match fields.get(LANGUAGE_FIELD) {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(other) => {
                problems.push(HookError::invalid(
                    LANGUAGE_FIELD,
                    format!("has to be a language code, not {}", json_type(other)),
                ));
                None
            }
        };
        (PreferencePatch { approval, language }, problems)
    }
}

/// The error of a language code `tblLanguages` does not list.
fn unknown_language(code: &str) -> HookError {
    HookError::invalid(
        LANGUAGE_FIELD,
        format!("language code {code:?} is not listed in the available languages"),
    )
}

/// The hook implementation: keeps one `tblFamilySMS` row per family.
#[derive(Debug, Clone, Default)]
pub struct PreferenceHooks {
    /// Approval of a family that states none (`service.default_approval`).
    pub default_approval: bool,
    /// Language of a family that states none (`service.default_language`); `None` = the first
    /// language by `SortOrder`, then by code.
    pub default_language: Option<String>,
}

impl PreferenceHooks {
    /// Hooks with the configured defaults.
    pub fn new(default_approval: bool, default_language: Option<String>) -> Self {
        PreferenceHooks {
            default_approval,
            default_language,
        }
    }

    /// The language a family gets when it states none.
    pub async fn default_language(
        &self,
        conn: &mut AsyncPgConnection,
    ) -> Result<String, HookError> {
        if let Some(code) = &self.default_language {
            return Ok(code.clone());
        }
        let first: Option<String> = tbl_languages::table
            .select(tbl_languages::language_code)
            .order((
                tbl_languages::sort_order.asc().nulls_last(),
                tbl_languages::language_code.asc(),
            ))
            .first(conn)
            .await
            .optional()?;
        first.ok_or_else(|| {
            HookError::invalid(
                LANGUAGE_FIELD,
                "no language is configured (tblLanguages is empty), so no default language exists",
            )
        })
    }

    async fn check_language(conn: &mut AsyncPgConnection, code: &str) -> Result<(), HookError> {
        let found: i64 = tbl_languages::table
            .filter(tbl_languages::language_code.eq(code))
            .count()
            .get_result(conn)
            .await?;
        if found == 0 {
            return Err(unknown_language(code));
        }
        Ok(())
    }

    /// Writes the family's current row: the patch over the existing current row, or over the
    /// defaults when there is none (an end-dated row is replaced). The patch's language is
    /// checked again here, in the statement that reads the current row: the family mutations
    /// ran `check_input` before, but the openIMIS follower applies patches without it.
    async fn upsert(
        &self,
        conn: &mut AsyncPgConnection,
        family_id: i32,
        patch: &PreferencePatch,
    ) -> Result<(), HookError> {
        // The language check and the current row (locked) in one statement.
        #[derive(diesel::QueryableByName)]
        struct Current {
            #[diesel(sql_type = diesel::sql_types::Bool)]
            language_known: bool,
            #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Bool>)]
            approval: Option<bool>,
            #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
            language: Option<String>,
        }
        let current: Current = crate::db::prepared::cached(
            diesel::sql_query(
                "SELECT ($2::text IS NULL OR EXISTS (SELECT 1 FROM \"tblLanguages\" \
                        WHERE \"LanguageCode\" = $2)) AS language_known, \
                        s.\"ApprovalOfSMS\" AS approval, s.\"LanguageOfSMS\"::text AS language \
                 FROM (SELECT 1) one LEFT JOIN LATERAL (SELECT \"ApprovalOfSMS\", \"LanguageOfSMS\" \
                     FROM \"tblFamilySMS\" WHERE \"FamilyID\" = $1 AND \"ValidityTo\" IS NULL \
                     LIMIT 1 FOR UPDATE) s ON TRUE",
            )
            .bind::<diesel::sql_types::Int4, _>(family_id)
            .bind::<diesel::sql_types::Nullable<diesel::sql_types::Text>, _>(&patch.language),
        )
        .get_result(conn)
        .await?;
        if let Some(code) = &patch.language
            && !current.language_known
        {
            return Err(unknown_language(code));
        }
        let existing = match (current.approval, current.language) {
            (Some(a), Some(l)) => Some((a, l)),
            _ => None,
        };
        let (approval, language, fresh) = match existing {
            Some((a, l)) => (
                patch.approval.unwrap_or(a),
                patch.language.clone().unwrap_or(l),
                false,
            ),
            None => {
                let language = match &patch.language {
                    Some(l) => l.clone(),
                    None => self.default_language(conn).await?,
                };
                (
                    patch.approval.unwrap_or(self.default_approval),
                    language,
                    true,
                )
            }
        };
        let now = chrono::Utc::now();
        if fresh {
            diesel::insert_into(tbl_family_sms::table)
                .values((
                    tbl_family_sms::family_id.eq(family_id),
                    tbl_family_sms::approval_of_sms.eq(approval),
                    tbl_family_sms::language_of_sms.eq(&language),
                    tbl_family_sms::validity_from.eq(now),
                    tbl_family_sms::validity_to.eq(None::<chrono::DateTime<chrono::Utc>>),
                ))
                .on_conflict(tbl_family_sms::family_id)
                .do_update()
                .set((
                    tbl_family_sms::approval_of_sms.eq(approval),
                    tbl_family_sms::language_of_sms.eq(&language),
                    tbl_family_sms::validity_from.eq(now),
                    tbl_family_sms::validity_to.eq(None::<chrono::DateTime<chrono::Utc>>),
                ))
                .execute(conn)
                .await?;
        } else {
            diesel::update(tbl_family_sms::table.filter(tbl_family_sms::family_id.eq(family_id)))
                .set((
                    tbl_family_sms::approval_of_sms.eq(approval),
                    tbl_family_sms::language_of_sms.eq(&language),
                ))
                .execute(conn)
                .await?;
        }
        Ok(())
    }
}

#[async_trait]
impl FamilyHooks for PreferenceHooks {
    async fn check_input(
        &self,
        conn: &mut AsyncPgConnection,
        contribution: Option<&Value>,
    ) -> Result<Vec<HookError>, diesel::result::Error> {
        let (patch, mut problems) = PreferencePatch::read(contribution);
        if let Some(code) = &patch.language {
            match Self::check_language(conn, code).await {
                Ok(()) => {}
                Err(HookError::Db(e)) => return Err(e),
                Err(invalid) => problems.push(invalid),
            }
        }
        Ok(problems)
    }

    async fn after_create(
        &self,
        conn: &mut AsyncPgConnection,
        family: &FamilyEvent,
    ) -> Result<(), HookError> {
        let patch = PreferencePatch::from_contribution(family.contribution.as_ref())?;
        self.upsert(conn, family.family_id, &patch).await
    }

    async fn after_update(
        &self,
        conn: &mut AsyncPgConnection,
        family: &FamilyEvent,
    ) -> Result<(), HookError> {
        let patch = PreferencePatch::from_contribution(family.contribution.as_ref())?;
        self.upsert(conn, family.family_id, &patch).await
    }

    async fn after_delete(
        &self,
        conn: &mut AsyncPgConnection,
        family_ids: &[i32],
    ) -> Result<(), HookError> {
        diesel::update(
            tbl_family_sms::table
                .filter(tbl_family_sms::family_id.eq_any(family_ids))
                .filter(tbl_family_sms::validity_to.is_null()),
        )
        .set(tbl_family_sms::validity_to.eq(chrono::Utc::now()))
        .execute(conn)
        .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_the_contribution() {
        assert_eq!(
            PreferencePatch::from_contribution(None).unwrap(),
            PreferencePatch::default()
        );
        let c = json!({"PolicyNotification": {"approvalOfNotification": true, "languageOfNotification": null}});
        assert_eq!(
            PreferencePatch::from_contribution(Some(&c)).unwrap(),
            PreferencePatch {
                approval: Some(true),
                language: None
            }
        );
        let c = json!({"Other": 1});
        assert_eq!(
            PreferencePatch::from_contribution(Some(&c)).unwrap(),
            PreferencePatch::default()
        );
    }

    #[test]
    fn names_the_wrong_field() {
        let c = json!({"PolicyNotification": {"approvalOfNotification": "yes"}});
        let e = PreferencePatch::from_contribution(Some(&c)).unwrap_err();
        assert!(e.to_string().starts_with("approvalOfNotification:"), "{e}");
        let c = json!({"PolicyNotification": {"languageOfNotification": 3}});
        let e = PreferencePatch::from_contribution(Some(&c)).unwrap_err();
        assert!(e.to_string().starts_with("languageOfNotification:"), "{e}");
        let c = json!({"PolicyNotification": {"approvalOfNotification": 1, "languageOfNotification": 3}});
        let (_, problems) = PreferencePatch::read(Some(&c));
        assert_eq!(problems.len(), 2, "both named: {problems:?}");
        let c = json!({"PolicyNotification": []});
        let e = PreferencePatch::from_contribution(Some(&c)).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("contribution.PolicyNotification:"),
            "{e}"
        );
    }
}
