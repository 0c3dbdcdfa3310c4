//! Whole runs of mid-size shipped scenarios: the event loop with every
//! component, from loading the scenario to the summary. Throughput is in
//! events (each run processes the same events every time: runs are
//! deterministic).

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use kubesim::metrics::Recorder;
use kubesim::{scenario, Simulation};
use std::path::Path;

fn run(c: &mut Criterion) {
    let mut g = c.benchmark_group("end_to_end");
    g.sample_size(10);
    for name in [
        "compare-binpacking.yaml",
        "trace-replay.yaml",
        "traffic-spike-ingress.yaml",
    ] {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("scenarios")
            .join(name);
        let sc = scenario::load(&path).expect("a shipped scenario loads");
        let events = {
            let mut sim = Simulation::new(&sc, Recorder::discard());
            sim.run();
            sim.events_processed()
        };
        g.throughput(Throughput::Elements(events));
        g.bench_with_input(BenchmarkId::from_parameter(name), &sc, |b, sc| {
            b.iter(|| {
                let mut sim = Simulation::new(sc, Recorder::discard());
                sim.run();
                sim.events_processed()
            })
        });
    }
    g.finish();
}

criterion_group!(benches, run);
criterion_main!(benches);
