//! Quantities (`500m`, `1.5Gi`, `1e3`) and durations (`1h30m`): any string
//! gives a value or an error, never a panic or hang. Also checks that a
//! parsed quantity prints in a form that parses back to the same amount.
#![no_main]

use kubesim::api::quantity::{parse_cpu_millis, parse_value, Quantity};
use kubesim::sim::time::SimDuration;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(s) = std::str::from_utf8(data) {
        if let Ok(q) = Quantity::parse(s) {
            let _ = q.milli_value();
            let _ = q.value();
            let printed = q.to_string();
            let back = Quantity::parse(&printed).expect("a printed quantity parses");
            assert_eq!(back, q, "{s:?} printed as {printed:?}");
        }
        let _ = parse_cpu_millis(s);
        let _ = parse_value(s);
        let _ = SimDuration::parse(s);
    }
});
