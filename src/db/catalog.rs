//! The shape of the database the service runs on, read once from PostgreSQL's catalog: which
//! columns openIMIS's tables have in this era, their lengths and nullability. The family write
//! model uses it to copy history rows with exactly the columns a table has, to check string
//! inputs against the live column length, and to know whether an insuree may be left without a
//! family (docs/compatibility.md, "Databases of every era").

use std::collections::HashMap;
use std::sync::Arc;

use diesel::QueryableByName;
use diesel::sql_types::{Bool, Nullable, Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use tokio::sync::OnceCell;

use super::{DbError, Pool};

/// The tables whose shape the service reads.
const TABLES: &[&str] = &[
    "tblFamilies",
    "tblInsuree",
    "tblUserRole",
    "tblPremium",
    "tblHF",
    "core_Mutation_Log",
];

/// One column of a table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    /// The column's name, as PostgreSQL spells it.
    pub name: String,
    /// Whether it accepts NULL.
    pub nullable: bool,
    /// The declared length of a `varchar(n)` / `char(n)` column.
    pub max_chars: Option<usize>,
}

/// The columns of the tables in [`TABLES`] that exist in this database, in table order.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    tables: HashMap<String, Vec<Column>>,
}

#[derive(QueryableByName)]
struct Row {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
    #[diesel(sql_type = Bool)]
    nullable: bool,
    #[diesel(sql_type = Nullable<diesel::sql_types::Int4>)]
    max_chars: Option<i32>,
}

impl Catalog {
    /// Reads the shape of the tables the service writes (one query).
    pub async fn load(conn: &mut AsyncPgConnection) -> Result<Catalog, DbError> {
        let rows: Vec<Row> = diesel::sql_query(
            "SELECT c.relname::text AS table_name, a.attname::text AS column_name, \
                    NOT a.attnotnull AS nullable, \
                    CASE WHEN a.atttypid IN ('varchar'::regtype, 'bpchar'::regtype) AND a.atttypmod > 4 \
                         THEN a.atttypmod - 4 END AS max_chars \
             FROM pg_attribute a \
             JOIN pg_class c ON c.oid = a.attrelid \
             WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p') \
               AND c.relname = ANY($1) AND a.attnum > 0 AND NOT a.attisdropped \
             ORDER BY c.relname, a.attnum",
        )
        .bind::<diesel::sql_types::Array<Text>, _>(TABLES)
        .load(conn)
        .await?;
        let mut tables: HashMap<String, Vec<Column>> = HashMap::new();
        for r in rows {
            tables.entry(r.table_name).or_default().push(Column {
                name: r.column_name,
                nullable: r.nullable,
                max_chars: r.max_chars.and_then(|n| usize::try_from(n).ok()),
            });
        }
        Ok(Catalog { tables })
    }

    /// The columns of `table` (empty when the table does not exist).
    pub fn columns(&self, table: &str) -> &[Column] {
        self.tables.get(table).map(Vec::as_slice).unwrap_or(&[])
    }

    /// Whether `table` exists.
    pub fn has_table(&self, table: &str) -> bool {
        self.tables.contains_key(table)
    }

    /// Column `column` of `table`, when it exists.
    pub fn column(&self, table: &str, column: &str) -> Option<&Column> {
        self.columns(table).iter().find(|c| c.name == column)
    }

    /// Whether `table` has `column`.
    pub fn has_column(&self, table: &str, column: &str) -> bool {
        self.column(table, column).is_some()
    }

    /// The declared length of a character column, when it has one.
    pub fn max_chars(&self, table: &str, column: &str) -> Option<usize> {
        self.column(table, column).and_then(|c| c.max_chars)
    }

    /// Whether an insuree may exist without a family (`tblInsuree."FamilyID"` nullable: after
    /// openIMIS 1.5.0's own migrations, and on our own schema; NOT NULL in the shipped dumps).
    pub fn insuree_family_nullable(&self) -> bool {
        self.column("tblInsuree", "FamilyID")
            .is_none_or(|c| c.nullable)
    }

    /// The quoted, comma-separated columns of `table` that a history copy carries over: every
    /// column but `skip` (the key, the uuid, `ValidityTo` and `LegacyID`, which the copy sets).
    pub fn copy_list(&self, table: &str, skip: &[&str]) -> String {
        self.columns(table)
            .iter()
            .filter(|c| !skip.contains(&c.name.as_str()))
            .map(|c| format!("\"{}\"", c.name))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// The catalog, read on first use and then kept for the life of the process (the service's
/// start-up reads it at once; tests and tools that never write families never read it).
#[derive(Clone, Default)]
pub struct CatalogCell(Arc<OnceCell<Arc<Catalog>>>);

impl CatalogCell {
    /// The catalog of `pool`'s database, read once.
    pub async fn get(&self, pool: &Pool) -> Result<Arc<Catalog>, DbError> {
        self.0
            .get_or_try_init(|| async {
                let mut conn = pool.get().await?;
                Catalog::load(&mut conn).await.map(Arc::new)
            })
            .await
            .cloned()
    }

    /// A cell that already holds `catalog`.
    pub fn with(catalog: Catalog) -> CatalogCell {
        CatalogCell(Arc::new(OnceCell::new_with(Some(Arc::new(catalog)))))
    }
}

impl std::fmt::Debug for CatalogCell {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("CatalogCell")
            .field(&self.0.get().is_some())
            .finish()
    }
}
