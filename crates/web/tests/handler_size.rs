//! Handlers read the request, call one use case and render (issue 17, item 3): none is longer than
//! [`MAX_LINES`]. A handler is a `pub` or `pub(crate)` `async fn` at column 0 of a file in
//! `crates/web/src/`, counted from its signature to its closing `}` at column 0.

use std::path::{Path, PathBuf};

/// The most lines a handler may take.
const MAX_LINES: usize = 60;

/// A handler found in a source file.
#[derive(Debug, PartialEq, Eq)]
struct Handler {
    name: String,
    /// 1-based line of its signature.
    line: usize,
    /// Lines from the signature to the closing brace, both included.
    lines: usize,
}

/// The name of the handler a line opens, if it opens one.
fn handler_name(line: &str) -> Option<&str> {
    let rest = line
        .strip_prefix("pub(crate) async fn ")
        .or_else(|| line.strip_prefix("pub async fn "))?;
    let end = rest
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(rest.len());
    (end > 0).then(|| &rest[..end])
}

/// Every handler of a source file with its length.
fn handlers(source: &str) -> Vec<Handler> {
    let lines: Vec<&str> = source.split('\n').collect();
    let mut found = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        if let Some(name) = handler_name(lines[i]) {
            let end = (i..lines.len())
                .find(|&j| lines[j] == "}")
                .unwrap_or(lines.len());
            found.push(Handler {
                name: name.to_owned(),
                line: i + 1,
                lines: end - i + 1,
            });
            i = end;
        }
        i += 1;
    }
    found
}

fn sources() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "rs"))
        .collect();
    files.sort();
    files
}

#[test]
fn no_handler_is_over_the_limit() {
    let mut scanned = 0;
    let mut over = Vec::new();
    for path in sources() {
        let source =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        for handler in handlers(&source) {
            scanned += 1;
            if handler.lines > MAX_LINES {
                over.push(format!(
                    "crates/web/src/{name}:{} {} is {} lines",
                    handler.line, handler.name, handler.lines
                ));
            }
        }
    }
    // The scan sees the crate's handlers (about ninety when this was written).
    assert!(
        scanned >= 50,
        "only {scanned} handlers found: the scan is broken"
    );
    assert!(
        over.is_empty(),
        "{} handler(s) over {MAX_LINES} lines; parse the request into a typed struct, move the \
         decision into a use case, render with a view function:\n{}",
        over.len(),
        over.join("\n")
    );
}

#[test]
fn the_scan_counts_from_the_signature_to_the_closing_brace() {
    let source = "\
use x;

pub async fn short(State(s): State<AppState>) -> Response {
    html! {
        p { }
    }
}

pub(crate) async fn other(
    a: u8,
) -> Response {
    if a > 0 {
    }
}
async fn private() {
}
pub fn not_async() {
}
    pub async fn nested() {
    }
";
    assert_eq!(
        handlers(source),
        vec![
            Handler {
                name: "short".into(),
                line: 3,
                lines: 5,
            },
            Handler {
                name: "other".into(),
                line: 9,
                lines: 6,
            },
        ]
    );
}
