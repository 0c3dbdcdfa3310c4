//! The event loop under the hold model: N events pending; each executed event
//! schedules one more at a random later time, so the queue stays at N.
//! Reported throughput is events per second at N = 1e3, 1e4, 1e5, 1e6.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use kubesim::sim::queue::EventQueue;
use kubesim::sim::rng;
use kubesim::sim::time::{SimDuration, SimTime};
use rand::RngExt;
use std::hint::black_box;

/// A payload the size of a small event.
#[derive(Clone, Copy)]
struct Ev(u64, u32);

fn hold(c: &mut Criterion) {
    let mut g = c.benchmark_group("hold_model");
    const STEPS: u64 = 100_000;
    for &n in &[1_000usize, 10_000, 100_000, 1_000_000] {
        g.throughput(Throughput::Elements(STEPS));
        g.sample_size(if n >= 1_000_000 { 10 } else { 30 });
        // Fill once; each iteration runs STEPS hold operations on the warm queue.
        let mut r = rng::stream(42, "bench");
        let mut q = EventQueue::new();
        for i in 0..n {
            q.push(
                SimTime::from_millis(r.random_range(0..1_000_000)),
                Ev(i as u64, 0),
            );
        }
        g.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, _| {
            b.iter(|| {
                for _ in 0..STEPS {
                    let (t, ev) = q.pop().expect("queue never empties");
                    let d = SimDuration::from_millis(r.random_range(1..1_000_000));
                    q.push(t + d, Ev(black_box(ev.0), ev.1 + 1));
                }
            })
        });
    }
    g.finish();
}

criterion_group!(benches, hold);
criterion_main!(benches);
