//! Who may see which families (DECISIONS 10), in one place: one [`Scope`] derived from the caller's
//! identity, and the district predicates every consumer uses (the families query,
//! `familyNotification`, the family mutations' locks and checks, the report, the sender's
//! history and settlement queries). Administrators see every family; other users the families
//! whose village lies in one of their districts; families without a location only
//! administrators; an anonymous caller or a user without districts sees none (fail closed).
//! The district ids are always a bound `int4[]`, never inlined.

use crate::auth::Identity;
use crate::db::sql::Fragment;

/// The families a user may see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Every family (IMIS administrators).
    All,
    /// Families in villages of these districts (`tblLocations.LocationId`s); empty = none.
    Districts(Vec<i32>),
}

impl Scope {
    /// The scope of a user: every family for an IMIS administrator, else the user's districts.
    pub fn of(identity: &Identity) -> Scope {
        if identity.is_admin {
            Scope::All
        } else {
            Scope::Districts(identity.districts.clone())
        }
    }

    /// The scope of a caller who may be anonymous: an anonymous caller sees nothing.
    pub fn of_caller(identity: Option<&Identity>) -> Scope {
        identity.map_or(Scope::Districts(Vec::new()), Scope::of)
    }

    /// The districts of the scope; `None` for every district.
    pub fn district_ids(&self) -> Option<&[i32]> {
        match self {
            Scope::All => None,
            Scope::Districts(d) => Some(d),
        }
    }

    /// Whether district `id` lies in the scope.
    pub fn sees_district(&self, id: i32) -> bool {
        self.district_ids().is_none_or(|d| d.contains(&id))
    }

    /// Predicate: the village `location` (an SQL expression) lies in the scope; `None` when
    /// every location is visible.
    pub fn village(&self, location: Fragment) -> Option<Fragment> {
        let ids = self.district_ids()?;
        Some(
            location
                .with_sql(
                    " IN (SELECT sv.\"LocationId\" FROM \"tblLocations\" sv \
                     JOIN \"tblLocations\" sw ON sw.\"LocationId\" = sv.\"ParentLocationId\" \
                     WHERE sw.\"ParentLocationId\" = ANY(",
                )
                .bind(ids)
                .with_sql("))"),
        )
    }

    /// Predicate: the district `location` (an SQL expression) lies in the scope; `None` when
    /// every district is visible.
    pub fn district(&self, location: Fragment) -> Option<Fragment> {
        let ids = self.district_ids()?;
        Some(location.with_sql(" = ANY(").bind(ids).with_sql(")"))
    }

    /// Predicate over location alias `l`: the location is visible to the user, as openIMIS
    /// limits its location lists: the user's districts, every ward and village below them, and a
    /// region only when every one of its current districts is the user's. `None` when every
    /// location is visible.
    pub fn locations(&self, l: &str) -> Option<Fragment> {
        let ids = self.district_ids()?;
        Some(
            Fragment::sql(format!("({l}.\"LocationId\" = ANY("))
                .bind(ids)
                .with_sql(format!(") OR {l}.\"ParentLocationId\" = ANY("))
                .bind(ids)
                .with_sql(format!(
                    ") OR EXISTS (SELECT 1 FROM \"tblLocations\" lw \
                     WHERE lw.\"LocationId\" = {l}.\"ParentLocationId\" AND lw.\"ParentLocationId\" = ANY("
                ))
                .bind(ids)
                .with_sql(format!(
                    ")) OR ({l}.\"LocationType\" = 'R' AND EXISTS (SELECT 1 FROM \"tblLocations\" ld \
                     WHERE ld.\"ParentLocationId\" = {l}.\"LocationId\" AND ld.\"ValidityTo\" IS NULL) \
                     AND NOT EXISTS (SELECT 1 FROM \"tblLocations\" ld \
                     WHERE ld.\"ParentLocationId\" = {l}.\"LocationId\" AND ld.\"ValidityTo\" IS NULL \
                     AND NOT ld.\"LocationId\" = ANY("
                ))
                .bind(ids)
                .with_sql("))))"),
        )
    }

    /// Predicate over family alias `f`: the family lies in the scope; `None` when every family
    /// is visible.
    pub fn families(&self, f: &str) -> Option<Fragment> {
        self.village(Fragment::sql(format!("{f}.\"LocationId\"")))
    }

    /// Like [`Self::families`], `TRUE` when every family is visible (for queries whose family
    /// may be missing: a missing family is visible to administrators only).
    pub fn families_or_true(&self, f: &str) -> Fragment {
        self.families(f).unwrap_or_else(|| Fragment::sql("TRUE"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn identity(admin: bool, districts: Vec<i32>) -> Identity {
        Identity {
            user_id: 1,
            core_user_id: uuid::Uuid::nil(),
            login: "u".into(),
            language: "en".into(),
            rights: HashSet::from([101001]),
            is_admin: admin,
            districts,
        }
    }

    #[test]
    fn scope_fails_closed_and_binds_the_districts() {
        assert_eq!(Scope::of_caller(None), Scope::Districts(vec![]));
        assert_eq!(Scope::of(&identity(true, vec![3])), Scope::All);
        assert!(Scope::All.families("f").is_none());
        let none = Scope::of(&identity(false, vec![]));
        assert!(!none.sees_district(3));
        let p = none.families("f").unwrap();
        assert_eq!(p.bind_count(), 1);
        let some = Scope::of(&identity(false, vec![3, 7]));
        assert!(some.sees_district(7) && !some.sees_district(8));
        let p = some.families("fam").unwrap();
        let text = p.render(4);
        assert!(text.starts_with("fam.\"LocationId\" IN ("), "{text}");
        assert!(text.contains("ANY($4)") && !text.contains('7'), "{text}");
    }
}
