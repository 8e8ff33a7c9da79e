//! A fast parser of GraphQL executable documents (docs/decisions.md 51). async-graphql's own
//! parser (pest) was a quarter of the service's CPU on a `createFamily` (the frontend inlines
//! every value, so no two documents are alike and no cache helps). This one reads the same
//! grammar in one pass over the bytes and builds exactly the document async-graphql's parser
//! builds — the same nodes, names, values and positions (`tests/graphql_parse.rs` compares the
//! two) — or gives up (`None`) on anything it does not handle itself: block strings, `\u`
//! escapes, floats, characters outside ASCII outside strings, several operations, duplicate
//! fragments, deep nesting, and every syntax error. The caller then asks async-graphql's parser,
//! whose answer (and error message) stands, so this parser can only make a document cheaper to
//! read, never change what it means or how it is refused.

use async_graphql::indexmap::IndexMap;
use async_graphql::parser::types::Directive;
use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, Field, FragmentDefinition, FragmentSpread,
    InlineFragment, OperationDefinition, OperationType, Selection, SelectionSet, Type,
    TypeCondition, VariableDefinition,
};
use async_graphql::{Pos, Positioned};
use async_graphql_value::{Name, Number, Value};
use std::collections::HashMap;

/// How deep selection sets may nest here (async-graphql's parser refuses beyond 64).
const MAX_DEPTH: usize = 60;

/// The document, or `None`: ask async-graphql's parser.
pub fn parse_executable(text: &str) -> Option<ExecutableDocument> {
    let mut p = Parser {
        s: text.as_bytes(),
        i: 0,
        line: 1,
        column: 1,
        counted: 0,
    };
    p.document()
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
    /// The position of byte `counted` (async-graphql's rules: a `\n` starts a line, a `\r`
    /// only resets the column, every character is one column).
    line: usize,
    column: usize,
    counted: usize,
}

/// `None` on anything this parser leaves to async-graphql's.
type P<T> = Option<T>;

impl<'a> Parser<'a> {
    fn pos(&mut self) -> Pos {
        // positions are asked in document order; an earlier one would count nothing
        let text = self.s.get(self.counted..self.i).unwrap_or_default();
        for &b in text {
            match b {
                b'\n' => {
                    self.line += 1;
                    self.column = 1;
                }
                b'\r' => self.column = 1,
                // continuation bytes of UTF-8 (inside strings) are not characters
                0x80..=0xBF => {}
                _ => self.column += 1,
            }
        }
        self.counted = self.counted.max(self.i);
        Pos {
            line: self.line,
            column: self.column,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    /// Skips whitespace, commas and comments.
    fn skip(&mut self) -> P<()> {
        while let Some(b) = self.peek() {
            match b {
                b' ' | b',' | b'\t' | b'\n' | b'\r' => self.i += 1,
                b'#' => {
                    while let Some(c) = self.peek() {
                        if c == b'\n' || c == b'\r' {
                            break;
                        }
                        if c >= 0x80 {
                            return None;
                        }
                        self.i += 1;
                    }
                }
                b if b >= 0x80 => return None,
                _ => break,
            }
        }
        Some(())
    }

    fn eat(&mut self, b: u8) -> P<()> {
        self.skip()?;
        (self.peek()? == b).then(|| self.i += 1)
    }

    fn at(&mut self, b: u8) -> P<bool> {
        self.skip()?;
        Some(self.peek() == Some(b))
    }

    fn name_text(&mut self) -> P<&'a str> {
        self.skip()?;
        let start = self.i;
        match self.peek()? {
            b'A'..=b'Z' | b'a'..=b'z' | b'_' => self.i += 1,
            _ => return None,
        }
        while let Some(b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'_') = self.peek() {
            self.i += 1;
        }
        std::str::from_utf8(&self.s[start..self.i]).ok()
    }

    fn name(&mut self) -> P<Positioned<Name>> {
        self.skip()?;
        let pos = self.pos();
        let text = self.name_text()?;
        Some(Positioned::new(Name::new(text), pos))
    }

    /// The next name without consuming it.
    fn peek_name(&mut self) -> P<Option<&'a str>> {
        let save = self.i;
        self.skip()?;
        let found = match self.peek() {
            Some(b'A'..=b'Z' | b'a'..=b'z' | b'_') => Some(self.name_text()?),
            _ => None,
        };
        self.i = save;
        Some(found)
    }

    fn document(&mut self) -> P<ExecutableDocument> {
        let mut operation: Option<(Option<Name>, Positioned<OperationDefinition>)> = None;
        let mut fragments: HashMap<Name, Positioned<FragmentDefinition>> = HashMap::new();
        loop {
            self.skip()?;
            if self.i == self.s.len() {
                break;
            }
            if self.peek_name()? == Some("fragment") {
                let pos = self.pos();
                self.name_text()?;
                let name = self.name()?;
                if name.node.as_str() == "on" {
                    return None;
                }
                let type_condition = self.type_condition()?;
                let directives = self.directives()?;
                let selection_set = self.selection_set(MAX_DEPTH)?;
                let definition = FragmentDefinition {
                    type_condition,
                    directives,
                    selection_set,
                };
                if fragments
                    .insert(name.node, Positioned::new(definition, pos))
                    .is_some()
                {
                    return None;
                }
                continue;
            }
            if operation.is_some() {
                return None;
            }
            operation = Some(self.operation()?);
        }
        let (name, operation) = operation?;
        let operations = match name {
            None => DocumentOperations::Single(operation),
            Some(name) => DocumentOperations::Multiple(HashMap::from([(name, operation)])),
        };
        Some(ExecutableDocument {
            operations,
            fragments,
        })
    }

    fn operation(&mut self) -> P<(Option<Name>, Positioned<OperationDefinition>)> {
        self.skip()?;
        let pos = self.pos();
        if self.peek()? == b'{' {
            let selection_set = self.selection_set(MAX_DEPTH)?;
            let definition = OperationDefinition {
                ty: OperationType::Query,
                variable_definitions: Vec::new(),
                directives: Vec::new(),
                selection_set,
            };
            return Some((None, Positioned::new(definition, pos)));
        }
        let ty = match self.name_text()? {
            "query" => OperationType::Query,
            "mutation" => OperationType::Mutation,
            "subscription" => OperationType::Subscription,
            _ => return None,
        };
        let name = match self.peek_name()? {
            Some(_) => Some(self.name()?.node),
            None => None,
        };
        let mut variable_definitions = Vec::new();
        if self.at(b'(')? {
            self.i += 1;
            while !self.at(b')')? {
                variable_definitions.push(self.variable_definition()?);
            }
            self.i += 1;
        }
        let directives = self.directives()?;
        let selection_set = self.selection_set(MAX_DEPTH)?;
        let definition = OperationDefinition {
            ty,
            variable_definitions,
            directives,
            selection_set,
        };
        Some((name, Positioned::new(definition, pos)))
    }

    fn variable_definition(&mut self) -> P<Positioned<VariableDefinition>> {
        self.skip()?;
        let pos = self.pos();
        self.eat(b'$')?;
        // `$` and the name are one token
        if !matches!(self.peek()?, b'A'..=b'Z' | b'a'..=b'z' | b'_') {
            return None;
        }
        let name = self.name()?;
        self.eat(b':')?;
        let var_type = self.type_()?;
        let directives = self.directives()?;
        let default_value = if self.at(b'=')? {
            self.i += 1;
            self.skip()?;
            let pos = self.pos();
            let value = self.value(true)?;
            Some(Positioned::new(value.into_const()?, pos))
        } else {
            None
        };
        Some(Positioned::new(
            VariableDefinition {
                name,
                var_type,
                directives,
                default_value,
            },
            pos,
        ))
    }

    /// A type is one token (`[Int!]!`, no spaces inside).
    fn type_(&mut self) -> P<Positioned<Type>> {
        self.skip()?;
        let pos = self.pos();
        let start = self.i;
        let mut open = 0usize;
        loop {
            match self.peek()? {
                b'[' => {
                    open += 1;
                    self.i += 1;
                }
                b'A'..=b'Z' | b'a'..=b'z' | b'_' => break,
                _ => return None,
            }
        }
        self.name_text()?;
        if self.peek() == Some(b'!') {
            self.i += 1;
        }
        for _ in 0..open {
            if self.peek()? != b']' {
                return None;
            }
            self.i += 1;
            if self.peek() == Some(b'!') {
                self.i += 1;
            }
        }
        let text = std::str::from_utf8(&self.s[start..self.i]).ok()?;
        Some(Positioned::new(Type::new(text)?, pos))
    }

    fn type_condition(&mut self) -> P<Positioned<TypeCondition>> {
        self.skip()?;
        let pos = self.pos();
        if self.name_text()? != "on" {
            return None;
        }
        // "on", whitespace (no comment: async-graphql's grammar reads "on" as a fragment's
        // name then), and the type's name
        if !matches!(self.peek()?, b' ' | b',' | b'\t' | b'\n' | b'\r') {
            return None;
        }
        while let Some(b' ' | b',' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.i += 1;
        }
        if !matches!(self.peek()?, b'A'..=b'Z' | b'a'..=b'z' | b'_') {
            return None;
        }
        let on = self.name()?;
        Some(Positioned::new(TypeCondition { on }, pos))
    }

    fn directives(&mut self) -> P<Vec<Positioned<Directive>>> {
        let mut out = Vec::new();
        while self.at(b'@')? {
            let pos = self.pos();
            self.i += 1;
            if !matches!(self.peek()?, b'A'..=b'Z' | b'a'..=b'z' | b'_') {
                return None;
            }
            let name = self.name()?;
            let arguments = self.arguments()?;
            out.push(Positioned::new(Directive { name, arguments }, pos));
        }
        Some(out)
    }

    #[allow(clippy::type_complexity)]
    fn arguments(&mut self) -> P<Vec<(Positioned<Name>, Positioned<Value>)>> {
        let mut out = Vec::new();
        if !self.at(b'(')? {
            return Some(out);
        }
        self.i += 1;
        loop {
            let name = self.name()?;
            self.eat(b':')?;
            self.skip()?;
            let pos = self.pos();
            let value = self.value(false)?;
            out.push((name, Positioned::new(value, pos)));
            if self.at(b')')? {
                self.i += 1;
                return Some(out);
            }
        }
    }

    fn selection_set(&mut self, depth: usize) -> P<Positioned<SelectionSet>> {
        if depth == 0 {
            return None;
        }
        self.skip()?;
        let pos = self.pos();
        self.eat(b'{')?;
        let mut items = Vec::new();
        loop {
            items.push(self.selection(depth)?);
            if self.at(b'}')? {
                self.i += 1;
                return Some(Positioned::new(SelectionSet { items }, pos));
            }
        }
    }

    fn selection(&mut self, depth: usize) -> P<Positioned<Selection>> {
        self.skip()?;
        let pos = self.pos();
        if self.s[self.i..].starts_with(b"...") {
            self.i += 3;
            let selection = match self.peek_name()? {
                Some("on") => {
                    let type_condition = Some(self.type_condition()?);
                    self.inline_fragment(type_condition, pos, depth)?
                }
                Some(_) => {
                    let fragment_name = self.name()?;
                    let directives = self.directives()?;
                    Selection::FragmentSpread(Positioned::new(
                        FragmentSpread {
                            fragment_name,
                            directives,
                        },
                        pos,
                    ))
                }
                None => self.inline_fragment(None, pos, depth)?,
            };
            return Some(Positioned::new(selection, pos));
        }
        let first = self.name()?;
        let (alias, name) = if self.at(b':')? {
            self.i += 1;
            (Some(first), self.name()?)
        } else {
            (None, first)
        };
        let arguments = self.arguments()?;
        let directives = self.directives()?;
        let selection_set = if self.at(b'{')? {
            self.selection_set(depth - 1)?
        } else {
            Positioned::default()
        };
        let field = Field {
            alias,
            name,
            arguments,
            directives,
            selection_set,
        };
        Some(Positioned::new(
            Selection::Field(Positioned::new(field, pos)),
            pos,
        ))
    }

    fn inline_fragment(
        &mut self,
        type_condition: Option<Positioned<TypeCondition>>,
        pos: Pos,
        depth: usize,
    ) -> P<Selection> {
        let directives = self.directives()?;
        let selection_set = self.selection_set(depth - 1)?;
        Some(Selection::InlineFragment(Positioned::new(
            InlineFragment {
                type_condition,
                directives,
                selection_set,
            },
            pos,
        )))
    }

    /// A value (`constant`: no variables). Whitespace before it is already skipped.
    fn value(&mut self, constant: bool) -> P<Value> {
        self.value_in(constant, MAX_DEPTH)
    }

    fn value_in(&mut self, constant: bool, depth: usize) -> P<Value> {
        if depth == 0 {
            return None;
        }
        self.skip()?;
        Some(match self.peek()? {
            b'$' if !constant => {
                self.i += 1;
                if !matches!(self.peek()?, b'A'..=b'Z' | b'a'..=b'z' | b'_') {
                    return None;
                }
                Value::Variable(Name::new(self.name_text()?))
            }
            b'"' => Value::String(self.string()?),
            b'-' | b'0'..=b'9' => Value::Number(self.number()?),
            b'[' => {
                self.i += 1;
                let mut items = Vec::new();
                while !self.at(b']')? {
                    items.push(self.value_in(constant, depth - 1)?);
                }
                self.i += 1;
                Value::List(items)
            }
            b'{' => {
                self.i += 1;
                let mut fields = IndexMap::new();
                while !self.at(b'}')? {
                    let name = self.name_text()?;
                    self.eat(b':')?;
                    let value = self.value_in(constant, depth - 1)?;
                    fields.insert(Name::new(name), value);
                }
                self.i += 1;
                Value::Object(fields)
            }
            _ => match self.name_text()? {
                "true" => Value::Boolean(true),
                "false" => Value::Boolean(false),
                "null" => Value::Null,
                // async-graphql's grammar reads `trueX` as `true` then `X`
                n if n.starts_with("true") || n.starts_with("false") || n.starts_with("null") => {
                    return None;
                }
                n => Value::Enum(Name::new(n)),
            },
        })
    }

    /// An integer (`-?(0|[1-9][0-9]*)`, not followed by a digit, a letter, `_` or `.`);
    /// anything else numeric is left to async-graphql's parser.
    fn number(&mut self) -> P<Number> {
        let start = self.i;
        if self.peek() == Some(b'-') {
            self.i += 1;
        }
        match self.peek()? {
            b'0' => self.i += 1,
            b'1'..=b'9' => {
                while let Some(b'0'..=b'9') = self.peek() {
                    self.i += 1;
                }
            }
            _ => return None,
        }
        if let Some(b'0'..=b'9' | b'A'..=b'Z' | b'a'..=b'z' | b'_' | b'.') = self.peek() {
            return None;
        }
        std::str::from_utf8(&self.s[start..self.i])
            .ok()?
            .parse()
            .ok()
    }

    /// A quoted string without `\u` escapes, on one line; not a block string.
    fn string(&mut self) -> P<String> {
        if self.s[self.i..].starts_with(b"\"\"\"") {
            return None;
        }
        self.i += 1;
        let mut out = Vec::new();
        loop {
            let b = self.peek()?;
            self.i += 1;
            match b {
                b'"' => return String::from_utf8(out).ok(),
                b'\n' | b'\r' => return None,
                b'\\' => {
                    let e = self.peek()?;
                    self.i += 1;
                    out.push(match e {
                        b'"' => b'"',
                        b'\\' => b'\\',
                        b'/' => b'/',
                        b'b' => 0x08,
                        b'f' => 0x0C,
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        _ => return None,
                    });
                }
                b => out.push(b),
            }
        }
    }
}
