//! `--check-determinism`: run a scenario twice in one process and compare the
//! event streams line by line, by hash. Two runs in one process still differ if
//! anything depends on hash-map iteration order (each `HashMap` gets its own
//! random keys), on addresses, or on wall-clock time — the usual ways a
//! simulator stops being reproducible.

use crate::metrics::Recorder;
use crate::scenario::Scenario;
use crate::Simulation;
use std::cell::RefCell;
use std::io::{self, Write};
use std::rc::Rc;

/// FNV-1a, 64 bit: stable across platforms and Rust versions.
fn fnv(h: u64, bytes: &[u8]) -> u64 {
    let mut h = h;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}
const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;

/// What one run looked like: a hash per event-log line and a rolling hash of all.
#[derive(Debug, Default)]
struct Lines {
    hashes: Vec<u64>,
    rolling: u64,
    /// The line being written and, when capturing, the wanted line's text.
    partial: Vec<u8>,
    capture: Option<usize>,
    captured: Option<String>,
    /// Stop keeping hashes, compare against these instead.
    expect: Option<Rc<Vec<u64>>>,
    first_diff: Option<(usize, String)>,
}

#[derive(Clone, Default)]
struct Sink(Rc<RefCell<Lines>>);

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut l = self.0.borrow_mut();
        for chunk in buf.split_inclusive(|b| *b == b'\n') {
            l.partial.extend_from_slice(chunk);
            if chunk.ends_with(b"\n") {
                let line = std::mem::take(&mut l.partial);
                let h = fnv(FNV_OFFSET, &line);
                let i = l.hashes.len();
                l.rolling = fnv(l.rolling, &h.to_le_bytes());
                if l.capture == Some(i) {
                    l.captured = Some(String::from_utf8_lossy(&line).trim_end().to_string());
                }
                if l.first_diff.is_none() {
                    if let Some(e) = l.expect.clone() {
                        if e.get(i) != Some(&h) {
                            let text = String::from_utf8_lossy(&line).trim_end().to_string();
                            l.first_diff = Some((i, text));
                        }
                    }
                }
                l.hashes.push(h);
            }
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The outcome of a determinism check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Both runs wrote the same event log and the same summary.
    Same {
        records: usize,
        events: u64,
        hash: u64,
    },
    /// The event logs differ first at record `index` (0-based line of events.jsonl).
    Diverged {
        index: usize,
        first: Option<String>,
        second: String,
    },
    /// The event logs are the same but a summary figure differs.
    SummaryDiffers { first: String, second: String },
}

fn run_once(sc: &Scenario, sink: &Sink) -> (u64, String) {
    let mut sim = Simulation::new(sc, Recorder::to_writer(Box::new(sink.clone())));
    sim.run();
    let _ = sim.recorder_mut().finish();
    let mut s = sim.summary();
    s.sim.wall_ms = 0;
    (
        sim.events_processed(),
        serde_json::to_string(&s).unwrap_or_default(),
    )
}

/// Run `sc` twice and compare.
pub fn check(sc: &Scenario) -> Verdict {
    let a = Sink::default();
    let (events, sum_a) = run_once(sc, &a);
    let hashes = Rc::new(std::mem::take(&mut a.0.borrow_mut().hashes));
    let b = Sink::default();
    b.0.borrow_mut().expect = Some(hashes.clone());
    let (_, sum_b) = run_once(sc, &b);
    let lb = b.0.borrow();
    let diff = lb.first_diff.clone().or_else(|| {
        // the second run wrote fewer lines
        (lb.hashes.len() < hashes.len()).then(|| (lb.hashes.len(), "(end of the event log)".into()))
    });
    if let Some((index, second)) = diff {
        // a third run to show what the first one wrote there
        let c = Sink::default();
        c.0.borrow_mut().capture = Some(index);
        run_once(sc, &c);
        let first = c.0.borrow().captured.clone();
        return Verdict::Diverged {
            index,
            first,
            second,
        };
    }
    if sum_a != sum_b {
        return Verdict::SummaryDiffers {
            first: sum_a,
            second: sum_b,
        };
    }
    Verdict::Same {
        records: hashes.len(),
        events,
        hash: lb.rolling,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sink_hashes_lines_and_spots_the_first_difference() {
        let a = Sink::default();
        let mut w = a.clone();
        w.write_all(b"one\ntw").unwrap();
        w.write_all(b"o\nthree\n").unwrap();
        let h = Rc::new(a.0.borrow().hashes.clone());
        assert_eq!(h.len(), 3);
        let b = Sink::default();
        b.0.borrow_mut().expect = Some(h);
        let mut w = b.clone();
        w.write_all(b"one\ntwo\nthree!\n").unwrap();
        assert_eq!(b.0.borrow().first_diff, Some((2, "three!".into())));
    }
}
