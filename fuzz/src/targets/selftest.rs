//! A target with a planted bug: it panics only for inputs starting with `vmup!?`. Six
//! bytes compared one at a time are 2^48 blind guesses, but a coverage-guided fuzzer gets
//! one new branch per right byte and finds it in seconds; `scripts/fuzz.sh --self-test`
//! checks that it does (and that the bug really is there to find).

pub const CHECKS: &str = "planted bug behind a 6-byte magic prefix (proves coverage guidance)";

pub fn check(data: &[u8]) {
    if data.first() == Some(&b'v')
        && data.get(1) == Some(&b'm')
        && data.get(2) == Some(&b'u')
        && data.get(3) == Some(&b'p')
        && data.get(4) == Some(&b'!')
        && data.get(5) == Some(&b'?')
    {
        panic!("the planted bug was found");
    }
}
