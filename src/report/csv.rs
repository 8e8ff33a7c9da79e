//! The report as CSV (RFC 4180: comma-separated, CRLF line ends, fields quoted when they hold a
//! comma, quote or line break), one line per family, written line by line so it can stream.

use super::data::ReportRow;

/// The column captions, in order.
pub const COLUMNS: [&str; 12] = [
    "District",
    "Municipality",
    "Village",
    "Insurance number",
    "Given names",
    "Last name",
    "Approval",
    "Language",
    "Phone",
    "Member given names",
    "Member last name",
    "Member phone",
];

/// One field, quoted when needed. A value that a spreadsheet would run as a formula (starting
/// with `=`, `@`, or `+`/`-` followed by something other than a phone number) gets a leading `'`.
pub fn field(value: &str) -> String {
    let formula = match value.chars().next() {
        Some('=') | Some('@') => true,
        Some('+') | Some('-') => {
            value.len() > 1
                && !value[1..]
                    .chars()
                    .all(|c| c.is_ascii_digit() || c == ' ' || c == '-')
        }
        _ => false,
    };
    let value = if formula {
        format!("'{value}")
    } else {
        value.to_string()
    };
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value
    }
}

fn line<'a>(fields: impl IntoIterator<Item = &'a str>) -> String {
    let mut out = fields.into_iter().map(field).collect::<Vec<_>>().join(",");
    out.push_str("\r\n");
    out
}

/// The header line.
pub fn header_line() -> String {
    line(COLUMNS)
}

/// The line of one family.
pub fn row_line(r: &ReportRow) -> String {
    line([
        &*r.district,
        &*r.municipality,
        &*r.village,
        r.insurance_number.as_str(),
        r.given_name.as_str(),
        r.last_name.as_str(),
        if r.approval { "true" } else { "false" },
        r.language.as_str(),
        r.phone.as_str(),
        r.alternative_given_name.as_str(),
        r.alternative_last_name.as_str(),
        r.alternative_phone.as_str(),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting() {
        assert_eq!(field("plain"), "plain");
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(field("two\nlines"), "\"two\nlines\"");
        assert_eq!(field("+255 712 000"), "+255 712 000");
        assert_eq!(field("-"), "-");
        assert_eq!(field("=1+1"), "'=1+1");
        assert_eq!(field("+cmd"), "'+cmd");
    }
}
