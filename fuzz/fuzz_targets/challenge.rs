//! `WWW-Authenticate` headers from any registry (or anything pretending).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = rhpull_core::sso::challenge::parse(text);
    }
});
