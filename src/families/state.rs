//! The families page from the state the database maintains (DECISIONS 38): `pn_family_state`
//! (one row per family: current or not, district, the page's order key, the notification mode)
//! and `pn_family_count` (insert-only deltas of the current families per district and mode),
//! both kept true by triggers on `tblFamilies`, `tblInsuree`, `tblFamilySMS` and `tblLocations`
//! (migration `2026-12-02-100001_family_state`), whoever writes those tables.
//!
//! Only the common shapes go this way: current families, a notification mode (or none), the
//! caller's district scope, `parentLocation` at level 0 (region) or 1 (district), nothing else.
//! Their exact `totalCount` is a sum over a few hundred counter rows, and their page (in the
//! frontend's order, `-validityFrom`) an index scan of the state. Every other filter keeps the
//! exact query of [`crate::families::query`], which stays the reference: a test compares the two
//! after writes in plain SQL. Each statement here has one of a few dozen texts (the values,
//! district ids and mode included, are bound), so it is prepared once per connection.

use diesel::sql_types::{Array, BigInt, Int4, Nullable};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::db::sql::Fragment;
use crate::families::Scope;
use crate::families::filter::{FamilyFilter, QueryError, notification_mode};
use crate::families::rules::NotificationMode;
use crate::paging::Window;

/// Counter rows beyond which a reader folds the deltas (`pn_family_count_compact`).
pub const COMPACT_AFTER_ROWS: i64 = 512;

/// The page's order that the state's indexes carry (`orderBy: ["-validityFrom"]`), as
/// `query::order_clause` writes it.
pub const STATE_ORDER: &str = "f.\"ValidityFrom\" DESC NULLS LAST, f.\"FamilyID\" DESC";

/// A filter the state answers: a mode and a district restriction.
#[derive(Debug, Clone, PartialEq)]
pub struct StateShape {
    mode: NotificationMode,
    /// `None`: every district (and families without one).
    districts: Option<Fragment>,
}

impl StateShape {
    /// The shape of `filter` within `scope`, when the state answers it; `None` otherwise.
    /// `filter` must have been checked (`FamilyFilter::predicates`) first.
    pub fn of(filter: &FamilyFilter, scope: &Scope) -> Result<Option<StateShape>, QueryError> {
        if filter.show_history
            || filter.null_as_false_poverty.is_some()
            || filter.officer.is_some()
            || filter.client_mutation_id.is_some()
            || !filter.lookups.is_empty()
        {
            return Ok(None);
        }
        let mode = match &filter.additional_filter {
            Some(extra) => notification_mode(extra)?,
            None => NotificationMode::All,
        };
        let scope_ids = scope.district_ids();
        let in_scope = |column: &str| {
            scope_ids.map(|ids| {
                Fragment::sql(format!(" AND {column} = ANY("))
                    .bind(ids)
                    .with_sql(")")
            })
        };
        let districts = match (&filter.parent_location, filter.parent_location_level) {
            (None, _) => scope_ids.map(|ids| {
                Fragment::sql("SELECT DISTINCT unnest(")
                    .bind(ids)
                    .with_sql(") AS id")
            }),
            (Some(uuid), Some(1)) => {
                let mut f = Fragment::sql(
                    "SELECT l.\"LocationId\" AS id FROM \"tblLocations\" l \
                     WHERE lower(l.\"LocationUUID\") = lower(",
                )
                .bind(uuid.as_str())
                .with_sql(")");
                if let Some(s) = in_scope("l.\"LocationId\"") {
                    f.push(s);
                }
                Some(f)
            }
            (Some(uuid), Some(0)) => {
                let mut f = Fragment::sql(
                    "SELECT d.\"LocationId\" AS id FROM \"tblLocations\" d \
                     JOIN \"tblLocations\" r ON r.\"LocationId\" = d.\"ParentLocationId\" \
                     WHERE lower(r.\"LocationUUID\") = lower(",
                )
                .bind(uuid.as_str())
                .with_sql(")");
                if let Some(s) = in_scope("d.\"LocationId\"") {
                    f.push(s);
                }
                Some(f)
            }
            _ => return Ok(None),
        };
        Ok(Some(StateShape { mode, districts }))
    }

    fn mode_condition(&self, alias: &str) -> Fragment {
        match self.mode {
            NotificationMode::All => Fragment::new(),
            m => Fragment::sql(format!(" AND {alias}.\"mode\" = "))
                .bind(i32::try_from(m.number()).unwrap_or(0)),
        }
    }

    /// One statement: the exact total (when asked), the number of counter rows it summed, and
    /// (when `page`) the page's family ids in the state's order.
    fn statement(&self, window: Window, page: bool) -> Fragment {
        let mut q = Fragment::new();
        if let Some(d) = &self.districts {
            q.push_sql("WITH d AS MATERIALIZED (")
                .push(d.clone())
                .push_sql(") ");
        }
        let district = if self.districts.is_some() {
            " AND c.\"district_id\" IN (SELECT id FROM d)"
        } else {
            ""
        };
        if window.with_total {
            q.push_sql("SELECT t.n, t.deltas, ARRAY(");
        } else {
            q.push_sql("SELECT NULL::int8 AS n, 0::int8 AS deltas, ARRAY(");
        }
        if !page || window.limit <= 0 {
            q.push_sql("SELECT NULL::int4 WHERE false");
        } else if self.districts.is_some() {
            // the first limit + offset of each district, merged: each is one ordered index scan
            let per_district = window.limit.max(0).saturating_add(window.offset.max(0));
            q.push_sql(
                "SELECT x.family_id FROM (SELECT DISTINCT id FROM d) dd CROSS JOIN LATERAL (\
                 SELECT s.\"family_id\", s.\"validity_from\" FROM \"pn_family_state\" s \
                 WHERE s.\"current\" AND s.\"district_id\" = dd.id",
            )
            .push(self.mode_condition("s"))
            .push_sql(" ORDER BY s.\"validity_from\" DESC NULLS LAST, s.\"family_id\" DESC LIMIT ")
            .push_bind(per_district)
            .push_sql(") x ORDER BY x.\"validity_from\" DESC NULLS LAST, x.\"family_id\" DESC");
            q = q.limit_offset(window.limit, window.offset);
        } else {
            q.push_sql("SELECT s.\"family_id\" FROM \"pn_family_state\" s WHERE s.\"current\"")
                .push(self.mode_condition("s"))
                .push_sql(" ORDER BY s.\"validity_from\" DESC NULLS LAST, s.\"family_id\" DESC");
            q = q.limit_offset(window.limit, window.offset);
        }
        q.push_sql(") AS ids");
        if window.with_total {
            q.push_sql(
                " FROM (SELECT COALESCE(sum(c.\"n\"), 0)::int8 AS n, count(*)::int8 AS deltas \
                 FROM \"pn_family_count\" c WHERE TRUE",
            )
            .push(self.mode_condition("c"))
            .push_sql(district)
            .push_sql(") t");
        }
        q
    }

    /// The total (when `window.with_total`) and, when `page`, the page's ids, in one prepared
    /// statement; folds the counter deltas when the count read many.
    pub async fn run(
        &self,
        conn: &mut AsyncPgConnection,
        window: Window,
        page: bool,
    ) -> Result<(Option<i64>, Vec<i32>), QueryError> {
        let row: StateRow = self
            .statement(window, page)
            .prepared()
            .get_result(conn)
            .await?;
        if row.deltas > COMPACT_AFTER_ROWS {
            compact(conn).await?;
        }
        Ok((row.n, row.ids))
    }
}

#[derive(diesel::QueryableByName)]
struct StateRow {
    #[diesel(sql_type = Nullable<BigInt>)]
    n: Option<i64>,
    #[diesel(sql_type = BigInt)]
    deltas: i64,
    #[diesel(sql_type = Array<Int4>)]
    ids: Vec<i32>,
}

/// Folds the counter deltas into one row per district and mode (safe beside writers, readers
/// and another compaction: the migration's `pn_family_count_compact`).
pub async fn compact(conn: &mut AsyncPgConnection) -> Result<(), QueryError> {
    crate::db::prepared::cached(diesel::sql_query("SELECT pn_family_count_compact()"))
        .execute(conn)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn filter(mode: i64) -> FamilyFilter {
        FamilyFilter {
            additional_filter: Some(json!({"policyNotification": {"mode": {"value": mode}}})),
            ..FamilyFilter::default()
        }
    }

    #[test]
    fn only_the_common_shapes_use_the_state() {
        let all = Scope::All;
        assert!(StateShape::of(&filter(1), &all).unwrap().is_some());
        let mut history = filter(1);
        history.show_history = true;
        assert!(StateShape::of(&history, &all).unwrap().is_none());
        let mut lookup = filter(0);
        lookup.lookups = vec![("headInsuree_LastName_Icontains".into(), "x".into())];
        assert!(StateShape::of(&lookup, &all).unwrap().is_none());
        let mut ward = filter(2);
        ward.parent_location = Some("u".into());
        ward.parent_location_level = Some(2);
        assert!(StateShape::of(&ward, &all).unwrap().is_none());
        ward.parent_location_level = Some(1);
        assert!(StateShape::of(&ward, &all).unwrap().is_some());
    }

    #[test]
    fn values_are_bound_and_the_text_depends_on_the_shape_only() {
        let scoped = Scope::Districts(vec![3, 7]);
        let mut f = filter(3);
        f.parent_location = Some("O'Brien".into());
        f.parent_location_level = Some(1);
        let shape = StateShape::of(&f, &scoped).unwrap().unwrap();
        let w = Window {
            offset: 20,
            limit: 11,
            with_total: true,
        };
        let q = shape.statement(w, true);
        let text = q.render(1);
        assert!(
            !text.contains("O'Brien") && !text.contains("3, 7"),
            "{text}"
        );
        assert!(
            q.binds()
                .any(|b| *b == crate::db::sql::Bind::IntArray(vec![3, 7]))
        );
        let other = Window {
            offset: 0,
            limit: 5,
            with_total: true,
        };
        assert_eq!(shape.statement(other, true).render(1), text);
        let mode1 = StateShape::of(
            &FamilyFilter {
                parent_location: Some("x".into()),
                parent_location_level: Some(1),
                ..filter(1)
            },
            &Scope::Districts(vec![1]),
        )
        .unwrap()
        .unwrap();
        assert_eq!(mode1.statement(w, true).render(1), text);
    }
}
