//! Identity: the openIMIS password check, JWT issue and verification (HS256 with the user's
//! `PrivateKey`, else the configured secret), a user's rights and districts, the district
//! restriction as an SQL predicate, and the login slow-down (DECISIONS 10, 31, 32).
//!
//! Used by both `http/` and `graphql/`, so it holds no HTTP or GraphQL types.

use std::collections::HashSet;

use diesel::sql_types::{Array, Bool, Float8, Int4, Nullable, Text, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::db::DbError;
use crate::error::{ErrorCode, UserFacing};

/// Failed logins in a row (within [`FAILURE_WINDOW_SECONDS`]) that lock a user name.
pub const MAX_LOGIN_FAILURES: i32 = 5;
/// How long a user name stays locked after too many failures, seconds.
pub const LOCK_SECONDS: i64 = 300;
/// Failures older than this no longer count, seconds.
pub const FAILURE_WINDOW_SECONDS: i64 = 900;
/// The `IsSystem` value of the IMIS administrator role.
pub const ADMIN_ROLE_SYSTEM: i32 = 64;

/// Why authentication failed. The texts are openIMIS's (graphql_jwt) so clients match them.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// Wrong user name or password (never says which), or the user name is locked for a while.
    #[error("Please enter valid credentials")]
    InvalidCredentials {
        /// Seconds until the user name may try again, when it is locked.
        retry_after_seconds: Option<i64>,
    },
    /// The token's `exp` has passed.
    #[error("Signature has expired")]
    Expired,
    /// The token is malformed, or its signature does not verify.
    #[error("Error decoding signature")]
    BadToken,
    /// The token is well signed but names no current user.
    #[error("Invalid payload")]
    InvalidPayload,
    /// The token can no longer be refreshed (`origIat` + refresh delta has passed).
    #[error("Refresh has expired")]
    RefreshExpired,
    /// A refresh was asked for without any token.
    #[error("Token is required")]
    NoToken,
    /// Signing failed (a fault of ours).
    #[error("cannot sign the token: {0}")]
    Sign(String),
    /// The database failed.
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<diesel::result::Error> for AuthError {
    fn from(e: diesel::result::Error) -> Self {
        AuthError::Db(DbError::Query(e))
    }
}

impl UserFacing for AuthError {
    fn code(&self) -> ErrorCode {
        match self {
            AuthError::Sign(_) => ErrorCode::Internal,
            AuthError::Db(e) => e.code(),
            _ => ErrorCode::Unauthenticated,
        }
    }

    fn user_message(&self) -> String {
        match self {
            AuthError::Sign(_) => ErrorCode::Internal.as_str().to_string(),
            AuthError::Db(e) => e.user_message(),
            other => other.to_string(),
        }
    }
}

/// Who is calling: an openIMIS interactive user with its rights and districts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// `tblUsers.UserID`.
    pub user_id: i32,
    /// `core_User.id` (created on first use, as openIMIS does for interactive users).
    pub core_user_id: Uuid,
    /// `tblUsers.LoginName` (the token's `username`).
    pub login: String,
    /// `tblUsers.LanguageID`.
    pub language: String,
    /// Rights of the user's current roles (`tblUserRole` → `tblRoleRight`, current rows).
    pub rights: HashSet<i32>,
    /// Holds a current role with `IsSystem = 64` (IMIS administrator).
    pub is_admin: bool,
    /// District `LocationId`s of the user's current `tblUsersDistricts` rows, ascending.
    pub districts: Vec<i32>,
}

impl Identity {
    /// Whether the user holds `right`.
    pub fn has_right(&self, right: i32) -> bool {
        self.rights.contains(&right)
    }

    /// Whether the user holds at least one of `rights` (an empty list needs no right).
    pub fn has_any_right(&self, rights: &[i32]) -> bool {
        rights.is_empty() || rights.iter().any(|r| self.rights.contains(r))
    }

    /// SQL predicate over family alias `f`: the family lies within this user's districts
    /// (DECISIONS 10). See [`district_filter_sql`].
    pub fn district_filter_sql(&self, f: &str) -> String {
        district_filter_sql(Some(self), f)
    }
}

/// SQL predicate over family alias `f` for the district restriction (DECISIONS 10, fail closed):
/// administrators see every family; other users see the families whose village → ward →
/// district is one of their districts; families without a location only administrators; an
/// anonymous caller or a user without districts sees none.
pub fn district_filter_sql(identity: Option<&Identity>, f: &str) -> String {
    let Some(identity) = identity else {
        return "FALSE".to_string();
    };
    if identity.is_admin {
        return "TRUE".to_string();
    }
    if identity.districts.is_empty() {
        return "FALSE".to_string();
    }
    // The ids are integers read from the database, so inlining them is safe.
    let ids = identity
        .districts
        .iter()
        .map(|d| d.to_string())
        .collect::<Vec<_>>()
        .join(",");
    format!(
        "EXISTS (SELECT 1 FROM \"tblLocations\" dr_v \
         JOIN \"tblLocations\" dr_w ON dr_w.\"LocationId\" = dr_v.\"ParentLocationId\" \
         WHERE dr_v.\"LocationId\" = {f}.\"LocationId\" AND dr_w.\"ParentLocationId\" IN ({ids}))"
    )
}

/// The openIMIS password hash: upper-case hex SHA-256 of the password without trailing
/// whitespace followed by the user's private key.
pub fn hash_password(password: &str, private_key: &str) -> String {
    let mut input = String::with_capacity(password.len() + private_key.len());
    input.push_str(password.trim_end());
    input.push_str(private_key);
    hex::encode_upper(ring::digest::digest(
        &ring::digest::SHA256,
        input.as_bytes(),
    ))
}

/// Whether `password` matches `stored` (`tblUsers.StoredPassword`, compared case-insensitively).
pub fn password_matches(password: &str, private_key: &str, stored: &str) -> bool {
    let computed = hash_password(password, private_key);
    let stored = stored.trim().to_ascii_uppercase();
    computed.len() == stored.len()
        && computed
            .bytes()
            .zip(stored.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

/// The claims of our tokens, in openIMIS's order and names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The user's login name.
    pub username: String,
    /// Expiry, epoch seconds.
    pub exp: i64,
    /// Time of the original login, epoch seconds (refreshes keep it; 0 when absent, which
    /// cannot be refreshed).
    #[serde(rename = "origIat", default)]
    pub orig_iat: i64,
    /// Random token id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jti: Option<String>,
    /// Not valid before, epoch seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
    /// Marks a refresh token, which is not accepted as an access token.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub refresh: bool,
}

/// The token settings: fallback secret and lifetimes.
#[derive(Clone)]
pub struct JwtKeys {
    secret: SecretString,
    /// Access token lifetime, seconds.
    pub expiration_seconds: i64,
    /// How long after login a token may be refreshed, seconds.
    pub refresh_expiration_seconds: i64,
}

impl std::fmt::Debug for JwtKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtKeys")
            .field("expiration_seconds", &self.expiration_seconds)
            .field(
                "refresh_expiration_seconds",
                &self.refresh_expiration_seconds,
            )
            .finish_non_exhaustive()
    }
}

impl JwtKeys {
    /// Keys from the configured secret and lifetimes.
    pub fn new(
        secret: SecretString,
        expiration_seconds: i64,
        refresh_expiration_seconds: i64,
    ) -> Self {
        JwtKeys {
            secret,
            expiration_seconds,
            refresh_expiration_seconds,
        }
    }

    fn key_for<'a>(&'a self, private_key: Option<&'a str>) -> &'a [u8] {
        match private_key {
            Some(k) if !k.is_empty() => k.as_bytes(),
            _ => self.secret.expose_secret().as_bytes(),
        }
    }

    /// Signs `claims` with the user's private key when present, else the configured secret.
    pub fn sign(&self, claims: &Claims, private_key: Option<&str>) -> Result<String, AuthError> {
        jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            claims,
            &EncodingKey::from_secret(self.key_for(private_key)),
        )
        .map_err(|e| AuthError::Sign(e.to_string()))
    }

    /// Verifies `token` with the given key choice; `check_exp` false for refreshes.
    pub fn verify(
        &self,
        token: &str,
        private_key: Option<&str>,
        check_exp: bool,
    ) -> Result<Claims, AuthError> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 0;
        validation.validate_exp = check_exp;
        validation.validate_nbf = true;
        validation.required_spec_claims = HashSet::from(["exp".to_string()]);
        jsonwebtoken::decode::<Claims>(
            token,
            &DecodingKey::from_secret(self.key_for(private_key)),
            &validation,
        )
        .map(|d| d.claims)
        .map_err(|e| match e.kind() {
            jsonwebtoken::errors::ErrorKind::ExpiredSignature => AuthError::Expired,
            _ => AuthError::BadToken,
        })
    }
}

/// Reads the `username` claim without verifying anything (to choose the verification key).
pub fn unverified_username(token: &str) -> Result<String, AuthError> {
    #[derive(Deserialize)]
    struct Peek {
        username: Option<String>,
    }
    let peek: Peek = jsonwebtoken::dangerous::insecure_decode_claims(token.as_bytes())
        .map_err(|_| AuthError::BadToken)?;
    // A NUL cannot name a user (and PostgreSQL refuses it in a bound text).
    peek.username
        .filter(|u| !u.is_empty() && !u.contains('\0'))
        .ok_or(AuthError::InvalidPayload)
}

/// The claims of a token as JSON, without verifying anything (call after verifying).
pub fn unverified_claims(token: &str) -> Result<serde_json::Value, AuthError> {
    jsonwebtoken::dangerous::insecure_decode_claims(token.as_bytes())
        .map_err(|_| AuthError::BadToken)
}

/// A token just issued, with what `tokenAuth`/`refreshToken` answer.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    /// The access token.
    pub token: String,
    /// Its claims.
    pub claims: Claims,
    /// Until when it may be refreshed, epoch seconds.
    pub refresh_expires_in: i64,
    /// A refresh token (a signed token marked `refresh`, valid until `refresh_expires_in`).
    pub refresh_token: String,
    /// Who it was issued to.
    pub identity: Identity,
}

fn now_epoch() -> i64 {
    chrono::Utc::now().timestamp()
}

fn issue(
    keys: &JwtKeys,
    identity: Identity,
    private_key: Option<&str>,
    orig_iat: i64,
) -> Result<IssuedToken, AuthError> {
    let now = now_epoch();
    let refresh_expires_in = orig_iat + keys.refresh_expiration_seconds;
    let claims = Claims {
        username: identity.login.clone(),
        exp: now + keys.expiration_seconds,
        orig_iat,
        jti: Some(Uuid::new_v4().to_string()),
        nbf: Some(now),
        refresh: false,
    };
    let token = keys.sign(&claims, private_key)?;
    let refresh_claims = Claims {
        username: identity.login.clone(),
        exp: refresh_expires_in,
        orig_iat,
        jti: Some(Uuid::new_v4().to_string()),
        nbf: Some(now),
        refresh: true,
    };
    let refresh_token = keys.sign(&refresh_claims, private_key)?;
    Ok(IssuedToken {
        token,
        claims,
        refresh_expires_in,
        refresh_token,
        identity,
    })
}

#[derive(diesel::QueryableByName)]
struct UserRow {
    #[diesel(sql_type = Int4)]
    user_id: i32,
    #[diesel(sql_type = Text)]
    login: String,
    #[diesel(sql_type = Text)]
    language: String,
    #[diesel(sql_type = Nullable<Text>)]
    stored_password: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    private_key: Option<String>,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    core_user_id: Option<Uuid>,
    #[diesel(sql_type = Array<Int4>)]
    rights: Vec<i32>,
    #[diesel(sql_type = Bool)]
    is_admin: bool,
    #[diesel(sql_type = Array<Int4>)]
    districts: Vec<i32>,
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

async fn load_user(
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

async fn identity_of(conn: &mut AsyncPgConnection, row: &UserRow) -> Result<Identity, AuthError> {
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

/// Verifies an access token the openIMIS way (the `username` read unverified chooses the key)
/// and loads its user.
pub async fn authenticate(
    conn: &mut AsyncPgConnection,
    keys: &JwtKeys,
    token: &str,
) -> Result<Identity, AuthError> {
    let username = unverified_username(token)?;
    let row = load_user(conn, &username).await?;
    let claims = keys.verify(
        token,
        row.as_ref().and_then(|r| r.private_key.as_deref()),
        true,
    )?;
    if claims.refresh {
        return Err(AuthError::BadToken);
    }
    let row = row.ok_or(AuthError::InvalidPayload)?;
    if claims.username != row.login {
        return Err(AuthError::InvalidPayload);
    }
    identity_of(conn, &row).await
}

/// Issues a new access token from an access or refresh token that may have expired, as long as
/// its `origIat` + the refresh delta has not passed; `origIat` is kept.
pub async fn refresh(
    conn: &mut AsyncPgConnection,
    keys: &JwtKeys,
    token: &str,
) -> Result<IssuedToken, AuthError> {
    let username = unverified_username(token)?;
    let row = load_user(conn, &username).await?;
    let private_key = row.as_ref().and_then(|r| r.private_key.clone());
    let claims = keys.verify(token, private_key.as_deref(), false)?;
    if now_epoch() >= claims.orig_iat + keys.refresh_expiration_seconds {
        return Err(AuthError::RefreshExpired);
    }
    let row = row.ok_or(AuthError::InvalidPayload)?;
    let identity = identity_of(conn, &row).await?;
    issue(keys, identity, private_key.as_deref(), claims.orig_iat)
}

/// The key under which failures of a login name are counted.
fn failure_key(login: &str) -> String {
    login.trim().to_lowercase().chars().take(50).collect()
}

#[derive(diesel::QueryableByName)]
struct LockRow {
    #[diesel(sql_type = Nullable<Float8>)]
    remaining: Option<f64>,
}

/// Seconds the login name stays locked, if it is.
async fn locked_for(conn: &mut AsyncPgConnection, key: &str) -> Result<Option<i64>, AuthError> {
    let rows: Vec<LockRow> = diesel::sql_query(
        r#"SELECT EXTRACT(EPOCH FROM ("locked_until" - now()))::float8 AS remaining
           FROM "pn_login_failure" WHERE "login_name" = $1 AND "locked_until" > now()"#,
    )
    .bind::<Text, _>(key)
    .load(conn)
    .await?;
    Ok(rows
        .into_iter()
        .next()
        .and_then(|r| r.remaining)
        .map(|s| s.ceil().max(1.0) as i64))
}

/// Counts a failure; returns the lock duration when this failure locks the login name.
async fn record_failure(conn: &mut AsyncPgConnection, key: &str) -> Result<Option<i64>, AuthError> {
    let rows: Vec<LockRow> = diesel::sql_query(
        r#"INSERT INTO "pn_login_failure" AS f ("login_name", "failures", "last_failure", "locked_until")
           VALUES ($1, 1, now(), NULL)
           ON CONFLICT ("login_name") DO UPDATE SET
             "failures" = CASE WHEN f."last_failure" < now() - make_interval(secs => $2)
                               THEN 1 ELSE f."failures" + 1 END,
             "last_failure" = now()
           RETURNING CASE WHEN "failures" >= $3
                          THEN $4::float8 ELSE NULL END AS remaining"#,
    )
    .bind::<Text, _>(key)
    .bind::<Float8, _>(FAILURE_WINDOW_SECONDS as f64)
    .bind::<Int4, _>(MAX_LOGIN_FAILURES)
    .bind::<Float8, _>(LOCK_SECONDS as f64)
    .load(conn)
    .await?;
    let lock = rows.into_iter().next().and_then(|r| r.remaining);
    if lock.is_some() {
        diesel::sql_query(
            r#"UPDATE "pn_login_failure" SET "locked_until" = now() + make_interval(secs => $2)
               WHERE "login_name" = $1"#,
        )
        .bind::<Text, _>(key)
        .bind::<Float8, _>(LOCK_SECONDS as f64)
        .execute(conn)
        .await?;
        // Stale rows of other names are dropped now and then, so the table stays small.
        diesel::sql_query(
            r#"DELETE FROM "pn_login_failure"
               WHERE "last_failure" < now() - interval '1 day'
                 AND ("locked_until" IS NULL OR "locked_until" < now())"#,
        )
        .execute(conn)
        .await?;
    }
    Ok(lock.map(|s| s as i64))
}

/// Checks a user name and password the openIMIS way and issues a token. Wrong credentials and an
/// unknown user give the same error; after [`MAX_LOGIN_FAILURES`] failures the name is locked
/// for [`LOCK_SECONDS`] (the error then carries the wait); a success clears the count.
pub async fn login(
    conn: &mut AsyncPgConnection,
    keys: &JwtKeys,
    username: &str,
    password: &str,
) -> Result<IssuedToken, AuthError> {
    let key = failure_key(username);
    if let Some(wait) = locked_for(conn, &key).await? {
        return Err(AuthError::InvalidCredentials {
            retry_after_seconds: Some(wait),
        });
    }
    let row = load_user(conn, username).await?;
    let ok = match &row {
        Some(UserRow {
            stored_password: Some(stored),
            private_key: Some(private_key),
            ..
        }) if !stored.is_empty() && !private_key.is_empty() => {
            password_matches(password, private_key, stored)
        }
        _ => {
            // Same work as a real check, so timing does not tell whether the user exists.
            let _ = hash_password(password, "");
            false
        }
    };
    let row = match (ok, row) {
        (true, Some(row)) => row,
        _ => {
            let lock = record_failure(conn, &key).await?;
            return Err(AuthError::InvalidCredentials {
                retry_after_seconds: lock,
            });
        }
    };
    diesel::sql_query(r#"DELETE FROM "pn_login_failure" WHERE "login_name" = $1"#)
        .bind::<Text, _>(&key)
        .execute(conn)
        .await?;
    let identity = identity_of(conn, &row).await?;
    issue(keys, identity, row.private_key.as_deref(), now_epoch())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity(admin: bool, districts: Vec<i32>) -> Identity {
        Identity {
            user_id: 1,
            core_user_id: Uuid::nil(),
            login: "u".into(),
            language: "en".into(),
            rights: HashSet::from([101001]),
            is_admin: admin,
            districts,
        }
    }

    #[test]
    fn password_hash_matches_openimis_scheme() {
        // sha256("secret" + "KEY") computed independently.
        let h = hash_password("secret  \t", "KEY");
        assert_eq!(h, hash_password("secret", "KEY"));
        assert!(password_matches("secret", "KEY", &h.to_lowercase()));
        assert!(!password_matches("Secret", "KEY", &h));
        assert!(!password_matches("secret", "KEY", ""));
    }

    #[test]
    fn district_filter_fails_closed() {
        assert_eq!(district_filter_sql(None, "f"), "FALSE");
        assert_eq!(identity(true, vec![]).district_filter_sql("f"), "TRUE");
        assert_eq!(identity(false, vec![]).district_filter_sql("f"), "FALSE");
        let sql = identity(false, vec![3, 7]).district_filter_sql("fam");
        assert!(sql.contains("fam.\"LocationId\""));
        assert!(sql.contains("IN (3,7)"));
    }

    #[test]
    fn tokens_round_trip_and_expire() {
        let keys = JwtKeys::new(SecretString::from("s3cret".to_string()), 60, 3600);
        let now = now_epoch();
        let claims = Claims {
            username: "admin".into(),
            exp: now + 60,
            orig_iat: now,
            jti: None,
            nbf: None,
            refresh: false,
        };
        let t = keys.sign(&claims, Some("userkey")).unwrap();
        assert_eq!(keys.verify(&t, Some("userkey"), true).unwrap(), claims);
        assert!(matches!(
            keys.verify(&t, None, true),
            Err(AuthError::BadToken)
        ));
        assert_eq!(unverified_username(&t).unwrap(), "admin");
        let old = Claims {
            exp: now - 10,
            ..claims
        };
        let t = keys.sign(&old, None).unwrap();
        assert!(matches!(
            keys.verify(&t, None, true),
            Err(AuthError::Expired)
        ));
        assert!(keys.verify(&t, None, false).is_ok());
        assert!(matches!(
            unverified_username("garbage"),
            Err(AuthError::BadToken)
        ));
    }
}
