//! Who may see which families (DECISIONS 10): administrators see every family; other users see
//! the families whose village lies in one of their districts. Families without a location are
//! visible to administrators only.

/// The families a user may see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Every family (IMIS administrators).
    All,
    /// Families in villages of these districts (`tblLocations.LocationId`s); empty = none.
    Districts(Vec<i32>),
}

impl Scope {
    /// SQL predicate over family alias `f`, with the district ids bound as `int4[]` parameter
    /// `$param`; `None` when every family is visible.
    pub fn sql(&self, f: &str, param: usize) -> Option<String> {
        match self {
            Scope::All => None,
            Scope::Districts(_) => Some(format!(
                "{f}.\"LocationId\" IN (SELECT sv.\"LocationId\" FROM \"tblLocations\" sv \
                 JOIN \"tblLocations\" sw ON sw.\"LocationId\" = sv.\"ParentLocationId\" \
                 WHERE sw.\"ParentLocationId\" = ANY(${param}))"
            )),
        }
    }

    /// The district ids to bind for [`Self::sql`] (empty for [`Scope::All`]).
    pub fn district_ids(&self) -> Vec<i32> {
        match self {
            Scope::All => Vec::new(),
            Scope::Districts(d) => d.clone(),
        }
    }
}
