//! A progress bar for long runs on a terminal: virtual time reached and events
//! per second (wall clock, for the display only). It only reads the
//! simulation, so it changes nothing in a run; it stays quiet when stderr is
//! not a terminal or when asked to.

use crate::Simulation;
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
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
