//! Family notification preferences (`tblFamilySMS`), maintained from a family mutation's
//! `contribution.PolicyNotification` (DECISIONS 2–7): defaults on create, a patch on update, the
//! row end-dated on delete. Implements the family hooks.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde_json::Value;

use crate::db::schema::{tbl_family_sms, tbl_languages};
use crate::db::sql::Fragment;
use crate::hooks::{CreatePart, FamilyEvent, FamilyHooks, HookError};

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

/// The language of a family that states none and has no configured default: the first of
/// `tblLanguages` by `SortOrder`, then by code (one subquery, used by both consent writes).
macro_rules! first_language {
    () => {
        "(SELECT \"LanguageCode\"::text FROM \"tblLanguages\" \
         ORDER BY \"SortOrder\" ASC NULLS LAST, \"LanguageCode\" ASC LIMIT 1)"
    };
}

/// The error of a language code `tblLanguages` does not list.
fn unknown_language(code: &str) -> HookError {
    HookError::invalid(
        LANGUAGE_FIELD,
        format!("language code {code:?} is not listed in the available languages"),
    )
}

/// The error of a family without a language when no language exists to default to.
fn no_language() -> HookError {
    HookError::invalid(
        LANGUAGE_FIELD,
        "no language is configured (tblLanguages is empty), so no default language exists",
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
    /// Language codes `tblLanguages` was seen to list: `check_input` asks the database only
    /// for a code not seen yet. Never trusted for the write: the upsert checks the language in
    /// its own statement, so a language removed since is still refused there. Bounded by the
    /// table (only listed codes enter). DECISIONS 49.
    known_languages: Arc<Mutex<HashSet<String>>>,
}

/// What the consent upsert's one statement answers.
#[derive(diesel::QueryableByName)]
struct Upserted {
    /// The patch's language is listed (or the patch names none).
    #[diesel(sql_type = diesel::sql_types::Bool)]
    language_known: bool,
    /// A row was written.
    #[diesel(sql_type = diesel::sql_types::Bool)]
    written: bool,
}

impl PreferenceHooks {
    /// Hooks with the configured defaults.
    pub fn new(default_approval: bool, default_language: Option<String>) -> Self {
        PreferenceHooks {
            default_approval,
            default_language,
            known_languages: Arc::default(),
        }
    }

    fn seen(&self, code: &str) -> bool {
        self.known_languages
            .lock()
            .map(|known| known.contains(code))
            .unwrap_or(false)
    }

    fn remember(&self, code: &str) {
        if let Ok(mut known) = self.known_languages.lock() {
            known.insert(code.to_string());
        }
    }

    async fn check_language(
        &self,
        conn: &mut AsyncPgConnection,
        code: &str,
    ) -> Result<(), HookError> {
        if self.seen(code) {
            return Ok(());
        }
        let found: i64 = tbl_languages::table
            .filter(tbl_languages::language_code.eq(code))
            .count()
            .get_result(conn)
            .await?;
        if found == 0 {
            return Err(unknown_language(code));
        }
        self.remember(code);
        Ok(())
    }

    /// Writes the family's current row in one statement: the patch over the existing current
    /// row (locked), or over the defaults when there is none (an end-dated row is replaced; a
    /// current row without an approval or a language counts as none). The patch's language is
    /// checked again in that statement: the family mutations ran `check_input` before, but the
    /// openIMIS follower applies patches without it, and a language may have been removed since.
    async fn upsert(
        &self,
        conn: &mut AsyncPgConnection,
        family_id: i32,
        patch: &PreferencePatch,
    ) -> Result<(), HookError> {
        use diesel::sql_types::{Bool, Int4, Nullable, Text, Timestamptz};
        let row: Upserted = crate::db::prepared::cached(
            diesel::sql_query(concat!(
                "WITH cur AS (SELECT \"ApprovalOfSMS\" AS a, \"LanguageOfSMS\"::text AS l FROM \"tblFamilySMS\" \
                     WHERE \"FamilyID\" = $1 AND \"ValidityTo\" IS NULL \
                       AND \"ApprovalOfSMS\" IS NOT NULL AND \"LanguageOfSMS\" IS NOT NULL \
                     LIMIT 1 FOR UPDATE), \
                 k AS (SELECT ($3::text IS NULL OR EXISTS (SELECT 1 FROM \"tblLanguages\" WHERE \"LanguageCode\" = $3)) AS ok, \
                     COALESCE($3::text, $5::text, ",
                first_language!(),
                ") AS fresh_language), \
                 upd AS (UPDATE \"tblFamilySMS\" s SET \"ApprovalOfSMS\" = COALESCE($2::bool, cur.a), \
                         \"LanguageOfSMS\" = COALESCE($3::text, cur.l) \
                     FROM cur, k WHERE k.ok AND s.\"FamilyID\" = $1 AND s.\"ValidityTo\" IS NULL RETURNING 1), \
                 ins AS (INSERT INTO \"tblFamilySMS\" (\"FamilyID\", \"ApprovalOfSMS\", \"LanguageOfSMS\", \"ValidityFrom\", \"ValidityTo\") \
                     SELECT $1, COALESCE($2::bool, $4::bool), k.fresh_language, $6, NULL FROM k \
                     WHERE k.ok AND k.fresh_language IS NOT NULL AND NOT EXISTS (SELECT 1 FROM cur) \
                     ON CONFLICT (\"FamilyID\") DO UPDATE SET \"ApprovalOfSMS\" = excluded.\"ApprovalOfSMS\", \
                         \"LanguageOfSMS\" = excluded.\"LanguageOfSMS\", \"ValidityFrom\" = excluded.\"ValidityFrom\", \
                         \"ValidityTo\" = NULL \
                     RETURNING 1) \
                 SELECT k.ok AS language_known, \
                        (EXISTS (SELECT 1 FROM upd) OR EXISTS (SELECT 1 FROM ins)) AS written FROM k",
            ))
            .bind::<Int4, _>(family_id)
            .bind::<Nullable<Bool>, _>(patch.approval)
            .bind::<Nullable<Text>, _>(&patch.language)
            .bind::<Bool, _>(self.default_approval)
            .bind::<Nullable<Text>, _>(&self.default_language)
            .bind::<Timestamptz, _>(chrono::Utc::now()),
        )
        .get_result(conn)
        .await?;
        match (&patch.language, row.language_known, row.written) {
            (Some(code), false, _) => Err(unknown_language(code)),
            (_, _, true) => Ok(()),
            _ => Err(no_language()),
        }
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
            match self.check_language(conn, code).await {
                Ok(()) => {}
                Err(HookError::Db(e)) => return Err(e),
                Err(invalid) => problems.push(invalid),
            }
        }
        Ok(problems)
    }

    /// A new family's row, in createFamily's one statement (docs/decisions.md 50): the patch
    /// over the defaults, a plain insert (a family that did not exist has no row: the table's
    /// foreign key to `tblFamilies` holds on every openIMIS schema; an `ON CONFLICT` would also
    /// fire the table's UPDATE triggers for nothing). Checked in that statement: the patch's
    /// language is listed, and some language exists when the patch names none.
    fn create_part(&self, contribution: Option<&Value>) -> Option<CreatePart> {
        let (patch, problems) = PreferencePatch::read(contribution);
        let language = || {
            Fragment::sql("COALESCE(")
                .bind(patch.language.clone())
                .with_sql("::text, ")
                .bind(self.default_language.clone())
                .with_sql(concat!("::text, ", first_language!(), ")"))
        };
        let listed = Fragment::sql("(")
            .bind(patch.language.clone())
            .with_sql("::text IS NULL OR EXISTS (SELECT 1 FROM \"tblLanguages\" WHERE \"LanguageCode\" = ")
            .bind(patch.language.clone())
            .with_sql("))");
        // false only when the patch names a language, so the error names it
        let unlisted = unknown_language(patch.language.as_deref().unwrap_or_default());
        let checks = vec![
            (listed, unlisted),
            (
                Fragment::sql("(")
                    .with(language())
                    .with_sql(") IS NOT NULL"),
                no_language(),
            ),
        ];
        let writes = Fragment::sql(
            ", pn_consent AS (INSERT INTO \"tblFamilySMS\" (\"FamilyID\", \"ApprovalOfSMS\", \"LanguageOfSMS\", \
             \"ValidityFrom\", \"ValidityTo\") SELECT fam.\"FamilyID\", ",
        )
        .bind(patch.approval.unwrap_or(self.default_approval))
        .with_sql(", ")
        .with(language())
        .with_sql(", ")
        .bind(chrono::Utc::now())
        .with_sql(", NULL FROM fam)");
        Some(CreatePart {
            problems,
            checks,
            writes,
        })
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
