//! The layer rule of docs/design.md, section 0, checked on the source: no file of
//! `executor/src` imports a file of a higher layer.
//!
//! The layer table is read from docs/design.md itself, so the document and this check
//! cannot drift apart. Paths are resolved at the file level: `super::Handle` in
//! `runtime/worker.rs` is an import of `runtime/mod.rs` (whatever it re-exports), so
//! a lower layer must name the file that defines an item. Files the table does not
//! list are not checked (a new file is placed in the table when it is reviewed).

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

/// The rows of the table: layer number and the file patterns in its "files" column.
fn layer_table(design: &str) -> Vec<(u32, Vec<String>)> {
    let section = design
        .split("## 0. Layers")
        .nth(1)
        .expect("docs/design.md has a section 0 with the layer table");
    let mut rows = Vec::new();
    for line in section
        .lines()
        .take_while(|line| !line.starts_with("## 1."))
    {
        let Some(rest) = line.strip_prefix("| ") else {
            continue;
        };
        let Some((number, _)) = rest.split_once(". ") else {
            continue;
        };
        let Ok(layer) = number.parse::<u32>() else {
            continue;
        };
        let files_column = line.split('|').nth(3).expect("a files column");
        let patterns = files_column
            .split('`')
            .skip(1)
            .step_by(2)
            .flat_map(expand)
            .collect();
        rows.push((layer, patterns));
    }
    assert!(rows.len() >= 6, "the layer table has rows 0 to 5");
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
            let before_ok = start == 0
                || !(bytes[start - 1].is_ascii_alphanumeric() || bytes[start - 1] == b'_');
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

#[test]
fn no_import_points_up_the_layer_table() {
    let crate_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let src = crate_dir.join("src");
    let design = fs::read_to_string(crate_dir.join("../docs/design.md")).unwrap();
    let table = layer_table(&design);

    let mut files = Vec::new();
    rust_files(&src, &src, &mut files);
    files.sort();
    let mut layer_of: HashMap<String, u32> = HashMap::new();
    for file in &files {
        for (layer, patterns) in &table {
            let listed = patterns.iter().any(|pattern| {
                pattern == file || (pattern.ends_with('/') && file.starts_with(pattern.as_str()))
            });
            if listed {
                layer_of.insert(file.clone(), *layer);
            }
        }
    }
    assert!(
        layer_of.len() > 30,
        "the layer table lists too few files: {layer_of:?}"
    );

    let mut upward = Vec::new();
    for file in &files {
        let Some(&layer) = layer_of.get(file) else {
            continue;
        };
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
                if file_of(&src, &next).is_none() {
                    break;
                }
                target = next;
            }
            let Some(target_file) = file_of(&src, &target) else {
                continue;
            };
            if &target_file == file {
                continue;
            }
            if let Some(&target_layer) = layer_of.get(&target_file) {
                if target_layer > layer {
                    upward.push(format!(
                        "{file} (layer {layer}) imports {target_file} (layer {target_layer}) via {head}::{}",
                        segments.join("::")
                    ));
                }
            }
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
