//! The event log: every Kubernetes event and every decision, with its reason, in
//! simulation order. It is streamed to its sink as it happens, never held whole
//! in memory, so a long run costs disk, not RAM.

use crate::sim::time::SimTime;
use serde::Serialize;
use std::io::{self, Write};

/// `Normal` or `Warning`, as `v1.Event.type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum EventType {
    Normal,
    Warning,
}

/// One line of `events.jsonl`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Record {
    /// Virtual time in integer milliseconds.
    pub time_ms: u64,
    /// Who acted: `scheduler`, `replicaset-controller`, `kubelet/pool-a-1`, `kubectl`, ...
    pub component: String,
    #[serde(rename = "type")]
    pub event_type: EventType,
    /// The upstream event reason where Kubernetes has one (`Scheduled`, `SuccessfulCreate`, ...).
    pub reason: String,
    /// `Kind/namespace/name` (`Kind/name` for cluster-scoped objects).
    pub object: String,
    pub message: String,
    /// For a control loop's decision: what it saw, what it wants, what it did.
    /// Absent (not null) on plain events, so those lines keep their shape.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub observed: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub desired: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
}

/// How much of the event log is written (`run --events`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EventsLevel {
    /// Every record.
    #[default]
    Full,
    /// What went wrong and what was done to the cluster: Warning records and
    /// the actions of kubectl, kubeadm, the fault injector and chaos.
    Summary,
    /// None (summary.json only).
    None,
}

impl EventsLevel {
    fn keeps(self, r: &Record) -> bool {
        self.keeps_parts(r.event_type, &r.component)
    }

    /// [`Self::keeps`] before the record is built.
    fn keeps_parts(self, event_type: EventType, component: &str) -> bool {
        match self {
            EventsLevel::Full => true,
            EventsLevel::None => false,
            EventsLevel::Summary => {
                event_type == EventType::Warning
                    || matches!(
                        component,
                        "kubectl" | "kubeadm" | "fault-injector" | "chaos"
                    )
            }
        }
    }
}

/// Where records go, and how many there were.
pub struct Recorder {
    level: EventsLevel,
    written: u64,
    sink: Option<Box<dyn Write>>,
    keep: Option<Vec<Record>>,
    count: u64,
    warnings: u64,
    error: Option<io::Error>,
    line: Vec<u8>,
}

impl Default for Recorder {
    fn default() -> Self {
        Recorder::discard()
    }
}

impl Recorder {
    /// Count records but store none (a run without `--out`).
    pub fn discard() -> Self {
        Recorder {
            sink: None,
            keep: None,
            count: 0,
            warnings: 0,
            error: None,
            line: Vec::with_capacity(256),
            level: EventsLevel::Full,
            written: 0,
        }
    }
    /// Write only the records `level` keeps.
    pub fn with_level(mut self, level: EventsLevel) -> Self {
        self.level = level;
        self
    }
    /// Records written to the sink (or kept), after the level's filter.
    pub fn written(&self) -> u64 {
        self.written
    }
    /// Stream records as JSON lines to `w`.
    pub fn to_writer(w: Box<dyn Write>) -> Self {
        Recorder {
            sink: Some(w),
            ..Recorder::discard()
        }
    }
    /// Keep records in memory (tests and library users inspecting a small run).
    pub fn in_memory() -> Self {
        Recorder {
            keep: Some(Vec::new()),
            ..Recorder::discard()
        }
    }

    pub fn record(&mut self, r: Record) {
        self.count += 1;
        if r.event_type == EventType::Warning {
            self.warnings += 1;
        }
        if !self.level.keeps(&r) {
            return;
        }
        self.written += 1;
        if let Some(w) = self.sink.as_mut() {
            if self.error.is_none() {
                self.line.clear();
                // Serializing this plain struct cannot fail.
                serde_json::to_writer(&mut self.line, &r).expect("record serializes");
                self.line.push(b'\n');
                if let Err(e) = w.write_all(&self.line) {
                    self.error = Some(e);
                }
            }
        }
        if let Some(k) = self.keep.as_mut() {
            k.push(r);
        }
    }

    /// Count a record that is not kept, without building it.
    fn skip(&mut self, event_type: EventType) {
        self.count += 1;
        if event_type == EventType::Warning {
            self.warnings += 1;
        }
    }

    /// [`Recorder::event`], building the object and message only when the
    /// record is kept. A pod's start (created, scheduled, pulled, started)
    /// is most of a large run's records, and `--events none` keeps none of
    /// them: formatting them anyway cost 4% of a 5,000-node run.
    pub fn event_with(
        &mut self,
        now: SimTime,
        component: &str,
        event_type: EventType,
        reason: &str,
        build: impl FnOnce() -> (String, String),
    ) {
        if !self.level.keeps_parts(event_type, component) {
            self.skip(event_type);
            return;
        }
        let (object, message) = build();
        self.event(now, component, event_type, reason, object, message);
    }

    /// Convenience for the common case.
    pub fn event(
        &mut self,
        now: SimTime,
        component: &str,
        event_type: EventType,
        reason: &str,
        object: String,
        message: String,
    ) {
        if !self.level.keeps_parts(event_type, component) {
            self.skip(event_type);
            return;
        }
        self.record(Record {
            time_ms: now.as_millis(),
            component: component.to_string(),
            event_type,
            reason: reason.to_string(),
            object,
            message,
            observed: None,
            desired: None,
            action: None,
        });
    }

    /// A control loop's decision: the event plus observed → desired → action.
    #[allow(clippy::too_many_arguments)]
    pub fn decision(
        &mut self,
        now: SimTime,
        component: &str,
        reason: &str,
        object: String,
        message: String,
        observed: String,
        desired: String,
        action: String,
    ) {
        self.record(Record {
            time_ms: now.as_millis(),
            component: component.to_string(),
            event_type: EventType::Normal,
            reason: reason.to_string(),
            object,
            message,
            observed: Some(observed),
            desired: Some(desired),
            action: Some(action),
        });
    }

    pub fn count(&self) -> u64 {
        self.count
    }
    pub fn warnings(&self) -> u64 {
        self.warnings
    }
    /// Records kept in memory (empty unless built with [`Recorder::in_memory`]).
    pub fn records(&self) -> &[Record] {
        self.keep.as_deref().unwrap_or(&[])
    }

    /// Flush the sink; report the first write error, if any, so no log is silently cut short.
    pub fn finish(&mut self) -> io::Result<()> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        if let Some(w) = self.sink.as_mut() {
            w.flush()?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A level that drops a record still counts it (and its warnings), and
    /// a lazily built record is built only when it is kept.
    #[test]
    fn dropped_records_are_counted_but_not_built() {
        for level in [EventsLevel::None, EventsLevel::Summary, EventsLevel::Full] {
            let mut r = Recorder::in_memory().with_level(level);
            let mut built = 0;
            let t = SimTime::ZERO;
            r.event(
                t,
                "kubelet",
                EventType::Warning,
                "BackOff",
                "o".into(),
                "m".into(),
            );
            r.event(
                t,
                "kubelet",
                EventType::Normal,
                "Started",
                "o".into(),
                "m".into(),
            );
            r.event_with(t, "kubelet", EventType::Normal, "Pulled", || {
                built += 1;
                ("o".into(), "m".into())
            });
            r.event_with(t, "kubectl", EventType::Normal, "Apply", || {
                built += 1;
                ("o".into(), "m".into())
            });
            assert_eq!((r.count(), r.warnings()), (4, 1), "{level:?}");
            let kept: Vec<&str> = r.records().iter().map(|x| x.reason.as_str()).collect();
            let (want, want_built) = match level {
                EventsLevel::None => (vec![], 0),
                EventsLevel::Summary => (vec!["BackOff", "Apply"], 1),
                EventsLevel::Full => (vec!["BackOff", "Started", "Pulled", "Apply"], 2),
            };
            assert_eq!((kept, built), (want, want_built), "{level:?}");
            assert_eq!(r.written(), r.records().len() as u64);
        }
    }
}
