//! The modules of the library (and of the engine and imaging crates) form layers: each
//! uses only modules below it, never one that uses it back (issue #16 found `analysis` ↔ `decode`, `faces` ↔ `runtime` and `library`
//! ↔ `render` in the engine and library; they crept back once, as `core` ↔ `index` and
//! `model` → `scan` → … → `model`). This reads the crate's own sources, outside their
//! test modules, and fails naming the cycle.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Each module of `src` and the sibling modules it names as `crate::<module>`.
fn module_uses(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    // What runs, not what is tested or said: test modules and comments out.
    let code_of = |path: &Path| -> String {
        let text = std::fs::read_to_string(path).unwrap();
        let code = text.split("#[cfg(test)]\nmod tests").next().unwrap_or("");
        code.lines().map(|l| l.split("//").next().unwrap_or("")).collect::<Vec<_>>().join("\n")
    };
    let mut sources = BTreeMap::new();
    for entry in std::fs::read_dir(src).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        if path.extension().is_some_and(|e| e == "rs") {
            sources.entry(name).or_insert_with(String::new).push_str(&code_of(&path));
        } else if path.is_dir() {
            // A module in a folder is one module, all its files together.
            for file in std::fs::read_dir(&path).unwrap() {
                let file = file.unwrap().path();
                if file.extension().is_some_and(|e| e == "rs") {
                    sources.entry(name.clone()).or_insert_with(String::new).push_str(&code_of(&file));
                }
            }
        }
    }
    let names: BTreeSet<String> = sources.keys().cloned().collect();
    sources
        .iter()
        .map(|(name, code)| {
            let uses = code
                .split("crate::")
                .skip(1)
                .map(|rest| rest.chars().take_while(|c| c.is_ascii_lowercase() || *c == '_').collect::<String>())
                .filter(|used| used != name && names.contains(used))
                .collect();
            (name.clone(), uses)
        })
        .collect()
}

/// A cycle in `uses`, as the modules along it, if there is one.
fn find_cycle(uses: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn walk(
        at: &str,
        uses: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(i) = path.iter().position(|m| m == at) {
            let mut cycle = path[i..].to_vec();
            cycle.push(at.to_owned());
            return Some(cycle);
        }
        if !done.insert(at.to_owned()) {
            return None;
        }
        path.push(at.to_owned());
        for next in uses.get(at).into_iter().flatten() {
            if let Some(cycle) = walk(next, uses, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        None
    }
    let mut done = BTreeSet::new();
    uses.keys().find_map(|m| walk(m, uses, &mut Vec::new(), &mut done))
}

#[test]
fn the_library_modules_have_no_import_cycles() {
    let uses = module_uses(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"));
    assert!(uses.len() > 20, "read the crate's modules: {:?}", uses.keys());
    assert!(uses["index"].contains("scan") && uses["analyzer"].contains("jobs"), "{uses:?}");
    if let Some(cycle) = find_cycle(&uses) {
        panic!("an import cycle in keepsake-library: {}", cycle.join(" -> "));
    }
}

/// The same for the crates below it, whose sources sit next to this one's.
#[test]
fn the_engine_and_imaging_modules_have_no_import_cycles() {
    for krate in ["keepsake-engine", "keepsake-imaging"] {
        let uses = module_uses(&Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(krate).join("src"));
        assert!(uses.len() > 8, "{krate}: {:?}", uses.keys());
        if let Some(cycle) = find_cycle(&uses) {
            panic!("an import cycle in {krate}: {}", cycle.join(" -> "));
        }
    }
    let engine = module_uses(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../keepsake-engine/src"));
    assert!(engine["runtime"].contains("faces"), "a module in a folder is a module: {:?}", engine["runtime"]);
}

#[test]
fn a_cycle_is_found_and_named() {
    let uses: BTreeMap<String, BTreeSet<String>> = [("a", &["b"][..]), ("b", &["c"]), ("c", &["a"]), ("d", &["a"])]
        .into_iter()
        .map(|(m, u)| (m.to_owned(), u.iter().map(|s| s.to_string()).collect()))
        .collect();
    assert_eq!(find_cycle(&uses).unwrap(), ["a", "b", "c", "a"]);
    let mut layered = uses.clone();
    layered.get_mut("c").unwrap().clear();
    assert_eq!(find_cycle(&layered), None);
}
