//! An RSA public key from PEM text, as openIMIS's key files hold it (`openssl rsa -pubout`:
//! `BEGIN PUBLIC KEY`, a SubjectPublicKeyInfo; `BEGIN RSA PUBLIC KEY`, PKCS#1, is accepted
//! too), turned into the PKCS#1 DER the token verifier takes.

use base64::Engine;

const RSA_ENCRYPTION_OID: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];

/// One DER element: its tag, its content and what follows it.
fn element(der: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = der.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n]
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
        (len, &rest[n..])
    };
    if rest.len() < len {
        return None;
    }
    Some((tag, &rest[..len], &rest[len..]))
}

/// The PKCS#1 `RSAPublicKey` DER of an RSA public key in PEM form; `Err` says what is wrong.
pub fn pkcs1_der(pem: &str) -> Result<Vec<u8>, String> {
    let text = pem.trim();
    let (label, body) = ["PUBLIC KEY", "RSA PUBLIC KEY"]
        .iter()
        .find_map(|label| {
            let begin = format!("-----BEGIN {label}-----");
            let end = format!("-----END {label}-----");
            let start = text.find(&begin)? + begin.len();
            let stop = text[start..].find(&end)? + start;
            Some((*label, &text[start..stop]))
        })
        .ok_or("no BEGIN PUBLIC KEY block")?;
    let b64: String = body.chars().filter(|c| !c.is_whitespace()).collect();
    let der = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .map_err(|e| format!("the key is not base64: {e}"))?;
    let pkcs1 = if label == "RSA PUBLIC KEY" {
        der
    } else {
        let (tag, spki, _) = element(&der).ok_or("not DER")?;
        if tag != 0x30 {
            return Err("not a SubjectPublicKeyInfo".into());
        }
        let (tag, algorithm, rest) = element(spki).ok_or("not DER")?;
        let (oid_tag, oid, _) = element(algorithm).ok_or("not DER")?;
        if tag != 0x30 || oid_tag != 0x06 || oid != RSA_ENCRYPTION_OID {
            return Err("not an RSA key".into());
        }
        let (tag, bits, _) = element(rest).ok_or("not DER")?;
        match bits.split_first() {
            Some((0, key)) if tag == 0x03 => key.to_vec(),
            _ => return Err("not a SubjectPublicKeyInfo".into()),
        }
    };
    // RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER }
    let (tag, seq, _) = element(&pkcs1).ok_or("not DER")?;
    let (n_tag, _, rest) = element(seq).ok_or("not DER")?;
    let (e_tag, _, _) = element(rest).ok_or("not DER")?;
    if tag != 0x30 || n_tag != 0x02 || e_tag != 0x02 {
        return Err("not an RSA public key".into());
    }
    Ok(pkcs1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_what_is_not_a_key() {
        assert!(pkcs1_der("hello").is_err());
        assert!(pkcs1_der("-----BEGIN PUBLIC KEY-----\n!!\n-----END PUBLIC KEY-----").is_err());
        assert!(
            pkcs1_der("-----BEGIN PUBLIC KEY-----\nMAMCAQE=\n-----END PUBLIC KEY-----").is_err()
        );
    }
}
