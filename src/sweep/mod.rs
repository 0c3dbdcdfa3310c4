//! `kubesim sweep`: one scenario over a grid of parameter values × scheduling
//! policies × seeds, and the grid machinery `compare` shares with it (shards
//! and their merge, in [`shard`]).
//!
//! A sweep file names a base scenario, the parameters to vary (dotted paths
//! into the scenario's YAML, each with a list of values), the policies and the
//! seeds:
//!
//! ```yaml
//! name: binpacking-size
//! scenario: ../compare-binpacking.yaml   # relative to the sweep file
//! until: 30m                             # optional: overrides the scenario's
//! parameters:
//!   cluster.nodePools[0].count: [10, 20]
//!   workload.generators[0].arrivals.poisson.rate: [0.25/s, 0.5/s]
//! policies: [least-allocated, most-allocated]
//! seeds: {from: 1, to: 5}                # or a list [1, 2, 7], or a count 5 (1..=5)
//! ```
//!
//! Every combination of parameter values is a *variant* of the scenario: the
//! base YAML with each path set to its value. A path is keys separated by `.`,
//! each optionally followed by list indexes (`nodePools[0]`); every step but
//! the last must exist in the base scenario, and the last may add a new key to
//! an existing mapping. `seed` cannot be a parameter (that is what `seeds` is).
//!
//! **Grid order.** The grid is expanded variant-major, then policy, then seed:
//! variants in the order of the cartesian product with the *first* parameter
//! varying slowest (nested loops in declaration order), policies in the order
//! given, seeds in the order given. Grid index `i` is
//! `(variant × policies + policy) × seeds + seed`. A `compare` is the same
//! grid with no parameters (one variant), so its order is policy-major, then
//! seed, as it always was.

pub mod shard;

use crate::compare::{self, Comparison, GridPoint, Metric, RunResult, METRICS};
use crate::scenario::{self, Scenario};
use crate::scheduler::policies::Registry;
use crate::sim::time::SimDuration;
use serde::ser::SerializeMap;
use serde::{Deserialize, Serialize, Serializer};
use std::path::{Path, PathBuf};

pub use shard::{merge, write_shard, Shard};

/// Refuse grids larger than this (a typo in a range should not fill the disk).
pub const MAX_POINTS: usize = 10_000_000;

/// Everything that defines a grid: what every shard records in its
/// `shard.json`, and what `merge` checks is the same across shards.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GridDesc {
    /// `compare` or `sweep`: which outputs the grid produces.
    pub kind: String,
    /// The sweep's name (the scenario's name for a compare).
    pub name: String,
    /// The base scenario's name.
    pub scenario: String,
    /// The parameters, in declaration order, with their values.
    pub parameters: Vec<ParamDesc>,
    pub policies: Vec<String>,
    pub seeds: Vec<u64>,
    /// The `until` override, if any (milliseconds of virtual time).
    pub until_ms: Option<u64>,
    /// Hash of the base scenario file's text (FNV-1a 64, hex): shards run
    /// against an edited scenario do not merge.
    pub inputs: String,
}

/// One parameter of a grid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParamDesc {
    /// The dotted path, as written in the sweep file.
    pub path: String,
    /// Each value as compact JSON text (exact: floats in shortest round-trip form).
    pub values: Vec<String>,
}

/// Where a grid index points: (variant, policy index, seed index).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PointRef {
    pub variant: usize,
    pub policy: usize,
    pub seed: usize,
}

impl GridDesc {
    /// Number of scenario variants (1 with no parameters).
    pub fn variants(&self) -> usize {
        self.parameters.iter().map(|p| p.values.len()).product()
    }

    /// Number of grid points (runs).
    pub fn len(&self) -> usize {
        self.variants() * self.policies.len() * self.seeds.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The grid point of index `i` (see the module docs for the order).
    pub fn point(&self, i: usize) -> PointRef {
        let s = self.seeds.len();
        let p = self.policies.len();
        PointRef {
            variant: i / (p * s),
            policy: (i / s) % p,
            seed: i % s,
        }
    }

    /// The value index of each parameter in variant `v` (first parameter slowest).
    pub fn variant_digits(&self, mut v: usize) -> Vec<usize> {
        let mut digits = vec![0; self.parameters.len()];
        for (k, p) in self.parameters.iter().enumerate().rev() {
            let n = p.values.len();
            digits[k] = v % n;
            v /= n;
        }
        digits
    }

    /// Variant `v`'s (path, value) pairs, values parsed back from their JSON text.
    pub fn assignments(&self, v: usize) -> Vec<(String, serde_yaml::Value)> {
        self.variant_digits(v)
            .into_iter()
            .zip(&self.parameters)
            .map(|(d, p)| {
                let value = serde_yaml::from_str(&p.values[d]).unwrap_or(serde_yaml::Value::Null);
                (p.path.clone(), value)
            })
            .collect()
    }

    /// `path=value, path=value` for people.
    pub fn label(&self, v: usize) -> String {
        if self.parameters.is_empty() {
            return "(the base scenario)".into();
        }
        self.assignments(v)
            .iter()
            .map(|(p, v)| format!("{p}={}", show_value(v)))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The grid's identity: FNV-1a 64 of its canonical JSON, as 16 hex digits.
    pub fn hash(&self) -> String {
        let json = serde_json::to_string(self).expect("a grid serializes");
        format!("{:016x}", fnv1a64(json.as_bytes()))
    }

    /// One line for people: `sweep NAME of scenario S: 4 variants × 2 policies × 5 seeds = 40 runs`.
    pub fn summary(&self) -> String {
        let plural =
            |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
        let runs = format!(
            "{} × {} = {}",
            plural(self.policies.len(), "policy", "policies"),
            plural(self.seeds.len(), "seed", "seeds"),
            plural(self.len(), "run", "runs")
        );
        if self.kind == "compare" {
            format!("compare of scenario {}: {runs}", self.scenario)
        } else {
            format!(
                "{} {} of scenario {}: {} × {runs}",
                self.kind,
                self.name,
                self.scenario,
                plural(self.variants(), "variant", "variants")
            )
        }
    }

    /// Whether the grid is well formed (it came from a file that could have
    /// been edited): at least one policy, seed and value of each parameter.
    pub fn check(&self) -> Result<(), String> {
        if self.policies.is_empty() || self.seeds.is_empty() {
            return Err("the grid has no policies or no seeds".into());
        }
        if let Some(p) = self.parameters.iter().find(|p| p.values.is_empty()) {
            return Err(format!("parameter `{}` has no values", p.path));
        }
        if self.kind != "compare" && self.kind != "sweep" {
            return Err(format!(
                "unknown grid kind {:?} (expected compare or sweep)",
                self.kind
            ));
        }
        Ok(())
    }
}

/// FNV-1a, 64 bits: stable across machines and versions.
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// A scalar as written; anything else as compact JSON.
fn show_value(v: &serde_yaml::Value) -> String {
    match v {
        serde_yaml::Value::String(s) => s.clone(),
        serde_yaml::Value::Number(n) => n.to_string(),
        serde_yaml::Value::Bool(b) => b.to_string(),
        serde_yaml::Value::Null => "null".into(),
        other => serde_json::to_string(other).unwrap_or_else(|_| format!("{other:?}")),
    }
}

/// A grid ready to run: its description and the scenario of every variant.
#[derive(Debug, Clone)]
pub struct Plan {
    pub desc: GridDesc,
    pub scenarios: Vec<Scenario>,
}

/// One finished run and where it sits in the grid.
#[derive(Debug, Clone, PartialEq)]
pub struct Run {
    pub index: usize,
    pub variant: usize,
    pub result: RunResult,
}

impl Plan {
    /// The grid of `compare`: one scenario (already loaded, `until` already
    /// applied), no parameters. `scenario_text` is the scenario file's text.
    pub fn for_compare(
        scenario: Scenario,
        scenario_text: &str,
        policies: &[String],
        seeds: &[u64],
        until: Option<SimDuration>,
    ) -> Plan {
        Plan {
            desc: GridDesc {
                kind: "compare".into(),
                name: scenario.name.clone(),
                scenario: scenario.name.clone(),
                parameters: Vec::new(),
                policies: policies.to_vec(),
                seeds: seeds.to_vec(),
                until_ms: until.map(|u| u.as_millis()),
                inputs: format!("{:016x}", fnv1a64(scenario_text.as_bytes())),
            },
            scenarios: vec![scenario],
        }
    }

    /// Load a sweep file, expand its grid and load every variant of the
    /// scenario (so a bad variant fails before anything runs). `until`
    /// overrides the sweep file's and the scenario's.
    pub fn for_sweep(
        path: &Path,
        until: Option<SimDuration>,
        registry: &Registry,
    ) -> Result<Plan, String> {
        let spec = SweepSpec::load(path)?;
        spec.plan(until, registry)
    }

    /// Run the grid points of `shard` (every point for [`Shard::WHOLE`]), in
    /// grid order, on `threads` threads (None: every core).
    pub fn run(
        &self,
        shard: Shard,
        registry: &Registry,
        threads: Option<usize>,
    ) -> Result<Vec<Run>, String> {
        let progress = crate::progress::GridProgress::hidden(shard.len_of(self.desc.len()));
        self.run_with_progress(shard, registry, threads, &progress)
    }

    /// [`Plan::run`], counting finished runs on `progress` (display only).
    pub fn run_with_progress(
        &self,
        shard: Shard,
        registry: &Registry,
        threads: Option<usize>,
        progress: &crate::progress::GridProgress,
    ) -> Result<Vec<Run>, String> {
        let indices: Vec<usize> = (0..self.desc.len())
            .filter(|i| shard.contains(*i))
            .collect();
        let points: Vec<GridPoint> = indices
            .iter()
            .map(|&i| {
                let r = self.desc.point(i);
                GridPoint {
                    scenario: &self.scenarios[r.variant],
                    policy: &self.desc.policies[r.policy],
                    seed: self.desc.seeds[r.seed],
                }
            })
            .collect();
        let results = compare::run_points_with_progress(&points, registry, threads, progress)?;
        Ok(indices
            .into_iter()
            .zip(results)
            .map(|(index, result)| Run {
                index,
                variant: self.desc.point(index).variant,
                result,
            })
            .collect())
    }
}

/// The result of a whole grid, as `compare` or `sweep` report it.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Compare(Comparison),
    Sweep(SweepResult),
}

/// The aggregate of every run of a grid (`runs` complete and in grid order).
/// Unsharded runs and merged shards both come through here, which is what
/// makes their outputs byte-identical.
pub fn outcome(desc: &GridDesc, runs: Vec<Run>) -> Result<Outcome, String> {
    if runs.len() != desc.len() || runs.iter().enumerate().any(|(i, r)| r.index != i) {
        return Err(format!(
            "internal error: {} runs for a grid of {}",
            runs.len(),
            desc.len()
        ));
    }
    match desc.kind.as_str() {
        "compare" => {
            let results = runs.into_iter().map(|r| r.result).collect();
            Ok(Outcome::Compare(compare::aggregate(
                &desc.scenario,
                &desc.policies,
                &desc.seeds,
                results,
            )))
        }
        "sweep" => {
            let per = desc.policies.len() * desc.seeds.len();
            let mut results = runs.into_iter().map(|r| r.result);
            let variants = (0..desc.variants())
                .map(|v| {
                    let mine: Vec<RunResult> = results.by_ref().take(per).collect();
                    VariantResult {
                        index: v,
                        label: desc.label(v),
                        values: Assignments(desc.assignments(v)),
                        comparison: compare::aggregate(
                            &desc.scenario,
                            &desc.policies,
                            &desc.seeds,
                            mine,
                        ),
                    }
                })
                .collect();
            Ok(Outcome::Sweep(SweepResult {
                sweep: desc.name.clone(),
                scenario: desc.scenario.clone(),
                parameters: desc
                    .parameters
                    .iter()
                    .map(|p| ParamOut {
                        path: p.path.clone(),
                        values: p
                            .values
                            .iter()
                            .map(|v| serde_yaml::from_str(v).unwrap_or(serde_yaml::Value::Null))
                            .collect(),
                    })
                    .collect(),
                policies: desc.policies.clone(),
                seeds: desc.seeds.clone(),
                until_ms: desc.until_ms,
                metrics: METRICS.to_vec(),
                variants,
            }))
        }
        k => Err(format!(
            "unknown grid kind {k:?} (expected compare or sweep)"
        )),
    }
}

impl Outcome {
    /// The tables printed on the terminal.
    pub fn table(&self) -> String {
        match self {
            Outcome::Compare(c) => compare::table(c),
            Outcome::Sweep(s) => sweep_table(s),
        }
    }

    /// Write the output files into `dir` (which must exist); returns every
    /// file written, in order.
    pub fn write(&self, dir: &Path) -> Result<Vec<PathBuf>, String> {
        match self {
            Outcome::Compare(c) => {
                let mut files = vec![dir.join("comparison.json"), dir.join("comparison.csv")];
                files.extend(compare::write_outputs(c, dir)?);
                Ok(files)
            }
            Outcome::Sweep(s) => {
                let json = dir.join("sweep.json");
                let bytes = serde_json::to_vec_pretty(s).map_err(|e| e.to_string())?;
                crate::output::write_atomic(&json, &bytes)
                    .map_err(|e| format!("cannot write {}: {e}", json.display()))?;
                let csv = dir.join("sweep.csv");
                crate::output::write_atomic(&csv, sweep_csv(s).as_bytes())
                    .map_err(|e| format!("cannot write {}: {e}", csv.display()))?;
                Ok(vec![json, csv])
            }
        }
    }
}

/// What `sweep.json` holds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SweepResult {
    pub sweep: String,
    pub scenario: String,
    pub parameters: Vec<ParamOut>,
    pub policies: Vec<String>,
    pub seeds: Vec<u64>,
    pub until_ms: Option<u64>,
    pub metrics: Vec<Metric>,
    /// Every variant in grid order, each with the comparison of its policies
    /// over the seeds (every run, per-policy stats, paired differences).
    pub variants: Vec<VariantResult>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ParamOut {
    pub path: String,
    pub values: Vec<serde_yaml::Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VariantResult {
    pub index: usize,
    pub label: String,
    /// path → value, in parameter order.
    pub values: Assignments,
    pub comparison: Comparison,
}

/// (path, value) pairs that serialize as a JSON object in their own order.
#[derive(Debug, Clone, PartialEq)]
pub struct Assignments(pub Vec<(String, serde_yaml::Value)>);

impl Serialize for Assignments {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

fn sweep_table(s: &SweepResult) -> String {
    let plural =
        |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    let mut out = format!(
        "sweep {} of scenario {}: {} × {} × {}\n",
        s.sweep,
        s.scenario,
        plural(s.variants.len(), "variant", "variants"),
        plural(s.policies.len(), "policy", "policies"),
        plural(s.seeds.len(), "seed", "seeds")
    );
    for v in &s.variants {
        out.push_str(&format!(
            "\nvariant {} of {}: {}\n",
            v.index + 1,
            s.variants.len(),
            v.label
        ));
        out.push_str(&compare::table(&v.comparison));
    }
    out
}

/// Quote a CSV field when it needs it (RFC 4180).
fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// One row per run: grid index, variant, every parameter, policy, seed, metrics.
pub fn sweep_csv(s: &SweepResult) -> String {
    let mut out = String::from("index,variant");
    for p in &s.parameters {
        out.push(',');
        out.push_str(&csv_field(&p.path));
    }
    out.push_str(",policy,seed");
    for m in METRICS {
        out.push(',');
        out.push_str(m.name);
    }
    out.push('\n');
    let mut index = 0usize;
    for v in &s.variants {
        for r in &v.comparison.runs {
            out.push_str(&format!("{index},{}", v.index));
            for (_, value) in &v.values.0 {
                out.push(',');
                out.push_str(&csv_field(&show_value(value)));
            }
            out.push_str(&format!(",{},{}", csv_field(&r.policy), r.seed));
            for m in METRICS {
                out.push(',');
                if let Some(x) = r.figures.get(m.name) {
                    out.push_str(&format!("{x}"));
                }
            }
            out.push('\n');
            index += 1;
        }
    }
    out
}

// ---------------------------------------------------------------------------
// Sweep files.

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSweep {
    name: Option<String>,
    #[allow(dead_code)]
    description: Option<String>,
    scenario: String,
    until: Option<String>,
    #[serde(default)]
    parameters: serde_yaml::Mapping,
    policies: Vec<String>,
    seeds: RawSeeds,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RawSeeds {
    Count(u64),
    List(Vec<u64>),
    Range(RawRange),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRange {
    from: u64,
    to: u64,
}

/// One step of a parameter path.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Key(String),
    Index(usize),
}

/// A parsed sweep file.
#[derive(Debug, Clone)]
pub struct SweepSpec {
    pub path: PathBuf,
    pub name: String,
    /// The base scenario, resolved against the sweep file's folder.
    pub scenario_path: PathBuf,
    pub until: Option<SimDuration>,
    /// (dotted path, values) in declaration order.
    pub parameters: Vec<(String, Vec<serde_yaml::Value>)>,
    pub policies: Vec<String>,
    pub seeds: Vec<u64>,
}

impl SweepSpec {
    /// Read and check a sweep file (not yet the scenario it names).
    pub fn load(path: &Path) -> Result<SweepSpec, String> {
        let f = path.display();
        let text = std::fs::read_to_string(path).map_err(|e| format!("{f}: cannot read: {e}"))?;
        let raw: RawSweep = serde_yaml::from_str(&text).map_err(|e| {
            let hint = if e.to_string().contains("RawSeeds") {
                " (seeds: a count N for 1..=N, a list [1, 2, 5], or {from: A, to: B})".to_string()
            } else {
                String::new()
            };
            format!("{f}: not a valid sweep file: {e}{hint}")
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        let scenario_path = base.join(&raw.scenario);
        let until = match &raw.until {
            Some(u) => Some(SimDuration::parse(u).map_err(|e| format!("{f}: until: {u:?}: {e}"))?),
            None => None,
        };
        let mut parameters = Vec::new();
        for (k, v) in &raw.parameters {
            let key = match k {
                serde_yaml::Value::String(s) => s.clone(),
                other => {
                    return Err(format!(
                        "{f}: parameters: a key must be a dotted path like cluster.nodePools[0].count, not {}",
                        show_value(other)
                    ))
                }
            };
            parse_path(&key).map_err(|e| format!("{f}: parameter `{key}`: {e}"))?;
            if key == "seed" {
                return Err(format!(
                    "{f}: parameter `seed`: seeds are set by `seeds:`, not as a parameter"
                ));
            }
            let values = match v {
                serde_yaml::Value::Sequence(s) if !s.is_empty() => s.clone(),
                serde_yaml::Value::Sequence(_) => {
                    return Err(format!(
                        "{f}: parameter `{key}`: the list of values is empty"
                    ))
                }
                _ => {
                    return Err(format!(
                        "{f}: parameter `{key}`: expected a list of values, e.g. `{key}: [1, 2]`"
                    ))
                }
            };
            for x in &values {
                serde_json::to_string(x).map_err(|e| {
                    format!("{f}: parameter `{key}`: value {x:?} cannot be recorded: {e}")
                })?;
            }
            parameters.push((key, values));
        }
        if raw.policies.is_empty() {
            return Err(format!("{f}: policies: give at least one policy"));
        }
        let seeds = match raw.seeds {
            RawSeeds::Count(0) => return Err(format!("{f}: seeds: the count must be at least 1")),
            RawSeeds::Count(n) => (1..=n).collect(),
            RawSeeds::List(l) if l.is_empty() => {
                return Err(format!("{f}: seeds: the list is empty"))
            }
            RawSeeds::List(l) => l,
            RawSeeds::Range(r) if r.from > r.to => {
                return Err(format!("{f}: seeds: from {} is after to {}", r.from, r.to))
            }
            RawSeeds::Range(r) => {
                if r.to - r.from >= MAX_POINTS as u64 {
                    return Err(format!("{f}: seeds: more than {MAX_POINTS} seeds"));
                }
                (r.from..=r.to).collect()
            }
        };
        let mut points: usize = raw.policies.len().saturating_mul(seeds.len());
        for (_, v) in &parameters {
            points = points.saturating_mul(v.len());
        }
        if points > MAX_POINTS {
            return Err(format!(
                "{f}: the grid has {points} points, more than the limit of {MAX_POINTS}"
            ));
        }
        let name = raw.name.unwrap_or_else(|| {
            path.file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| "sweep".into())
        });
        Ok(SweepSpec {
            path: path.to_path_buf(),
            name,
            scenario_path,
            until,
            parameters,
            policies: raw.policies,
            seeds,
        })
    }

    /// Check the policies and every parameter path against the base scenario,
    /// load every variant, and describe the grid.
    pub fn plan(&self, until: Option<SimDuration>, registry: &Registry) -> Result<Plan, String> {
        let f = self.path.display();
        for p in &self.policies {
            registry.get(p).map_err(|e| format!("{f}: policies: {e}"))?;
        }
        let sp = &self.scenario_path;
        let text = std::fs::read_to_string(sp)
            .map_err(|e| format!("{f}: scenario {}: cannot read: {e}", sp.display()))?;
        // the base as written: its errors point at its own lines
        let base_sc = scenario::load_text(sp, &text).map_err(|e| {
            format!(
                "{f}: the base scenario {} does not load:\n{e}",
                sp.display()
            )
        })?;
        let base: serde_yaml::Value = serde_yaml::from_str(&text)
            .map_err(|e| format!("{f}: scenario {}: {e}", sp.display()))?;
        let until = until.or(self.until);
        let parameters: Vec<ParamDesc> = self
            .parameters
            .iter()
            .map(|(path, values)| ParamDesc {
                path: path.clone(),
                values: values
                    .iter()
                    .map(|v| serde_json::to_string(v).expect("checked when loaded"))
                    .collect(),
            })
            .collect();
        let desc = GridDesc {
            kind: "sweep".into(),
            name: self.name.clone(),
            scenario: base_sc.name.clone(),
            parameters,
            policies: self.policies.clone(),
            seeds: self.seeds.clone(),
            until_ms: until.map(|u| u.as_millis()),
            inputs: format!("{:016x}", fnv1a64(text.as_bytes())),
        };
        // every path must lead somewhere in the base scenario
        for (path, values) in &self.parameters {
            let mut probe = base.clone();
            set_path(&mut probe, path, values[0].clone()).map_err(|e| {
                format!(
                    "{f}: parameter `{path}`: {e} in the base scenario {}",
                    sp.display()
                )
            })?;
        }
        let mut scenarios = Vec::with_capacity(desc.variants());
        for v in 0..desc.variants() {
            let mut sc = if self.parameters.is_empty() {
                base_sc.clone()
            } else {
                let mut value = base.clone();
                for (path, x) in desc.assignments(v) {
                    set_path(&mut value, &path, x).map_err(|e| format!("{f}: `{path}`: {e}"))?;
                }
                let variant_text = serde_yaml::to_string(&value).map_err(|e| e.to_string())?;
                scenario::load_text(sp, &variant_text).map_err(|e| {
                    let mut msg = format!(
                        "{f}: variant {} ({}) of scenario {} does not load:",
                        v + 1,
                        desc.label(v),
                        sp.display()
                    );
                    for d in &e.0 {
                        if d.path.is_empty() {
                            msg.push_str(&format!("\n  {}", d.message));
                        } else {
                            msg.push_str(&format!("\n  at {}: {}", d.path, d.message));
                        }
                    }
                    msg
                })?
            };
            if let Some(u) = until {
                sc.until = u;
            }
            scenarios.push(sc);
        }
        Ok(Plan { desc, scenarios })
    }
}

/// Parse `a.b[0].c` (or `a["dotted.key"]`) into steps.
fn parse_path(path: &str) -> Result<Vec<Step>, String> {
    let bad = |why: &str| {
        format!("bad path: {why} (expected keys separated by `.`, each with optional [index] or [\"key\"], e.g. cluster.nodePools[0].count)")
    };
    if path.is_empty() {
        return Err(bad("it is empty"));
    }
    let mut steps = Vec::new();
    let mut rest = path;
    // at the start, or right after a `.`: a key (or a bracket, at the start)
    let mut want_key = true;
    while !rest.is_empty() || want_key {
        if want_key && !rest.starts_with('[') {
            let end = rest.find(['.', '[', ']', '"']).unwrap_or(rest.len());
            if end == 0 {
                return Err(bad(&format!("a key is missing before `{rest}`")));
            }
            steps.push(Step::Key(rest[..end].to_string()));
            rest = &rest[end..];
        } else if let Some(r) = rest.strip_prefix("[\"") {
            let close = r.find("\"]").ok_or_else(|| bad("unclosed [\"key\"]"))?;
            steps.push(Step::Key(r[..close].to_string()));
            rest = &r[close + 2..];
        } else if let Some(r) = rest.strip_prefix('[') {
            if steps.is_empty() {
                return Err(bad("it must start with a key"));
            }
            let close = r.find(']').ok_or_else(|| bad("unclosed `[`"))?;
            let n: usize = r[..close]
                .parse()
                .map_err(|_| bad(&format!("`[{}]` is not a list index", &r[..close])))?;
            steps.push(Step::Index(n));
            rest = &r[close + 1..];
        } else if let Some(r) = rest.strip_prefix('.') {
            rest = r;
            want_key = true;
            if rest.is_empty() {
                return Err(bad("it ends with `.`"));
            }
            continue;
        } else {
            return Err(bad(&format!("unexpected `{rest}`")));
        }
        want_key = false;
    }
    Ok(steps)
}

fn kind_of(v: &serde_yaml::Value) -> &'static str {
    match v {
        serde_yaml::Value::Mapping(_) => "a mapping",
        serde_yaml::Value::Sequence(_) => "a list",
        serde_yaml::Value::Null => "empty (null)",
        _ => "a scalar",
    }
}

/// Set `path` in `doc` to `value`. Every step must exist except a last key,
/// which may be added to an existing mapping.
fn set_path(
    doc: &mut serde_yaml::Value,
    path: &str,
    value: serde_yaml::Value,
) -> Result<(), String> {
    let steps = parse_path(path)?;
    let mut cur = doc;
    let mut walked = String::new();
    let n = steps.len();
    for (i, step) in steps.iter().enumerate() {
        let last = i + 1 == n;
        let at = if walked.is_empty() {
            "the top level".to_string()
        } else {
            format!("`{walked}`")
        };
        match step {
            Step::Key(k) => {
                let serde_yaml::Value::Mapping(m) = cur else {
                    return Err(format!("{at} is {}, so it has no key `{k}`", kind_of(cur)));
                };
                let key = serde_yaml::Value::String(k.clone());
                if !m.contains_key(&key) {
                    if last {
                        m.insert(key.clone(), serde_yaml::Value::Null);
                    } else {
                        let keys: Vec<String> = m.keys().map(show_value).collect();
                        return Err(format!(
                            "there is no key `{k}` under {at} (it has: {})",
                            keys.join(", ")
                        ));
                    }
                }
                if !walked.is_empty() {
                    walked.push('.');
                }
                walked.push_str(k);
                cur = m.get_mut(&key).expect("present");
            }
            Step::Index(ix) => {
                let serde_yaml::Value::Sequence(s) = cur else {
                    return Err(format!(
                        "{at} is {}, not a list, so [{ix}] does not exist",
                        kind_of(cur)
                    ));
                };
                let len = s.len();
                cur = s.get_mut(*ix).ok_or_else(|| {
                    format!(
                        "{at} has {len} item{}, so [{ix}] is out of range",
                        if len == 1 { "" } else { "s" }
                    )
                })?;
                walked.push_str(&format!("[{ix}]"));
            }
        }
    }
    *cur = value;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn yaml(s: &str) -> serde_yaml::Value {
        serde_yaml::from_str(s).unwrap()
    }

    #[test]
    fn paths_parse_and_set() {
        assert_eq!(
            parse_path("a.b[0][2].c").unwrap(),
            vec![
                Step::Key("a".into()),
                Step::Key("b".into()),
                Step::Index(0),
                Step::Index(2),
                Step::Key("c".into())
            ]
        );
        assert_eq!(
            parse_path("metadata.labels[\"app.kubernetes.io/name\"]").unwrap(),
            vec![
                Step::Key("metadata".into()),
                Step::Key("labels".into()),
                Step::Key("app.kubernetes.io/name".into())
            ]
        );
        for bad in [
            "", "a..b", "a[x]", "a[0", "[0]", "a]b", "a[0]x", "a.", ".a", "a[\"b",
        ] {
            assert!(parse_path(bad).is_err(), "{bad:?} should not parse");
        }
        let mut d = yaml("cluster: {nodePools: [{name: a, count: 3}]}");
        set_path(&mut d, "cluster.nodePools[0].count", yaml("10")).unwrap();
        set_path(&mut d, "until", yaml("5m")).unwrap();
        assert_eq!(
            d,
            yaml("cluster: {nodePools: [{name: a, count: 10}]}\nuntil: 5m")
        );
        let e = set_path(&mut d, "cluster.nodePool[0].count", yaml("1")).unwrap_err();
        assert!(e.contains("no key `nodePool` under `cluster`"), "{e}");
        let e = set_path(&mut d, "cluster.nodePools[3].count", yaml("1")).unwrap_err();
        assert!(
            e.contains("`cluster.nodePools` has 1 item, so [3] is out of range"),
            "{e}"
        );
    }

    #[test]
    fn grid_order_is_variant_policy_seed_with_the_first_parameter_slowest() {
        let g = GridDesc {
            kind: "sweep".into(),
            name: "t".into(),
            scenario: "s".into(),
            parameters: vec![
                ParamDesc {
                    path: "a".into(),
                    values: vec!["1".into(), "2".into()],
                },
                ParamDesc {
                    path: "b".into(),
                    values: vec!["\"x\"".into(), "\"y\"".into(), "\"z\"".into()],
                },
            ],
            policies: vec!["p".into(), "q".into()],
            seeds: vec![7, 8],
            until_ms: None,
            inputs: String::new(),
        };
        assert_eq!(g.variants(), 6);
        assert_eq!(g.len(), 24);
        assert_eq!(g.variant_digits(1), vec![0, 1]);
        assert_eq!(g.variant_digits(3), vec![1, 0]);
        assert_eq!(g.label(4), "a=2, b=y");
        assert_eq!(
            g.point(13),
            PointRef {
                variant: 3,
                policy: 0,
                seed: 1
            }
        );
        assert_eq!(g.hash(), g.clone().hash());
    }
}
