//! Progress bars on a terminal: for a long run, virtual time reached and events
//! per second; for a grid of runs (`compare`, `sweep`), runs done and events per
//! second (wall clock, for the display only). They only read, so they change
//! nothing in a run; they stay quiet when stderr is not a terminal or when
//! asked to.

use crate::Simulation;
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Redraw at most this often.
const EVERY: Duration = Duration::from_millis(200);
/// Look at the clock once per this many events.
const CHECK_EVERY: u64 = 4096;

pub struct RunProgress {
    bar: Option<ProgressBar>,
    counter: u64,
    last: Instant,
    last_events: u64,
    until: crate::sim::time::SimDuration,
}

impl RunProgress {
    /// A bar up to `until` of virtual time; hidden when `quiet` or when
    /// stderr is not a terminal.
    pub fn new(until: crate::sim::time::SimDuration, quiet: bool) -> Self {
        let bar = (!quiet && std::io::stderr().is_terminal()).then(|| {
            let b = ProgressBar::new(until.as_millis().max(1));
            b.set_style(
                ProgressStyle::with_template("{bar:40.cyan/blue} {msg}")
                    .expect("a valid template")
                    .progress_chars("=> "),
            );
            b
        });
        RunProgress {
            bar,
            counter: 0,
            last: Instant::now(),
            last_events: 0,
            until,
        }
    }

    /// After an event: redraw now and then.
    pub fn tick(&mut self, sim: &Simulation) {
        let Some(bar) = &self.bar else {
            return;
        };
        self.counter += 1;
        if !self.counter.is_multiple_of(CHECK_EVERY) {
            return;
        }
        let elapsed = self.last.elapsed();
        if elapsed < EVERY {
            return;
        }
        let events = sim.events_processed();
        let rate = (events - self.last_events) as f64 / elapsed.as_secs_f64();
        self.last = Instant::now();
        self.last_events = events;
        bar.set_position(sim.now().as_millis());
        bar.set_message(format!(
            "t = {} of {} virtual, {} events, {:.0}k events/s",
            crate::sim::time::human(sim.now().since(crate::sim::time::SimTime::ZERO)),
            crate::sim::time::human(self.until),
            events,
            rate / 1000.0
        ));
    }

    /// Remove the bar.
    pub fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

/// A progress bar for a grid of runs (`compare`, `sweep`): runs done of the
/// total and events per second of wall time over the runs finished so far.
/// Runs finish on several threads, so it is shared by reference; like
/// [`RunProgress`] it only displays and is hidden when stderr is not a
/// terminal or when asked to be quiet.
pub struct GridProgress {
    bar: Option<ProgressBar>,
    total: u64,
    done: AtomicU64,
    events: AtomicU64,
    start: Instant,
}

impl GridProgress {
    /// A bar for `total` runs; hidden when `quiet` or stderr is not a terminal.
    pub fn new(total: usize, quiet: bool) -> Self {
        Self::with_bar(total, !quiet && std::io::stderr().is_terminal())
    }

    /// One that never draws (counts only), for library callers.
    pub fn hidden(total: usize) -> Self {
        Self::with_bar(total, false)
    }

    fn with_bar(total: usize, shown: bool) -> Self {
        let bar = shown.then(|| {
            let b = ProgressBar::new(total as u64);
            b.set_style(
                ProgressStyle::with_template("{bar:40.cyan/blue} {msg}")
                    .expect("a valid template")
                    .progress_chars("=> "),
            );
            b.set_message(grid_message(0, total as u64, 0, Duration::ZERO));
            b.enable_steady_tick(Duration::from_millis(500));
            b
        });
        GridProgress {
            bar,
            total: total as u64,
            done: AtomicU64::new(0),
            events: AtomicU64::new(0),
            start: Instant::now(),
        }
    }

    /// Whether a bar is drawn.
    pub fn is_shown(&self) -> bool {
        self.bar.is_some()
    }

    /// A run has finished after processing `events` events.
    pub fn run_done(&self, events: u64) {
        let done = self.done.fetch_add(1, Ordering::Relaxed) + 1;
        let events = self.events.fetch_add(events, Ordering::Relaxed) + events;
        if let Some(b) = &self.bar {
            b.set_position(done);
            b.set_message(grid_message(done, self.total, events, self.start.elapsed()));
        }
    }

    /// Runs finished so far.
    pub fn done(&self) -> u64 {
        self.done.load(Ordering::Relaxed)
    }

    /// Remove the bar.
    pub fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

/// The bar's text: "12 of 30 runs, 1.2M events, 850k events/s".
pub fn grid_message(done: u64, total: u64, events: u64, elapsed: Duration) -> String {
    let secs = elapsed.as_secs_f64();
    let rate = if secs > 0.0 {
        format!(", {} events/s", si(events as f64 / secs))
    } else {
        String::new()
    };
    format!("{done} of {total} runs, {} events{rate}", si(events as f64))
}

/// 950, 12.3k, 4.5M: three significant figures at most.
fn si(v: f64) -> String {
    let (x, suffix) = if v >= 1e9 {
        (v / 1e9, "G")
    } else if v >= 1e6 {
        (v / 1e6, "M")
    } else if v >= 1e3 {
        (v / 1e3, "k")
    } else {
        return format!("{v:.0}");
    };
    if x >= 100.0 {
        format!("{x:.0}{suffix}")
    } else if x >= 10.0 {
        format!("{x:.1}{suffix}")
    } else {
        format!("{x:.2}{suffix}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grid_message_counts_runs_and_events_per_second() {
        assert_eq!(
            grid_message(12, 30, 1_500_000, Duration::from_secs(2)),
            "12 of 30 runs, 1.50M events, 750k events/s"
        );
        assert_eq!(
            grid_message(0, 4, 0, Duration::ZERO),
            "0 of 4 runs, 0 events"
        );
        assert_eq!(si(999.0), "999");
        assert_eq!(si(12_345.0), "12.3k");
    }

    #[test]
    fn hidden_grid_progress_counts_without_a_bar() {
        let p = GridProgress::new(3, true);
        assert!(!p.is_shown(), "--quiet hides the bar");
        p.run_done(10);
        p.run_done(5);
        assert_eq!(p.done(), 2);
        p.finish();
        // under `cargo test` stderr is captured, not a terminal
        assert!(!GridProgress::new(3, false).is_shown() || std::io::stderr().is_terminal());
    }
}
