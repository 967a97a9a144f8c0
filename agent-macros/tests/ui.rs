//! Compile-time behaviour of `#[tool]` and `#[toolkit]`: what compiles, and the
//! exact error (one message per `ui/fail` file) for every misuse.

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.pass("tests/ui/pass/*.rs");
    cases.compile_fail("tests/ui/fail/*.rs");
}
