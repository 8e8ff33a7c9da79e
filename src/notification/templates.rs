//! Message templates: gettext `.po` catalogs per language keyed by openIMIS's message ids with
//! openIMIS's `%(Name)s` placeholders (DECISIONS 22–24). English and French are built in; `.po`
//! files in `service.templates_dir` add or override languages. Checked once at start-up.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::events::EventType;

/// The placeholders a template may use.
pub const PLACEHOLDERS: [&str; 7] = [
    "InsuranceID",
    "Name",
    "EffectiveDate",
    "ExpiryDate",
    "ProductCode",
    "ProductName",
    "AmountToBePaid",
];

const BUILT_IN: [(&str, &str); 2] = [
    ("en", include_str!("../../templates/en.po")),
    ("fr", include_str!("../../templates/fr.po")),
];

/// A catalog that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("cannot read templates from {path}: {message}")]
    Read { path: PathBuf, message: String },
    #[error("{source_name}: line {line}: {message}")]
    Syntax {
        source_name: String,
        line: usize,
        message: String,
    },
    #[error(
        "language `{language}`, message `{msgid}`: unknown placeholder `%({name})s` (known: {known})"
    )]
    UnknownPlaceholder {
        language: String,
        msgid: String,
        name: String,
        known: String,
    },
    #[error("language `{language}`, message `{msgid}`: {message}")]
    BadFormat {
        language: String,
        msgid: String,
        message: String,
    },
    #[error(
        "language `{language}` has no text for message `{msgid}` (every language needs all six event messages)"
    )]
    MissingMessage { language: String, msgid: String },
    #[error(
        "the default language `{0}` has no template catalog (built in: en, fr; add `{0}.po` to templates_dir)"
    )]
    NoDefaultCatalog(String),
}

/// The values placed into a template.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Fields {
    pub insurance_id: String,
    pub name: String,
    pub effective_date: String,
    pub expiry_date: String,
    pub product_code: String,
    pub product_name: String,
    pub amount_to_be_paid: String,
}

impl Fields {
    fn get(&self, name: &str) -> &str {
        match name {
            "InsuranceID" => &self.insurance_id,
            "Name" => &self.name,
            "EffectiveDate" => &self.effective_date,
            "ExpiryDate" => &self.expiry_date,
            "ProductCode" => &self.product_code,
            "ProductName" => &self.product_name,
            "AmountToBePaid" => &self.amount_to_be_paid,
            _ => "",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Text(String),
    Field(&'static str),
}

#[derive(Debug, Clone)]
struct Template(Vec<Segment>);

impl Template {
    fn parse(language: &str, msgid: &str, text: &str) -> Result<Template, TemplateError> {
        let bad = |message: String| TemplateError::BadFormat {
            language: language.to_string(),
            msgid: msgid.to_string(),
            message,
        };
        let mut out = Vec::new();
        let mut lit = String::new();
        let mut rest = text;
        while let Some(i) = rest.find('%') {
            lit.push_str(&rest[..i]);
            rest = &rest[i + 1..];
            if let Some(r) = rest.strip_prefix('%') {
                lit.push('%');
                rest = r;
                continue;
            }
            let Some(r) = rest.strip_prefix('(') else {
                return Err(bad(
                    "a `%` must start a placeholder `%(Name)s` or be written `%%`".into(),
                ));
            };
            let Some(close) = r.find(')') else {
                return Err(bad("a placeholder is not closed with `)s`".into()));
            };
            let name = &r[..close];
            let after = &r[close + 1..];
            let Some(after) = after.strip_prefix('s') else {
                return Err(bad(format!("placeholder `%({name})` must end with `s`")));
            };
            let Some(known) = PLACEHOLDERS.iter().find(|p| **p == name) else {
                return Err(TemplateError::UnknownPlaceholder {
                    language: language.to_string(),
                    msgid: msgid.to_string(),
                    name: name.to_string(),
                    known: PLACEHOLDERS.join(", "),
                });
            };
            if !lit.is_empty() {
                out.push(Segment::Text(std::mem::take(&mut lit)));
            }
            out.push(Segment::Field(known));
            rest = after;
        }
        lit.push_str(rest);
        if !lit.is_empty() {
            out.push(Segment::Text(lit));
        }
        Ok(Template(out))
    }

    fn render(&self, fields: &Fields) -> String {
        let mut s = String::new();
        for seg in &self.0 {
            match seg {
                Segment::Text(t) => s.push_str(t),
                Segment::Field(f) => s.push_str(fields.get(f)),
            }
        }
        s
    }
}

/// All languages' event templates, checked.
#[derive(Debug, Clone)]
pub struct Catalogs {
    languages: HashMap<String, HashMap<EventType, Template>>,
    default_language: String,
}

impl Catalogs {
    /// Loads the built-in catalogs, then the operator's `.po` files (`<lang>.po` or
    /// `<lang>/LC_MESSAGES/*.po`, openIMIS's layout), and checks them all.
    pub fn load(
        templates_dir: Option<&Path>,
        default_language: Option<&str>,
    ) -> Result<Catalogs, TemplateError> {
        let mut raw: HashMap<String, HashMap<String, String>> = HashMap::new();
        for (lang, text) in BUILT_IN {
            let entries = parse_po(&format!("built-in {lang}.po"), text)?;
            raw.entry(lang.into()).or_default().extend(entries);
        }
        if let Some(dir) = templates_dir {
            for (lang, path) in operator_files(dir)? {
                let text = std::fs::read_to_string(&path).map_err(|e| TemplateError::Read {
                    path: path.clone(),
                    message: e.to_string(),
                })?;
                let entries = parse_po(&path.display().to_string(), &text)?;
                raw.entry(lang).or_default().extend(entries);
            }
        }
        let default_language = default_language.unwrap_or("en").to_ascii_lowercase();
        let mut languages = HashMap::new();
        for (lang, entries) in raw {
            let mut templates = HashMap::new();
            for event in EventType::ALL {
                let msgid = event.message_id();
                let text = entries
                    .get(msgid)
                    .filter(|t| !t.trim().is_empty())
                    .ok_or_else(|| TemplateError::MissingMessage {
                        language: lang.clone(),
                        msgid: msgid.to_string(),
                    })?;
                templates.insert(event, Template::parse(&lang, msgid, text)?);
            }
            languages.insert(lang, templates);
        }
        if !languages.contains_key(&default_language) {
            return Err(TemplateError::NoDefaultCatalog(default_language));
        }
        Ok(Catalogs {
            languages,
            default_language,
        })
    }

    /// The language actually used for a family's language (the default when it has no catalog).
    pub fn resolve_language(&self, language: Option<&str>) -> &str {
        let wanted = language.map(|l| l.trim().to_ascii_lowercase());
        match wanted {
            Some(l) => match self.languages.get_key_value(&l) {
                Some((k, _)) => k,
                None => &self.default_language,
            },
            None => &self.default_language,
        }
    }

    /// The message for `event` in `language` (falling back to the default language).
    pub fn render(&self, language: Option<&str>, event: EventType, fields: &Fields) -> String {
        let lang = self.resolve_language(language);
        self.languages
            .get(lang)
            .and_then(|t| t.get(&event))
            .or_else(|| {
                self.languages
                    .get(&self.default_language)
                    .and_then(|t| t.get(&event))
            })
            .map(|t| t.render(fields))
            .unwrap_or_default()
    }

    /// The languages with a catalog, sorted.
    pub fn languages(&self) -> Vec<String> {
        let mut v: Vec<String> = self.languages.keys().cloned().collect();
        v.sort();
        v
    }
}

fn operator_files(dir: &Path) -> Result<Vec<(String, PathBuf)>, TemplateError> {
    let read = |p: &Path| {
        std::fs::read_dir(p).map_err(|e| TemplateError::Read {
            path: p.to_path_buf(),
            message: e.to_string(),
        })
    };
    let mut out = Vec::new();
    for entry in read(dir)?.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().to_string();
        if path.is_file() {
            if let Some(lang) = name.strip_suffix(".po") {
                out.push((lang.to_ascii_lowercase(), path));
            }
        } else if path.is_dir() {
            let messages = path.join("LC_MESSAGES");
            if messages.is_dir() {
                let mut files: Vec<PathBuf> = read(&messages)?
                    .flatten()
                    .map(|e| e.path())
                    .filter(|p| p.extension().is_some_and(|x| x == "po"))
                    .collect();
                files.sort();
                for f in files {
                    out.push((name.to_ascii_lowercase(), f));
                }
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Parses gettext `.po` text into `msgid → msgstr` (untranslated and fuzzy entries skipped;
/// for plural entries the first form).
pub fn parse_po(source_name: &str, text: &str) -> Result<Vec<(String, String)>, TemplateError> {
    #[derive(PartialEq)]
    enum Field {
        None,
        Ctxt,
        Id,
        IdPlural,
        Str,
        StrOther,
    }
    let err = |line: usize, message: &str| TemplateError::Syntax {
        source_name: source_name.to_string(),
        line,
        message: message.to_string(),
    };
    let mut out = Vec::new();
    let (mut id, mut st, mut fuzzy, mut field) = (String::new(), String::new(), false, Field::None);
    let mut has_entry = false;
    let mut flush = |id: &mut String, st: &mut String, fuzzy: &mut bool, has: &mut bool| {
        if *has && !id.is_empty() && !st.is_empty() && !*fuzzy {
            out.push((std::mem::take(id), std::mem::take(st)));
        }
        id.clear();
        st.clear();
        *fuzzy = false;
        *has = false;
    };
    for (n, line) in text.lines().enumerate() {
        let lineno = n + 1;
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        if let Some(c) = line.strip_prefix("#,") {
            if field == Field::Str || field == Field::StrOther {
                flush(&mut id, &mut st, &mut fuzzy, &mut has_entry);
                field = Field::None;
            }
            fuzzy |= c.split(',').any(|f| f.trim() == "fuzzy");
            continue;
        }
        if line.starts_with('#') {
            continue;
        }
        let (keyword, rest) = match line.find(|c: char| c.is_whitespace()) {
            Some(i) if !line.starts_with('"') => (&line[..i], line[i..].trim()),
            _ => ("", line),
        };
        let value = unquote(rest).ok_or_else(|| err(lineno, "expected a quoted string"))?;
        match keyword {
            "msgctxt" | "msgid" => {
                if field == Field::Str || field == Field::StrOther {
                    flush(&mut id, &mut st, &mut fuzzy, &mut has_entry);
                }
                if keyword == "msgid" {
                    id = value;
                    field = Field::Id;
                    has_entry = true;
                } else {
                    field = Field::Ctxt;
                }
            }
            "msgid_plural" => field = Field::IdPlural,
            "msgstr" | "msgstr[0]" => {
                st = value;
                field = Field::Str;
            }
            k if k.starts_with("msgstr[") => field = Field::StrOther,
            "" => match field {
                Field::Id => id.push_str(&value),
                Field::Str => st.push_str(&value),
                Field::None => return Err(err(lineno, "a string outside any entry")),
                _ => {}
            },
            other => return Err(err(lineno, &format!("unknown keyword `{other}`"))),
        }
    }
    flush(&mut id, &mut st, &mut fuzzy, &mut has_entry);
    Ok(out)
}

fn unquote(s: &str) -> Option<String> {
    let inner = s.strip_prefix('"')?.strip_suffix('"')?;
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next()? {
                'n' => out.push('\n'),
                't' => out.push('\t'),
                'r' => out.push('\r'),
                '"' => out.push('"'),
                '\\' => out.push('\\'),
                other => {
                    out.push('\\');
                    out.push(other);
                }
            }
        } else {
            out.push(c);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields() -> Fields {
        Fields {
            insurance_id: "070707070".into(),
            name: "Amina Juma".into(),
            effective_date: "2026-01-01".into(),
            expiry_date: "2026-12-31".into(),
            product_code: "BCUL0001".into(),
            product_name: "Basic Cover".into(),
            amount_to_be_paid: "0.00".into(),
        }
    }

    #[test]
    fn built_in_catalogs_render() {
        let c = Catalogs::load(None, None).unwrap();
        let en = c.render(Some("en"), EventType::Activation, &fields());
        assert!(
            en.contains("Amina Juma") && en.contains("2026-12-31"),
            "{en}"
        );
        let fr = c.render(Some("FR"), EventType::Renewal, &fields());
        assert!(fr.contains("renouvelée"), "{fr}");
        let fallback = c.render(Some("sw"), EventType::Expiration, &fields());
        assert!(fallback.contains("ends today"), "{fallback}");
        assert!(!fallback.contains("policy_notification."));
    }

    #[test]
    fn placeholders_checked() {
        assert!(matches!(
            Template::parse("en", "x", "Hi %(Nom)s"),
            Err(TemplateError::UnknownPlaceholder { .. })
        ));
        assert!(Template::parse("en", "x", "100% sure").is_err());
        let t = Template::parse("en", "x", "100%% %(Name)s").unwrap();
        assert_eq!(t.render(&fields()), "100% Amina Juma");
    }

    #[test]
    fn po_parsing() {
        let po = "msgid \"\"\nmsgstr \"Language: sw\\n\"\n\n#, fuzzy\nmsgid \"a\"\nmsgstr \"x\"\n\nmsgid \"b\"\nmsgstr \"\"\n\"line \\\"1\\\"\"\n\"line2\"\n";
        let entries = parse_po("t", po).unwrap();
        assert_eq!(
            entries,
            vec![("b".to_string(), "line \"1\"line2".to_string())]
        );
    }
}
