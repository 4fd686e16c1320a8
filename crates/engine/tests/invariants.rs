//! Architecture invariants that a test can check (issue 17, item 6): the engine, the store, the web
//! crate and the mailer know no service by name. No string literal in their sources names a
//! regulation's `code` or a step's `id` from `regulations/*.toml`; what a service does differently
//! is said by its file (reports, quota, numbering series, issued documents, …). Tests are exempt:
//! `tests/` directories, `tests.rs` and `*test*` files, and items under `#[cfg(test)]` (or any `cfg`
//! naming `test`).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use qyzmet_domain::regulation::check;

/// The crates that must know no service by name.
const CRATES: [&str; 4] = ["engine", "store", "web", "mail"];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Every regulation code and every step id of the shipped regulations.
fn names() -> (BTreeSet<String>, BTreeSet<String>) {
    let mut codes = BTreeSet::new();
    let mut steps = BTreeSet::new();
    let dir = root().join("regulations");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("regulations/")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    for path in files {
        let text = std::fs::read_to_string(&path).expect("read a regulation");
        let regulation = check(&path.display().to_string(), &text).unwrap_or_else(|problems| {
            panic!(
                "{}",
                problems
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("\n")
            )
        });
        codes.insert(regulation.code.clone());
        for channel in &regulation.channels {
            steps.extend(channel.steps.iter().map(|s| s.id.clone()));
        }
    }
    (codes, steps)
}

/// A token of Rust source, as far as this test needs: string literals with their line, identifiers
/// and punctuation. Comments, whitespace, character literals and lifetimes are dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Str { line: usize, text: String },
    Ident(String),
    Punct(char),
}

fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

fn tokens(source: &str) -> Vec<Token> {
    let chars: Vec<char> = source.chars().collect();
    let mut out = Vec::new();
    let mut line = 1;
    let mut i = 0;
    // Advances over chars[from..to], counting lines.
    let count = |from: usize, to: usize, line: &mut usize| {
        *line += chars[from..to.min(chars.len())]
            .iter()
            .filter(|c| **c == '\n')
            .count();
    };
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let (start, mut depth) = (i, 0);
            while i < chars.len() {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
            count(start, i, &mut line);
        } else if c == '"' {
            let start = i;
            let mut text = String::new();
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                if chars[i] == '\\' {
                    // An escaped character stands for itself here (`\"`, `\\`, `\n` as `n`).
                    i += 1;
                }
                if let Some(&ch) = chars.get(i) {
                    text.push(ch);
                }
                i += 1;
            }
            i += 1;
            out.push(Token::Str { line, text });
            count(start, i, &mut line);
        } else if (c == 'r' || c == 'b' || c == 'c')
            && (i == 0 || !is_ident(chars[i - 1]))
            && raw_string_start(&chars, i).is_some()
        {
            let (open, hashes) = raw_string_start(&chars, i).unwrap_or_default();
            let start = i;
            let mut j = open + 1;
            let closing: Vec<char> = std::iter::once('"')
                .chain(std::iter::repeat_n('#', hashes))
                .collect();
            while j < chars.len() && !chars[j..].starts_with(&closing) {
                j += 1;
            }
            let text: String = chars[open + 1..j.min(chars.len())].iter().collect();
            out.push(Token::Str { line, text });
            i = j + closing.len();
            count(start, i, &mut line);
        } else if c == '\'' {
            // A character literal ('a', '\n', '\u{1F600}') or a lifetime ('a).
            if next == Some('\\') {
                // Past the quote, the backslash and the escaped character, then to the closing quote.
                i += 3;
                while i < chars.len() && chars[i] != '\'' {
                    i += 1;
                }
                i += 1;
            } else if chars.get(i + 2) == Some(&'\'') {
                i += 3;
            } else {
                i += 1;
            }
        } else if is_ident(c) {
            let start = i;
            while i < chars.len() && is_ident(chars[i]) {
                i += 1;
            }
            out.push(Token::Ident(chars[start..i].iter().collect()));
        } else {
            if c == '\n' {
                line += 1;
            } else if !c.is_whitespace() {
                out.push(Token::Punct(c));
            }
            i += 1;
        }
    }
    out
}

/// Where a raw string (`r"…"`, `r#"…"#`, `br"…"`, `cr"…"`) starting at `i` opens its quote, and
/// its number of `#`.
fn raw_string_start(chars: &[char], i: usize) -> Option<(usize, usize)> {
    let mut j = i;
    if chars[j] == 'b' || chars[j] == 'c' {
        j += 1;
    }
    if chars.get(j) != Some(&'r') {
        return None;
    }
    j += 1;
    let mut hashes = 0;
    while chars.get(j) == Some(&'#') {
        hashes += 1;
        j += 1;
    }
    (chars.get(j) == Some(&'"')).then_some((j, hashes))
}

/// The string literals of the code outside test items: an item under an attribute `#[cfg(…)]`
/// naming `test` (and not `not`) is skipped to its `;` or its closing brace.
fn literals_outside_tests(source: &str) -> Vec<(usize, String)> {
    let tokens = tokens(source);
    let mut out = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        if tokens[i] == Token::Punct('#')
            && tokens.get(i + 1) == Some(&Token::Punct('['))
            && let Some((end, test)) = attribute(&tokens, i + 1)
        {
            i = if test {
                skip_item(&tokens, end + 1)
            } else {
                end + 1
            };
            continue;
        }
        if let Token::Str { line, text } = &tokens[i] {
            out.push((*line, text.clone()));
        }
        i += 1;
    }
    out
}

/// The attribute whose `[` is at `open`: the index of its `]` and whether it is a `cfg` on tests.
fn attribute(tokens: &[Token], open: usize) -> Option<(usize, bool)> {
    let mut depth = 0;
    let mut idents = Vec::new();
    for (j, token) in tokens.iter().enumerate().skip(open) {
        match token {
            Token::Punct('[') => depth += 1,
            Token::Punct(']') => {
                depth -= 1;
                if depth == 0 {
                    let test = idents.first() == Some(&"cfg")
                        && idents.contains(&"test")
                        && !idents.contains(&"not");
                    return Some((j, test));
                }
            }
            Token::Ident(name) => idents.push(name.as_str()),
            _ => {}
        }
    }
    None
}

/// The index after the item starting at `from` (its further attributes, then up to a `;` outside
/// any bracket or the `}` that closes its body).
fn skip_item(tokens: &[Token], from: usize) -> usize {
    let mut depth = 0i32;
    let mut j = from;
    while j < tokens.len() {
        match tokens[j] {
            Token::Punct('{' | '(' | '[') => depth += 1,
            Token::Punct(')' | ']') => depth -= 1,
            Token::Punct('}') => {
                depth -= 1;
                if depth == 0 {
                    return j + 1;
                }
            }
            Token::Punct(';') if depth == 0 => return j + 1,
            _ => {}
        }
        j += 1;
    }
    j
}

/// Whether `code` occurs in `text` as a whole name: not inside a longer name of letters, digits,
/// `_` or `-` (`'appeal'` and `/services/appeal/` name it; `appeals` does not).
fn names_code(text: &str, code: &str) -> bool {
    let boundary = |c: Option<char>| c.is_none_or(|c| !(is_ident(c) || c == '-'));
    text.match_indices(code).any(|(at, _)| {
        boundary(text[..at].chars().next_back()) && boundary(text[at + code.len()..].chars().next())
    })
}

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.filter_map(Result::ok) {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if path.is_dir() {
            if name != "tests" {
                sources(&path, out);
            }
        } else if name.ends_with(".rs") && !name.contains("test") {
            out.push(path);
        }
    }
}

#[test]
fn no_crate_below_the_regulations_names_a_service_or_a_step() {
    let (codes, steps) = names();
    assert!(codes.len() > 10 && steps.len() > 20, "{codes:?} {steps:?}");
    let mut files = Vec::new();
    for krate in CRATES {
        sources(&root().join("crates").join(krate).join("src"), &mut files);
    }
    files.sort();
    assert!(files.len() > 30, "{files:?}");
    let mut found = Vec::new();
    for file in &files {
        let source = std::fs::read_to_string(file).expect("read a source file");
        let shown = file
            .strip_prefix(root())
            .unwrap_or(file)
            .display()
            .to_string();
        for (line, text) in literals_outside_tests(&source) {
            for code in codes.iter().filter(|code| names_code(&text, code)) {
                found.push(format!(
                    "{shown}:{line}: {text:?} names the service {code:?}"
                ));
            }
            if steps.contains(&text) {
                found.push(format!("{shown}:{line}: {text:?} is a step id"));
            }
        }
    }
    println!(
        "{} files scanned for {} service codes and {} step ids",
        files.len(),
        codes.len(),
        steps.len()
    );
    assert!(
        found.is_empty(),
        "service codes or step ids in code (say it in the regulation file instead):\n{}",
        found.join("\n")
    );
}

#[test]
fn the_scan_sees_literals_outside_tests_only() {
    let source = r####"
// "appeal" in a comment
/* "appeal" in /* a nested */ block */
const A: &str = "WHERE regulation = 'appeal'";
const B: &str = r#"raw "P1""#;
fn f<'a>(x: &'a str) -> char { let _ = '"'; let _ = '\''; 'x' }
#[cfg(test)]
mod tests { const C: &str = "appeal"; fn g() { let _ = "P1"; } }
#[cfg(any(test, feature = "test-support"))]
const D: [&str; 2] = ["appeal", "P1"];
#[cfg(not(test))]
const E: &str = "deposit";
#[derive(Debug)]
struct S { s: &'static str }
const F: &str = "after";
"####;
    let found = literals_outside_tests(source);
    let texts: Vec<&str> = found.iter().map(|(_, t)| t.as_str()).collect();
    assert_eq!(
        texts,
        [
            "WHERE regulation = 'appeal'",
            "raw \"P1\"",
            "deposit",
            "after"
        ]
    );
    assert_eq!(found[0].0, 4, "{found:?}");
    assert_eq!(found[3].0, 15, "{found:?}");
    assert!(names_code("WHERE regulation = 'appeal'", "appeal"));
    assert!(names_code("/services/appeal/apply", "appeal"));
    assert!(!names_code("stats.appeals.title", "appeal"));
    assert!(!names_code("appeal-archive", "appeal"));
}
