mod support;

#[tokio::test]
async fn template_database_is_migrated() {
    let db = support::TestDb::new().await;
    assert_eq!(db.count("SELECT count(*) FROM \"tblFamilySMS\"").await, 0);
}
