//! Auth files and downloaded credential files: any bytes must give a
//! credential file or a clear error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rhpull_core::authfile::{AuthFormat, manifest};

fuzz_target!(|data: &[u8]| {
    let path = std::path::Path::new("fuzz.json");
    if let Ok((file, _)) = manifest::read_any(path, data, AuthFormat::Containers) {
        let _ = file.entries();
        let _ = file.get("registry.redhat.io/ubi9/ubi");
        let _ = file.to_bytes();
    }
});
