//! Family data rules everyone shares: "has a phone" (DECISIONS 1), "approved" (DECISIONS 2) and the
//! notification modes 0–4. Each is one SQL predicate over a family alias, so the families query,
//! the report and the sender select exactly the same families.

use std::fmt;

/// SQL: the family `f` has at least one current member whose phone is non-empty after trimming.
///
/// The partial index `pn_insuree_family_phone_current` carries the same condition, so PostgreSQL
/// answers this from the index alone; change both together (a test checks they agree).
pub fn has_phone_sql(f: &str) -> String {
    format!(
        "EXISTS (SELECT 1 FROM \"tblInsuree\" hp_m WHERE hp_m.\"FamilyID\" = {f}.\"FamilyID\" \
         AND hp_m.\"ValidityTo\" IS NULL AND {})",
        phone_present_sql("hp_m.\"Phone\"")
    )
}

/// SQL: the family `f` approved notifications (a current `tblFamilySMS` row with approval true).
/// A family without a row has not approved.
///
/// The partial index `pn_family_sms_approved_current` carries the same condition; change both
/// together (a test checks they agree).
pub fn approved_sql(f: &str) -> String {
    format!(
        "EXISTS (SELECT 1 FROM \"tblFamilySMS\" ap_s WHERE ap_s.\"FamilyID\" = {f}.\"FamilyID\" \
         AND ap_s.\"ValidityTo\" IS NULL AND ap_s.\"ApprovalOfSMS\")"
    )
}

/// SQL: a phone value counts as present (non-empty after trimming).
pub fn phone_present_sql(column: &str) -> String {
    format!("btrim(COALESCE({column}, '')) <> ''")
}

/// Whether a phone value counts as present (the Rust twin of [`phone_present_sql`]).
pub fn phone_present(phone: Option<&str>) -> bool {
    phone.is_some_and(|p| !p.trim().is_empty())
}

/// The notification modes of the families filter and the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NotificationMode {
    /// 0: every family.
    All,
    /// 1: approval and a phone.
    ApprovalAndPhone,
    /// 2: approval, no phone.
    ApprovalOnly,
    /// 3: a phone, no approval.
    PhoneOnly,
    /// 4: neither approval nor a phone.
    Neither,
}

/// A mode value outside 0–4.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("notification mode must be one of 0, 1, 2, 3, 4 (got {0})")]
pub struct InvalidMode(pub String);

impl NotificationMode {
    /// Every mode, in numeric order.
    pub const ALL: [NotificationMode; 5] = [
        NotificationMode::All,
        NotificationMode::ApprovalAndPhone,
        NotificationMode::ApprovalOnly,
        NotificationMode::PhoneOnly,
        NotificationMode::Neither,
    ];

    /// The mode for a numeric value.
    pub fn from_number(v: i64) -> Result<Self, InvalidMode> {
        match v {
            0 => Ok(NotificationMode::All),
            1 => Ok(NotificationMode::ApprovalAndPhone),
            2 => Ok(NotificationMode::ApprovalOnly),
            3 => Ok(NotificationMode::PhoneOnly),
            4 => Ok(NotificationMode::Neither),
            other => Err(InvalidMode(other.to_string())),
        }
    }

    /// The mode for a JSON value: an integer 0–4 (a boolean counts as 0/1, as in openIMIS).
    pub fn from_json(v: &serde_json::Value) -> Result<Self, InvalidMode> {
        match v {
            serde_json::Value::Number(n) => match n.as_i64() {
                Some(i) => Self::from_number(i),
                None => Err(InvalidMode(n.to_string())),
            },
            serde_json::Value::Bool(b) => Self::from_number(i64::from(*b)),
            other => Err(InvalidMode(other.to_string())),
        }
    }

    /// The numeric value.
    pub fn number(self) -> i64 {
        match self {
            NotificationMode::All => 0,
            NotificationMode::ApprovalAndPhone => 1,
            NotificationMode::ApprovalOnly => 2,
            NotificationMode::PhoneOnly => 3,
            NotificationMode::Neither => 4,
        }
    }

    /// The label shown in reports.
    pub fn label(self) -> &'static str {
        match self {
            NotificationMode::All => "All",
            NotificationMode::ApprovalAndPhone => "Approval and phone number",
            NotificationMode::ApprovalOnly => "Approval only",
            NotificationMode::PhoneOnly => "Phone number only",
            NotificationMode::Neither => "No approval and no phone number",
        }
    }

    /// Whether a family with these facts falls under the mode (the Rust twin of [`Self::sql`]).
    pub fn matches(self, approved: bool, has_phone: bool) -> bool {
        match self {
            NotificationMode::All => true,
            NotificationMode::ApprovalAndPhone => approved && has_phone,
            NotificationMode::ApprovalOnly => approved && !has_phone,
            NotificationMode::PhoneOnly => !approved && has_phone,
            NotificationMode::Neither => !approved && !has_phone,
        }
    }

    /// SQL predicate over family alias `f`; `None` for mode 0 (no filter).
    pub fn sql(self, f: &str) -> Option<String> {
        let a = approved_sql(f);
        let p = has_phone_sql(f);
        match self {
            NotificationMode::All => None,
            NotificationMode::ApprovalAndPhone => Some(format!("({a} AND {p})")),
            NotificationMode::ApprovalOnly => Some(format!("({a} AND NOT {p})")),
            NotificationMode::PhoneOnly => Some(format!("(NOT {a} AND {p})")),
            NotificationMode::Neither => Some(format!("(NOT {a} AND NOT {p})")),
        }
    }
}

impl fmt::Display for NotificationMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.number())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_partition_families() {
        for approved in [false, true] {
            for phone in [false, true] {
                let hits: Vec<_> = NotificationMode::ALL[1..]
                    .iter()
                    .filter(|m| m.matches(approved, phone))
                    .collect();
                assert_eq!(hits.len(), 1, "modes 1-4 partition the families");
                assert!(NotificationMode::All.matches(approved, phone));
            }
        }
    }

    #[test]
    fn mode_values() {
        assert_eq!(
            NotificationMode::from_json(&serde_json::json!(3)),
            Ok(NotificationMode::PhoneOnly)
        );
        assert_eq!(
            NotificationMode::from_json(&serde_json::json!(true)),
            Ok(NotificationMode::ApprovalAndPhone)
        );
        assert!(NotificationMode::from_json(&serde_json::json!("1")).is_err());
        assert!(NotificationMode::from_json(&serde_json::json!(5)).is_err());
        assert!(NotificationMode::from_json(&serde_json::json!(1.5)).is_err());
        assert!(NotificationMode::from_json(&serde_json::Value::Null).is_err());
    }

    #[test]
    fn rule_indexes_carry_the_rules_conditions() {
        // PostgreSQL uses a partial index only when the query's condition implies the index's, so
        // the indexes' WHERE clauses must stay the rules' text.
        let phone_index = include_str!(
            "../../migrations/2026-11-27-300002_index_insuree_family_phone_current/up.sql"
        );
        let phone = phone_present_sql("\"Phone\"");
        assert!(phone_index.contains(&format!("WHERE \"ValidityTo\" IS NULL AND {phone};")));
        assert_eq!(phone, "btrim(COALESCE(\"Phone\", '')) <> ''");
        assert!(has_phone_sql("f").contains(&format!(
            "hp_m.\"ValidityTo\" IS NULL AND {})",
            phone_present_sql("hp_m.\"Phone\"")
        )));

        let approved_index = include_str!(
            "../../migrations/2026-11-27-300003_index_family_sms_approved_current/up.sql"
        );
        assert!(approved_index.contains("WHERE \"ValidityTo\" IS NULL AND \"ApprovalOfSMS\";"));
        assert!(
            approved_sql("f").contains("ap_s.\"ValidityTo\" IS NULL AND ap_s.\"ApprovalOfSMS\")")
        );
    }

    #[test]
    fn phone_presence() {
        assert!(!phone_present(None));
        assert!(!phone_present(Some("  ")));
        assert!(phone_present(Some(" 0712 ")));
    }
}
