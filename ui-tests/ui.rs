//! Compile-fail and compile-pass cases for shape checking, driven by trybuild over `ui-tests/`.
//!
//! `ui-tests/fail/*.rs` must fail to compile with exactly the error in the `.stderr` beside each
//! case; `ui-tests/pass/*.rs` must compile and run. Snapshots are tied to the pinned toolchain
//! (rust-toolchain.toml); refresh them with `TRYBUILD=overwrite cargo test -p
//! shapetorch-ui-tests` (at the repository root) and read every changed `.stderr`. One case
//! alone: `cargo test -p shapetorch-ui-tests -- ui trybuild=conv2d_channels`.
//!
//! The pass cases matter for the fail cases too: with at least one pass case, trybuild builds
//! (`cargo build`) instead of checking (`cargo check`), and only a build evaluates the
//! `const { assert!(..) }` checks inside generic functions (a repeated permute axis).
//!
//! This file is the package `shapetorch-ui-tests` (`ui-tests/Cargo.toml`), so that trybuild is
//! not a dev-dependency of the library, which every example would build; `cargo test` at the
//! repository root runs it. trybuild is pointed at the library's manifest (below), so the cases
//! build as they did when this file was the library's `tests/ui.rs`: against `shapetorch` and
//! its dev-dependencies, with snapshot paths relative to the repository root
//! (`ui-tests/fail/...`, `src/...`).
//!
//! **Why the count check.** trybuild expands its globs against the *working directory*, which
//! cargo sets to this package's directory (`ui-tests/`), not the repository root. For days the
//! globs matched nothing, trybuild printed "There are no trybuild tests enabled yet" and the
//! test passed. So this driver lists the case files itself, from an absolute path, and after
//! trybuild has run it reads the manifest trybuild generated for the cases it built (one
//! `[[bin]]` per case) and fails unless that is exactly the list of files.

use std::path::{Path, PathBuf};

#[test]
fn ui() {
    // trybuild takes the crate under test (name, dependencies, and the directory snapshot paths
    // are relative to) from CARGO_MANIFEST_DIR: make that the repository root, the library's
    // manifest, rather than this helper package; and run from the root, where its globs are
    // expanded. Set before any other thread runs.
    let root = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .canonicalize()
        .unwrap();
    std::env::set_var("CARGO_MANIFEST_DIR", &root);
    std::env::set_current_dir(&root).unwrap();

    let expected = cases(&root);
    let generated = trybuild_manifest(&root);
    // A manifest left by an earlier run must not count for this one.
    let _ = std::fs::remove_file(&generated);
    {
        let t = trybuild::TestCases::new();
        t.compile_fail("ui-tests/fail/*.rs");
        t.pass("ui-tests/pass/*.rs");
    } // trybuild runs the cases when `t` is dropped, and panics if one fails

    let ran = built_cases(&generated);
    let missing: Vec<_> = expected.iter().filter(|p| !ran.contains(p)).collect();
    let extra: Vec<_> = ran.iter().filter(|p| !expected.contains(p)).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "trybuild ran {} cases, but ui-tests/fail and ui-tests/pass hold {} (with the filters \
         given): the globs no longer match every case.\nnot run: {missing:?}\nrun but not a \
         case file: {extra:?}",
        ran.len(),
        expected.len()
    );
    println!("ui: trybuild ran all {} cases", ran.len());
}

/// Every `.rs` file in `ui-tests/fail` and `ui-tests/pass`, absolute and sorted, narrowed by
/// the `trybuild=NAME` arguments as trybuild narrows its own list. Panics when either folder
/// holds none: a suite that finds no case must not pass.
fn cases(root: &Path) -> Vec<PathBuf> {
    let filters: Vec<String> = std::env::args()
        .filter_map(|a| a.strip_prefix("trybuild=").map(str::to_owned))
        .filter(|f| !f.is_empty())
        .collect();
    let mut all = Vec::new();
    for folder in ["fail", "pass"] {
        let dir = root.join("ui-tests").join(folder);
        let mut found: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
            .map(|entry| entry.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "rs"))
            .collect();
        assert!(
            !found.is_empty(),
            "no cases in {}: the ui suite would check nothing",
            dir.display()
        );
        found.retain(|p| {
            filters.is_empty() || filters.iter().any(|f| p.to_string_lossy().contains(f))
        });
        all.extend(found);
    }
    all.sort();
    all
}

/// The manifest trybuild writes for the project it builds the cases in:
/// `<target dir>/tests/trybuild/shapetorch/Cargo.toml`.
fn trybuild_manifest(root: &Path) -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map(|t| if t.is_absolute() { t } else { root.join(t) })
        .unwrap_or_else(|| root.join("target"));
    target.join("tests/trybuild/shapetorch/Cargo.toml")
}

/// The source file of every case trybuild built: the `path` of each `[[bin]]` named
/// `trybuildNNN` in its generated manifest, sorted. Empty when trybuild wrote no manifest.
fn built_cases(manifest: &Path) -> Vec<PathBuf> {
    let Ok(text) = std::fs::read_to_string(manifest) else {
        return Vec::new();
    };
    let mut paths = Vec::new();
    let mut in_case = false;
    for line in text.lines().map(str::trim) {
        if line.starts_with('[') {
            in_case = false;
        } else if let Some(name) = line.strip_prefix("name = ") {
            in_case = name.trim_matches('"').starts_with("trybuild");
        } else if let (true, Some(path)) = (in_case, line.strip_prefix("path = ")) {
            paths.push(PathBuf::from(path.trim_matches('"')));
        }
    }
    paths.sort();
    paths
}
