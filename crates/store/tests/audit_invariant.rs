//! The architecture invariant "a state change and its audit entry share one transaction", checked
//! on the store's source: every function of `crates/store/src` whose body executes `INSERT`,
//! `UPDATE` or `DELETE` SQL must run it inside a [`qyzmet_store::Tx`] — a `&mut Tx` it is given (or
//! its own `impl Tx` receiver), or one it opens with `begin_write()` — and touch no other
//! connection: not a bare `AnyConnection`, not the pool, not a transaction begun another way. A
//! `Tx` commits only through `Tx::commit(events)`, which refuses an empty list, so a write that
//! passes here cannot commit without its entry. The few kinds of bookkeeping that are not business
//! state commit through the crate-private `Tx::commit_unaudited`, and only the functions listed in
//! [`UNAUDITED`] may call it.
//!
//! The scanner is a small lexer (comments and string literals told apart from code), not a Rust
//! parser: it reads items the way `rustfmt` lays them out (an `fn` or `impl` item starts its line).
//! Its own cases at the end show that it catches what it must.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The functions that may commit without an audit entry, with the reason each gives. Each must
/// exist and call `commit_unaudited`; no other function may.
const UNAUDITED: &[(&str, &str, &str)] = &[
    (
        "portal.rs",
        "take_attempt",
        "sign-in throttle counters: the sign-in's outcome is audited",
    ),
    (
        "portal.rs",
        "release_attempt",
        "sign-in throttle counters: the sign-in's outcome is audited",
    ),
    (
        "portal.rs",
        "insert_challenge",
        "one-time sign-in challenges and their rate counter: the sign-in's outcome is audited",
    ),
    (
        "portal.rs",
        "take_challenge",
        "a one-time sign-in challenge used up: the sign-in's outcome is audited",
    ),
    (
        "portal.rs",
        "take_code_try",
        "an identity code's try counter: the proof's outcome is audited",
    ),
    (
        "mail.rs",
        "claim_mail",
        "a delivery's lease, a lock with a time-out: what becomes of the delivery is audited",
    ),
    (
        "mail.rs",
        "mail_postpone",
        "a delivery's lease given back untried: what becomes of the delivery is audited",
    ),
    (
        "pki.rs",
        "next_tsa_serial",
        "the TSA's serial counter: the time-stamp token it numbers is the record",
    ),
    (
        "bench.rs",
        "bench_bare_insert",
        "the load run's scratch table, dropped after: the bare-insert limit the audit rate is measured against",
    ),
];

/// Functions that may begin a transaction other than through `begin_write`, with the reason.
const OTHER_BEGINS: &[(&str, &str, &str)] = &[
    (
        "lib.rs",
        "begin_write",
        "the one way a write transaction begins",
    ),
    (
        "backup.rs",
        "write_backup",
        "a read-only snapshot of every table for the backup",
    ),
];

#[test]
fn no_store_function_writes_outside_an_audited_transaction() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    collect_rs(&dir, &mut files);
    assert!(
        files.len() >= 10,
        "the store's sources are not where the test looks: {}",
        dir.display()
    );
    let mut scanned = Vec::new();
    for path in &files {
        let text = std::fs::read_to_string(path).expect("read a source file");
        let name = path
            .strip_prefix(&dir)
            .expect("under src")
            .to_string_lossy()
            .replace('\\', "/");
        scanned.push((name, scan(&text)));
    }
    let violations = check(&scanned);
    assert!(
        violations.is_empty(),
        "store functions that can write without an audit entry:\n{}",
        violations.join("\n")
    );
    // The scan is not vacuous: it sees the writers it must see.
    let writers: BTreeSet<String> = scanned
        .iter()
        .flat_map(|(file, scan)| {
            scan.functions
                .iter()
                .filter(|f| f.writes)
                .map(move |f| format!("{file}::{}", f.name))
        })
        .collect();
    for expected in [
        "audit.rs::append",
        "workflow.rs::insert_instances",
        "workflow.rs::update_instances",
        "registry.rs::insert_person",
        "pki.rs::insert_certificate",
        "portal.rs::create_account",
        "portal.rs::settle_draft",
        "queue.rs::insert_ticket",
        "mail.rs::claim_mail",
        "pki.rs::record_ca_request",
        "register_entry.rs::insert_entry",
        "register_entry.rs::amend_entry",
        "directory.rs::grant_role",
        "directory.rs::revoke_role",
        "regulation.rs::insert_upload",
        "regulation.rs::activate",
        "calendar.rs::import_calendar_decree",
    ] {
        assert!(
            writers.contains(expected),
            "{expected} is not seen as a writer: {writers:?}"
        );
    }
}

/// What each rule says of the scanned files.
fn check(files: &[(String, Scan)]) -> Vec<String> {
    let mut violations = Vec::new();
    let listed = |list: &[(&str, &str, &str)], file: &str, name: &str| {
        list.iter().any(|(f, n, _)| *f == file && *n == name)
    };
    let mut seen_unaudited = BTreeSet::new();
    let mut seen_begins = BTreeSet::new();
    for (file, scan) in files {
        for literal in &scan.stray_writes {
            violations.push(format!(
                "{file}:{}: write SQL outside any function, where no rule can see how it runs",
                literal
            ));
        }
        for f in &scan.functions {
            let at = format!("{file}:{}: {}fn {}", f.line, f.visibility, f.name);
            let unaudited = listed(UNAUDITED, file, &f.name);
            let in_impl_tx = f.in_impl.as_deref() == Some("Tx");
            if f.calls_commit_unaudited && !in_impl_tx {
                if unaudited {
                    seen_unaudited.insert((file.clone(), f.name.clone()));
                } else {
                    violations.push(format!(
                        "{at} commits without an audit entry (commit_unaudited) and is not listed, \
                         with its reason, in UNAUDITED"
                    ));
                }
            }
            if f.begins_other && !in_impl_tx {
                if listed(OTHER_BEGINS, file, &f.name) {
                    seen_begins.insert((file.clone(), f.name.clone()));
                } else {
                    violations.push(format!(
                        "{at} begins a transaction other than with begin_write()"
                    ));
                }
            }
            if f.raw_commit && !in_impl_tx {
                violations.push(format!(
                    "{at} commits a sqlx transaction directly (.commit() without events)"
                ));
            }
            if !f.writes || unaudited {
                continue;
            }
            let in_tx = f.takes_tx || (in_impl_tx && f.has_self);
            if !(in_tx || f.opens_write) {
                violations.push(format!(
                    "{at} executes INSERT/UPDATE/DELETE SQL outside the Tx API: it neither takes a \
                     `&mut Tx` nor opens one with begin_write()"
                ));
            }
            if f.takes_bare {
                violations.push(format!(
                    "{at} executes INSERT/UPDATE/DELETE SQL and takes a bare connection, pool or \
                     transaction: take `&mut Tx` instead"
                ));
            }
            if f.uses_pool {
                violations.push(format!(
                    "{at} executes INSERT/UPDATE/DELETE SQL and uses the pool, whose statements \
                     commit on their own without an entry"
                ));
            }
        }
    }
    for (file, name, reason) in UNAUDITED {
        if !seen_unaudited.contains(&((*file).to_owned(), (*name).to_owned())) {
            violations.push(format!(
                "UNAUDITED lists {file}::{name} ({reason}), which does not call commit_unaudited: \
                 take it off the list"
            ));
        }
    }
    for (file, name, _) in OTHER_BEGINS {
        if !seen_begins.contains(&((*file).to_owned(), (*name).to_owned())) {
            violations.push(format!(
                "OTHER_BEGINS lists {file}::{name}, which begins no transaction: take it off the list"
            ));
        }
    }
    violations
}

fn collect_rs(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .expect("read the source directory")
        .map(|e| e.expect("directory entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            collect_rs(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// One function item as the rules see it.
#[derive(Debug, Default)]
struct Function {
    name: String,
    line: usize,
    /// `pub `, `pub(crate) ` or empty.
    visibility: String,
    /// The self type of the `impl` block it is in.
    in_impl: Option<String>,
    has_self: bool,
    /// A string literal of its body holds INSERT, UPDATE or DELETE SQL.
    writes: bool,
    /// A parameter is `&mut Tx`.
    takes_tx: bool,
    /// A parameter is a bare connection, pool or sqlx transaction.
    takes_bare: bool,
    opens_write: bool,
    uses_pool: bool,
    calls_commit_unaudited: bool,
    begins_other: bool,
    raw_commit: bool,
}

#[derive(Debug, Default)]
struct Scan {
    functions: Vec<Function>,
    /// Lines of write SQL literals that lie in no function (outside test modules).
    stray_writes: Vec<usize>,
}

/// A string literal: its byte range in the source (quotes included) and its text.
struct Literal {
    start: usize,
    text: String,
}

/// The source with comments and string contents blanked (newlines kept), and the literals.
fn lex(src: &str) -> (String, Vec<Literal>) {
    let bytes = src.as_bytes();
    let mut code = bytes.to_vec();
    let mut literals = Vec::new();
    let mut i = 0;
    let blank = |code: &mut Vec<u8>, from: usize, to: usize| {
        for b in &mut code[from..to] {
            if *b != b'\n' {
                *b = b' ';
            }
        }
    };
    let ident = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    while i < bytes.len() {
        let b = bytes[i];
        let prev_ident = i > 0 && ident(bytes[i - 1]);
        if b == b'/' && bytes.get(i + 1) == Some(&b'/') {
            let end = src[i..].find('\n').map_or(bytes.len(), |n| i + n);
            blank(&mut code, i, end);
            i = end;
        } else if b == b'/' && bytes.get(i + 1) == Some(&b'*') {
            let (mut depth, mut j) = (1, i + 2);
            while j < bytes.len() && depth > 0 {
                if bytes[j] == b'/' && bytes.get(j + 1) == Some(&b'*') {
                    depth += 1;
                    j += 2;
                } else if bytes[j] == b'*' && bytes.get(j + 1) == Some(&b'/') {
                    depth -= 1;
                    j += 2;
                } else {
                    j += 1;
                }
            }
            blank(&mut code, i, j);
            i = j;
        } else if !prev_ident && (b == b'r' || b == b'b' && bytes.get(i + 1) == Some(&b'r')) && {
            let k = i + if b == b'b' { 2 } else { 1 };
            let hashes = bytes[k..].iter().take_while(|c| **c == b'#').count();
            bytes.get(k + hashes) == Some(&b'"')
        } {
            let k = i + if b == b'b' { 2 } else { 1 };
            let hashes = bytes[k..].iter().take_while(|c| **c == b'#').count();
            let open = k + hashes + 1;
            let close: String = std::iter::once('"')
                .chain(std::iter::repeat_n('#', hashes))
                .collect();
            let end = src[open..]
                .find(&close)
                .map_or(bytes.len(), |n| open + n + close.len());
            literals.push(Literal {
                start: i,
                text: src[open..end.saturating_sub(close.len()).max(open)].to_owned(),
            });
            blank(&mut code, open, end.saturating_sub(close.len()).max(open));
            i = end;
        } else if b == b'"' {
            let mut j = i + 1;
            while j < bytes.len() && bytes[j] != b'"' {
                j += if bytes[j] == b'\\' { 2 } else { 1 };
            }
            let end = (j + 1).min(bytes.len());
            literals.push(Literal {
                start: i,
                text: src[i + 1..j.min(bytes.len())].to_owned(),
            });
            blank(&mut code, i + 1, j.min(bytes.len()));
            i = end;
        } else if b == b'\'' {
            // A char literal ('x', '\n', '\u{..}', '"'), or a lifetime ('a), which stays code.
            if bytes.get(i + 1) == Some(&b'\\') {
                let end = src[i + 2..]
                    .find('\'')
                    .map_or(bytes.len(), |n| i + 2 + n + 1);
                blank(&mut code, i + 1, end - 1);
                i = end;
            } else if let Some(c) = src[i + 1..].chars().next()
                && src[i + 1 + c.len_utf8()..].starts_with('\'')
            {
                blank(&mut code, i + 1, i + 1 + c.len_utf8());
                i += c.len_utf8() + 2;
            } else {
                i += 1;
            }
        } else {
            i += 1;
        }
    }
    (
        String::from_utf8(code).expect("blanking keeps UTF-8 (only ASCII spaces are written)"),
        literals,
    )
}

/// The index after the bracket that closes the one at `open`.
fn closing(code: &[u8], open: usize) -> usize {
    let (o, c) = match code[open] {
        b'{' => (b'{', b'}'),
        b'(' => (b'(', b')'),
        other => panic!("not an opening bracket: {}", other as char),
    };
    let mut depth = 0;
    for (k, b) in code.iter().enumerate().skip(open) {
        if *b == o {
            depth += 1;
        } else if *b == c {
            depth -= 1;
            if depth == 0 {
                return k + 1;
            }
        }
    }
    code.len()
}

/// The line (from 1) of the byte at `at`.
fn line_of(src: &str, at: usize) -> usize {
    src[..at].bytes().filter(|b| *b == b'\n').count() + 1
}

/// What may stand before an item's keyword on its line.
const QUALIFIERS: [&str; 7] = [
    "pub(crate) ",
    "pub(super) ",
    "pub ",
    "const ",
    "async ",
    "unsafe ",
    "default ",
];

/// The items of a kind (`fn`, `impl`, `mod`) that start a line, as rustfmt lays them out: the
/// offset of the keyword and the qualifiers before it (`pub(crate) async ` …).
fn items(code: &str, keyword: &str) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    let mut offset = 0;
    for line in code.split_inclusive('\n') {
        let trimmed = line.trim_start();
        let mut rest = trimmed;
        loop {
            let before = rest.len();
            for qualifier in QUALIFIERS {
                rest = rest.strip_prefix(qualifier).unwrap_or(rest);
            }
            if rest.len() == before {
                break;
            }
        }
        if rest.starts_with(keyword) && rest[keyword.len()..].starts_with([' ', '<']) {
            let at = offset + line.len() - rest.len();
            found.push((at, trimmed[..trimmed.len() - rest.len()].to_owned()));
        }
        offset += line.len();
    }
    found
}

/// Whether SQL text changes rows: `INSERT INTO`, `DELETE FROM`, `UPDATE <table> SET`.
fn is_write_sql(text: &str) -> bool {
    let words: Vec<&str> = text.split_whitespace().collect();
    (0..words.len()).any(|i| match words[i] {
        "INSERT" => words.get(i + 1) == Some(&"INTO"),
        "DELETE" => words.get(i + 1) == Some(&"FROM"),
        "UPDATE" => words.get(i + 2) == Some(&"SET"),
        _ => false,
    })
}

fn scan(src: &str) -> Scan {
    let (code, literals) = lex(src);
    let bytes = code.as_bytes();
    // Test modules are not the store's API (they may tamper on purpose).
    let mut excluded = Vec::new();
    for (at, _) in items(&code, "mod") {
        let header_end = code[at..].find(['{', ';']).map_or(code.len(), |n| at + n);
        let name = code[at + 3..header_end].trim();
        if name == "tests" && bytes.get(header_end) == Some(&b'{') {
            excluded.push((at, closing(bytes, header_end)));
        }
    }
    let is_excluded = |at: usize| excluded.iter().any(|(a, b)| (*a..*b).contains(&at));
    let mut impls = Vec::new();
    for (at, _) in items(&code, "impl") {
        let Some(open) = code[at..].find(['{', ';']).map(|n| at + n) else {
            continue;
        };
        if bytes[open] != b'{' {
            continue;
        }
        let header = &code[at + 4..open];
        let header = header.find("where").map_or(header, |n| &header[..n]);
        let target = header.rsplit(" for ").next().unwrap_or(header);
        let target = strip_generics(target);
        let name = target
            .trim()
            .rsplit("::")
            .next()
            .unwrap_or("")
            .trim()
            .to_owned();
        impls.push((open, closing(bytes, open), name));
    }
    let mut scan = Scan::default();
    let mut bodies = Vec::new();
    for (at, prefix) in items(&code, "fn") {
        if is_excluded(at) {
            continue;
        }
        let name_start = at + 3;
        let name_end = code[name_start..]
            .find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .map_or(code.len(), |n| name_start + n);
        let name = code[name_start..name_end].to_owned();
        let Some(params_open) = code[name_end..].find('(').map(|n| name_end + n) else {
            continue;
        };
        let params_end = closing(bytes, params_open);
        let Some(body_open) = code[params_end..].find(['{', ';']).map(|n| params_end + n) else {
            continue;
        };
        if bytes[body_open] != b'{' {
            continue; // a declaration without a body
        }
        let body_end = closing(bytes, body_open);
        bodies.push((body_open, body_end));
        let params = &code[params_open..params_end];
        let body = &code[body_open..body_end];
        let in_impl = impls
            .iter()
            .filter(|(a, b, _)| (*a..*b).contains(&at))
            .min_by_key(|(a, b, _)| b - a)
            .map(|(_, _, n)| n.clone());
        let visibility = if prefix.contains("pub(crate)") {
            "pub(crate) "
        } else if prefix.contains("pub") {
            "pub "
        } else {
            ""
        };
        let compact: String = params.chars().filter(|c| !c.is_whitespace()).collect();
        scan.functions.push(Function {
            line: line_of(src, at),
            visibility: visibility.to_owned(),
            has_self: compact.starts_with("(self")
                || compact.starts_with("(mutself")
                || compact.starts_with("(&self")
                || compact.starts_with("(&mutself"),
            writes: literals
                .iter()
                .any(|l| (body_open..body_end).contains(&l.start) && is_write_sql(&l.text)),
            takes_tx: compact.contains("&mutTx") || compact.contains("&mutcrate::Tx"),
            takes_bare: [
                "AnyConnection",
                "Transaction",
                "AnyPool",
                "Executor",
                "Pool<",
            ]
            .iter()
            .any(|t| params.contains(t)),
            opens_write: body.contains("begin_write()"),
            uses_pool: body.contains("pool()")
                || body.contains(".pool")
                || body.contains("acquire()")
                || body.contains(".writer"),
            calls_commit_unaudited: body.contains("commit_unaudited("),
            begins_other: body.contains(".begin()") || body.contains("begin_with("),
            raw_commit: body.contains(".commit()"),
            in_impl,
            name,
        });
    }
    for l in &literals {
        if is_write_sql(&l.text)
            && !is_excluded(l.start)
            && !bodies.iter().any(|(a, b)| (*a..*b).contains(&l.start))
        {
            scan.stray_writes.push(line_of(src, l.start));
        }
    }
    scan
}

/// The text with every `<…>` removed.
fn strip_generics(text: &str) -> String {
    let mut depth = 0;
    text.chars()
        .filter(|c| {
            match c {
                '<' => depth += 1,
                '>' => depth -= 1,
                _ => return depth == 0,
            }
            false
        })
        .collect()
}

// The scanner's own cases: each rule catches what it must, and passes what it must.

fn verdict(file: &str, src: &str) -> Vec<String> {
    check(&[(file.to_owned(), scan(src))])
        .into_iter()
        .filter(|v| !v.starts_with("UNAUDITED lists") && !v.starts_with("OTHER_BEGINS lists"))
        .collect()
}

#[test]
fn a_public_write_on_a_bare_connection_is_named() {
    let src = r#"
/// "quoted" and 'c' and a lifetime 'a
pub async fn delete_jobs(conn: &mut AnyConnection, ids: &[String]) -> Result<()> {
    let sql = format!("DELETE FROM workflow_job WHERE id IN ({})", ids.join(", "));
    sqlx::query(sqlx::AssertSqlSafe(sql)).execute(conn).await?;
    Ok(())
}
"#;
    let found = verdict("workflow.rs", src);
    assert_eq!(found.len(), 2, "{found:#?}");
    assert!(found[0].contains("workflow.rs:3: pub fn delete_jobs executes"));
    assert!(found[1].contains("bare connection"));
}

#[test]
fn a_write_on_the_pool_is_named_and_one_in_a_tx_passes() {
    let src = r#"
impl Store {
    pub async fn take_challenge(&self, nonce: &str) -> Result<bool> {
        let done = sqlx::query("DELETE FROM login_challenge WHERE nonce = $1")
            .bind(nonce)
            .execute(self.pool())
            .await?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn hide(&self, id: &str) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(r"UPDATE workflow_instance SET hidden_by_author = 1 WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit(&[Event::new("a", "application.delete", "instance", id)]).await?;
        Ok(())
    }
}

pub(crate) async fn insert_person(tx: &mut Tx, p: &Person) -> Result<()> {
    sqlx::query("INSERT INTO person (iin) VALUES ($1)").bind(&p.iin).execute(&mut **tx).await?;
    Ok(())
}

impl Store {
    pub async fn person(&self, iin: &str) -> Result<Option<Person>> {
        sqlx::query("SELECT * FROM person WHERE iin = $1").fetch_optional(self.pool()).await
    }
}
"#;
    // (Not under portal.rs, where take_challenge is a listed exception.)
    let found = verdict("registry.rs", src);
    assert_eq!(found.len(), 2, "{found:#?}");
    assert!(found[0].contains("registry.rs:3: pub fn take_challenge executes"));
    assert!(found[1].contains("uses the pool"));
}

#[test]
fn unlisted_unaudited_commits_and_direct_commits_are_named() {
    let src = r#"
impl Store {
    pub async fn sneak(&self) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE account SET email = '' ").execute(&mut *tx).await?;
        tx.commit_unaudited().await
    }

    pub async fn around(&self) -> Result<()> {
        let mut tx = self.pool().begin().await?;
        tx.commit().await?;
        Ok(())
    }
}

mod tests {
    async fn tamper(store: &Store) {
        sqlx::query("DELETE FROM audit_log").execute(store.pool()).await.unwrap();
    }
}
"#;
    let found = verdict("queue.rs", src);
    assert_eq!(found.len(), 3, "{found:#?}");
    assert!(found[0].contains("sneak commits without an audit entry"));
    assert!(found[1].contains("around begins a transaction"));
    assert!(found[2].contains("around commits a sqlx transaction directly"));
}
