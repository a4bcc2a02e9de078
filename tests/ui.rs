//! Compile-fail and compile-pass cases for shape checking, driven by trybuild over `ui-tests/`.
//!
//! `ui-tests/fail/*.rs` must fail to compile with exactly the error in the `.stderr` beside each
//! case; `ui-tests/pass/*.rs` must compile and run. Snapshots are tied to the pinned toolchain
//! (rust-toolchain.toml); refresh them with `TRYBUILD=overwrite cargo test --test ui` and read
//! every changed `.stderr`.
//!
//! Every shape check is a trait bound (none is a `const { assert!(..) }`, which only a build
//! evaluates), so each fail case fails under `cargo check` too. The pass cases also run: each
//! asserts the values it computes.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("ui-tests/fail/*.rs");
    t.pass("ui-tests/pass/*.rs");
}
