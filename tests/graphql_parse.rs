//! The fast GraphQL parser (src/graphql/parse.rs, DECISIONS 51) against async-graphql's own: on
//! every document — the frontends' documents, hand-written edge cases, and generated ones (real
//! documents cut, spliced and sprinkled with GraphQL's own characters, and token soups) — it
//! either gives up or builds exactly the document async-graphql builds (nodes, names, values,
//! positions); it never accepts a document async-graphql refuses. Cases: `PARSE_CASES` (default
//! 3000).
use async_graphql::parser::parse_query;
use async_graphql::parser::types::ExecutableDocument;
use policy_notification::graphql::parse::parse_executable;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

/// A canonical text of a document (its fragments sorted by name: they live in a hash map).
fn canon(doc: &ExecutableDocument) -> String {
    let mut fragments: Vec<String> = doc
        .fragments
        .iter()
        .map(|(name, f)| format!("{name}: {f:?}"))
        .collect();
    fragments.sort();
    format!("{:?}\n{}", doc.operations, fragments.join("\n"))
}

/// The property: `None`, or async-graphql's document. Returns whether the fast parser answered.
fn agrees(text: &str) -> bool {
    let fast = parse_executable(text);
    let slow = parse_query(text);
    match (&fast, &slow) {
        (None, _) => false,
        (Some(f), Ok(s)) => {
            assert_eq!(canon(f), canon(s), "different documents for {text:?}");
            true
        }
        (Some(f), Err(e)) => panic!("accepted {text:?} ({f:?}), which async-graphql refuses: {e}"),
    }
}

fn corpus() -> Vec<String> {
    let mut docs: Vec<String> = std::fs::read_dir("tests/fixtures/frontend")
        .expect("the frontend documents")
        .filter_map(|e| e.ok())
        .filter(|e| e.path().extension().is_some_and(|x| x == "graphql"))
        .map(|e| std::fs::read_to_string(e.path()).expect("a document"))
        .map(|d| {
            d.replace("@@CLIENT_ID@@", "cid-1")
                .replace("@@CHF@@", "100200300")
                .replace("@@VILLAGE_ID@@", "6")
                .replace("@@FAMILY_UUID@@", "00000000-0000-0000-0000-000000000001")
                .replace("@@HEAD_UUID@@", "00000000-0000-0000-0000-000000000002")
                .replace("@@DELETE_MEMBERS@@", "true")
        })
        .collect();
    docs.extend(
        [
            "{ a }",
            "{a}",
            "query { a }",
            "query Q { a }",
            "query Q($x: Int = 3, $y: [String!]! @d) @o { a(x: $x, y: $y) }",
            "mutation M { m(input: {a: 1, b: \"x\", c: [1, 2, [3]], d: {e: null, f: true, g: false, h: ENUM}}) { id } }",
            "{ a: b(c: -0) @skip(if: false) @include(if: true) { d ...F ... on T { e } ... @x { f } ... { g } } } fragment F on T { h }",
            "# comment\r\n{\r\n  a # trailing\r\n  b\r}\n",
            "{ a(s: \"é ü 中 \\\" \\\\ \\/ \\b \\f \\n \\r \\t\") b(s: \"\") }",
            "{ a(n: 123456789012345678901234567890) b(n: -9223372036854775808) }",
            ",,{,a,,b,},",
            "{ a(o: {x: 1, x: 2}) }",
            "{ a(v: $v) }",
            "query ($v: Int) { a(v: $v) }",
            "{ a { b { c { d { e } } } } }",
            "subscription S { s }",
            "fragment A on T { a } { ...A }",
            "{ ... on T { a } }",
            "{ ...on T { a } }",
            "{ ... on # c\n T { a } }",
            "{ ...F @d(a: 1) }",
            "{ a(x: true) b(x: null) c(x: nullable) d(x: trueish) }",
            "{ a(x: 1.5) b(x: 1e3) c(x: 01) d(x: 1a) }",
            "{ a(x: \"\"\"block\"\"\") }",
            "{ a(x: \"\\u00e9\") }",
            "\u{feff}{ a }",
            "queryX { a }",
            "fragmentX on T { a } { b }",
            "{ a } { b }",
            "query A { a } query A { b }",
            "{ }",
            "{ a() }",
            "",
            "   ",
            "{ a(x: $ v) }",
            "{ a @ d }",
            "query ($ v: Int) { a }",
            "{ a(x: [1 2 3]) b(x: {}) c(x: []) }",
            "{ a(x: \"line\nbreak\") }",
            "{ a(x: \"open) }",
            "{ a(x: -) }",
            "{ a(x: -a) }",
            "{ a(x: 0x1) }",
            "query Q($x: [[Int!]]!) { a }",
            "query Q($x: [Int) { a }",
            "query Q($x: Int!!) { a }",
            "fragment on on T { a } { ...on }",
            "{ a\u{2028}b }",
        ]
        .into_iter()
        .map(str::to_string),
    );
    let deep = format!("{}a{}", "{ b ".repeat(70), " }".repeat(70));
    docs.push(deep.replacen("{ b ", "{ ", 1));
    docs
}

#[test]
fn the_fast_parser_builds_async_graphqls_document_or_gives_up() {
    let docs = corpus();
    let answered = docs.iter().filter(|d| agrees(d)).count();
    // The frontends' documents (first in the corpus) are all read by the fast parser.
    let frontend = std::fs::read_dir("tests/fixtures/frontend")
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .is_ok_and(|e| e.path().extension().is_some_and(|x| x == "graphql"))
        })
        .count();
    for d in docs.iter().take(frontend) {
        assert!(
            parse_executable(d).is_some(),
            "the fast parser gave up on a frontend document: {d}"
        );
    }
    assert!(answered > frontend + 20, "answered {answered}");
}

fn cases() -> u32 {
    std::env::var("PARSE_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3000)
}

#[test]
fn generated_documents_agree() {
    let docs = corpus();
    let pieces = prop::sample::select(vec![
        "{", "}", "(", ")", "[", "]", ":", "$", "@", "...", "on ", "=", "!", ",", " ", "\n", "\r",
        "#c\n", "\"", "\\", "\\u", "a", "b1", "_", "on", "true", "null", "false", "query",
        "mutation", "fragment", "0", "1", "-", ".", "e", "é", "\"s\"", "\"\"", "\"\"\"", "Int",
        "x",
    ]);
    let soup = prop::collection::vec(pieces.clone(), 0..40).prop_map(|v| v.concat());
    let spliced = (
        0..docs.len(),
        any::<prop::sample::Index>(),
        any::<prop::sample::Index>(),
        prop::collection::vec(pieces, 0..4),
    )
        .prop_map(move |(d, at, cut, insert)| {
            let doc = &docs[d];
            let mut bounds: Vec<usize> = (0..=doc.len())
                .filter(|&i| doc.is_char_boundary(i))
                .collect();
            bounds.dedup();
            let a = bounds[at.index(bounds.len())];
            let b = bounds[cut.index(bounds.len())];
            let (a, b) = (a.min(b), a.max(b).min(a + 8));
            let b = (b..=doc.len())
                .find(|&i| doc.is_char_boundary(i))
                .unwrap_or(doc.len());
            format!("{}{}{}", &doc[..a], insert.concat(), &doc[b..])
        });
    let valid = corpus();
    let sprinkled = (
        0..valid.len(),
        prop::collection::vec(
            (
                any::<prop::sample::Index>(),
                prop::sample::select(vec![" ", "\n", "\r\n", "\r", ",", "\t", "#c\n", "# é\n"]),
            ),
            1..6,
        ),
    )
        .prop_map(move |(d, inserts)| {
            let mut doc = valid[d].clone();
            for (at, piece) in inserts {
                let bounds: Vec<usize> = (0..=doc.len())
                    .filter(|&i| doc.is_char_boundary(i))
                    .collect();
                doc.insert_str(bounds[at.index(bounds.len())], piece);
            }
            doc
        });
    let mut runner = TestRunner::new(Config {
        cases: cases(),
        failure_persistence: None,
        ..Config::default()
    });
    let answered = std::sync::atomic::AtomicU32::new(0);
    runner
        .run(&prop_oneof![soup, spliced, sprinkled], |text| {
            if agrees(&text) {
                answered.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
            Ok(())
        })
        .unwrap();
    // the generated documents exercise the fast parser's answers, not only its refusals
    let answered = answered.into_inner();
    assert!(
        answered >= cases() / 10,
        "the fast parser answered {answered} of {}",
        cases()
    );
}
