//! A user's identity read from openIMIS's tables: the current `tblUsers` row, the rights of its
//! current roles, whether it is an IMIS administrator, its districts, and its `core_User` row.

use diesel::sql_types::{Array, Bool, Int4, Nullable, Text, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::{AuthError, Identity};

/// The `IsSystem` value of the IMIS administrator role.
pub const ADMIN_ROLE_SYSTEM: i32 = 64;

#[derive(diesel::QueryableByName)]
pub(super) struct UserRow {
    #[diesel(sql_type = Int4)]
    pub(super) user_id: i32,
    #[diesel(sql_type = Text)]
    pub(super) login: String,
    #[diesel(sql_type = Text)]
    pub(super) language: String,
    #[diesel(sql_type = Nullable<Text>)]
    pub(super) stored_password: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub(super) private_key: Option<String>,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub(super) core_user_id: Option<Uuid>,
    #[diesel(sql_type = Array<Int4>)]
    pub(super) rights: Vec<i32>,
    #[diesel(sql_type = Bool)]
    pub(super) is_admin: bool,
    #[diesel(sql_type = Array<Int4>)]
    pub(super) districts: Vec<i32>,
}

const USER_SQL: &str = r#"
SELECT u."UserID" AS user_id, u."LoginName"::text AS login, u."LanguageID"::text AS language,
       u."StoredPassword"::text AS stored_password, u."PrivateKey"::text AS private_key,
       (SELECT cu."id" FROM "core_User" cu WHERE cu."username" = u."LoginName" LIMIT 1) AS core_user_id,
       ARRAY(SELECT DISTINCT rr."RightID" FROM "tblUserRole" ur
             JOIN "tblRole" r ON r."RoleID" = ur."RoleID" AND r."ValidityTo" IS NULL
             JOIN "tblRoleRight" rr ON rr."RoleID" = r."RoleID" AND rr."ValidityTo" IS NULL
             WHERE ur."UserID" = u."UserID" AND ur."ValidityTo" IS NULL
             ORDER BY 1) AS rights,
       EXISTS (SELECT 1 FROM "tblUserRole" ur
               JOIN "tblRole" r ON r."RoleID" = ur."RoleID" AND r."ValidityTo" IS NULL
               WHERE ur."UserID" = u."UserID" AND ur."ValidityTo" IS NULL AND r."IsSystem" = $2) AS is_admin,
       ARRAY(SELECT DISTINCT ud."LocationId" FROM "tblUsersDistricts" ud
             WHERE ud."UserID" = u."UserID" AND ud."ValidityTo" IS NULL
             ORDER BY 1) AS districts
FROM "tblUsers" u
WHERE u."LoginName" = $1 AND u."ValidityTo" IS NULL
ORDER BY u."UserID"
LIMIT 1
"#;

pub(super) async fn load_user(
    conn: &mut AsyncPgConnection,
    login: &str,
) -> Result<Option<UserRow>, AuthError> {
    let rows: Vec<UserRow> = diesel::sql_query(USER_SQL)
        .bind::<Text, _>(login)
        .bind::<Int4, _>(ADMIN_ROLE_SYSTEM)
        .load(conn)
        .await?;
    Ok(rows.into_iter().next())
}

#[derive(diesel::QueryableByName)]
struct Flag {
    #[diesel(sql_type = Bool)]
    flag: bool,
}

#[derive(diesel::QueryableByName)]
struct CoreUserId {
    #[diesel(sql_type = SqlUuid)]
    id: Uuid,
}

/// The `core_User` id of an interactive user, creating the row when absent.
async fn ensure_core_user(conn: &mut AsyncPgConnection, row: &UserRow) -> Result<Uuid, AuthError> {
    if let Some(id) = row.core_user_id {
        return Ok(id);
    }
    // Later openIMIS releases add a NOT NULL "ValidityFrom" (filled by Django, no SQL default).
    let with_validity: Flag = diesel::sql_query(
        r#"SELECT EXISTS (SELECT 1 FROM information_schema.columns
             WHERE table_schema = current_schema() AND table_name = 'core_User'
               AND column_name = 'ValidityFrom') AS flag"#,
    )
    .get_result(conn)
    .await?;
    let insert = if !with_validity.flag {
        r#"INSERT INTO "core_User" ("id", "username", "i_user_id") VALUES ($1, $2, $3)
           ON CONFLICT ("username") DO NOTHING"#
    } else {
        r#"INSERT INTO "core_User" ("id", "username", "i_user_id", "ValidityFrom")
           VALUES ($1, $2, $3, now()) ON CONFLICT ("username") DO NOTHING"#
    };
    diesel::sql_query(insert)
        .bind::<SqlUuid, _>(Uuid::new_v4())
        .bind::<Text, _>(&row.login)
        .bind::<Int4, _>(row.user_id)
        .execute(conn)
        .await?;
    let ids: Vec<CoreUserId> =
        diesel::sql_query(r#"SELECT "id" FROM "core_User" WHERE "username" = $1"#)
            .bind::<Text, _>(&row.login)
            .load(conn)
            .await?;
    ids.into_iter()
        .next()
        .map(|r| r.id)
        .ok_or(AuthError::InvalidPayload)
}

pub(super) async fn identity_of(
    conn: &mut AsyncPgConnection,
    row: &UserRow,
) -> Result<Identity, AuthError> {
    let core_user_id = ensure_core_user(conn, row).await?;
    Ok(Identity {
        user_id: row.user_id,
        core_user_id,
        login: row.login.clone(),
        language: row.language.clone(),
        rights: row.rights.iter().copied().collect(),
        is_admin: row.is_admin,
        districts: row.districts.clone(),
    })
}

/// Loads the current user `login` with rights and districts; `None` when there is none.
pub async fn load_identity(
    conn: &mut AsyncPgConnection,
    login: &str,
) -> Result<Option<Identity>, AuthError> {
    match load_user(conn, login).await? {
        Some(row) => Ok(Some(identity_of(conn, &row).await?)),
        None => Ok(None),
    }
}

/// What `GET /api/core/users/current_user/` tells about an interactive user besides its
/// identity: names, health facility and whether a password is set.
#[derive(Debug, Clone, diesel::QueryableByName)]
pub struct UserProfile {
    /// `tblUsers.LastName`.
    #[diesel(sql_type = Text)]
    pub last_name: String,
    /// `tblUsers.OtherNames`.
    #[diesel(sql_type = Text)]
    pub other_names: String,
    /// `tblUsers.HFID`.
    #[diesel(sql_type = Nullable<Int4>)]
    pub health_facility_id: Option<i32>,
    /// A password is stored (openIMIS marks a user without one with the value `locked`).
    #[diesel(sql_type = Bool)]
    pub has_password: bool,
}

/// The profile of the current `tblUsers` row `user_id`; `None` when it is gone.
pub async fn profile(
    conn: &mut AsyncPgConnection,
    user_id: i32,
) -> Result<Option<UserProfile>, AuthError> {
    let rows: Vec<UserProfile> = diesel::sql_query(
        r#"SELECT u."LastName"::text AS last_name, u."OtherNames"::text AS other_names,
                  u."HFID" AS health_facility_id,
                  COALESCE(u."StoredPassword", '') NOT IN ('', 'locked') AS has_password
           FROM "tblUsers" u WHERE u."UserID" = $1 AND u."ValidityTo" IS NULL"#,
    )
    .bind::<Int4, _>(user_id)
    .load(conn)
    .await?;
    Ok(rows.into_iter().next())
}
