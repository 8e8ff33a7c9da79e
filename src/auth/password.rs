//! The openIMIS password hash and its check.

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_hash_matches_openimis_scheme() {
        // sha256("secret" + "KEY") computed independently.
        let h = hash_password("secret  \t", "KEY");
        assert_eq!(h, hash_password("secret", "KEY"));
        assert!(password_matches("secret", "KEY", &h.to_lowercase()));
        assert!(!password_matches("Secret", "KEY", &h));
        assert!(!password_matches("secret", "KEY", ""));
    }
}
