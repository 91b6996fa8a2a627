//! Compile-time behaviour of the attributes, checked with trybuild: the cases in
//! `tests/pass/` must build and run, those in `tests/ui/` must fail with the error
//! in the `.stderr` file beside them (regenerate with `TRYBUILD=overwrite`).

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.pass("tests/pass/*.rs");
    cases.compile_fail("tests/ui/*.rs");
}
