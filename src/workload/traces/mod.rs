//! Production traces: readers that turn public cluster traces into pod
//! arrivals and machine events, for `workload.trace` and `kubesim trace-stats`.
//!
//! Formats (the README section "Production traces" has the full mapping):
//!
//! * `kubesim` — the pod trace CSV of [`super::trace`], streamed line by line
//!   during the run (never held in memory).
//! * `alibaba-v2018` — Alibaba cluster-trace-v2018: `batch_task`,
//!   `container_meta` and `machine_meta` CSVs ([`alibaba`]).
//! * `google-2019` — Google cluster-usage traces v3 (ClusterData2019):
//!   `instance_events` and `machine_events` as JSON lines ([`google`]).
//! * `alibaba-gpu-2020` — Alibaba cluster-trace-gpu-v2020: `pai_task_table`
//!   and `pai_machine_spec` CSVs ([`gpu`]).
//!
//! Every reader streams its files (plain or gzip-compressed, recognised by
//! their first two bytes), row by row. The public traces are not sorted by
//! arrival, so the non-kubesim readers keep the *converted* tasks (a 56-byte
//! record each, after the window and the sample are applied) and sort them;
//! rows are never kept. Rows that cannot become pods are counted per reason
//! ([`Skipped`]); malformed rows (wrong column count, a number that is not
//! one, bad JSON) are errors naming the file and line.
//!
//! Selection: `window: A..B` keeps arrivals with `A <= t < B` in trace time
//! and shifts them to start at 0; `sample: f` keeps a task when the 64-bit
//! FNV-1a hash of its id, as a fraction of 2^64, is below `f` (the same tasks
//! on every run, machine and seed; a bigger fraction keeps a superset);
//! `timeScale: k` multiplies every trace time and duration by `k` (after the
//! shift).

pub mod alibaba;
pub mod google;
pub mod gpu;

use crate::sim::time::SimDuration;
use std::collections::BTreeMap;
use std::fmt;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

/// The trace formats kubesim reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Format {
    Kubesim,
    AlibabaV2018,
    Google2019,
    AlibabaGpu2020,
}

impl Format {
    pub const NAMES: &'static str = "kubesim, alibaba-v2018, google-2019, alibaba-gpu-2020";

    pub fn parse(s: &str) -> Result<Format, String> {
        match s {
            "kubesim" => Ok(Format::Kubesim),
            "alibaba-v2018" => Ok(Format::AlibabaV2018),
            "google-2019" => Ok(Format::Google2019),
            "alibaba-gpu-2020" => Ok(Format::AlibabaGpu2020),
            _ => Err(format!(
                "unknown trace format {s:?}: expected one of {}",
                Self::NAMES
            )),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Format::Kubesim => "kubesim",
            Format::AlibabaV2018 => "alibaba-v2018",
            Format::Google2019 => "google-2019",
            Format::AlibabaGpu2020 => "alibaba-gpu-2020",
        }
    }

    /// The machine that normalised units are fractions of, unless the
    /// scenario says otherwise: (CPU millicores, memory bytes).
    pub fn default_machine(self) -> (i64, i64) {
        match self {
            // cpu_num is given per machine; memory is normalised to [0, 100]
            Format::AlibabaV2018 => (96_000, 512 << 30),
            // both normalised so that the largest machine is 1.0
            Format::Google2019 => (64_000, 256 << 30),
            // plan_mem is in GB, cap_cpu in cores: nothing normalised
            Format::AlibabaGpu2020 | Format::Kubesim => (96_000, 512 << 30),
        }
    }
}

/// A problem reading a trace: file, 1-based line (0: the file as a whole), message.
#[derive(Debug, Clone, PartialEq)]
pub struct TraceError {
    pub file: PathBuf,
    pub line: usize,
    pub message: String,
}

impl fmt::Display for TraceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.file.display(), self.message)
        } else {
            write!(f, "{}:{}: {}", self.file.display(), self.line, self.message)
        }
    }
}

impl std::error::Error for TraceError {}

/// The `A..B` span of trace time to replay (`A..`, `..B` too).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Window {
    pub start_ms: u64,
    pub end_ms: Option<u64>,
}

impl Window {
    pub fn parse(s: &str) -> Result<Window, String> {
        let bad = |why: String| {
            format!("window {s:?}: {why}; expected START..END in trace time, e.g. 2h..8h, 2h.. or ..30m")
        };
        let (a, b) = s.split_once("..").ok_or_else(|| bad("no `..`".into()))?;
        let t = |x: &str| -> Result<Option<u64>, String> {
            let x = x.trim();
            if x.is_empty() {
                return Ok(None);
            }
            SimDuration::parse(x)
                .map(|d| Some(d.as_millis()))
                .map_err(|e| bad(e.to_string()))
        };
        let start_ms = t(a)?.unwrap_or(0);
        let end_ms = t(b)?;
        if let Some(e) = end_ms {
            if e <= start_ms {
                return Err(bad("the end must be after the start".into()));
            }
        }
        Ok(Window { start_ms, end_ms })
    }

    pub fn contains(&self, t_ms: u64) -> bool {
        t_ms >= self.start_ms && self.end_ms.is_none_or(|e| t_ms < e)
    }
}

/// How trace rows become arrivals: selection, scaling and the normalised machine.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    pub window: Window,
    /// Fraction of tasks kept, in (0, 1].
    pub sample: f64,
    /// Trace time × this = simulated time.
    pub time_scale: f64,
    /// What normalised CPU (Google) is a fraction of, in millicores.
    pub machine_cpu_millis: i64,
    /// What normalised memory (Alibaba, Google) is a fraction of, in bytes.
    pub machine_memory: i64,
}

impl Options {
    pub fn new(format: Format) -> Options {
        let (c, m) = format.default_machine();
        Options {
            window: Window::default(),
            sample: 1.0,
            time_scale: 1.0,
            machine_cpu_millis: c,
            machine_memory: m,
        }
    }

    /// Simulated time of a trace time, if it is in the window.
    pub fn place(&self, t_ms: u64) -> Option<u64> {
        self.window
            .contains(t_ms)
            .then(|| self.scale(t_ms - self.window.start_ms))
    }

    /// A trace duration in simulated time.
    pub fn scale(&self, d_ms: u64) -> u64 {
        if self.time_scale == 1.0 {
            d_ms
        } else {
            (d_ms as f64 * self.time_scale).round() as u64
        }
    }

    /// Whether the task with this id is in the sample.
    pub fn keep(&self, id: &str) -> bool {
        self.sample >= 1.0
            || (fnv1a(id.as_bytes()) as f64) < self.sample * 18_446_744_073_709_551_616.0
    }
}

/// 64-bit FNV-1a: the sampling hash (stable, documented, no dependency).
pub fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// One pod to create: arrival (simulated ms), requests, run time, priority.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Task {
    pub time_ms: u64,
    pub cpu_millis: i64,
    pub memory: i64,
    /// None: runs until deleted.
    pub run_ms: Option<u64>,
    pub priority: i32,
    /// Position among the trace's pods in arrival order (the pod name's suffix).
    pub index: u64,
}

/// What happens to a machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MachineChange {
    Add { cpu_millis: i64, memory: i64 },
    Remove,
}

/// A machine event in trace time (not yet windowed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MachineEvent {
    pub time_ms: u64,
    /// A Kubernetes node name derived from the trace's machine id.
    pub node: String,
    pub change: MachineChange,
}

/// Rows (or tasks) left out, counted per reason, in reason order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Skipped(pub BTreeMap<String, u64>);

impl Skipped {
    pub fn add(&mut self, reason: impl Into<String>, n: u64) {
        *self.0.entry(reason.into()).or_default() += n;
    }
    pub fn total(&self) -> u64 {
        self.0.values().sum()
    }
    /// `12 rows skipped: 10 status Waiting, 2 plan_mem missing`.
    pub fn describe(&self) -> String {
        let parts: Vec<String> = self.0.iter().map(|(r, n)| format!("{n} {r}")).collect();
        format!("{} rows skipped: {}", self.total(), parts.join(", "))
    }
}

/// A trace read whole into converted records.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Converted {
    /// In arrival order, numbered.
    pub tasks: Vec<Task>,
    /// In trace time order.
    pub machines: Vec<MachineEvent>,
    pub skipped: Skipped,
    /// Distinct jobs among the kept tasks.
    pub jobs: u64,
    /// Tasks outside the window or the sample (not counted as skipped).
    pub not_selected: u64,
}

impl Converted {
    /// Sort tasks by arrival (file order for ties) and number them.
    pub fn finish(&mut self) {
        let before = self.tasks.len();
        self.tasks.retain(|t| t.cpu_millis >= 0 && t.memory >= 0);
        let dropped = (before - self.tasks.len()) as u64;
        if dropped > 0 {
            self.skipped.add("negative CPU or memory request", dropped);
        }
        let before = self.machines.len();
        self.machines.retain(|m| match m.change {
            MachineChange::Add { cpu_millis, memory } => cpu_millis >= 0 && memory >= 0,
            MachineChange::Remove => true,
        });
        let dropped = (before - self.machines.len()) as u64;
        if dropped > 0 {
            self.skipped
                .add("machine with a negative capacity", dropped);
        }
        self.tasks.sort_by_key(|t| (t.time_ms, t.index));
        for (i, t) in self.tasks.iter_mut().enumerate() {
            t.index = i as u64;
        }
        self.machines.sort_by_key(|m| m.time_ms);
    }
}

/// A Kubernetes node name for a trace machine id: lower case, `[a-z0-9-]`.
pub fn node_name(prefix: &str, id: &str) -> String {
    let mut s: String = format!("{prefix}{id}")
        .chars()
        .map(|c| {
            let c = c.to_ascii_lowercase();
            if c.is_ascii_alphanumeric() {
                c
            } else {
                '-'
            }
        })
        .collect();
    while s.ends_with('-') {
        s.pop();
    }
    s.truncate(63);
    s
}

/// Open a trace file, decompressing it if it starts like gzip.
pub fn open(path: &Path) -> Result<Box<dyn BufRead + Send>, TraceError> {
    let err = |e: std::io::Error| TraceError {
        file: path.to_path_buf(),
        line: 0,
        message: format!("cannot read the trace: {e}"),
    };
    let mut f = std::fs::File::open(path).map_err(err)?;
    let mut magic = [0u8; 2];
    let n = f.read(&mut magic).map_err(err)?;
    let f = std::fs::File::open(path).map_err(err)?;
    if n == 2 && magic == [0x1f, 0x8b] {
        Ok(Box::new(BufReader::with_capacity(
            1 << 16,
            flate2::read::MultiGzDecoder::new(f),
        )))
    } else {
        Ok(Box::new(BufReader::with_capacity(1 << 16, f)))
    }
}

/// Lines of a trace file with their 1-based numbers; read errors name the line.
pub struct Lines {
    path: PathBuf,
    inner: Box<dyn BufRead + Send>,
    line: usize,
    buf: String,
}

impl Lines {
    pub fn open(path: &Path) -> Result<Lines, TraceError> {
        Ok(Lines {
            path: path.to_path_buf(),
            inner: open(path)?,
            line: 0,
            buf: String::new(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// An error at the current line.
    pub fn error(&self, message: impl Into<String>) -> TraceError {
        TraceError {
            file: self.path.clone(),
            line: self.line,
            message: message.into(),
        }
    }

    /// Move to the next line; false at the end of the file.
    pub fn advance(&mut self) -> Result<bool, TraceError> {
        self.buf.clear();
        self.line += 1;
        match self.inner.read_line(&mut self.buf) {
            Ok(0) => Ok(false),
            Ok(_) => Ok(true),
            Err(e) => Err(self.error(format!("cannot read the trace: {e}"))),
        }
    }

    /// The current line, without its end.
    pub fn row(&self) -> &str {
        self.buf.trim_end_matches(['\n', '\r'])
    }
}

/// The files of one table in a trace folder: `NAME.csv`, `NAME.csv.gz`,
/// `NAME-000000000000.json.gz` shards..., sorted by name. A file path names
/// the main table itself.
pub fn table_files(path: &Path, table: &str) -> Result<Vec<PathBuf>, TraceError> {
    if !path.is_dir() {
        return Ok(Vec::new());
    }
    let rd = std::fs::read_dir(path).map_err(|e| TraceError {
        file: path.to_path_buf(),
        line: 0,
        message: format!("cannot read the trace folder: {e}"),
    })?;
    let mut files: Vec<PathBuf> = rd
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(table) && !n.starts_with('.'))
        })
        .collect();
    files.sort();
    Ok(files)
}

/// The main table's files: the path itself if it is a file, else its shards.
pub fn main_table(path: &Path, table: &str) -> Result<Vec<PathBuf>, TraceError> {
    if !path.exists() {
        return Err(TraceError {
            file: path.to_path_buf(),
            line: 0,
            message: "cannot read the trace: no such file or folder".into(),
        });
    }
    if path.is_file() {
        return Ok(vec![path.to_path_buf()]);
    }
    let files = table_files(path, table)?;
    if files.is_empty() {
        return Err(TraceError {
            file: path.to_path_buf(),
            line: 0,
            message: format!("no {table} file in the trace folder (expected {table}.csv, {table}.csv.gz or {table}-*.json.gz)"),
        });
    }
    Ok(files)
}

/// Split a CSV row that has no quoting (none of these traces quote), checking
/// the column count.
pub fn csv_fields<'a>(
    lines: &Lines,
    row: &'a str,
    columns: &[&str],
) -> Result<Vec<&'a str>, TraceError> {
    let f: Vec<&str> = row.split(',').map(str::trim).collect();
    if f.len() != columns.len() {
        return Err(lines.error(format!(
            "expected {} columns ({}), found {}",
            columns.len(),
            columns.join(","),
            f.len()
        )));
    }
    Ok(f)
}

/// A numeric CSV field: None when empty, an error naming the column when not a number.
pub fn num(
    lines: &Lines,
    columns: &[&str],
    f: &[&str],
    i: usize,
) -> Result<Option<f64>, TraceError> {
    let s = f[i];
    if s.is_empty() {
        return Ok(None);
    }
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(Some(v)),
        _ => Err(lines.error(format!("{}: {s:?} is not a number", columns[i]))),
    }
}

/// Read a whole trace into converted records (the kubesim format too, for
/// `trace-stats`; the simulation streams that one instead).
pub fn read(format: Format, path: &Path, opts: &Options) -> Result<Converted, TraceError> {
    let mut c = match format {
        Format::Kubesim => read_kubesim(path, opts)?,
        Format::AlibabaV2018 => alibaba::read(path, opts)?,
        Format::Google2019 => google::read(path, opts)?,
        Format::AlibabaGpu2020 => gpu::read(path, opts)?,
    };
    c.finish();
    Ok(c)
}

fn read_kubesim(path: &Path, opts: &Options) -> Result<Converted, TraceError> {
    let mut c = Converted::default();
    let mut lines = Lines::open(path)?;
    let mut last = crate::sim::time::SimTime::ZERO;
    let mut index = 0u64;
    while lines.advance()? {
        let line = lines.row();
        if !super::trace::is_data(line) {
            continue;
        }
        let (at, cpu, mem, dur, prio, _) =
            super::trace::parse_line(line, last).map_err(|m| lines.error(m))?;
        last = at;
        let i = index;
        index += 1;
        let Some(t) = opts.place(at.as_millis()) else {
            c.not_selected += 1;
            continue;
        };
        if !opts.keep(&i.to_string()) {
            c.not_selected += 1;
            continue;
        }
        c.tasks.push(Task {
            time_ms: t,
            cpu_millis: cpu,
            memory: mem,
            run_ms: dur.map(|d| opts.scale(d.as_millis())),
            priority: prio,
            index: i,
        });
    }
    c.jobs = c.tasks.len() as u64;
    Ok(c)
}

/// Summary figures of a converted trace, for `kubesim trace-stats`.
pub mod stats;

/// The scenario's `workload.trace` entry as written.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TraceHook {
    /// `kubesim`, `alibaba-v2018`, `google-2019` or `alibaba-gpu-2020`.
    pub format: String,
    /// File or folder, relative to the scenario file.
    pub path: String,
    /// Pod name prefix (default `trace`).
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub namespace: Option<String>,
    /// `START..END` of trace time.
    #[serde(default)]
    pub window: Option<String>,
    /// Fraction of tasks kept, (0, 1].
    #[serde(default)]
    pub sample: Option<f64>,
    #[serde(default)]
    pub time_scale: Option<f64>,
    /// The machine normalised units are fractions of.
    #[serde(default)]
    pub machine: Option<MachineSize>,
}

/// `machine: {cpu: "64", memory: 256Gi}`.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MachineSize {
    pub cpu: serde_yaml::Value,
    pub memory: serde_yaml::Value,
}

fn yaml_str(v: &serde_yaml::Value) -> String {
    match v {
        serde_yaml::Value::String(s) => s.clone(),
        serde_yaml::Value::Number(n) => n.to_string(),
        other => format!("{other:?}"),
    }
}

/// A machine change at a simulated time.
#[derive(Debug, Clone, PartialEq)]
pub struct TimedMachine {
    pub at_ms: u64,
    pub node: String,
    pub change: MachineChange,
}

/// `workload.trace`, loaded: the pods, the cluster its machines make, and what was skipped.
#[derive(Debug, Clone)]
pub struct Hooked {
    pub spec: super::trace::TraceSpec,
    pub format: Format,
    /// Machines in service at the window start: (node, CPU millis, memory bytes).
    pub initial: Vec<(String, i64, i64)>,
    /// Later joins and removals, in time order.
    pub changes: Vec<TimedMachine>,
    pub skipped: Skipped,
}

/// A problem with the hook: (field under `workload.trace`, message) or a trace file error.
#[derive(Debug, Clone, PartialEq)]
pub enum HookError {
    Field(&'static str, String),
    File(TraceError),
}

/// Check and load the `workload.trace` entry (`base`: the scenario's folder).
pub fn load_hook(h: &TraceHook, base: &Path, max_pods: u64) -> Result<Hooked, HookError> {
    let format = Format::parse(&h.format).map_err(|m| HookError::Field("format", m))?;
    let mut opts = Options::new(format);
    if let Some(w) = &h.window {
        opts.window = Window::parse(w).map_err(|m| HookError::Field("window", m))?;
    }
    if let Some(s) = h.sample {
        if !(s > 0.0 && s <= 1.0) {
            return Err(HookError::Field(
                "sample",
                format!("sample {s} should be a fraction in (0, 1], e.g. 0.1"),
            ));
        }
        opts.sample = s;
    }
    if let Some(k) = h.time_scale {
        if !(k > 0.0 && k <= 1000.0) {
            return Err(HookError::Field(
                "timeScale",
                format!("timeScale {k} should be a positive factor (at most 1000), e.g. 0.5"),
            ));
        }
        opts.time_scale = k;
    }
    if let Some(m) = &h.machine {
        let (c, mem) = (yaml_str(&m.cpu), yaml_str(&m.memory));
        opts.machine_cpu_millis = crate::api::quantity::parse_cpu_millis(&c)
            .ok()
            .filter(|v| *v > 0)
            .ok_or_else(|| {
                HookError::Field(
                    "machine",
                    format!("machine.cpu {c:?} is not a CPU quantity, e.g. \"64\""),
                )
            })?;
        opts.machine_memory = crate::api::quantity::parse_value(&mem)
            .ok()
            .filter(|v| *v > 0)
            .ok_or_else(|| {
                HookError::Field(
                    "machine",
                    format!("machine.memory {mem:?} is not a memory quantity, e.g. 256Gi"),
                )
            })?;
    }
    let name = h.name.clone().unwrap_or_else(|| "trace".into());
    if let Err(e) = crate::api::meta::validate_dns1123_label(&name) {
        return Err(HookError::Field("name", e.to_string()));
    }
    let file = base.join(&h.path);
    let mut spec = super::trace::TraceSpec {
        name,
        file: file.clone(),
        namespace: h.namespace.clone().unwrap_or_else(|| "default".into()),
        options: Some(opts.clone()),
        tasks: None,
    };
    if format == Format::Kubesim {
        super::trace::check(&file, max_pods).map_err(|(line, message)| {
            HookError::File(TraceError {
                file: file.clone(),
                line,
                message,
            })
        })?;
        return Ok(Hooked {
            spec,
            format,
            initial: Vec::new(),
            changes: Vec::new(),
            skipped: Skipped::default(),
        });
    }
    let c = read(format, &file, &opts).map_err(HookError::File)?;
    if c.tasks.len() as u64 > max_pods {
        return Err(HookError::File(TraceError {
            file,
            line: 0,
            message: format!(
                "{} pods after the window and sample: more than {max_pods} (limits.maxReplicas); narrow the window or lower the sample",
                c.tasks.len()
            ),
        }));
    }
    // machines: the state at the window start, then changes inside it
    let mut state: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    let mut changes = Vec::new();
    let mut present: std::collections::BTreeSet<String> = Default::default();
    let mut started = false;
    for m in &c.machines {
        if m.time_ms < opts.window.start_ms {
            match m.change {
                MachineChange::Add { cpu_millis, memory } => {
                    state.insert(m.node.clone(), (cpu_millis, memory));
                }
                MachineChange::Remove => {
                    state.remove(&m.node);
                }
            }
            continue;
        }
        if !started {
            present = state.keys().cloned().collect();
            started = true;
        }
        // machines present at the start (time 0 after the shift) are initial
        let Some(at) = opts.place(m.time_ms) else {
            continue;
        };
        if at == 0 {
            match m.change {
                MachineChange::Add { cpu_millis, memory } => {
                    state.insert(m.node.clone(), (cpu_millis, memory));
                    present.insert(m.node.clone());
                }
                MachineChange::Remove => {
                    state.remove(&m.node);
                    present.remove(&m.node);
                }
            }
            continue;
        }
        let useful = match m.change {
            MachineChange::Add { .. } => present.insert(m.node.clone()),
            MachineChange::Remove => present.remove(&m.node),
        };
        if useful {
            changes.push(TimedMachine {
                at_ms: at,
                node: m.node.clone(),
                change: m.change.clone(),
            });
        }
    }
    let initial = state.into_iter().map(|(n, (c, m))| (n, c, m)).collect();
    spec.tasks = Some(std::sync::Arc::new(c.tasks));
    Ok(Hooked {
        spec,
        format,
        initial,
        changes,
        skipped: c.skipped,
    })
}

/// A Ready node for a trace machine.
pub fn machine_node(name: &str, cpu_millis: i64, memory: i64) -> crate::api::Node {
    use crate::api::node::{ConditionStatus, NodeResources, NodeStatus};
    let mut meta = crate::api::ObjectMeta::new("", name);
    meta.labels
        .insert("kubernetes.io/hostname".into(), name.to_string());
    let r = NodeResources {
        cpu_millis,
        memory,
        pods: 110,
        ..Default::default()
    };
    crate::api::Node {
        meta,
        unschedulable: false,
        taints: Vec::new(),
        status: NodeStatus {
            capacity: r.clone(),
            allocatable: r,
            ready: ConditionStatus::True,
            ..Default::default()
        },
    }
}
