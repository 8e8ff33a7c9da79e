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

/// Login attempts a (user name, source address) pair may make freely within
/// [`FAILURE_WINDOW_SECONDS`]; after that it waits before each attempt (see [`backoff_seconds`]).
pub const PAIR_FREE_ATTEMPTS: i32 = 5;
/// Failed attempts a source address may make freely (over all names, known or not) within the
/// window; after that it waits before each attempt.
pub const ADDRESS_FREE_ATTEMPTS: i32 = 50;
/// Failures of one user name (from all addresses) within the window after which the name is
/// "under attack": a pair that has failed for it gets only one free attempt. Addresses that have
/// not failed for the name keep their free attempts, so the user is never locked out by others.
pub const NAME_UNDER_ATTACK_FAILURES: i32 = 20;
/// The longest wait between attempts, seconds.
pub const MAX_WAIT_SECONDS: i64 = 300;
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

/// The seconds to wait after the `count`-th counted attempt of a key allowed `free` attempts:
/// none before the free ones are used up, then 1, 2, 4, … up to [`MAX_WAIT_SECONDS`].
pub fn backoff_seconds(count: i32, free: i32) -> i64 {
    if count < free {
        0
    } else {
        let exp = u32::try_from(count - free).unwrap_or(0).min(16);
        (1i64 << exp).min(MAX_WAIT_SECONDS)
    }
}

/// A login name as counted: trimmed, lower case (openIMIS compares names case-insensitively).
fn name_key(login: &str) -> String {
    login.trim().to_lowercase()
}

/// A fixed-width key (the table's column is 50 characters): a prefix and a SHA-256 digest.
fn hashed_key(prefix: &str, text: &str) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, text.as_bytes());
    format!("{prefix}{}", &hex::encode(digest.as_ref())[..40])
}

/// The throttling keys of one attempt.
struct ThrottleKeys {
    address: String,
    pair: String,
    name: String,
}

fn throttle_keys(login: &str, peer: Option<std::net::IpAddr>) -> ThrottleKeys {
    let address = peer.map_or_else(|| "unknown".to_string(), |ip| ip.to_string());
    let name = name_key(login);
    ThrottleKeys {
        address: format!("a:{address}"),
        pair: hashed_key("p:", &format!("{name}\n{address}")),
        name: hashed_key("n:", &name),
    }
}

#[derive(diesel::QueryableByName)]
struct CountRow {
    #[diesel(sql_type = Int4)]
    failures: i32,
}

#[derive(diesel::QueryableByName)]
struct LockRow {
    #[diesel(sql_type = Nullable<Float8>)]
    remaining: Option<f64>,
}

/// Reserves one attempt for `key`, atomically (one upsert, so concurrent attempts are counted
/// one by one): counted as a failure until it succeeds. `Ok(Some(n))` when allowed (the n-th
/// counted attempt in the window), `Ok(None)` when the key must still wait.
async fn reserve(
    conn: &mut AsyncPgConnection,
    key: &str,
    free: i32,
) -> Result<Option<i32>, AuthError> {
    let rows: Vec<CountRow> = diesel::sql_query(
        r#"INSERT INTO "pn_login_failure" AS f ("login_name", "failures", "last_failure", "locked_until")
           VALUES ($1, 1, now(), CASE WHEN 1 >= $2 THEN now() + interval '1 second' END)
           ON CONFLICT ("login_name") DO UPDATE SET
             "failures" = CASE WHEN f."last_failure" < now() - make_interval(secs => $3)
                               THEN 1 ELSE f."failures" + 1 END,
             "last_failure" = now(),
             "locked_until" = CASE
               WHEN (CASE WHEN f."last_failure" < now() - make_interval(secs => $3)
                          THEN 1 ELSE f."failures" + 1 END) >= $2
               THEN now() + make_interval(secs => LEAST($4::float8, power(2::float8, LEAST(16,
                      (CASE WHEN f."last_failure" < now() - make_interval(secs => $3)
                            THEN 1 ELSE f."failures" + 1 END) - $2))))
               END
           WHERE f."locked_until" IS NULL OR f."locked_until" <= now()
           RETURNING "failures""#,
    )
    .bind::<Text, _>(key)
    .bind::<Int4, _>(free)
    .bind::<Float8, _>(FAILURE_WINDOW_SECONDS as f64)
    .bind::<Float8, _>(MAX_WAIT_SECONDS as f64)
    .load(conn)
    .await?;
    Ok(rows.into_iter().next().map(|r| r.failures))
}

/// Seconds `key` must still wait (at least 1).
async fn wait_of(conn: &mut AsyncPgConnection, key: &str) -> Result<i64, AuthError> {
    let rows: Vec<LockRow> = diesel::sql_query(
        r#"SELECT EXTRACT(EPOCH FROM ("locked_until" - now()))::float8 AS remaining
           FROM "pn_login_failure" WHERE "login_name" = $1"#,
    )
    .bind::<Text, _>(key)
    .load(conn)
    .await?;
    let remaining = rows.into_iter().next().and_then(|r| r.remaining);
    Ok(remaining.map_or(1, |s| s.ceil().clamp(1.0, MAX_WAIT_SECONDS as f64) as i64))
}

/// Failures of a user name (all addresses) within the window.
async fn name_failures(conn: &mut AsyncPgConnection, key: &str) -> Result<i32, AuthError> {
    let rows: Vec<CountRow> = diesel::sql_query(
        r#"SELECT "failures" FROM "pn_login_failure"
           WHERE "login_name" = $1 AND "last_failure" >= now() - make_interval(secs => $2)"#,
    )
    .bind::<Text, _>(key)
    .bind::<Float8, _>(FAILURE_WINDOW_SECONDS as f64)
    .load(conn)
    .await?;
    Ok(rows.into_iter().next().map_or(0, |r| r.failures))
}

/// Counts a failed password check against an existing user name.
async fn record_name_failure(conn: &mut AsyncPgConnection, key: &str) -> Result<(), AuthError> {
    diesel::sql_query(
        r#"INSERT INTO "pn_login_failure" AS f ("login_name", "failures", "last_failure", "locked_until")
           VALUES ($1, 1, now(), NULL)
           ON CONFLICT ("login_name") DO UPDATE SET
             "failures" = CASE WHEN f."last_failure" < now() - make_interval(secs => $2)
                               THEN 1 ELSE f."failures" + 1 END,
             "last_failure" = now()"#,
    )
    .bind::<Text, _>(key)
    .bind::<Float8, _>(FAILURE_WINDOW_SECONDS as f64)
    .execute(conn)
    .await?;
    // Stale rows are dropped now and then, so the table stays small.
    if rand::random::<u8>() == 0 {
        diesel::sql_query(
            r#"DELETE FROM "pn_login_failure"
               WHERE "last_failure" < now() - make_interval(secs => $1)
                 AND ("locked_until" IS NULL OR "locked_until" < now())"#,
        )
        .bind::<Float8, _>(FAILURE_WINDOW_SECONDS as f64)
        .execute(conn)
        .await?;
    }
    Ok(())
}

fn refused(wait: Option<i64>) -> AuthError {
    AuthError::InvalidCredentials {
        retry_after_seconds: wait,
    }
}

/// Checks a user name and password the openIMIS way and issues a token. Wrong credentials and an
/// unknown user give the same error. Attempts are slowed down, never locked (docs/security.md):
/// each (name, source address) pair and each address has free attempts, then waits 1, 2, 4, …
/// up to [`MAX_WAIT_SECONDS`] before each attempt (the error carries the wait); a name under
/// attack leaves only one free attempt to pairs that have failed for it. Attempts are reserved
/// before the password is checked, in one atomic statement each, so concurrent attempts cannot
/// exceed the allowance. Nothing is stored about names that do not exist.
pub async fn login(
    conn: &mut AsyncPgConnection,
    keys: &JwtKeys,
    username: &str,
    password: &str,
    peer: Option<std::net::IpAddr>,
) -> Result<IssuedToken, AuthError> {
    if username.contains('\0') || password.contains('\0') {
        return Err(refused(None));
    }
    let k = throttle_keys(username, peer);
    if reserve(conn, &k.address, ADDRESS_FREE_ATTEMPTS)
        .await?
        .is_none()
    {
        return Err(refused(Some(wait_of(conn, &k.address).await?)));
    }
    let row = load_user(conn, username).await?;
    let credentials = match &row {
        Some(UserRow {
            stored_password: Some(stored),
            private_key: Some(private_key),
            ..
        }) if !stored.is_empty() && !private_key.is_empty() => Some((stored, private_key)),
        _ => None,
    };
    let Some((stored, private_key)) = credentials else {
        // About the same work as a real check (the reads, the hash), so timing does not tell
        // whether the user exists; nothing is written.
        let _ = name_failures(conn, &k.name).await?;
        let _ = wait_of(conn, &k.pair).await?;
        let _ = hash_password(password, "");
        return Err(refused(None));
    };
    let under_attack = name_failures(conn, &k.name).await? >= NAME_UNDER_ATTACK_FAILURES;
    let free = if under_attack { 1 } else { PAIR_FREE_ATTEMPTS };
    let Some(count) = reserve(conn, &k.pair, free).await? else {
        return Err(refused(Some(wait_of(conn, &k.pair).await?)));
    };
    if !password_matches(password, private_key, stored) {
        record_name_failure(conn, &k.name).await?;
        let wait = backoff_seconds(count, free);
        return Err(refused((wait > 0).then_some(wait)));
    }
    // A success: the pair starts afresh; the address gives back the attempt it reserved.
    diesel::sql_query(r#"DELETE FROM "pn_login_failure" WHERE "login_name" = $1"#)
        .bind::<Text, _>(&k.pair)
        .execute(conn)
        .await?;
    diesel::sql_query(
        r#"UPDATE "pn_login_failure" SET "failures" = GREATEST("failures" - 1, 0)
           WHERE "login_name" = $1"#,
    )
    .bind::<Text, _>(&k.address)
    .execute(conn)
    .await?;
    let Some(row) = row else {
        return Err(refused(None));
    };
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
    fn backoff_doubles_after_the_free_attempts_up_to_the_cap() {
        assert_eq!(backoff_seconds(4, 5), 0);
        assert_eq!(backoff_seconds(5, 5), 1);
        assert_eq!(backoff_seconds(6, 5), 2);
        assert_eq!(backoff_seconds(9, 5), 16);
        assert_eq!(backoff_seconds(100, 5), MAX_WAIT_SECONDS);
        assert_eq!(backoff_seconds(1, 1), 1);
    }

    #[test]
    fn throttle_keys_fit_the_column_and_ignore_case() {
        let ip = Some(std::net::IpAddr::from([0x2001, 0xdb8, 0, 0, 0, 0, 0, 1]));
        let a = throttle_keys(&"N".repeat(1000), ip);
        assert!(a.pair.len() <= 50 && a.name.len() <= 50 && a.address.len() <= 50);
        let b = throttle_keys(&"n".repeat(1000), ip);
        assert_eq!(a.pair, b.pair);
        assert_ne!(a.pair, throttle_keys("n", ip).pair);
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
