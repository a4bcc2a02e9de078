//! Compile-fail and compile-pass cases for shape checking, driven by trybuild over `ui-tests/`.
//!
//! `ui-tests/fail/*.rs` must fail to compile with exactly the error in the `.stderr` beside each
//! case; `ui-tests/pass/*.rs` must compile and run. Snapshots are tied to the pinned toolchain
//! (rust-toolchain.toml); refresh them with `TRYBUILD=overwrite cargo test --test ui` and read
//! every changed `.stderr`.
//!
//! The pass cases matter for the fail cases too: with at least one pass case, trybuild builds
//! (`cargo build`) instead of checking (`cargo check`), and only a build evaluates the
//! `const { assert!(..) }` checks inside generic functions (a repeated permute axis).

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("ui-tests/fail/*.rs");
    t.pass("ui-tests/pass/*.rs");
}
