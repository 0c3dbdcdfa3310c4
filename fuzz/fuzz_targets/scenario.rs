//! Scenario parser: any text gives a `Scenario` or a `LoadError`, never a
//! panic, hang or huge allocation.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        // A folder that does not exist: `manifests:` and `file:` references
        // fail to be found instead of reading arbitrary files.
        let _ = kubesim::scenario::load_text(Path::new("/nonexistent/fuzz.yaml"), text);
    }
});
