//! The map of docs/design.md, section 0, checked on the source: every file of
//! `executor/src` is in it, none imports a file of a higher layer, and no imports form a
//! cycle.
//!
//! The map is read from docs/design.md itself, so the document and this check
//! cannot drift apart. Paths are resolved at the file level: `super::Handle` in
//! `runtime/handle.rs` is an import of `runtime/mod.rs` (whatever it re-exports), so
//! a lower layer must name the file that defines an item. Every file must be in the
//! table, and no two files may import each other, directly or through others.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

/// The rows of the map: layer number and the file patterns in its "file" column. A map
/// row starts with a bare layer number (`| 1 | ...`); the table of layers above it
/// (`| 1. mechanisms | ...`) does not.
fn layer_table(design: &str) -> Vec<(u32, Vec<String>)> {
    let section = design
        .split("## 0. The map")
        .nth(1)
        .expect("docs/design.md has a section 0 with the map of files");
    let mut rows = Vec::new();
    for line in section
        .lines()
        .take_while(|line| !line.starts_with("## 1."))
    {
        let mut cells = line.split('|').skip(1);
        let (Some(first), Some(files_column)) = (cells.next(), cells.next()) else {
            continue;
        };
        let Ok(layer) = first.trim().parse::<u32>() else {
            continue;
        };
        let patterns = files_column
            .split('`')
            .skip(1)
            .step_by(2)
            .flat_map(expand)
            .collect();
        rows.push((layer, patterns));
    }
    let layers: std::collections::BTreeSet<u32> = rows.iter().map(|(layer, _)| *layer).collect();
    assert_eq!(
        layers.into_iter().collect::<Vec<_>>(),
        [0, 1, 2, 3, 4, 5],
        "the map has rows of layers 0 to 5"
    );
    rows
}

/// `runtime/{a, b}.rs` -> `runtime/a.rs`, `runtime/b.rs`; keeps `x.rs` and `dir/`;
/// drops anything else (item names in the column).
fn expand(span: &str) -> Vec<String> {
    let names: Vec<String> = match (span.find('{'), span.find('}')) {
        (Some(open), Some(close)) => span[open + 1..close]
            .split(',')
            .map(|name| format!("{}{}{}", &span[..open], name.trim(), &span[close + 1..]))
            .collect(),
        _ => vec![span.to_string()],
    };
    names
        .into_iter()
        .filter(|name| name.ends_with(".rs") || name.ends_with('/'))
        .collect()
}

fn rust_files(dir: &Path, root: &Path, out: &mut Vec<String>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, root, out);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            let relative = path.strip_prefix(root).unwrap();
            out.push(relative.to_string_lossy().replace('\\', "/"));
        }
    }
}

/// The module path of a file: `runtime/mod.rs` -> `runtime`, `lib.rs` -> ``.
fn module_of(file: &str) -> String {
    let stem = file.trim_end_matches(".rs");
    let stem = stem.strip_suffix("/mod").unwrap_or(stem);
    if stem == "lib" {
        String::new()
    } else {
        stem.to_string()
    }
}

/// The file of a module path, if it exists.
fn file_of(src: &Path, module: &str) -> Option<String> {
    if module.is_empty() {
        return Some("lib.rs".into());
    }
    [format!("{module}.rs"), format!("{module}/mod.rs")]
        .into_iter()
        .find(|candidate| src.join(candidate).is_file())
}

/// The source without comments and without its test modules (tests may import
/// anything).
fn code_of(text: &str) -> String {
    let mut code: String = text
        .lines()
        .map(|line| match line.find("//") {
            Some(at) => &line[..at],
            None => line,
        })
        .collect::<Vec<_>>()
        .join("\n");
    for marker in ["#[cfg(all(test", "#[cfg(test)]"] {
        if let Some(at) = code.find(marker) {
            code.truncate(at);
        }
    }
    code
}

/// Byte ranges of inline `mod name { ... }` blocks, where `super` is the file itself.
fn inline_modules(code: &str) -> Vec<(usize, usize)> {
    let mut ranges = Vec::new();
    let mut search = 0;
    while let Some(found) = code[search..].find("mod ") {
        let start = search + found;
        search = start + 4;
        let rest = &code[search..];
        let name_len = rest
            .find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        if !rest[name_len..].trim_start().starts_with('{') {
            continue;
        }
        let open = search + name_len + rest[name_len..].find('{').unwrap();
        let mut depth = 0;
        for (offset, c) in code[open..].char_indices() {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        ranges.push((open, open + offset));
                        break;
                    }
                }
                _ => {}
            }
        }
    }
    ranges
}

/// Every `crate::`/`super::`/`self::` path in `code`, as (byte offset, head, segments);
/// a `{a, b::c}` group yields one path per member (its first segment).
fn paths(code: &str) -> Vec<(usize, &str, Vec<String>)> {
    let mut found = Vec::new();
    let bytes = code.as_bytes();
    for head in ["crate", "super", "self"] {
        let mut search = 0;
        while let Some(at) = code[search..].find(head) {
            let start = search + at;
            search = start + head.len();
            // `$crate::...` is a macro's output, resolved where the macro is used: not
            // an import of this file.
            let before_ok = start == 0
                || !(bytes[start - 1].is_ascii_alphanumeric()
                    || bytes[start - 1] == b'_'
                    || bytes[start - 1] == b'$');
            if !before_ok || !code[search..].starts_with("::") {
                continue;
            }
            let mut segments = Vec::new();
            let mut rest = &code[search..];
            while let Some(after) = rest.strip_prefix("::") {
                if let Some(group) = after.strip_prefix('{') {
                    let close = group.find('}').unwrap_or(group.len());
                    for member in group[..close].split(',') {
                        let first = member.trim().split("::").next().unwrap_or("");
                        let first = first.split_whitespace().next().unwrap_or("");
                        if !first.is_empty() {
                            let mut path = segments.clone();
                            path.push(first.to_string());
                            found.push((start, head, path));
                        }
                    }
                    segments.clear();
                    break;
                }
                let len = after
                    .find(|c: char| !(c.is_alphanumeric() || c == '_'))
                    .unwrap_or(after.len());
                if len == 0 {
                    break;
                }
                segments.push(after[..len].to_string());
                rest = &after[len..];
            }
            if !segments.is_empty() {
                found.push((start, head, segments));
            }
        }
    }
    found
}

/// One import between two files of `executor/src`: `from` names `to` through `via`.
struct Import {
    from: String,
    to: String,
    via: String,
}

/// Every file of `executor/src` and every import between two of them.
fn imports(src: &Path) -> (Vec<String>, Vec<Import>) {
    let mut files = Vec::new();
    rust_files(src, src, &mut files);
    files.sort();
    let mut found = Vec::new();
    for file in &files {
        let code = code_of(&fs::read_to_string(src.join(file)).unwrap());
        let inline = inline_modules(&code);
        let module = module_of(file);
        for (at, head, segments) in paths(&code) {
            let in_inline = inline.iter().any(|&(open, close)| open < at && at < close);
            let base = match head {
                "crate" => String::new(),
                "self" => module.clone(),
                _ if in_inline => module.clone(),
                _ => module
                    .rsplit_once('/')
                    .map_or(String::new(), |(parent, _)| parent.to_string()),
            };
            // Follow the path while its segments are modules; the rest are items.
            let mut target = base;
            for segment in &segments {
                let next = if target.is_empty() {
                    segment.clone()
                } else {
                    format!("{target}/{segment}")
                };
                if file_of(src, &next).is_none() {
                    break;
                }
                target = next;
            }
            let Some(target_file) = file_of(src, &target) else {
                continue;
            };
            if &target_file == file {
                continue;
            }
            found.push(Import {
                from: file.clone(),
                to: target_file,
                via: format!("{head}::{}", segments.join("::")),
            });
        }
    }
    (files, found)
}

/// The layer of every file of `files` that the table lists.
fn layers_of(files: &[String], table: &[(u32, Vec<String>)]) -> HashMap<String, u32> {
    let mut layer_of: HashMap<String, u32> = HashMap::new();
    for file in files {
        for (layer, patterns) in table {
            let listed = patterns.iter().any(|pattern| {
                pattern == file || (pattern.ends_with('/') && file.starts_with(pattern.as_str()))
            });
            if listed {
                layer_of.insert(file.clone(), *layer);
            }
        }
    }
    layer_of
}

fn source_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn design_table() -> Vec<(u32, Vec<String>)> {
    let design =
        fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/design.md"))
            .unwrap();
    layer_table(&design)
}

#[test]
fn every_file_is_in_the_layer_table() {
    let src = source_dir();
    let (files, _) = imports(&src);
    let layer_of = layers_of(&files, &design_table());
    let unlisted: Vec<&String> = files
        .iter()
        .filter(|file| !layer_of.contains_key(*file))
        .collect();
    assert!(
        unlisted.is_empty(),
        "files of executor/src that the layer table of docs/design.md section 0 does not \
         list (add each to its layer):\n{unlisted:#?}"
    );
}

#[test]
fn no_import_points_up_the_layer_table() {
    let src = source_dir();
    let (files, imports) = imports(&src);
    let layer_of = layers_of(&files, &design_table());
    assert!(
        layer_of.len() > 30,
        "the layer table lists too few files: {layer_of:?}"
    );
    let mut upward = Vec::new();
    for import in &imports {
        let (Some(&layer), Some(&target_layer)) =
            (layer_of.get(&import.from), layer_of.get(&import.to))
        else {
            continue;
        };
        if target_layer > layer {
            upward.push(format!(
                "{} (layer {layer}) imports {} (layer {target_layer}) via {}",
                import.from, import.to, import.via
            ));
        }
    }
    upward.sort();
    upward.dedup();
    assert!(
        upward.is_empty(),
        "imports pointing up the layer table of docs/design.md section 0 (import the \
         defining file of a lower layer instead, or move the code):\n{}",
        upward.join("\n")
    );
}

/// A cycle of imports through `start`, if there is one: depth-first search from
/// `start` along `edges`, returning the path back to it.
fn cycle_through(start: &str, edges: &HashMap<&str, Vec<&str>>) -> Option<Vec<String>> {
    let mut stack = vec![(start, 0usize)];
    let mut seen = std::collections::HashSet::new();
    while let Some((file, next)) = stack.pop() {
        let targets = edges.get(file).map_or(&[][..], Vec::as_slice);
        if next < targets.len() {
            stack.push((file, next + 1));
            let target = targets[next];
            if target == start {
                let mut cycle: Vec<String> = stack.iter().map(|(f, _)| f.to_string()).collect();
                cycle.push(start.to_string());
                return Some(cycle);
            }
            if seen.insert(target) {
                stack.push((target, 0));
            }
        }
    }
    None
}

#[test]
fn no_import_cycle_between_files() {
    let src = source_dir();
    let (files, imports) = imports(&src);
    let mut edges: HashMap<&str, Vec<&str>> = HashMap::new();
    for import in &imports {
        let targets = edges.entry(import.from.as_str()).or_default();
        if !targets.contains(&import.to.as_str()) {
            targets.push(import.to.as_str());
        }
    }
    let mut cycles = Vec::new();
    for file in &files {
        if let Some(cycle) = cycle_through(file, &edges) {
            cycles.push(cycle.join(" -> "));
        }
    }
    assert!(
        cycles.is_empty(),
        "import cycles between files of executor/src (a layer's files must import each \
         other one way only):\n{}",
        cycles.join("\n")
    );
}

/// The checker itself: a made-up cycle is found, a chain is not.
#[test]
fn cycle_search_finds_a_cycle_and_only_a_cycle() {
    let mut edges: HashMap<&str, Vec<&str>> = HashMap::new();
    edges.insert("a.rs", vec!["b.rs"]);
    edges.insert("b.rs", vec!["c.rs"]);
    edges.insert("c.rs", vec!["a.rs"]);
    edges.insert("d.rs", vec!["a.rs"]);
    assert_eq!(
        cycle_through("a.rs", &edges).unwrap(),
        ["a.rs", "b.rs", "c.rs", "a.rs"]
    );
    assert!(cycle_through("d.rs", &edges).is_none());
}
