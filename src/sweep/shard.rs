//! Shards of a grid and their merge.
//!
//! `--shard K/N` (K from 1 to N) runs the grid indices `i` with
//! `i % N == K - 1`: round-robin, so that expensive variants (which sit next to
//! each other in grid order) are spread over every shard. A shard's output
//! folder holds:
//!
//! - `runs.jsonl`: one line per run, in grid order:
//!   `{"index":4,"variant":1,"policy":"default","seed":2,"figures":{"pods_bound":"120",...}}`.
//!   Figures are exact decimal strings (the shortest text that parses back to
//!   the same `f64`), so a merge reproduces every bit;
//! - `shard.json`, written last: the format, the shard (`K`, `N`), the number
//!   of runs, the whole grid description and its hash.
//!
//! [`merge`] reads the shard folders, checks that they come from one grid,
//! split the same way, with every shard present exactly once and every run in
//! it, and hands back the runs in grid order.

use super::{GridDesc, Run};
use crate::compare::{RunResult, METRICS};
use crate::output::write_atomic;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// The `format` of `shard.json`.
pub const FORMAT: &str = "kubesim-shard/1";
/// How a grid is split, as `shard.json` states it.
pub const ORDER: &str =
    "round-robin: grid index i (from 0) is in shard K (from 1) of N when i % N == K - 1";

/// Shard `index` (from 1) of `count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    pub index: usize,
    pub count: usize,
}

impl Shard {
    /// The whole grid, unsharded.
    pub const WHOLE: Shard = Shard { index: 1, count: 1 };

    /// Whether grid index `i` belongs to this shard.
    pub fn contains(&self, i: usize) -> bool {
        i % self.count == self.index - 1
    }

    /// How many of a grid of `len` points this shard runs.
    pub fn len_of(&self, len: usize) -> usize {
        (0..len).filter(|i| self.contains(*i)).count()
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl FromStr for Shard {
    type Err = String;

    fn from_str(s: &str) -> Result<Shard, String> {
        let (k, n) = s
            .split_once('/')
            .ok_or_else(|| format!("{s:?} is not K/N (e.g. 2/4: the second of four shards)"))?;
        let num = |x: &str, what: &str| -> Result<usize, String> {
            x.trim()
                .parse::<usize>()
                .map_err(|_| format!("in {s:?}, {what} {x:?} is not a whole number"))
        };
        let (k, n) = (num(k, "K")?, num(n, "N")?);
        if n == 0 {
            return Err(format!("in {s:?}, N must be at least 1"));
        }
        if k == 0 || k > n {
            return Err(format!(
                "shard {k} of {n} does not exist: K must be from 1 to {n} (shards are numbered from 1)"
            ));
        }
        Ok(Shard { index: k, count: n })
    }
}

/// `shard.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ShardManifest {
    pub format: String,
    pub grid_hash: String,
    pub shard: Shard,
    pub order: String,
    /// Runs in this shard's `runs.jsonl`.
    pub runs: usize,
    /// Runs in the whole grid.
    pub points: usize,
    pub grid: GridDesc,
}

/// One line of `runs.jsonl`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RunLine {
    index: usize,
    variant: usize,
    policy: String,
    seed: u64,
    /// metric → exact decimal text of the f64.
    figures: BTreeMap<String, String>,
    /// The run's scheduling-latency histogram, (ms, pods) ascending, for the
    /// compare report's CDFs (absent in shards written before it).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    latency_ms: Vec<(u64, u64)>,
}

/// Write a shard's `runs.jsonl` and then its `shard.json` into `dir` (which must exist).
pub fn write_shard(
    dir: &Path,
    desc: &GridDesc,
    shard: Shard,
    runs: &[Run],
) -> Result<Vec<PathBuf>, String> {
    let mut text = String::new();
    for r in runs {
        let line = RunLine {
            index: r.index,
            variant: r.variant,
            policy: r.result.policy.clone(),
            seed: r.result.seed,
            figures: r
                .result
                .figures
                .iter()
                .map(|(k, v)| (k.to_string(), format!("{v}")))
                .collect(),
            latency_ms: r.result.latency_ms.clone(),
        };
        text.push_str(&serde_json::to_string(&line).map_err(|e| e.to_string())?);
        text.push('\n');
    }
    let runs_path = dir.join("runs.jsonl");
    write_atomic(&runs_path, text.as_bytes())
        .map_err(|e| format!("cannot write {}: {e}", runs_path.display()))?;
    let manifest = ShardManifest {
        format: FORMAT.into(),
        grid_hash: desc.hash(),
        shard,
        order: ORDER.into(),
        runs: runs.len(),
        points: desc.len(),
        grid: desc.clone(),
    };
    let mpath = dir.join("shard.json");
    let bytes = serde_json::to_vec_pretty(&manifest).map_err(|e| e.to_string())?;
    write_atomic(&mpath, &bytes).map_err(|e| format!("cannot write {}: {e}", mpath.display()))?;
    Ok(vec![runs_path, mpath])
}

/// Read one shard folder's `shard.json`.
pub fn read_manifest(dir: &Path) -> Result<ShardManifest, String> {
    let d = dir.display();
    let p = dir.join("shard.json");
    if !dir.is_dir() {
        return Err(format!("{d}: no such folder"));
    }
    let text = std::fs::read_to_string(&p).map_err(|_| {
        format!("{d}: no shard.json: not the output of a --shard run, or that shard did not finish")
    })?;
    let m: ShardManifest = serde_json::from_str(&text)
        .map_err(|e| format!("{}: not a shard manifest: {e}", p.display()))?;
    if m.format != FORMAT {
        return Err(format!(
            "{}: format {:?}, but this kubesim reads {FORMAT:?}",
            p.display(),
            m.format
        ));
    }
    if m.grid.hash() != m.grid_hash {
        return Err(format!(
            "{}: grid_hash {} does not match the grid it describes ({}): the file was edited or is corrupt",
            p.display(),
            m.grid_hash,
            m.grid.hash()
        ));
    }
    m.grid
        .check()
        .map_err(|e| format!("{}: {e}", p.display()))?;
    if m.shard.index == 0 || m.shard.index > m.shard.count {
        return Err(format!("{}: shard {} does not exist", p.display(), m.shard));
    }
    Ok(m)
}

/// What differs between two grids, for the error message.
fn differences(a: &GridDesc, b: &GridDesc) -> Vec<&'static str> {
    let mut d = Vec::new();
    if a.kind != b.kind {
        d.push("the command (compare or sweep)");
    }
    if a.name != b.name {
        d.push("the name");
    }
    if a.scenario != b.scenario {
        d.push("the scenario");
    }
    if a.inputs != b.inputs {
        d.push("the scenario file's text");
    }
    if a.parameters != b.parameters {
        d.push("the parameters");
    }
    if a.policies != b.policies {
        d.push("the policies");
    }
    if a.seeds != b.seeds {
        d.push("the seeds");
    }
    if a.until_ms != b.until_ms {
        d.push("until");
    }
    d
}

/// Check that `dirs` are every shard of one grid, once each, and return the
/// grid and all its runs in grid order.
pub fn merge(dirs: &[PathBuf]) -> Result<(GridDesc, Vec<Run>), String> {
    if dirs.is_empty() {
        return Err("give the output folders of every shard".into());
    }
    let manifests: Vec<ShardManifest> = dirs
        .iter()
        .map(|d| read_manifest(d))
        .collect::<Result<_, _>>()?;
    let first = &manifests[0];
    let d0 = dirs[0].display();
    for (m, d) in manifests.iter().zip(dirs).skip(1) {
        if m.grid_hash != first.grid_hash {
            return Err(format!(
                "{d0} and {} come from different grids ({} differ{}):\n  {d0}: {} (grid {})\n  {}: {} (grid {})\nmerge only the shards of one run",
                d.display(),
                differences(&first.grid, &m.grid).join(", "),
                if differences(&first.grid, &m.grid).len() == 1 { "s" } else { "" },
                first.grid.summary(),
                first.grid_hash,
                d.display(),
                m.grid.summary(),
                m.grid_hash
            ));
        }
        if m.shard.count != first.shard.count {
            return Err(format!(
                "{d0} is shard {} but {} is shard {}: every shard must split the grid into the same number of parts",
                first.shard,
                d.display(),
                m.shard
            ));
        }
    }
    let n = first.shard.count;
    let mut by_index: BTreeMap<usize, &Path> = BTreeMap::new();
    for (m, d) in manifests.iter().zip(dirs) {
        if let Some(other) = by_index.insert(m.shard.index, d) {
            return Err(format!(
                "shard {} is given twice: {} and {}",
                m.shard,
                other.display(),
                d.display()
            ));
        }
    }
    let missing: Vec<String> = (1..=n)
        .filter(|k| !by_index.contains_key(k))
        .map(|k| format!("{k}/{n}"))
        .collect();
    if !missing.is_empty() {
        let got: Vec<String> = by_index
            .iter()
            .map(|(k, d)| format!("{k}/{n} ({})", d.display()))
            .collect();
        return Err(format!(
            "missing shard{} {} of grid {} ({}); got {}",
            if missing.len() == 1 { "" } else { "s" },
            missing.join(", "),
            first.grid_hash,
            first.grid.summary(),
            got.join(", ")
        ));
    }
    let grid = first.grid.clone();
    let total = grid.len();
    let mut slots: Vec<Option<Run>> = vec![None; total];
    for (m, d) in manifests.iter().zip(dirs) {
        for r in read_runs(d, &grid, m.shard)? {
            let i = r.index;
            slots[i] = Some(r);
        }
    }
    let runs: Vec<Run> = slots
        .into_iter()
        .enumerate()
        .map(|(i, r)| r.ok_or_else(|| format!("internal error: grid index {i} has no run")))
        .collect::<Result<_, _>>()?;
    Ok((grid, runs))
}

/// Read and check one shard's `runs.jsonl`: exactly the shard's indices, in
/// order, each the grid point it claims to be.
fn read_runs(dir: &Path, grid: &GridDesc, shard: Shard) -> Result<Vec<Run>, String> {
    let p = dir.join("runs.jsonl");
    let f = p.display();
    let text = std::fs::read_to_string(&p).map_err(|e| format!("{f}: cannot read: {e}"))?;
    let expected: Vec<usize> = (0..grid.len()).filter(|i| shard.contains(*i)).collect();
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    if lines.len() != expected.len() {
        return Err(format!(
            "{f}: {} runs, but shard {shard} of this grid has {}: the shard is incomplete or was edited",
            lines.len(),
            expected.len()
        ));
    }
    let mut runs = Vec::with_capacity(lines.len());
    for (n, (line, want)) in lines.iter().zip(&expected).enumerate() {
        let at = format!("{f}:{}", n + 1);
        let l: RunLine =
            serde_json::from_str(line).map_err(|e| format!("{at}: not a run record: {e}"))?;
        if l.index != *want {
            return Err(format!(
                "{at}: grid index {}, expected {want} (shard {shard} runs every {}th index from {})",
                l.index,
                shard.count,
                shard.index - 1
            ));
        }
        let pt = grid.point(l.index);
        if l.variant != pt.variant
            || l.policy != grid.policies[pt.policy]
            || l.seed != grid.seeds[pt.seed]
        {
            return Err(format!(
                "{at}: grid index {} should be variant {}, policy {}, seed {}; the record says variant {}, policy {}, seed {}",
                l.index,
                pt.variant,
                grid.policies[pt.policy],
                grid.seeds[pt.seed],
                l.variant,
                l.policy,
                l.seed
            ));
        }
        let mut figures = BTreeMap::new();
        for (k, v) in &l.figures {
            let metric = METRICS
                .iter()
                .find(|m| m.name == k)
                .ok_or_else(|| format!("{at}: unknown metric {k:?}"))?;
            let x: f64 = v
                .parse()
                .map_err(|_| format!("{at}: {k}: {v:?} is not a number"))?;
            figures.insert(metric.name, x);
        }
        runs.push(Run {
            index: l.index,
            variant: l.variant,
            result: RunResult {
                policy: l.policy,
                seed: l.seed,
                figures,
                latency_ms: l.latency_ms,
            },
        });
    }
    Ok(runs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shard_specs_parse_and_bad_ones_are_refused() {
        assert_eq!("2/3".parse::<Shard>(), Ok(Shard { index: 2, count: 3 }));
        assert_eq!("1/1".parse::<Shard>(), Ok(Shard::WHOLE));
        for bad in ["3/2", "0/2", "2", "a/2", "1/0", "-1/2", ""] {
            assert!(bad.parse::<Shard>().is_err(), "{bad:?} should be refused");
        }
        let e = "3/2".parse::<Shard>().unwrap_err();
        assert!(e.contains("shard 3 of 2 does not exist"), "{e}");
    }

    #[test]
    fn shards_partition_the_grid() {
        for n in 1..6 {
            let mut seen = vec![0; 23];
            for k in 1..=n {
                let s = Shard { index: k, count: n };
                for (i, c) in seen.iter_mut().enumerate() {
                    if s.contains(i) {
                        *c += 1;
                    }
                }
            }
            assert!(seen.iter().all(|c| *c == 1), "N={n}: {seen:?}");
        }
    }

    #[test]
    fn figures_round_trip_exactly_through_their_text() {
        for x in [
            0.1,
            1.0 / 3.0,
            -0.0,
            2841.0,
            1e-300,
            f64::MAX,
            0.7512345678901234,
        ] {
            let back: f64 = format!("{x}").parse().unwrap();
            assert_eq!(back.to_bits(), x.to_bits());
        }
    }
}
