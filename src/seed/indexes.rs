//! Secondary indexes and constraints of the bulk tables, set aside during a large load and
//! rebuilt after it (one pass over the data instead of one index update per row).

/// The tables the bulk load writes.
pub(crate) const BULK_TABLES: &[&str] = &[
    "tblFamilies",
    "tblInsuree",
    "tblFamilySMS",
    "tblPolicy",
    "tblInsureePolicy",
    "tblPremium",
    "tblIndicationOfPolicyNotifications",
];

fn table_array() -> String {
    let names: Vec<String> = BULK_TABLES
        .iter()
        .map(|t| format!("'\"{t}\"'::regclass"))
        .collect();
    format!("ARRAY[{}]", names.join(", "))
}

/// A query returning (drop statement, re-create statement) for every secondary index and every
/// foreign-key or unique constraint of the bulk tables that nothing else depends on. Foreign
/// keys come first so that the unique constraints they might use are dropped after them.
pub(crate) fn deferrable_objects_sql() -> String {
    let tables = table_array();
    format!(
        r#"
SELECT drop_sql, create_sql FROM (
    SELECT 0 AS ord, c.conname::text AS name,
        format('ALTER TABLE %s DROP CONSTRAINT %I', c.conrelid::regclass, c.conname) AS drop_sql,
        format('ALTER TABLE %s ADD CONSTRAINT %I %s', c.conrelid::regclass, c.conname, pg_get_constraintdef(c.oid)) AS create_sql
    FROM pg_constraint c
    WHERE c.conrelid = ANY({tables}) AND c.contype = 'f'
    UNION ALL
    SELECT 1, c.conname::text,
        format('ALTER TABLE %s DROP CONSTRAINT %I', c.conrelid::regclass, c.conname),
        format('ALTER TABLE %s ADD CONSTRAINT %I %s', c.conrelid::regclass, c.conname, pg_get_constraintdef(c.oid))
    FROM pg_constraint c
    WHERE c.conrelid = ANY({tables}) AND c.contype = 'u'
      AND NOT EXISTS (SELECT 1 FROM pg_constraint f WHERE f.contype = 'f' AND f.conindid = c.conindid
                      AND NOT (f.conrelid = ANY({tables})))
    UNION ALL
    SELECT 2, i.indexrelid::regclass::text,
        format('DROP INDEX %s', i.indexrelid::regclass),
        pg_get_indexdef(i.indexrelid)
    FROM pg_index i
    WHERE i.indrelid = ANY({tables}) AND NOT i.indisprimary
      AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
) x ORDER BY ord, name
"#
    )
}

/// Brings every bulk table's statistics up to date.
pub(crate) fn analyze_sql() -> String {
    let mut sql = String::new();
    for t in BULK_TABLES {
        sql.push_str(&format!("ANALYZE \"{t}\";\n"));
    }
    sql
}

/// Moves each serial/identity sequence past the highest id, so later inserts by openIMIS or by
/// this service do not collide with the explicit ids of the demo rows.
pub(crate) fn setval_sql() -> String {
    let keys = [
        ("tblLocations", "LocationId"),
        ("tblOfficer", "OfficerID"),
        ("tblProduct", "ProdID"),
        ("tblRole", "RoleID"),
        ("tblRoleRight", "RoleRightID"),
        ("tblUsers", "UserID"),
        ("tblUserRole", "UserRoleID"),
        ("tblUsersDistricts", "UserDistrictID"),
        ("tblInsuree", "InsureeID"),
        ("tblFamilies", "FamilyID"),
        ("tblPolicy", "PolicyID"),
        ("tblInsureePolicy", "InsureePolicyID"),
        ("tblPremium", "PremiumId"),
    ];
    let mut sql = String::new();
    for (table, column) in keys {
        sql.push_str(&format!(
            r#"SELECT setval(s, m) FROM (SELECT pg_get_serial_sequence('"{table}"', '{column}') AS s,
    (SELECT max("{column}") FROM "{table}") AS m) x WHERE s IS NOT NULL AND m IS NOT NULL;
"#
        ));
    }
    sql
}
