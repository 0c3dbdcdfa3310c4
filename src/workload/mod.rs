//! Seeded workload generators: the scenario's `workload:` section.
//!
//! Comparing scheduling policies fairly needs the same random workload for every
//! policy under one seed (common random numbers). Each generator therefore draws
//! only from its own stream, `stream(seed, "workload/<name>")`, so no other
//! generator, controller or policy can shift its numbers.
//!
//! # Draw order
//!
//! Pod `k` of a generator consumes exactly [`WORDS_PER_POD`] (10) `u64` words of
//! the stream, words `10k .. 10k+10`, two per field in this order:
//!
//! | words | field                  | use                                               |
//! |-------|------------------------|---------------------------------------------------|
//! | 0, 1  | inter-arrival          | poisson: gap = −ln(u₀)/rate; `every`/`at`: unused |
//! | 2, 3  | `cpu`                  | per distribution (below)                          |
//! | 4, 5  | `memory`               |                                                   |
//! | 6, 7  | `runFor`               | drawn even when absent                            |
//! | 8, 9  | `priority`             |                                                   |
//!
//! Within a field: `constant` uses none; `uniform`, `choice` and `exponential`
//! use the first word; `lognormal` uses both (Box–Muller). Because every field
//! always takes its two words, changing one field's distribution (or arrival
//! pattern) leaves every other field of every pod unchanged: pod `k`'s memory
//! depends only on the seed, the generator name, `k` and the memory spec.
//!
//! Word → float: (0,1] as `((w >> 11) + 1) / 2^53`, [0,1) as `(w >> 11) / 2^53`.
//! `ln`/`exp`/`cos` come from [`detmath`], not libm, so results agree on every
//! platform.
//!
//! # YAML
//!
//! ```yaml
//! workload:
//!   generators:
//!     - name: batch                 # DNS-1123 label; pods batch-00000, batch-00001, ...
//!       namespace: default          # optional (default "default")
//!       arrivals:                   # exactly one of:
//!         poisson: {rate: 2/s}      #   N/ms, N/s, N/m, N/h, N/d; N may be fractional
//!         # every: 30s              #   first pod at start, then every 30s
//!         # at: [0s, 10s, 1m]       #   offsets from start, ascending
//!       start: 0s                   # optional, default 0s
//!       stop: 1h                    # optional; pods after start..=stop are dropped
//!       count: 500                  # optional cap; poisson/every need stop or count
//!       cpu: {uniform: [250m, 2]}   # default {constant: 100m}
//!       memory: {lognormal: {median: 512Mi, sigma: 0.5}}   # default {constant: 128Mi}
//!       runFor: {choice: [{value: 5m, weight: 3}, {value: 30m, weight: 1}]}  # absent: forever
//!       priority: {constant: 0}     # default 0
//!       labels: {app: batch}
//!       image: registry.example/batch:1   # default registry.example/app:1
//! ```
//!
//! Distributions: `constant: V`, `uniform: [lo, hi]` (inclusive), `choice:
//! [{value, weight}]`, `lognormal: {median, sigma, min?, max?}` (at least one
//! base unit), `exponential: {mean, min?, max?}`.

pub mod detmath;
pub mod dist;
pub mod trace;
pub mod traces;

use crate::sim::rng::{stream, SimRng};
use crate::sim::time::{SimDuration, SimTime};
use dist::{exact_duration, join, Sampler, WORDS_PER_FIELD};
pub use dist::{Bytes, Dist, Errors, Exponential, LogNormal, Millicores, Unit, Weighted};
use rand::Rng;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt;
use std::iter::FusedIterator;

/// Hard ceiling on pods per generator, so a typo cannot ask for a billion pods.
/// Validation rejects specs that would exceed it; generation also stops there,
/// since a Poisson stream may run slightly past its expected count.
pub const MAX_PODS_PER_GENERATOR: u64 = 10_000_000;
/// Random words each pod consumes, whatever its fields use (see the module docs).
pub const WORDS_PER_POD: usize = 5 * WORDS_PER_FIELD;
/// Namespace when none is given.
pub const DEFAULT_NAMESPACE: &str = "default";
/// Image when none is given.
pub const DEFAULT_IMAGE: &str = "registry.example/app:1";
/// CPU request when `cpu` is absent.
pub const DEFAULT_CPU_MILLIS: i64 = 100;
/// Memory request when `memory` is absent: 128Mi.
pub const DEFAULT_MEMORY: i64 = 128 << 20;

/// The `workload:` section.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct WorkloadSpec {
    #[serde(default)]
    pub generators: Vec<GeneratorSpec>,
    /// Pods replayed from trace files (see [`trace`]).
    #[serde(default)]
    pub traces: Vec<TraceEntry>,
    /// A production trace (see [`traces`]): `{format, path, window, sample, timeScale}`.
    #[serde(default)]
    pub trace: Option<traces::TraceHook>,
}

/// One `workload.traces` entry as written.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TraceEntry {
    pub name: String,
    /// CSV file, relative to the scenario file.
    pub file: String,
    #[serde(default)]
    pub namespace: Option<String>,
}

impl WorkloadSpec {
    /// Validates every generator (paths `<path>.generators[i]...`) and that names
    /// are unique: two generators with one name would share a stream and pod names.
    pub fn validate(&self, path: &str) -> Result<(), Errors> {
        let mut errs = Vec::new();
        let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
        for (i, g) in self.generators.iter().enumerate() {
            let p = format!("{}[{i}]", join(path, "generators"));
            if let Err(e) = g.validate(&p) {
                errs.extend(e);
            }
            if let Some(first) = seen.insert(&g.name, i) {
                errs.push((
                    join(&p, "name"),
                    format!(
                        "generator name {:?} is already used by generators[{first}]",
                        g.name
                    ),
                ));
            }
        }
        if errs.is_empty() {
            Ok(())
        } else {
            Err(errs)
        }
    }
}

/// One generator of identical-shaped pods.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct GeneratorSpec {
    pub name: String,
    #[serde(default)]
    pub namespace: Option<String>,
    pub arrivals: Arrivals,
    #[serde(default)]
    pub start: SimDuration,
    #[serde(default)]
    pub stop: Option<SimDuration>,
    #[serde(default)]
    pub count: Option<u64>,
    #[serde(default)]
    pub cpu: Option<Dist<Millicores>>,
    #[serde(default)]
    pub memory: Option<Dist<Bytes>>,
    #[serde(default)]
    pub run_for: Option<Dist<SimDuration>>,
    #[serde(default)]
    pub priority: Option<Dist<i32>>,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    #[serde(default)]
    pub image: Option<String>,
}

/// When pods arrive; in YAML a map with exactly one key.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(try_from = "RawArrivals")]
pub enum Arrivals {
    /// Exponential gaps with mean 1/rate; the first pod comes one gap after `start`.
    Poisson(PoissonSpec),
    /// A pod at `start`, then one every interval.
    Every(SimDuration),
    /// One pod at each offset from `start`, ascending.
    At(Vec<SimDuration>),
}

/// `poisson: {rate: 2/s}`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PoissonSpec {
    pub rate: Rate,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawArrivals {
    #[serde(default)]
    poisson: Option<PoissonSpec>,
    #[serde(default)]
    every: Option<SimDuration>,
    #[serde(default)]
    at: Option<Vec<SimDuration>>,
}

impl TryFrom<RawArrivals> for Arrivals {
    type Error = String;
    fn try_from(r: RawArrivals) -> Result<Self, String> {
        let mut found = Vec::new();
        let mut out = None;
        if let Some(p) = r.poisson {
            found.push("poisson");
            out = Some(Arrivals::Poisson(p));
        }
        if let Some(d) = r.every {
            found.push("every");
            out = Some(Arrivals::Every(d));
        }
        if let Some(v) = r.at {
            found.push("at");
            out = Some(Arrivals::At(v));
        }
        match (found.len(), out) {
            (1, Some(a)) => Ok(a),
            (0, _) => Err("expected exactly one of poisson, every, at".to_string()),
            _ => Err(format!(
                "expected exactly one of poisson, every, at; found {}",
                found.join(" and ")
            )),
        }
    }
}

/// An arrival rate such as `2/s`, `0.5/m` or `120/h`.
#[derive(Debug, Clone, PartialEq)]
pub struct Rate {
    /// Arrivals per `unit_ms`.
    pub count: f64,
    /// The time unit, in milliseconds.
    pub unit_ms: u64,
    text: String,
}

impl Rate {
    /// Parses `<number>/<unit>` with unit `ms`, `s`, `m`, `h` or `d`.
    pub fn parse(s: &str) -> Result<Rate, String> {
        let bad = || {
            format!(
                "invalid rate {s:?}: expected a count per unit of time such as 2/s, 30/m or 0.5/h"
            )
        };
        let (num, unit) = s.trim().split_once('/').ok_or_else(bad)?;
        let num = num.trim();
        let digits_ok = !num.is_empty()
            && num != "."
            && num.matches('.').count() <= 1
            && num.bytes().all(|b| b.is_ascii_digit() || b == b'.');
        if !digits_ok {
            return Err(bad());
        }
        let count: f64 = num.parse().map_err(|_| bad())?;
        if !count.is_finite() {
            return Err(format!("invalid rate {s:?}: number too large"));
        }
        let unit_ms = match unit.trim() {
            "ms" => 1,
            "s" => 1_000,
            "m" => 60_000,
            "h" => 3_600_000,
            "d" => 86_400_000,
            _ => return Err(bad()),
        };
        Ok(Rate {
            count,
            unit_ms,
            text: s.trim().to_string(),
        })
    }

    /// Mean gap between arrivals, in milliseconds (infinite for a zero rate).
    pub fn mean_gap_ms(&self) -> f64 {
        self.unit_ms as f64 / self.count
    }
}

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl<'de> Deserialize<'de> for Rate {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Rate;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a rate such as 2/s, 30/m or 0.5/h")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Rate, E> {
                Rate::parse(v).map_err(E::custom)
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Rate, E> {
                Err(E::custom(format!(
                    "a bare number ({v}) is not a rate: add a unit, e.g. {v}/s or {v}/m"
                )))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Rate, E> {
                self.visit_f64(v as f64)
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Rate, E> {
                self.visit_f64(v as f64)
            }
        }
        d.deserialize_any(V)
    }
}

/// RFC 1123 label: lowercase alphanumerics and '-', alphanumeric at both ends, ≤ 63.
fn dns1123_label(s: &str) -> Result<(), String> {
    let ok_char = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-';
    let b = s.as_bytes();
    if b.is_empty() || b.len() > 63 {
        return Err(format!(
            "expected a DNS-1123 label of 1 to 63 characters, got {s:?}"
        ));
    }
    if !b.iter().all(|&c| ok_char(c)) || b[0] == b'-' || b[b.len() - 1] == b'-' {
        return Err(format!(
            "expected a DNS-1123 label (lowercase letters, digits and '-', starting and ending with a letter or digit), got {s:?}"
        ));
    }
    Ok(())
}

/// Label name part / value charset: alphanumerics, '-', '_', '.', alphanumeric at both ends, ≤ 63.
fn label_token(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
}

fn label_key(k: &str) -> Result<(), String> {
    let (prefix, name) = match k.rsplit_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, k),
    };
    let prefix_ok = prefix.is_none_or(|p| {
        !p.is_empty() && p.len() <= 253 && p.split('.').all(|l| dns1123_label(l).is_ok())
    });
    if prefix_ok && label_token(name) {
        Ok(())
    } else {
        Err(format!(
            "invalid label key {k:?}: expected an optional DNS subdomain prefix and '/', then 1 to 63 of [A-Za-z0-9-_.] starting and ending alphanumeric"
        ))
    }
}

impl GeneratorSpec {
    /// Checks everything [`Generator`] relies on; `path` names this generator
    /// (e.g. `generators[0]`) and prefixes every error's path.
    pub fn validate(&self, path: &str) -> Result<(), Errors> {
        let mut errs: Errors = Vec::new();
        if let Err(m) = dns1123_label(&self.name) {
            errs.push((join(path, "name"), m));
        }
        if let Some(ns) = &self.namespace {
            if let Err(m) = dns1123_label(ns) {
                errs.push((join(path, "namespace"), m));
            }
        }
        let arr = join(path, "arrivals");
        // Upper bound on pods from the arrival pattern and window alone.
        let window_ms = self
            .stop
            .map(|s| s.as_millis().saturating_sub(self.start.as_millis()));
        let pattern_bound: Option<f64> = match &self.arrivals {
            Arrivals::Poisson(p) => {
                if !(p.rate.count.is_finite() && p.rate.count > 0.0) {
                    errs.push((
                        join(&join(&arr, "poisson"), "rate"),
                        format!("expected a positive rate, got {}", p.rate),
                    ));
                }
                window_ms.map(|w| w as f64 * p.rate.count / p.rate.unit_ms as f64)
            }
            Arrivals::Every(d) => {
                if d.as_millis() == 0 {
                    errs.push((
                        join(&arr, "every"),
                        "expected a positive interval, got 0s".to_string(),
                    ));
                }
                window_ms.map(|w| (w / d.as_millis().max(1)) as f64 + 1.0)
            }
            Arrivals::At(times) => {
                if times.is_empty() {
                    errs.push((
                        join(&arr, "at"),
                        "expected at least one arrival time".to_string(),
                    ));
                }
                for (i, pair) in times.windows(2).enumerate() {
                    if pair[1] < pair[0] {
                        errs.push((
                            format!("{}[{}]", join(&arr, "at"), i + 1),
                            format!(
                                "expected times in ascending order: {} comes after {}",
                                exact_duration(pair[1].as_millis()),
                                exact_duration(pair[0].as_millis())
                            ),
                        ));
                    }
                }
                Some(times.len() as f64)
            }
        };
        if let Some(stop) = self.stop {
            if stop < self.start {
                errs.push((
                    join(path, "stop"),
                    format!(
                        "stop {} is before start {}",
                        exact_duration(stop.as_millis()),
                        exact_duration(self.start.as_millis())
                    ),
                ));
            }
        }
        let unbounded = !matches!(self.arrivals, Arrivals::At(_));
        if unbounded && self.stop.is_none() && self.count.is_none() {
            errs.push((
                path.to_string(),
                "expected stop or count (or both): poisson and every arrivals never end by themselves"
                    .to_string(),
            ));
        }
        let count_bound = self.count.map(|c| c as f64);
        let bound = match (count_bound, pattern_bound) {
            (Some(c), Some(p)) => Some(c.min(p)),
            (c, p) => c.or(p),
        };
        if let Some(n) = bound {
            if n > MAX_PODS_PER_GENERATOR as f64 {
                let (p, why) = match (self.count, pattern_bound) {
                    (Some(c), None) => (join(path, "count"), format!("count {c} is too many")),
                    _ => (
                        path.to_string(),
                        format!(
                            "{} from {} to {} gives about {n:.0} pods{}",
                            match &self.arrivals {
                                Arrivals::Poisson(p) => format!("rate {}", p.rate),
                                Arrivals::Every(d) =>
                                    format!("every {}", exact_duration(d.as_millis())),
                                Arrivals::At(_) => "the at list".to_string(),
                            },
                            exact_duration(self.start.as_millis()),
                            exact_duration(self.stop.unwrap_or_default().as_millis()),
                            if self.count.is_some() {
                                " and count is larger still"
                            } else {
                                ""
                            }
                        ),
                    ),
                };
                errs.push((
                    p,
                    format!("expected at most {MAX_PODS_PER_GENERATOR} pods per generator: {why}"),
                ));
            }
        }
        if let Some(d) = &self.cpu {
            d.validate(&join(path, "cpu"), &mut errs);
        }
        if let Some(d) = &self.memory {
            d.validate(&join(path, "memory"), &mut errs);
        }
        if let Some(d) = &self.run_for {
            d.validate(&join(path, "runFor"), &mut errs);
        }
        if let Some(d) = &self.priority {
            d.validate(&join(path, "priority"), &mut errs);
        }
        for (k, v) in &self.labels {
            let p = join(&join(path, "labels"), k);
            if let Err(m) = label_key(k) {
                errs.push((p.clone(), m));
            }
            if !(v.is_empty() || label_token(v)) {
                errs.push((
                    p,
                    format!("invalid label value {v:?}: expected at most 63 of [A-Za-z0-9-_.] starting and ending alphanumeric"),
                ));
            }
        }
        if let Some(img) = &self.image {
            if img.is_empty() || img.chars().any(char::is_whitespace) {
                errs.push((
                    join(path, "image"),
                    format!("expected an image reference without spaces, got {img:?}"),
                ));
            }
        }
        if errs.is_empty() {
            Ok(())
        } else {
            Err(errs)
        }
    }
}

/// One generated pod arrival.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arrival {
    pub time: SimTime,
    /// `<generator>-<index:05>`.
    pub name: String,
    pub namespace: String,
    pub cpu_millis: i64,
    /// Bytes.
    pub memory: i64,
    /// `None`: runs until deleted.
    pub run_for: Option<SimDuration>,
    pub priority: i32,
    pub labels: BTreeMap<String, String>,
    pub image: String,
    /// Position within its generator, from 0.
    pub index: u64,
}

/// Precomputed arrival pattern, with its running state.
#[derive(Debug, Clone)]
enum Pattern {
    /// Continuous elapsed time since `start` (ms), rounded only on output so
    /// per-gap rounding never accumulates.
    Poisson {
        mean_gap_ms: f64,
        elapsed: f64,
    },
    Every(u64),
    At(Vec<u64>),
}

/// Streams arrivals in time order without materialising them all (a 10M-pod
/// generator must not allocate 10M entries).
#[derive(Debug, Clone)]
pub struct Generator {
    rng: SimRng,
    name: String,
    namespace: String,
    image: String,
    labels: BTreeMap<String, String>,
    pattern: Pattern,
    start_ms: u64,
    stop_ms: Option<u64>,
    /// `count`, capped at [`MAX_PODS_PER_GENERATOR`].
    limit: u64,
    cpu: Sampler,
    memory: Sampler,
    run_for: Option<Sampler>,
    priority: Sampler,
    index: u64,
    done: bool,
}

impl Generator {
    /// A generator for `spec` under `seed`. An invalid spec (see
    /// [`GeneratorSpec::validate`]) yields no pods; use [`Generator::try_new`]
    /// to get the reasons instead.
    pub fn new(spec: &GeneratorSpec, seed: u64) -> Generator {
        let valid = spec.validate("").is_ok();
        let mut g = Generator::build(spec, seed);
        g.done = !valid;
        g
    }

    /// Like [`Generator::new`], but returns the validation errors (paths
    /// relative to the generator, e.g. `cpu.uniform`).
    pub fn try_new(spec: &GeneratorSpec, seed: u64) -> Result<Generator, Errors> {
        spec.validate("")?;
        Ok(Generator::build(spec, seed))
    }

    fn build(spec: &GeneratorSpec, seed: u64) -> Generator {
        let pattern = match &spec.arrivals {
            Arrivals::Poisson(p) => Pattern::Poisson {
                mean_gap_ms: p.rate.mean_gap_ms(),
                elapsed: 0.0,
            },
            Arrivals::Every(d) => Pattern::Every(d.as_millis()),
            Arrivals::At(v) => Pattern::At(v.iter().map(|d| d.as_millis()).collect()),
        };
        Generator {
            rng: stream(seed, &format!("workload/{}", spec.name)),
            name: spec.name.clone(),
            namespace: spec
                .namespace
                .clone()
                .unwrap_or_else(|| DEFAULT_NAMESPACE.to_string()),
            image: spec
                .image
                .clone()
                .unwrap_or_else(|| DEFAULT_IMAGE.to_string()),
            labels: spec.labels.clone(),
            pattern,
            start_ms: spec.start.as_millis(),
            stop_ms: spec.stop.map(|s| s.as_millis()),
            limit: spec
                .count
                .unwrap_or(MAX_PODS_PER_GENERATOR)
                .min(MAX_PODS_PER_GENERATOR),
            cpu: spec
                .cpu
                .as_ref()
                .map_or(Sampler::Constant(DEFAULT_CPU_MILLIS), Sampler::new),
            memory: spec
                .memory
                .as_ref()
                .map_or(Sampler::Constant(DEFAULT_MEMORY), Sampler::new),
            run_for: spec.run_for.as_ref().map(Sampler::new),
            priority: spec
                .priority
                .as_ref()
                .map_or(Sampler::Constant(0), Sampler::new),
            index: 0,
            done: false,
        }
    }

    /// The generator's name (the pod-name prefix).
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl Iterator for Generator {
    type Item = Arrival;

    fn next(&mut self) -> Option<Arrival> {
        if self.done || self.index >= self.limit {
            self.done = true;
            return None;
        }
        let k = self.index;
        let mut w = [0u64; WORDS_PER_POD];
        for x in &mut w {
            *x = self.rng.next_u64();
        }
        let field = |i: usize| [w[2 * i], w[2 * i + 1]];
        let offset = match &mut self.pattern {
            Pattern::Poisson {
                mean_gap_ms,
                elapsed,
            } => {
                *elapsed += -*mean_gap_ms * detmath::ln(dist::unit_open0(w[0]));
                // saturating float-to-int cast; round half away from zero
                Some(elapsed.round() as u64)
            }
            Pattern::Every(every) => Some(every.saturating_mul(k)),
            Pattern::At(times) => usize::try_from(k).ok().and_then(|i| times.get(i).copied()),
        };
        let Some(offset) = offset else {
            self.done = true;
            return None;
        };
        let t = self.start_ms.saturating_add(offset);
        if self.stop_ms.is_some_and(|stop| t > stop) {
            self.done = true;
            return None;
        }
        self.index += 1;
        Some(Arrival {
            time: SimTime::from_millis(t),
            name: format!("{}-{k:05}", self.name),
            namespace: self.namespace.clone(),
            cpu_millis: self.cpu.sample(field(1)),
            memory: self.memory.sample(field(2)),
            run_for: self.run_for.as_ref().map(|s| {
                let ms = s.sample(field(3));
                SimDuration::from_millis(u64::try_from(ms).unwrap_or(0))
            }),
            priority: i32::try_from(self.priority.sample(field(4))).unwrap_or_default(),
            labels: self.labels.clone(),
            image: self.image.clone(),
            index: k,
        })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        if self.done {
            return (0, Some(0));
        }
        let mut left = self.limit - self.index;
        if let Pattern::At(times) = &self.pattern {
            left = left.min((times.len() as u64).saturating_sub(self.index));
        }
        (0, usize::try_from(left).ok())
    }
}

impl FusedIterator for Generator {}

/// Several generators merged in (time, generator index) order, streaming: it
/// holds one pending arrival per generator.
///
/// A named type rather than `impl Iterator` so the engine can keep it in a struct.
pub struct Merged {
    generators: Vec<Box<dyn Iterator<Item = Arrival> + Send>>,
    heads: Vec<Option<Arrival>>,
}

impl Merged {
    /// Time of the next arrival, if any: when to schedule the next pull.
    pub fn peek_time(&self) -> Option<SimTime> {
        self.heads.iter().flatten().map(|a| a.time).min()
    }

    /// Index (into the specs) of the generator the next arrival comes from.
    fn next_source(&self) -> Option<usize> {
        self.heads
            .iter()
            .enumerate()
            .filter_map(|(i, h)| h.as_ref().map(|a| (a.time, i)))
            .min()
            .map(|(_, i)| i)
    }
}

impl Iterator for Merged {
    type Item = Arrival;

    fn next(&mut self) -> Option<Arrival> {
        let i = self.next_source()?;
        let refill = self.generators[i].next();
        std::mem::replace(&mut self.heads[i], refill)
    }
}

impl FusedIterator for Merged {}

/// Merge several generators in (time, generator index) order, streaming. Each
/// generator keeps its own stream, so adding one never changes another's pods.
/// Validate the specs first: an invalid one contributes no pods (see [`Generator::new`]).
pub fn merged(specs: &[GeneratorSpec], seed: u64) -> Merged {
    merged_with_traces(specs, &[], seed)
}

/// [`merged`] with trace files after the generators (ties go to the earlier source).
pub fn merged_with_traces(
    specs: &[GeneratorSpec],
    traces: &[trace::TraceSpec],
    seed: u64,
) -> Merged {
    let mut generators: Vec<Box<dyn Iterator<Item = Arrival> + Send>> = specs
        .iter()
        .map(|s| Box::new(Generator::new(s, seed)) as Box<dyn Iterator<Item = Arrival> + Send>)
        .collect();
    generators.extend(
        traces.iter().map(|t| {
            Box::new(trace::TraceReader::new(t)) as Box<dyn Iterator<Item = Arrival> + Send>
        }),
    );
    let heads = generators.iter_mut().map(Iterator::next).collect();
    Merged { generators, heads }
}

#[cfg(test)]
mod tests;

/// The component name of generated pods' creator in the event log.
pub const COMPONENT: &str = "workload";

/// Turn an arrival into a Pod, created through the API like any client would.
pub fn create_pod(ctx: &mut crate::sim::Ctx, a: Arrival) {
    use crate::api::pod::{Container, PodSpec, PullPolicy};
    use crate::api::resources::ResourceList;
    use crate::api::{ObjectMeta, Pod};
    use crate::metrics::EventType;
    let mut meta = ObjectMeta::new(&a.namespace, &a.name);
    meta.labels = a.labels;
    if let Some(d) = a.run_for {
        meta.annotations.insert(
            crate::node::kubelet::RUN_FOR.into(),
            format!("{}ms", d.as_millis()),
        );
    }
    let spec = PodSpec {
        containers: vec![Container {
            name: "main".into(),
            image_pull_policy: PullPolicy::default_for(&a.image),
            image: a.image,
            requests: ResourceList {
                cpu_millis: Some(a.cpu_millis),
                memory: Some(a.memory),
                ..Default::default()
            },
            limits: ResourceList::default(),
            ports: Vec::new(),
        }],
        priority: a.priority,
        ..Default::default()
    };
    let object = crate::api::meta::object_ref(crate::api::Kind::Pod, &meta.key());
    let pod = Pod {
        meta,
        spec: std::sync::Arc::new(spec),
        node_name: None,
        status: Default::default(),
    };
    let (ty, msg) = match ctx.api.create(pod) {
        Ok(p) => (EventType::Normal, format!("pod/{} created", p.meta.name)),
        Err(e) => (EventType::Warning, format!("Error from server: {e}")),
    };
    ctx.event(COMPONENT, ty, "Apply", object, msg);
}
