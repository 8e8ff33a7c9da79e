//! Tokens the openIMIS way (DECISIONS 31): HS256 signed with the user's `PrivateKey`, else the
//! configured secret; the `username` claim, read unverified, chooses the key. RS256 tokens (what
//! openIMIS issues when its RSA key files exist) are verified with the configured public key
//! (`service.jwt_public_key_file`, DECISIONS 47); no other algorithm is accepted.

use std::collections::HashSet;

use diesel_async::AsyncPgConnection;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::identity::{identity_of, load_user};
use super::{AuthError, Identity};

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
    /// openIMIS's RSA public key, for its RS256 tokens.
    public_key: Option<DecodingKey>,
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
            public_key: None,
            expiration_seconds,
            refresh_expiration_seconds,
        }
    }

    /// The same keys, also accepting RS256 tokens signed by the private half of `pem` (an RSA
    /// public key in PEM form).
    pub fn with_rsa_public_key(mut self, pem: &str) -> Result<Self, AuthError> {
        let der = super::rsa_key::pkcs1_der(pem)
            .map_err(|e| AuthError::Sign(format!("RSA public key: {e}")))?;
        self.public_key = Some(DecodingKey::from_rsa_der(&der));
        Ok(self)
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
        let algorithm = jsonwebtoken::decode_header(token)
            .map_err(|_| AuthError::BadToken)?
            .alg;
        let secret;
        let key = match (algorithm, &self.public_key) {
            (Algorithm::HS256, _) => {
                secret = DecodingKey::from_secret(self.key_for(private_key));
                &secret
            }
            (Algorithm::RS256, Some(public)) => public,
            _ => return Err(AuthError::BadToken),
        };
        let mut validation = Validation::new(algorithm);
        validation.leeway = 0;
        validation.validate_exp = check_exp;
        validation.validate_nbf = true;
        validation.required_spec_claims = HashSet::from(["exp".to_string()]);
        jsonwebtoken::decode::<Claims>(token, key, &validation)
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

pub(super) fn now_epoch() -> i64 {
    chrono::Utc::now().timestamp()
}

pub(super) fn issue(
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

#[cfg(test)]
mod tests {
    use super::*;

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
