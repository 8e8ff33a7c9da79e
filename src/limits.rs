//! Bounds on hostile input, checked before any recursive parser, validator or the database sees
//! it (issue 11, docs/security.md): how deep GraphQL text and JSON nest, how many tokens a query
//! has, how large a document grows once its fragments are expanded, how many root fields it asks
//! for, one `tokenAuth` per request, and no NUL characters in strings (PostgreSQL cannot store
//! them).
//!
//! The scanners are linear in the input and never recurse; the document walk recurses at most
//! [`MAX_NESTING`] levels and visits each fragment once.

use std::collections::HashMap;

use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, Selection, SelectionSet,
};
use async_graphql::{Name, Positioned, Value};

use crate::error::ErrorCode;

/// Deepest nesting of brackets (`{`, `[`, `(`) in GraphQL text and of `{`/`[` in JSON, and of
/// selection sets once fragments are expanded.
pub const MAX_NESTING: usize = 64;
/// Most tokens in a GraphQL query (names, punctuators, numbers, strings); openIMIS's largest
/// frontend document has about 200.
pub const MAX_TOKENS: usize = 10_000;
/// Most fields a document selects once every fragment spread is expanded (the largest frontend
/// document selects about 100).
pub const MAX_EXPANDED_FIELDS: u64 = 500;
/// Longest text a search filter compares with (openIMIS's text columns are at most 255 wide; a
/// longer `…_Icontains` pattern cannot match and costs the database dearly).
pub const MAX_FILTER_CHARS: usize = 255;
/// Most fields (aliases included) at the root of an operation.
pub const MAX_ROOT_FIELDS: u64 = 32;
/// Most directives on one field (`@skip`, `@include`).
pub const MAX_DIRECTIVES_PER_FIELD: usize = 8;
/// Most `tokenAuth` fields in one request.
pub const MAX_LOGINS_PER_REQUEST: u64 = 1;

/// Why an input was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LimitError {
    /// Brackets or selection sets nest too deep.
    #[error("{what} is nested deeper than {MAX_NESTING} levels")]
    TooDeep {
        /// What was nested (e.g. "the query", "argument `contribution`").
        what: String,
    },
    /// The query has too many tokens.
    #[error("the query has more than {MAX_TOKENS} tokens")]
    TooManyTokens,
    /// The fragments expand to too many fields.
    #[error(
        "the query selects more than {MAX_EXPANDED_FIELDS} fields once its fragments are expanded"
    )]
    TooManyFields,
    /// Too many root fields.
    #[error("an operation may select at most {MAX_ROOT_FIELDS} root fields (aliases included)")]
    TooManyRootFields,
    /// A fragment spreads itself, directly or through others.
    #[error("fragment `{0}` spreads itself")]
    FragmentCycle(String),
    /// More than one login.
    #[error("a request may call tokenAuth at most once")]
    RepeatedLogin,
    /// A NUL character in a string.
    #[error("{0} holds a NUL character")]
    Nul(String),
}

impl LimitError {
    /// The error code: NUL characters are bad input, the rest limits.
    pub fn code(&self) -> ErrorCode {
        match self {
            LimitError::Nul(_) => ErrorCode::BadUserInput,
            _ => ErrorCode::LimitExceeded,
        }
    }
}

/// Checks GraphQL text (a query, or argument snippets): bracket nesting outside strings and
/// comments at most [`MAX_NESTING`], at most [`MAX_TOKENS`] tokens. `what` names the text in the
/// error.
pub fn check_graphql_text(text: &str, what: &str) -> Result<(), LimitError> {
    let b = text.as_bytes();
    let mut i = 0;
    let mut depth = 0usize;
    let mut tokens = 0usize;
    while i < b.len() {
        let c = b[i];
        match c {
            b' ' | b'\t' | b'\n' | b'\r' | b',' => {
                i += 1;
                continue;
            }
            b'#' => {
                while i < b.len() && b[i] != b'\n' && b[i] != b'\r' {
                    i += 1;
                }
                continue;
            }
            b'"' => {
                if b[i..].starts_with(b"\"\"\"") {
                    i += 3;
                    while i < b.len() && !b[i..].starts_with(b"\"\"\"") {
                        i += if b[i..].starts_with(b"\\\"\"\"") {
                            4
                        } else {
                            1
                        };
                    }
                    i += 3;
                } else {
                    i += 1;
                    while i < b.len() && b[i] != b'"' && b[i] != b'\n' {
                        i += if b[i] == b'\\' { 2 } else { 1 };
                    }
                    i += 1;
                }
            }
            b'{' | b'[' | b'(' => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Err(LimitError::TooDeep { what: what.into() });
                }
                i += 1;
            }
            b'}' | b']' | b')' => {
                depth = depth.saturating_sub(1);
                i += 1;
            }
            c if c.is_ascii_alphanumeric() || c == b'_' || c == b'-' || c == b'.' => {
                while i < b.len()
                    && (b[i].is_ascii_alphanumeric() || matches!(b[i], b'_' | b'-' | b'.' | b'+'))
                {
                    i += 1;
                }
            }
            _ => i += 1,
        }
        tokens += 1;
        if tokens > MAX_TOKENS {
            return Err(LimitError::TooManyTokens);
        }
    }
    Ok(())
}

/// Checks JSON text: nesting of objects and arrays outside strings at most [`MAX_NESTING`].
pub fn check_json_text(text: &[u8], what: &str) -> Result<(), LimitError> {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for &c in text {
        if in_string {
            if escaped {
                escaped = false;
            } else if c == b'\\' {
                escaped = true;
            } else if c == b'"' {
                in_string = false;
            }
            continue;
        }
        match c {
            b'"' => in_string = true,
            b'{' | b'[' => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Err(LimitError::TooDeep { what: what.into() });
                }
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

/// Checks parsed JSON for NUL characters in strings and keys (PostgreSQL refuses them in text and
/// `jsonb`). Iterative, so any depth is safe.
pub fn check_json_nul(value: &serde_json::Value, what: &str) -> Result<(), LimitError> {
    let mut stack = vec![value];
    while let Some(v) = stack.pop() {
        match v {
            serde_json::Value::String(s) if s.contains('\0') => {
                return Err(LimitError::Nul(what.into()));
            }
            serde_json::Value::Array(items) => stack.extend(items),
            serde_json::Value::Object(map) => {
                for (k, v) in map {
                    if k.contains('\0') {
                        return Err(LimitError::Nul(what.into()));
                    }
                    stack.push(v);
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// Checks a GraphQL value (a literal or a variable's value) for NUL characters. Iterative.
pub fn check_value_nul(value: &Value, what: impl FnOnce() -> String) -> Result<(), LimitError> {
    let mut stack = vec![value];
    while let Some(v) = stack.pop() {
        match v {
            Value::String(s) if s.contains('\0') => return Err(LimitError::Nul(what())),
            Value::List(items) => stack.extend(items),
            Value::Object(map) => stack.extend(map.values()),
            _ => {}
        }
    }
    Ok(())
}

/// Checks a request's variables for NUL characters (naming the variable).
pub fn check_variables(variables: &async_graphql::Variables) -> Result<(), LimitError> {
    for (name, value) in variables.iter() {
        check_value_nul(value, || format!("variable `${name}`"))?;
    }
    Ok(())
}

/// What a selection set (or fragment) expands to.
#[derive(Debug, Clone, Copy, Default)]
struct Shape {
    /// Fields selected at any level, fragments expanded.
    fields: u64,
    /// Fields directly in the set (through fragments too, not in sub-selections).
    direct: u64,
    /// `tokenAuth` fields directly in the set.
    logins: u64,
    /// Nesting of selection sets below this one, spreads counted as a level.
    depth: usize,
}

impl Shape {
    fn add(&mut self, other: Shape, depth_offset: usize) {
        self.fields = self.fields.saturating_add(other.fields);
        self.direct = self.direct.saturating_add(other.direct);
        self.logins = self.logins.saturating_add(other.logins);
        self.depth = self.depth.max(other.depth + depth_offset);
    }
}

/// Checks literal arguments (`Vec<(Positioned<Name>, Positioned<literal>)>`) for NUL characters;
/// variables in them are checked with the request's variables.
macro_rules! check_arguments_nul {
    ($args:expr) => {
        for (name, value) in $args {
            let value = value
                .node
                .clone()
                .into_const_with(|_| Ok::<_, std::convert::Infallible>(Value::Null));
            let Ok(value) = value;
            check_value_nul(&value, || format!("argument `{}`", name.node))?;
        }
    };
}

enum Memo {
    InProgress,
    Done(Shape),
}

struct Walker<'a> {
    doc: &'a ExecutableDocument,
    memo: HashMap<&'a str, Memo>,
}

impl<'a> Walker<'a> {
    /// The shape of `set`, entered at nesting `at` (for the bound on recursion).
    fn set(&mut self, set: &'a Positioned<SelectionSet>, at: usize) -> Result<Shape, LimitError> {
        if at > MAX_NESTING {
            return Err(LimitError::TooDeep {
                what: "the query (fragments expanded)".into(),
            });
        }
        let mut shape = Shape::default();
        for item in &set.node.items {
            match &item.node {
                Selection::Field(f) => {
                    let f = &f.node;
                    check_arguments_nul!(&f.arguments);
                    for d in &f.directives {
                        check_arguments_nul!(&d.node.arguments);
                    }
                    let inner = if f.selection_set.node.items.is_empty() {
                        Shape::default()
                    } else {
                        self.set(&f.selection_set, at + 1)?
                    };
                    shape.fields = shape.fields.saturating_add(1).saturating_add(inner.fields);
                    shape.direct = shape.direct.saturating_add(1);
                    if f.name.node == "tokenAuth" {
                        shape.logins = shape.logins.saturating_add(1);
                    }
                    let d = if f.selection_set.node.items.is_empty() {
                        0
                    } else {
                        inner.depth + 1
                    };
                    shape.depth = shape.depth.max(d);
                }
                Selection::InlineFragment(inline) => {
                    let inner = self.set(&inline.node.selection_set, at + 1)?;
                    shape.add(inner, 1);
                }
                Selection::FragmentSpread(spread) => {
                    let name = spread.node.fragment_name.node.as_str();
                    let inner = self.fragment(name, at + 1)?;
                    shape.add(inner, 1);
                }
            }
            if shape.fields > MAX_EXPANDED_FIELDS {
                return Err(LimitError::TooManyFields);
            }
            if at + shape.depth > MAX_NESTING {
                return Err(LimitError::TooDeep {
                    what: "the query (fragments expanded)".into(),
                });
            }
        }
        Ok(shape)
    }

    fn fragment(&mut self, name: &'a str, at: usize) -> Result<Shape, LimitError> {
        match self.memo.get(name) {
            Some(Memo::Done(shape)) => return Ok(*shape),
            Some(Memo::InProgress) => return Err(LimitError::FragmentCycle(name.to_string())),
            None => {}
        }
        // An unknown fragment is left to validation ("Unknown fragment").
        let Some((key, def)) = self.doc.fragments.get_key_value(&Name::new(name)) else {
            return Ok(Shape::default());
        };
        let key: &'a str = key.as_str();
        self.memo.insert(key, Memo::InProgress);
        let shape = self.set(&def.node.selection_set, at)?;
        self.memo.insert(key, Memo::Done(shape));
        Ok(shape)
    }
}

/// Checks a parsed document before validation: fragments expanded at most [`MAX_EXPANDED_FIELDS`]
/// fields and [`MAX_NESTING`] levels, no fragment cycle, at most [`MAX_ROOT_FIELDS`] root fields
/// and [`MAX_LOGINS_PER_REQUEST`] `tokenAuth` per request, no NUL in literal strings. Each
/// fragment is walked once, so the cost is linear in the document.
pub fn check_document(doc: &ExecutableDocument) -> Result<(), LimitError> {
    let mut walker = Walker {
        doc,
        memo: HashMap::new(),
    };
    // Every fragment, used or not, so that validation's own walks stay bounded too.
    for name in doc.fragments.keys() {
        walker.fragment(name.as_str(), 0)?;
    }
    let mut total = Shape::default();
    let operations: Vec<_> = match &doc.operations {
        DocumentOperations::Single(op) => vec![op],
        DocumentOperations::Multiple(ops) => ops.values().collect(),
    };
    for op in operations {
        for v in &op.node.variable_definitions {
            if let Some(default) = &v.node.default_value {
                check_value_nul(&default.node, || {
                    format!("variable `${}`", v.node.name.node)
                })?;
            }
        }
        for d in &op.node.directives {
            check_arguments_nul!(&d.node.arguments);
        }
        let shape = walker.set(&op.node.selection_set, 0)?;
        if shape.direct > MAX_ROOT_FIELDS {
            return Err(LimitError::TooManyRootFields);
        }
        total.add(shape, 0);
    }
    for def in doc.fragments.values() {
        for d in &def.node.directives {
            check_arguments_nul!(&d.node.arguments);
        }
    }
    if total.fields > MAX_EXPANDED_FIELDS {
        return Err(LimitError::TooManyFields);
    }
    if total.logins > MAX_LOGINS_PER_REQUEST {
        return Err(LimitError::RepeatedLogin);
    }
    Ok(())
}

/// Checks a query's text, parses it and checks the document: the parsed document, or the limit
/// that refused it (`Ok(None)` when it does not parse; the schema reports the syntax error).
pub fn checked_document(query: &str) -> Result<Option<ExecutableDocument>, LimitError> {
    check_graphql_text(query, "the query")?;
    // the fast parser, else async-graphql's (docs/decisions.md 51)
    let parsed = crate::graphql::parse::parse_executable(query)
        .map(Ok)
        .unwrap_or_else(|| async_graphql::parser::parse_query(query));
    let Ok(doc) = parsed else {
        return Ok(None);
    };
    check_document(&doc)?;
    Ok(Some(doc))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nested(open: &str, close: &str, n: usize) -> String {
        format!("{}1{}", open.repeat(n), close.repeat(n))
    }

    #[test]
    fn graphql_nesting_is_bounded_outside_strings() {
        let deep = format!(
            "{{ families(orderBy: {}) {{ totalCount }} }}",
            nested("{a:", "}", 2000)
        );
        assert!(matches!(
            check_graphql_text(&deep, "the query"),
            Err(LimitError::TooDeep { .. })
        ));
        let ok = format!(
            "{{ a(x: \"{}\") # {}\n }}",
            "{".repeat(5000),
            "[".repeat(5000)
        );
        assert_eq!(check_graphql_text(&ok, "q"), Ok(()));
        let block = format!("{{ a(x: \"\"\"{} \\\"\"\" ((( \"\"\") }}", "{".repeat(100));
        assert_eq!(check_graphql_text(&block, "q"), Ok(()));
        assert_eq!(
            check_graphql_text(&"a ".repeat(MAX_TOKENS + 1), "q"),
            Err(LimitError::TooManyTokens)
        );
    }

    #[test]
    fn json_nesting_is_bounded_outside_strings() {
        assert!(check_json_text(nested("[", "]", 65).as_bytes(), "j").is_err());
        assert!(check_json_text(nested("[", "]", 64).as_bytes(), "j").is_ok());
        assert!(check_json_text(br#"{"a": "[[[[[[[[[[\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["}"#, "j").is_ok());
    }

    #[test]
    fn doubling_fragments_are_refused_cheaply() {
        let mut q = String::from("query { families { ...F25 } }\n");
        q.push_str("fragment F0 on FamilyGQLTypeConnection { totalCount }\n");
        for i in 1..=25 {
            q.push_str(&format!(
                "fragment F{i} on FamilyGQLTypeConnection {{ ...F{p} ...F{p} }}\n",
                p = i - 1
            ));
        }
        let start = std::time::Instant::now();
        assert_eq!(checked_document(&q).err(), Some(LimitError::TooManyFields));
        assert!(start.elapsed() < std::time::Duration::from_millis(200));
    }

    #[test]
    fn cycles_logins_root_fields_and_nul() {
        let cyc = "{ a { ...A } } fragment A on T { ...B } fragment B on T { ...A }";
        assert!(matches!(
            checked_document(cyc),
            Err(LimitError::FragmentCycle(_))
        ));
        let logins = "mutation { a: tokenAuth(username: \"x\", password: \"y\") { token } b: tokenAuth(username: \"x\", password: \"y\") { token } }";
        assert_eq!(
            checked_document(logins).err(),
            Some(LimitError::RepeatedLogin)
        );
        let viafrag = "mutation { ...L ...L } fragment L on Mutation { tokenAuth(username: \"x\", password: \"y\") { token } }";
        assert_eq!(
            checked_document(viafrag).err(),
            Some(LimitError::RepeatedLogin)
        );
        let roots = format!(
            "{{ {} }}",
            (0..40)
                .map(|i| format!("a{i}: languages {{ code }}"))
                .collect::<Vec<_>>()
                .join(" ")
        );
        assert_eq!(
            checked_document(&roots).err(),
            Some(LimitError::TooManyRootFields)
        );
        let nul = "{ families(officer: \"a\\u0000b\") { totalCount } }";
        assert_eq!(
            checked_document(nul).err(),
            Some(LimitError::Nul("argument `officer`".into()))
        );
        let chain: String = (1..200)
            .map(|i| format!("fragment F{i} on T {{ ...F{} }}\n", i - 1))
            .collect::<String>()
            + "fragment F0 on T { a } { x { ...F199 } }";
        assert!(matches!(
            checked_document(&chain),
            Err(LimitError::TooDeep { .. })
        ));
        assert!(checked_document("{ languages { code name } }").is_ok());
    }
}
