//! Compile-fail and compile-pass cases for shape checking, driven by trybuild over `ui-tests/`.
//!
//! `ui-tests/fail/*.rs` must fail to compile with exactly the error in the `.stderr` beside each
//! case; `ui-tests/pass/*.rs` must compile and run. Snapshots are tied to the pinned toolchain
//! (rust-toolchain.toml); refresh them with `TRYBUILD=overwrite cargo test --test ui` (at the
//! repository root) and read every changed `.stderr`.
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

#[test]
fn ui() {
    // trybuild takes the crate under test (name, dependencies, and the directory snapshot paths
    // are relative to) from CARGO_MANIFEST_DIR: make that the repository root, the library's
    // manifest, rather than this helper package. Set before any other thread runs.
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let root = std::path::Path::new(root).canonicalize().unwrap();
    std::env::set_var("CARGO_MANIFEST_DIR", root);
    let t = trybuild::TestCases::new();
    t.compile_fail("ui-tests/fail/*.rs");
    t.pass("ui-tests/pass/*.rs");
}
