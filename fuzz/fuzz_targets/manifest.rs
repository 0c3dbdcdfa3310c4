//! Manifest loader: any text gives objects and/or diagnostics, never a
//! panic, hang or huge allocation.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let mut loaded = kubesim::manifest::Loaded::default();
        let mut errors = Vec::new();
        kubesim::manifest::load_text(
            Path::new("/nonexistent/fuzz.yaml"),
            text,
            &mut loaded,
            &mut errors,
        );
    }
});
