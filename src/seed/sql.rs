//! SQL expression builders for deterministic pseudo-random values: every value is a hash of
//! (seed, tag, row key), computed by the server, so the same seed gives the same data.

use chrono::NaiveDate;

/// Builds SQL expressions for one seed and one as-of date.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Gen {
    /// The `--seed` value (a hash seed for `hashtextextended`).
    pub seed: i64,
    /// The `--as-of` date everything is dated relative to.
    pub as_of: NaiveDate,
    /// Mixed into UUIDs so that a forced second run does not repeat the first one's UUIDs
    /// (empty on a database without families).
    pub salt: i64,
}

impl Gen {
    /// The as-of date as a SQL `date` literal.
    pub fn d(&self) -> String {
        format!("DATE '{}'", self.as_of.format("%Y-%m-%d"))
    }

    /// A 64-bit hash of `tag` and the SQL expression `key`.
    pub fn hash(&self, tag: &str, key: &str) -> String {
        format!("hashtextextended('{tag}:' || ({key})::text, {})", self.seed)
    }

    /// An integer in `0..k` (SQL `int`).
    pub fn pick(&self, tag: &str, key: &str, k: u32) -> String {
        format!("((({}) & 2147483647) % {k})::int", self.hash(tag, key))
    }

    /// A lower-case version-4-shaped UUID string derived from the seed, `tag` and `key`.
    pub fn uuid(&self, tag: &str, key: &str) -> String {
        format!(
            "overlay(overlay(md5('{}:{}:{tag}:' || ({key})::text) placing '4' from 13) placing '8' from 17)::uuid::text",
            self.seed, self.salt
        )
    }

    /// One element of a text array literal chosen by `pick`.
    pub fn choose(&self, tag: &str, key: &str, items: &[&str]) -> String {
        let n = u32::try_from(items.len()).unwrap_or(u32::MAX).max(1);
        format!("({})[1 + {}]", array(items), self.pick(tag, key, n))
    }

    /// A mobile phone number `07xxxxxxxx` / `06xxxxxxxx`.
    pub fn phone(&self, tag: &str, key: &str) -> String {
        format!(
            "('0' || (6 + {})::text || lpad({}::text, 8, '0'))",
            self.pick(&format!("{tag}p"), key, 2),
            self.pick(tag, key, 100_000_000)
        )
    }
}

/// Bulk draws: a row's hashes are computed once (a fenced `LATERAL` subquery) and each draw
/// takes a 10-bit slice of one of them, which costs far less than one hash per draw.
impl Gen {
    /// `CROSS JOIN LATERAL` computing `n` independent 64-bit hashes `{alias}.h0…` of `key`.
    pub fn hashes(&self, alias: &str, tag: &str, key: &str, n: usize) -> String {
        let cols: Vec<String> = (0..n)
            .map(|i| {
                let s = self
                    .seed
                    .wrapping_add((i as i64).wrapping_mul(0x2545_F491_4F6C_DD1D));
                format!("hashtextextended(z.kk, {s}) AS h{i}")
            })
            .collect();
        format!(
            "CROSS JOIN LATERAL (SELECT {} FROM (SELECT '{tag}:{}:' || ({key})::text AS kk) z OFFSET 0) {alias}",
            cols.join(", "),
            self.salt
        )
    }
}

/// Slice `i` (0–5) of hash `h`: an integer in 0..1024.
pub(crate) fn sl(h: &str, i: u32) -> String {
    format!("((({h}) >> {}) & 1023)", 10 * i)
}

/// Slice `i` of `h` as a number in `[0, 1)`.
pub(crate) fn su(h: &str, i: u32) -> String {
    format!("({}::float8 / 1024.0)", sl(h, i))
}

/// Slice `i` of `h` reduced to `0..k` (`k` ≤ 1024).
pub(crate) fn sp(h: &str, i: u32, k: u32) -> String {
    format!("({} % {k})::int", sl(h, i))
}

/// A whole hash reduced to `0..k`.
pub(crate) fn big(h: &str, k: u64) -> String {
    format!("((({h}) & 9223372036854775807) % {k})")
}

/// Slice `i` of `h` choosing one of `items`.
pub(crate) fn sc(h: &str, i: u32, items: &[&str]) -> String {
    let n = u32::try_from(items.len()).unwrap_or(1024).clamp(1, 1024);
    format!("({})[1 + {}]", array(items), sp(h, i, n))
}

/// A lower-case version-4-shaped UUID string from two hashes.
pub(crate) fn uuid2(a: &str, b: &str) -> String {
    format!(
        "(lpad(to_hex((({a}) & -61441) | 16384), 16, '0') || to_hex((({b}) & 4611686018427387903) | -9223372036854775808))::uuid::text"
    )
}

/// A mobile phone number `07xxxxxxxx` / `06xxxxxxxx` from one hash.
pub(crate) fn phone1(h: &str) -> String {
    format!(
        "('0' || (6 + ((({h}) >> 62) & 1))::text || lpad(((({h}) & 4611686018427387903) % 100000000)::text, 8, '0'))"
    )
}

/// A SQL text literal.
pub(crate) fn lit(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// A SQL `ARRAY[...]` of text literals.
pub(crate) fn array(items: &[&str]) -> String {
    let inner: Vec<String> = items.iter().map(|s| lit(s)).collect();
    format!("ARRAY[{}]::text[]", inner.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_are_quoted() {
        assert_eq!(lit("l'eau"), "'l''eau'");
        assert_eq!(array(&["a", "b"]), "ARRAY['a','b']::text[]");
    }
}
