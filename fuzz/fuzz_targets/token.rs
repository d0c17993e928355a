//! Token endpoint answers and error bodies.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = rhpull_core::sso::token::parse_token(data);
    let _ = rhpull_core::sso::token::error_message(data);
});
