//! `db::prepared::cached` makes raw SQL of a fixed text a prepared statement that each
//! connection prepares once and then reuses; plain `sql_query` text stays unnamed (prepared and
//! dropped at every execution); so with `Fragment::prepared` and `Fragment::query`. Seen in
//! PostgreSQL's own `pg_prepared_statements` of the session.
mod support;

use diesel::QueryableByName;
use diesel::sql_types::{BigInt, Int4, Text};
use diesel_async::RunQueryDsl;
use policy_notification::db::prepared::cached;
use support::TestDb;

#[derive(QueryableByName)]
struct N {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(QueryableByName)]
struct X {
    #[diesel(sql_type = Int4)]
    x: i32,
}

async fn prepared_like(conn: &mut diesel_async::AsyncPgConnection, pattern: &str) -> i64 {
    diesel::sql_query("SELECT count(*) AS n FROM pg_prepared_statements WHERE statement LIKE $1")
        .bind::<Text, _>(pattern)
        .get_result::<N>(conn)
        .await
        .unwrap()
        .n
}

#[tokio::test]
async fn cached_raw_sql_is_prepared_once_per_connection() {
    let db = TestDb::new().await;
    let mut conn = db.conn().await;
    for i in 0..3 {
        let row: X =
            cached(diesel::sql_query("SELECT $1 + 0 AS x /* cached */").bind::<Int4, _>(i))
                .get_result(&mut conn)
                .await
                .unwrap();
        assert_eq!(row.x, i);
        let row: X = diesel::sql_query("SELECT $1 + 0 AS x /* plain */")
            .bind::<Int4, _>(i)
            .get_result(&mut conn)
            .await
            .unwrap();
        assert_eq!(row.x, i);
    }
    assert_eq!(prepared_like(&mut conn, "%/* cached */%").await, 1);
    assert_eq!(prepared_like(&mut conn, "%/* plain */%").await, 0);
}

/// A fragment run with `prepared()` is prepared once per connection; with `query()` it is not.
/// Either way its values arrive as the types they were bound as, NULLs included.
#[tokio::test]
async fn fragments_run_prepared_or_plain_with_their_values() {
    use policy_notification::db::sql::{Bind, Fragment};

    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = Int4)]
        x: i32,
        #[diesel(sql_type = Text)]
        t: String,
        #[diesel(sql_type = diesel::sql_types::Bool)]
        none: bool,
    }
    let db = TestDb::new().await;
    let mut conn = db.conn().await;
    for i in 0..3 {
        let f = |mark: &str| {
            Fragment::sql("SELECT ")
                .bind(i)
                .with_sql(" + 0 AS x, ")
                .bind(format!("v{i}"))
                .with(Fragment::sql("::text || ").bind("'; --"))
                .with_sql(" AS t, ")
                .bind(Bind::OptInt(None))
                .with_sql("::int IS NULL AS none ")
                .with_sql(mark)
        };
        let cached = f("/* fragment prepared */");
        let row: Row = cached.prepared().get_result(&mut conn).await.unwrap();
        assert_eq!(
            (row.x, row.t.as_str(), row.none),
            (i, &*format!("v{i}'; --"), true)
        );
        let plain = f("/* fragment plain */");
        let row: Row = plain.query().get_result(&mut conn).await.unwrap();
        assert_eq!((row.x, row.none), (i, true));
    }
    assert_eq!(
        prepared_like(&mut conn, "%/* fragment prepared */%").await,
        1
    );
    assert_eq!(prepared_like(&mut conn, "%/* fragment plain */%").await, 0);
}
