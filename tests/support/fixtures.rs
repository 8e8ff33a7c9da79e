//! Fixture rows every test needs: users with roles, rights and districts; a location chain;
//! languages.

use super::TestDb;

fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

fn int_array(v: &[i32]) -> String {
    format!(
        "ARRAY[{}]::int[]",
        v.iter()
            .map(|x| x.to_string())
            .collect::<Vec<_>>()
            .join(",")
    )
}

/// Adds a language, or gives an existing one (openIMIS's databases ship `en` and `fr`) this name
/// and sort order.
pub async fn language(db: &TestDb, code: &str, name: &str, sort_order: Option<i32>) {
    db.exec(&format!(
        "INSERT INTO \"tblLanguages\" (\"LanguageCode\", \"LanguageName\", \"SortOrder\") \
         VALUES ({}, {}, {}) ON CONFLICT (\"LanguageCode\") DO UPDATE \
         SET \"LanguageName\" = EXCLUDED.\"LanguageName\", \"SortOrder\" = EXCLUDED.\"SortOrder\"",
        quote(code),
        quote(name),
        sort_order.map_or("NULL".to_string(), |s| s.to_string())
    ))
    .await;
}

/// Creates an openIMIS user `login` with `password` (openIMIS hashing, a private key of its
/// own), one role holding `rights` (`IsSystem = 64`, i.e. administrator, when `admin`), and the
/// district `LocationId`s in `districts`. Adds language `en` if absent. Returns the `UserID`.
pub async fn user(
    db: &TestDb,
    login: &str,
    password: &str,
    rights: &[i32],
    districts: &[i32],
    admin: bool,
) -> i32 {
    db.exec(
        "INSERT INTO \"tblLanguages\" (\"LanguageCode\", \"LanguageName\") VALUES ('en', 'English') \
         ON CONFLICT DO NOTHING",
    )
    .await;
    let private_key = uuid::Uuid::new_v4().simple().to_string().to_uppercase();
    let stored = policy_notification::auth::hash_password(password, &private_key);
    let role = format!("role-{login}");
    let l = quote(login);
    let r = quote(&role);
    db.exec(&format!(
        "INSERT INTO \"tblUsers\" (\"UserUUID\", \"LoginName\", \"LastName\", \"OtherNames\", \
           \"LanguageID\", \"StoredPassword\", \"PrivateKey\", \"ValidityFrom\", \"AuditUserID\") \
         VALUES ({uuid}, {l}, {l}, 'Test', 'en', {stored}, {key}, now(), 0);
         INSERT INTO \"tblRole\" (\"RoleUUID\", \"RoleName\", \"IsSystem\", \"IsBlocked\", \"ValidityFrom\") \
         VALUES ({role_uuid}, {r}, {system}, false, now());
         INSERT INTO \"tblRoleRight\" (\"RoleID\", \"RightID\", \"ValidityFrom\") \
         SELECT ro.\"RoleID\", x, now() FROM \"tblRole\" ro, unnest({rights}) x WHERE ro.\"RoleName\" = {r};
         INSERT INTO \"tblUserRole\" (\"UserID\", \"RoleID\", \"ValidityFrom\") \
         SELECT u.\"UserID\", ro.\"RoleID\", now() FROM \"tblUsers\" u, \"tblRole\" ro \
         WHERE u.\"LoginName\" = {l} AND ro.\"RoleName\" = {r};
         INSERT INTO \"tblUsersDistricts\" (\"UserID\", \"LocationId\", \"ValidityFrom\", \"AuditUserID\") \
         SELECT u.\"UserID\", x, now(), 0 FROM \"tblUsers\" u, unnest({districts}) x WHERE u.\"LoginName\" = {l};",
        uuid = quote(&uuid::Uuid::new_v4().to_string()),
        role_uuid = quote(&uuid::Uuid::new_v4().to_string()),
        stored = quote(&stored),
        key = quote(&private_key),
        system = if admin { 64 } else { 0 },
        rights = int_array(rights),
        districts = int_array(districts),
    ))
    .await;
    db.count(&format!(
        "SELECT \"UserID\" FROM \"tblUsers\" WHERE \"LoginName\" = {l}"
    ))
    .await as i32
}

/// A region → district → ward → village chain.
#[derive(Debug, Clone, Copy)]
pub struct Locations {
    pub region: i32,
    pub district: i32,
    pub ward: i32,
    pub village: i32,
}

/// Creates a location chain with codes `<prefix>R`, `<prefix>D`, `<prefix>W`, `<prefix>V`
/// (prefix at most 7 characters, unique per test database).
pub async fn locations(db: &TestDb, prefix: &str) -> Locations {
    let mut parent: Option<i32> = None;
    let mut ids = Vec::new();
    for ty in ["R", "D", "W", "V"] {
        let code = format!("{prefix}{ty}");
        db.exec(&format!(
            "INSERT INTO \"tblLocations\" (\"LocationUUID\", \"LocationCode\", \"LocationName\", \
               \"LocationType\", \"ParentLocationId\", \"ValidityFrom\") \
             VALUES ({}, {}, {}, '{ty}', {}, now())",
            quote(&uuid::Uuid::new_v4().to_string()),
            quote(&code),
            quote(&format!("{prefix} {ty}")),
            parent.map_or("NULL".to_string(), |p| p.to_string()),
        ))
        .await;
        let id = db
            .count(&format!(
                "SELECT \"LocationId\" FROM \"tblLocations\" WHERE \"LocationCode\" = {}",
                quote(&code)
            ))
            .await as i32;
        parent = Some(id);
        ids.push(id);
    }
    Locations {
        region: ids[0],
        district: ids[1],
        ward: ids[2],
        village: ids[3],
    }
}
