//! No import circles (issue 17): the modules of the web crate and of the engine import each other
//! as a directed acyclic graph, so that each can be read (and moved) knowing only what is below it.
//!
//! A module's imports are every `crate::…` path in its code (the `use` lines, grouped `use crate::{a,
//! b::c}` trees and paths written inline), comments left out; a path's module is the longest prefix
//! that is a module file. Items of the crate root (`crate::AppState`, `crate::Engine`) are not an
//! import of a module: the root declares every module, so it is above them all by construction.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The modules of a crate's `src`: `office` for `office.rs`, `cases` for `cases/mod.rs`,
/// `cases::staff` for `cases/staff.rs`; the root (`lib.rs`) is left out.
fn modules(src: &Path) -> BTreeMap<String, PathBuf> {
    fn walk(dir: &Path, prefix: &[String], found: &mut BTreeMap<String, PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        let mut entries: Vec<_> = entries.flatten().map(|e| e.path()).collect();
        entries.sort();
        for path in entries {
            let Some(name) = path.file_stem().and_then(|s| s.to_str()).map(str::to_owned) else {
                continue;
            };
            if path.is_dir() {
                let mut inner = prefix.to_vec();
                inner.push(name);
                walk(&path, &inner, found);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let mut module = prefix.to_vec();
                if name != "mod" && !(prefix.is_empty() && (name == "lib" || name == "main")) {
                    module.push(name);
                }
                if !module.is_empty() {
                    found.insert(module.join("::"), path);
                }
            }
        }
    }
    let mut found = BTreeMap::new();
    walk(src, &[], &mut found);
    found
}

/// The code without comments (line comments, doc comments, block comments); string literals are
/// kept, they do not hold `crate::` paths in these crates.
fn without_comments(source: &str) -> String {
    let mut out = String::with_capacity(source.len());
    let mut chars = source.chars().peekable();
    let mut depth = 0usize;
    let mut in_string = false;
    while let Some(c) = chars.next() {
        if depth > 0 {
            if c == '*' && chars.peek() == Some(&'/') {
                chars.next();
                depth -= 1;
            } else if c == '/' && chars.peek() == Some(&'*') {
                chars.next();
                depth += 1;
            }
            continue;
        }
        if in_string {
            out.push(c);
            if c == '\\' {
                if let Some(next) = chars.next() {
                    out.push(next);
                }
            } else if c == '"' {
                in_string = false;
            }
            continue;
        }
        match (c, chars.peek()) {
            ('/', Some('/')) => {
                for skipped in chars.by_ref() {
                    if skipped == '\n' {
                        out.push('\n');
                        break;
                    }
                }
            }
            ('/', Some('*')) => {
                chars.next();
                depth = 1;
            }
            ('"', _) => {
                in_string = true;
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
}

/// Every path written after `crate::`, with grouped trees expanded: `crate::{a, b::{c, d}}` gives
/// `a`, `b::c`, `b::d`.
fn crate_paths(code: &str) -> Vec<String> {
    fn ident(rest: &str) -> (&str, &str) {
        let end = rest
            .find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        rest.split_at(end)
    }
    /// Parses a path or a group at the start of `rest`, pushing full paths under `prefix`;
    /// returns what follows.
    fn tree<'a>(rest: &'a str, prefix: &str, out: &mut Vec<String>) -> &'a str {
        let rest = rest.trim_start();
        if let Some(inner) = rest.strip_prefix('{') {
            let mut rest = inner;
            loop {
                rest = rest.trim_start();
                if let Some(after) = rest.strip_prefix('}') {
                    return after;
                }
                if let Some(after) = rest.strip_prefix(',') {
                    rest = after;
                    continue;
                }
                if rest.is_empty() {
                    return rest;
                }
                let before = rest.len();
                rest = tree(rest, prefix, out);
                if rest.len() == before {
                    // Not a path (`self`, `*`, …): skip a character.
                    rest = &rest[rest.chars().next().map_or(0, char::len_utf8)..];
                }
            }
        }
        if let Some(after) = rest.strip_prefix('*') {
            out.push(prefix.to_owned());
            return after;
        }
        let (name, after) = ident(rest);
        if name.is_empty() {
            return rest;
        }
        let path = if prefix.is_empty() {
            name.to_owned()
        } else {
            format!("{prefix}::{name}")
        };
        match after.strip_prefix("::") {
            Some(deeper) => tree(deeper, &path, out),
            None => {
                out.push(path);
                after
            }
        }
    }
    let mut out = Vec::new();
    let mut rest = code;
    while let Some(at) = rest.find("crate::") {
        let preceded = rest[..at]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_alphanumeric() || c == '_');
        rest = &rest[at + "crate::".len()..];
        if !preceded {
            rest = tree(rest, "", &mut out);
        }
    }
    out
}

/// The module a path imports from: its longest prefix that is a module.
fn module_of<'a>(path: &str, modules: &'a BTreeMap<String, PathBuf>) -> Option<&'a str> {
    let parts: Vec<&str> = path.split("::").collect();
    (1..=parts.len()).rev().find_map(|n| {
        modules
            .get_key_value(&parts[..n].join("::"))
            .map(|(k, _)| k.as_str())
    })
}

type Graph = BTreeMap<String, BTreeSet<String>>;

fn graph(src: &Path) -> Graph {
    let modules = modules(src);
    assert!(!modules.is_empty(), "no modules under {}", src.display());
    let mut graph = Graph::new();
    for (module, file) in &modules {
        let source = std::fs::read_to_string(file)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", file.display()));
        let imports = graph.entry(module.clone()).or_default();
        for path in crate_paths(&without_comments(&source)) {
            if let Some(target) = module_of(&path, &modules) {
                // A module's own children are below it.
                let own = target == module || target.starts_with(&format!("{module}::"));
                if !own {
                    imports.insert(target.to_owned());
                }
            }
        }
    }
    graph
}

/// Every circle, one per strongly connected component of two or more modules, written
/// `a → b → … → a`.
fn circles(graph: &Graph) -> Vec<String> {
    // Tarjan's algorithm, iterating the modules in name order so the report is stable.
    struct State<'a> {
        graph: &'a Graph,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on_stack: BTreeSet<&'a str>,
        components: Vec<Vec<&'a str>>,
    }
    fn connect<'a>(s: &mut State<'a>, v: &'a str) {
        let n = s.index.len();
        s.index.insert(v, n);
        s.low.insert(v, n);
        s.stack.push(v);
        s.on_stack.insert(v);
        let graph = s.graph;
        for w in graph.get(v).into_iter().flatten() {
            let w = w.as_str();
            if !s.index.contains_key(w) {
                connect(s, w);
                let low = s.low[v].min(s.low[w]);
                s.low.insert(v, low);
            } else if s.on_stack.contains(w) {
                let low = s.low[v].min(s.index[w]);
                s.low.insert(v, low);
            }
        }
        if s.low[v] == s.index[v] {
            let mut component = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack.remove(w);
                component.push(w);
                if w == v {
                    break;
                }
            }
            if component.len() > 1 {
                s.components.push(component);
            }
        }
    }
    let mut state = State {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        components: Vec::new(),
    };
    for v in graph.keys() {
        if !state.index.contains_key(v.as_str()) {
            connect(&mut state, v);
        }
    }
    state
        .components
        .into_iter()
        .map(|component| {
            let members: BTreeSet<&str> = component.into_iter().collect();
            // A shortest way round from the first member back to itself, within the component.
            let start = members.iter().next().copied().unwrap_or_default();
            let mut previous: BTreeMap<&str, &str> = BTreeMap::new();
            let mut queue = std::collections::VecDeque::from([start]);
            let mut back = None;
            while let Some(v) = queue.pop_front() {
                for w in graph.get(v).into_iter().flatten() {
                    let w = w.as_str();
                    if w == start {
                        back = Some(v);
                        break;
                    }
                    if members.contains(w) && !previous.contains_key(w) {
                        previous.insert(w, v);
                        queue.push_back(w);
                    }
                }
                if back.is_some() {
                    break;
                }
            }
            let mut path = vec![start];
            let mut at = back.unwrap_or(start);
            while at != start {
                path.push(at);
                at = previous.get(at).copied().unwrap_or(start);
            }
            path[1..].reverse();
            path.push(start);
            format!(
                "{} (all of: {})",
                path.join(" → "),
                members.into_iter().collect::<Vec<_>>().join(", ")
            )
        })
        .collect()
}

fn crate_src(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(name)
        .join("src")
}

#[test]
fn the_parser_reads_grouped_inline_and_commented_paths() {
    let code = without_comments(
        "use crate::{AppState, api::{UserLang, internal}, pages::*};\n\
         // use crate::office::card;\n\
         /* crate::verify::form */ let x = crate::cabinet::data_of(row);\n\
         let s = \"not // a comment\"; mycrate::ignored::x();\n\
         /// [`crate::copy::render`]\n",
    );
    let mut paths = crate_paths(&code);
    paths.sort();
    assert_eq!(
        paths,
        [
            "AppState",
            "api::UserLang",
            "api::internal",
            "cabinet::data_of",
            "pages"
        ]
    );
}

#[test]
fn a_circle_is_found_and_named() {
    let mut graph = Graph::new();
    for (from, to) in [("a", "b"), ("b", "c"), ("c", "a"), ("c", "d"), ("e", "d")] {
        graph
            .entry(from.to_owned())
            .or_default()
            .insert(to.to_owned());
        graph.entry(to.to_owned()).or_default();
    }
    assert_eq!(circles(&graph), ["a → b → c → a (all of: a, b, c)"]);
    graph.get_mut("c").map(|c| c.remove("a"));
    assert!(circles(&graph).is_empty());
}

#[test]
fn the_web_crate_and_the_engine_import_without_circles() {
    let mut found = Vec::new();
    for name in ["web", "engine"] {
        let graph = graph(&crate_src(name));
        let edges: usize = graph.values().map(BTreeSet::len).sum();
        println!("{name}: {} modules, {edges} imports", graph.len());
        found.extend(
            circles(&graph)
                .into_iter()
                .map(|c| format!("crates/{name}: {c}")),
        );
    }
    assert!(found.is_empty(), "import circles:\n{}", found.join("\n"));
}
