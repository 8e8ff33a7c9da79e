//! The login slow-down (DECISIONS 32, docs/security.md): free attempts per (user name, source
//! address) pair and per address, then waits that double up to a cap; counted in
//! `pn_login_failure` with one atomic upsert per attempt.

use diesel::sql_types::{Float8, Int4, Nullable, Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::AuthError;
use super::identity::{UserRow, identity_of, load_user};
use super::password::{hash_password, password_matches};
use super::token::{IssuedToken, JwtKeys, issue, now_epoch};

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
}
