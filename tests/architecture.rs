//! The module graph of `src/`, read from its paths (`use crate::…`, `super::…`, and paths
//! written inline): no import circle between the top-level modules or between the
//! submodules of one module, and the top-level modules keep to the layers
//! docs/architecture.md declares. Test modules (`#[cfg(test)] mod …`) may reach across.

#![expect(clippy::unwrap_used, reason = "test helpers fail loudly")]

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::Path;

/// The top-level modules from the top down: a module imports only from layers below its
/// own. docs/architecture.md explains each; keep the two in step.
const LAYERS: &[&[&str]] = &[
    &["app"],
    &["manual"],
    &["config"],
    &["cli"],
    &["catalog"],
    &["render"],
    &["policy"],
    &["evidence"],
    &["query"],
    &["scan"],
    &["denial"],
    &["seen"],
    &["integrity"],
    &["source"],
    &["filter"],
    &["mapping"],
    &["resource"],
    &["iam"],
    &["parse", "fields", "error"],
];

/// Imports that still run upwards, each closing a circle still to break (listed in
/// docs/architecture.md). The test fails when one of them is gone, so the list only shrinks.
const KNOWN: &[(&str, &str)] = &[];

/// One file of `src/`: its module path (`["query", "sql"]`), name and text.
struct Source {
    module: Vec<String>,
    name: String,
    text: String,
}

/// Every module file under `root`, except `main.rs` (the binary, which sees the library as
/// `minpriv::…`).
fn read_sources(root: &Path) -> Vec<Source> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let relative = path.strip_prefix(root).unwrap();
            if path.extension().is_some_and(|e| e == "rs") && relative != Path::new("main.rs") {
                out.push(Source {
                    module: module_of(relative),
                    name: format!("src/{}", relative.display()),
                    text: std::fs::read_to_string(&path).unwrap(),
                });
            }
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// `query/sql.rs` → `["query", "sql"]`, `query/mod.rs` → `["query"]`, `lib.rs` → `[]`.
fn module_of(relative: &Path) -> Vec<String> {
    let mut parts: Vec<String> = relative
        .with_extension("")
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if parts.last().is_some_and(|p| p == "mod" || p == "lib") {
        parts.pop();
    }
    parts
}

/// The text with comments, string and character literals blanked (newlines kept, so byte
/// offsets still give line numbers).
fn code_of(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = bytes.to_vec();
    let blank = |out: &mut Vec<u8>, from: usize, to: usize| {
        for b in &mut out[from..to.min(bytes.len())] {
            if *b != b'\n' {
                *b = b' ';
            }
        }
    };
    let mut i = 0;
    while i < bytes.len() {
        let rest = &bytes[i..];
        if rest.starts_with(b"//") {
            let end = rest
                .iter()
                .position(|&b| b == b'\n')
                .map_or(bytes.len(), |n| i + n);
            blank(&mut out, i, end);
            i = end;
        } else if rest.starts_with(b"/*") {
            let end = text[i + 2..]
                .find("*/")
                .map_or(bytes.len(), |n| i + 2 + n + 2);
            blank(&mut out, i, end);
            i = end;
        } else if rest.starts_with(b"r\"") || rest.starts_with(b"r#") || rest.starts_with(b"br\"") {
            let start = i + rest.iter().position(|&b| b == b'r').unwrap() + 1;
            let hashes = bytes[start..].iter().take_while(|&&b| b == b'#').count();
            if bytes.get(start + hashes) != Some(&b'"') || (i > 0 && is_ident(bytes[i - 1])) {
                i += 1;
                continue;
            }
            let close = format!("\"{}", "#".repeat(hashes));
            let body = start + hashes + 1;
            let end = text[body..]
                .find(&close)
                .map_or(bytes.len(), |n| body + n + close.len());
            blank(&mut out, i, end);
            i = end;
        } else if rest[0] == b'"' {
            let mut j = i + 1;
            while j < bytes.len() && bytes[j] != b'"' {
                j += if bytes[j] == b'\\' { 2 } else { 1 };
            }
            blank(&mut out, i, j + 1);
            i = j + 1;
        } else if rest[0] == b'\'' {
            // A character literal ('x', '\n', '"'), or a lifetime ('a), which stays.
            let end = if rest.get(1) == Some(&b'\\') {
                rest.iter()
                    .skip(3)
                    .position(|&b| b == b'\'')
                    .map(|n| i + 3 + n + 1)
            } else {
                let width = text[i + 1..].chars().next().map_or(1, char::len_utf8);
                (rest.get(1 + width) == Some(&b'\'')).then_some(i + 2 + width)
            };
            match end {
                Some(end) => {
                    blank(&mut out, i, end);
                    i = end;
                }
                None => i += 1,
            }
        } else {
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

fn is_ident(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Blanks the `#[cfg(test)] mod name { … }` blocks of `code`, and returns the names of the
/// test modules declared as files (`#[cfg(test)] mod tests;`).
fn without_tests(code: &mut String) -> Vec<String> {
    let mut files = Vec::new();
    let mut from = 0;
    while let Some(at) = code[from..].find("#[cfg(test)]").map(|n| from + n) {
        from = at + 1;
        let mut after = code[at + "#[cfg(test)]".len()..].trim_start();
        // Other attributes between it and the module (`#[expect(…)]`).
        while after.starts_with("#[") {
            let Some(close) = attribute_end(after) else {
                break;
            };
            after = after[close..].trim_start();
        }
        let after = after.strip_prefix("pub ").unwrap_or(after);
        let Some(declaration) = after.strip_prefix("mod ") else {
            continue;
        };
        let name: String = declaration
            .chars()
            .take_while(|&c| c.is_alphanumeric() || c == '_')
            .collect();
        let tail = declaration[name.len()..].trim_start();
        if tail.starts_with(';') {
            files.push(name);
            continue;
        }
        let Some(open) = code[at..].find('{').map(|n| at + n) else {
            break;
        };
        let mut depth = 0usize;
        let mut end = code.len();
        for (n, c) in code[open..].char_indices() {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        end = open + n + 1;
                        break;
                    }
                }
                _ => {}
            }
        }
        let blanked: String = code[at..end]
            .chars()
            .map(|c| if c == '\n' { '\n' } else { ' ' })
            .collect();
        code.replace_range(at..end, &blanked);
    }
    files
}

/// The length of the attribute `#[…]` that `text` starts with, brackets balanced.
fn attribute_end(text: &str) -> Option<usize> {
    let mut depth = 0usize;
    for (n, c) in text.char_indices() {
        match c {
            '[' => depth += 1,
            ']' => {
                depth -= 1;
                if depth == 0 {
                    return Some(n + 1);
                }
            }
            _ => {}
        }
    }
    None
}

/// The paths of `code` that start at the crate root or a parent module, made absolute for a
/// file of module `module`, with the byte offset where each starts. Groups are expanded:
/// `crate::{a::B, c}` is `crate::a::B` and `crate::c`.
fn paths_in(code: &str, module: &[String]) -> Vec<(usize, Vec<String>)> {
    let bytes = code.as_bytes();
    let mut out = Vec::new();
    for keyword in ["crate::", "super::"] {
        let mut from = 0;
        while let Some(at) = code[from..].find(keyword).map(|n| from + n) {
            from = at + keyword.len();
            if at > 0 && (is_ident(bytes[at - 1]) || bytes[at - 1] == b':') {
                continue;
            }
            let mut base: Vec<String> = Vec::new();
            let mut i = at;
            if keyword == "super::" {
                base = module.to_vec();
                while code[i..].starts_with("super::") {
                    base.pop();
                    i += "super::".len();
                }
            } else {
                i += keyword.len();
            }
            for tail in tree(code, i) {
                let mut path = base.clone();
                path.extend(tail);
                out.push((at, path));
            }
        }
    }
    out
}

/// The paths of a use tree starting at `i`: `a::b::{c, d::e}` → `a::b::c`, `a::b::d::e`.
fn tree(code: &str, mut i: usize) -> Vec<Vec<String>> {
    let mut segments = Vec::new();
    loop {
        let rest = &code[i..];
        let skipped = rest.len() - rest.trim_start().len();
        i += skipped;
        let rest = &code[i..];
        if rest.starts_with('{') {
            let mut out = Vec::new();
            let (mut depth, mut start) = (0usize, i + 1);
            for (n, c) in rest.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' | ',' if depth == 1 => {
                        for sub in tree(code, start) {
                            let mut path = segments.clone();
                            path.extend(sub.into_iter().filter(|s| s != "self"));
                            out.push(path);
                        }
                        start = i + n + 1;
                        if c == '}' {
                            return out;
                        }
                    }
                    '}' => depth -= 1,
                    _ => {}
                }
            }
            return out;
        }
        let word: String = rest
            .chars()
            .take_while(|&c| c.is_alphanumeric() || c == '_')
            .collect();
        if word.is_empty() {
            break;
        }
        segments.push(word.clone());
        i += word.len();
        if code[i..].trim_start().starts_with("::") {
            i += code[i..].find("::").unwrap() + 2;
        } else {
            break;
        }
    }
    if segments.is_empty() {
        Vec::new()
    } else {
        vec![segments]
    }
}

/// Names a module re-exports from one of its submodules (`pub use sql::{Spec, Target};`):
/// (module, name) → the submodule, so `crate::query::Spec` counts as `query::sql`.
fn reexports(
    sources: &[Source],
    modules: &BTreeSet<Vec<String>>,
) -> BTreeMap<(Vec<String>, String), Vec<String>> {
    let mut out = BTreeMap::new();
    for source in sources {
        let code = code_of(&source.text);
        let mut from = 0;
        while let Some(at) = code[from..].find("pub use ").map(|n| from + n) {
            from = at + 1;
            for path in tree(&code, at + "pub use ".len()) {
                let path: Vec<String> = path.into_iter().skip_while(|s| s == "self").collect();
                let [child, .., name] = path.as_slice() else {
                    continue;
                };
                let mut submodule = source.module.clone();
                submodule.push(child.clone());
                if modules.contains(&submodule) {
                    out.insert((source.module.clone(), name.clone()), submodule);
                }
            }
        }
    }
    out
}

/// Imports between sibling modules: (parent, from, to) → where (`src/x.rs:12`).
type Edges = BTreeMap<(Vec<String>, String, String), BTreeSet<String>>;

fn edges(sources: &[Source]) -> Edges {
    let modules: BTreeSet<Vec<String>> = sources.iter().map(|s| s.module.clone()).collect();
    let reexported = reexports(sources, &modules);
    let mut tests: BTreeSet<Vec<String>> = BTreeSet::new();
    let mut codes = Vec::new();
    for source in sources {
        let mut code = code_of(&source.text);
        for name in without_tests(&mut code) {
            let mut module = source.module.clone();
            module.push(name);
            tests.insert(module);
        }
        codes.push(code);
    }
    let mut out = Edges::new();
    for (source, code) in sources.iter().zip(&codes) {
        if tests.iter().any(|t| source.module.starts_with(t)) {
            continue;
        }
        for (at, path) in paths_in(code, &source.module) {
            let mut target: Vec<String> = (0..=path.len())
                .rev()
                .map(|n| path[..n].to_vec())
                .find(|prefix| modules.contains(prefix))
                .unwrap_or_default();
            while let Some(next) = path
                .get(target.len())
                .and_then(|name| reexported.get(&(target.clone(), name.clone())))
            {
                target = next.clone();
            }
            let common = source
                .module
                .iter()
                .zip(&target)
                .take_while(|(a, b)| a == b)
                .count();
            let (Some(from), Some(to)) = (source.module.get(common), target.get(common)) else {
                continue;
            };
            let line = code[..at].matches('\n').count() + 1;
            out.entry((source.module[..common].to_vec(), from.clone(), to.clone()))
                .or_default()
                .insert(format!("{}:{line}", source.name));
        }
    }
    out
}

/// A circle in each graph of siblings, and every import against the layers.
fn problems(edges: &Edges) -> Vec<String> {
    let mut problems = Vec::new();
    let mut graphs: BTreeMap<&Vec<String>, BTreeMap<&str, BTreeSet<&str>>> = BTreeMap::new();
    for (parent, from, to) in edges.keys() {
        if parent.is_empty() && KNOWN.contains(&(from.as_str(), to.as_str())) {
            continue;
        }
        graphs
            .entry(parent)
            .or_default()
            .entry(from)
            .or_default()
            .insert(to);
    }
    for (parent, graph) in &graphs {
        if let Some(circle) = circle(graph) {
            let scope = if parent.is_empty() {
                "crate".to_owned()
            } else {
                parent.join("::")
            };
            let mut text = format!("an import circle in {scope}: {}", circle.join(" → "));
            for pair in circle.windows(2) {
                let key = ((*parent).clone(), pair[0].to_owned(), pair[1].to_owned());
                let at: Vec<&String> = edges[&key].iter().collect();
                let _ = write!(text, "\n    {} → {}: {at:?}", pair[0], pair[1]);
            }
            problems.push(text);
        }
    }
    let layer = |name: &str| LAYERS.iter().position(|layer| layer.contains(&name));
    let top: BTreeSet<&str> = edges
        .keys()
        .filter(|(parent, ..)| parent.is_empty())
        .flat_map(|(_, from, to)| [from.as_str(), to.as_str()])
        .collect();
    for name in &top {
        if layer(name).is_none() {
            problems.push(format!(
                "{name} is in no layer of LAYERS (tests/architecture.rs)"
            ));
        }
    }
    for ((parent, from, to), at) in edges {
        let (Some(above), Some(below)) = (layer(from), layer(to)) else {
            continue;
        };
        if parent.is_empty() && above >= below && !KNOWN.contains(&(from.as_str(), to.as_str())) {
            problems.push(format!(
                "{from} imports {to}, which is not below it: {at:?}"
            ));
        }
    }
    for (from, to) in KNOWN {
        if !edges.contains_key(&(Vec::new(), (*from).to_owned(), (*to).to_owned())) {
            problems.push(format!("{from} no longer imports {to}: take it off KNOWN"));
        }
    }
    problems
}

/// A circle of `graph` (first and last the same), if it has one.
fn circle<'a>(graph: &BTreeMap<&'a str, BTreeSet<&'a str>>) -> Option<Vec<&'a str>> {
    fn visit<'a>(
        node: &'a str,
        graph: &BTreeMap<&'a str, BTreeSet<&'a str>>,
        path: &mut Vec<&'a str>,
        done: &mut BTreeSet<&'a str>,
    ) -> Option<Vec<&'a str>> {
        if let Some(start) = path.iter().position(|&n| n == node) {
            let mut circle = path[start..].to_vec();
            circle.push(node);
            return Some(circle);
        }
        if !done.insert(node) {
            return None;
        }
        path.push(node);
        for next in graph.get(node).into_iter().flatten() {
            if let Some(circle) = visit(next, graph, path, done) {
                return Some(circle);
            }
        }
        path.pop();
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|node| visit(node, graph, &mut Vec::new(), &mut done))
}

fn sources() -> Vec<Source> {
    read_sources(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"))
}

#[test]
fn no_import_circle_and_every_import_runs_down_the_layers() {
    let sources = sources();
    assert!(sources.len() > 50, "read {} files of src/", sources.len());
    let problems = problems(&edges(&sources));
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_layers_name_each_top_level_module_once() {
    let listed: Vec<&str> = LAYERS
        .iter()
        .flat_map(|layer| layer.iter().copied())
        .collect();
    let unique: BTreeSet<&str> = listed.iter().copied().collect();
    assert_eq!(listed.len(), unique.len(), "{listed:?}");
    let top: BTreeSet<String> = sources()
        .into_iter()
        .filter_map(|s| s.module.first().cloned())
        .collect();
    assert_eq!(
        unique,
        top.iter().map(String::as_str).collect::<BTreeSet<_>>()
    );
}

#[test]
fn the_reference_data_importing_the_mapping_or_resources_is_caught() {
    for import in [
        "use crate::resource::Locator;",
        "use crate::{fields, mapping::Mapper};",
        "fn f() -> crate::resource::TypedArn { todo!() }",
    ] {
        let mut sources = sources();
        sources.push(Source {
            module: vec!["iam".into(), "extra".into()],
            name: "src/iam/extra.rs".into(),
            text: format!("//! Added by the test.\n\n{import}\n"),
        });
        let problems = problems(&edges(&sources));
        assert!(
            problems
                .iter()
                .any(|p| p.contains("iam imports") && p.contains("src/iam/extra.rs:3")),
            "{import}: {problems:#?}"
        );
    }
}

#[test]
fn a_circle_between_submodules_is_caught_through_a_reexport() {
    let mut sources = sources();
    let conditions = sources
        .iter_mut()
        .find(|s| s.name == "src/query/conditions.rs")
        .unwrap();
    conditions.text += "\nfn f() { let _ = super::sql::build; }\n";
    let spec = sources
        .iter_mut()
        .find(|s| s.name == "src/query/spec.rs")
        .unwrap();
    // `query` re-exports nothing from `conditions`; a path through `super::conditions` is
    // the submodule itself.
    spec.text += "\nfn g() { let _ = super::conditions::like; }\n";
    let problems = problems(&edges(&sources));
    assert!(
        problems
            .iter()
            .any(|p| p.contains("an import circle in query")),
        "{problems:#?}"
    );
}

#[test]
fn paths_are_read_through_groups_renames_and_parents() {
    let module = vec!["source".to_owned(), "digest".to_owned()];
    let code = code_of(
        "use super::bucket::{Options, days, keys as list_keys};\n\
         use crate::{integrity::{DigestFile, self}, parse};\n\
         // use crate::render;\n\
         let s = \"crate::render\"; let c = '\"'; let x = super::super::x::y();\n",
    );
    let paths: Vec<String> = paths_in(&code, &module)
        .into_iter()
        .map(|(_, p)| p.join("::"))
        .collect();
    assert_eq!(
        paths,
        [
            "integrity::DigestFile",
            "integrity",
            "parse",
            "source::bucket::Options",
            "source::bucket::days",
            "source::bucket::keys",
            "x::y",
        ]
    );
}
