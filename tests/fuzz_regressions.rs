//! Inputs that once made a `cargo fuzz` target (see `fuzz/`) panic, hang or
//! allocate without bound, run through the same library entry points as the
//! targets. Each must now give a value or an error, quickly.

use kubesim::api::quantity::{parse_cpu_millis, parse_value, Quantity};
use kubesim::sim::time::SimDuration;
use std::path::Path;

const FUZZ_PATH: &str = "/nonexistent/fuzz.yaml";

/// What the `scenario` fuzz target does with one input.
fn scenario(text: &str) {
    let _ = kubesim::scenario::load_text(Path::new(FUZZ_PATH), text);
}

/// What the `manifest` fuzz target does with one input.
fn manifest(text: &str) {
    let mut loaded = kubesim::manifest::Loaded::default();
    let mut errors = Vec::new();
    kubesim::manifest::load_text(Path::new(FUZZ_PATH), text, &mut loaded, &mut errors);
}

/// What the `quantity` fuzz target does with one input.
fn quantity(s: &str) {
    if let Ok(q) = Quantity::parse(s) {
        let _ = q.milli_value();
        let _ = q.value();
        let printed = q.to_string();
        assert_eq!(
            Quantity::parse(&printed),
            Ok(q),
            "{s:?} printed as {printed:?}"
        );
    }
    let _ = parse_cpu_millis(s);
    let _ = parse_value(s);
    let _ = SimDuration::parse(s);
}

/// The fuzz targets' seeds and edge cases run cleanly (a smoke test that
/// keeps the three harness functions above in use).
#[test]
fn harnesses_accept_edge_cases() {
    for s in [
        "",
        "1",
        "1e99999999999999999999",
        "-9223372036854775808m",
        "1.5Gi",
    ] {
        quantity(s);
    }
    scenario("name: x\n");
    manifest("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n");
}

/// Many unknown node names against a big node pool: every name got a "did
/// you mean" hint computed against every node (an allocating edit distance
/// per pair), so 1,500 names × 100,000 nodes (a 16 KB scenario) ran for
/// minutes. `diag::suggest` now compares at most 1,000 candidates and skips
/// those whose length alone rules them out. Scaled down here to stay fast.
#[test]
fn unknown_targets_against_a_big_pool_stay_cheap() {
    let names: Vec<String> = (0..200).map(|i| format!("pool-x{i:03}")).collect();
    let text = format!(
        "name: s\ncluster:\n  nodePools:\n  - name: pool\n    count: 5000\n    \
         capacity: {{cpu: \"1\", memory: 1Gi}}\ntimeline:\n- at: 1s\n  \
         action: network-partition\n  nodes: [{}]\n",
        names.join(",")
    );
    let start = std::time::Instant::now();
    let err = kubesim::scenario::load_text(Path::new(FUZZ_PATH), &text).unwrap_err();
    assert_eq!(err.0.len(), 200, "one error per unknown node");
    // generous: the point is "not quadratic", not a benchmark
    assert!(start.elapsed().as_secs() < 60, "took {:?}", start.elapsed());
}

/// Long words get no hint instead of a quadratic edit distance against
/// equally long candidates (a 10 KB pool name and a 10 KB `node-add` pool).
#[test]
fn long_unknown_pool_name_stays_cheap() {
    let a = "a".repeat(10_000);
    let b = format!("{}b", "a".repeat(9_999));
    let text = format!(
        "name: s\ncluster:\n  nodePools:\n  - name: {a}\n    count: 1\n    \
         capacity: {{cpu: \"1\", memory: 1Gi}}\ntimeline:\n- at: 1s\n  \
         action: node-add\n  pool: {b}\n"
    );
    assert!(kubesim::scenario::load_text(Path::new(FUZZ_PATH), &text).is_err());
    assert_eq!(kubesim::diag::suggest(&b, [a.as_str()]), None);
    assert_eq!(kubesim::diag::suggest("pool-b", ["pool-a"]), Some("pool-a"));
}
