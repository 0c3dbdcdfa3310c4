//! `kubesim trace`: every control loop's decisions (observed → desired → action,
//! because …) interleaved with the Kubernetes events, in virtual time.

use super::parse_ref;
use crate::metrics::Record;
use crate::sim::time::{SimDuration, SimTime};

/// Which records to show.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Component name, or its prefix (`kubelet` matches every `kubelet/NODE`).
    pub component: Option<String>,
    /// `KIND/NAME`: records about that object (any namespace).
    pub object: Option<String>,
    pub from: Option<SimTime>,
    pub to: Option<SimTime>,
}

impl Filter {
    pub fn check(&self) -> Result<(), String> {
        if let Some(o) = &self.object {
            parse_ref(o)?;
        }
        Ok(())
    }

    pub fn keeps(&self, r: &Record) -> bool {
        if let Some(c) = &self.component {
            if !(r.component == *c || r.component.starts_with(&format!("{c}/"))) {
                return false;
            }
        }
        if let Some(o) = &self.object {
            if let Ok((kind, name)) = parse_ref(o) {
                let mut parts = r.object.split('/');
                let k = parts.next().unwrap_or("");
                let last = r.object.rsplit('/').next().unwrap_or("");
                if k != kind.as_str() || last != name {
                    return false;
                }
            }
        }
        let t = SimTime::from_millis(r.time_ms);
        self.from.is_none_or(|f| t >= f) && self.to.is_none_or(|u| t <= u)
    }
}

fn stamp(ms: u64) -> String {
    let d = SimDuration::from_millis(ms);
    let secs = ms / 1000;
    format!(
        "{:>2}:{:02}:{:02}.{:03} ({})",
        secs / 3600,
        (secs / 60) % 60,
        secs % 60,
        ms % 1000,
        crate::sim::time::human(d)
    )
}

/// The narrated trace of `records`.
pub fn render(records: &[Record], f: &Filter) -> String {
    let mut s = String::new();
    for r in records.iter().filter(|r| f.keeps(r)) {
        s.push_str(&format!(
            "{}  {:<26} {:<7} {:<20} {}\n",
            stamp(r.time_ms),
            r.component,
            match r.event_type {
                crate::metrics::EventType::Normal => "Normal",
                crate::metrics::EventType::Warning => "Warning",
            },
            r.reason,
            r.object
        ));
        if let (Some(o), Some(d), Some(a)) = (&r.observed, &r.desired, &r.action) {
            s.push_str(&format!(
                "      observed: {o}\n      desired:  {d}\n      action:   {a}\n"
            ));
            s.push_str(&format!("      because:  {}\n", r.message));
        } else {
            s.push_str(&format!("      {}\n", r.message));
        }
    }
    s
}
