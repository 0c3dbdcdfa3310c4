//! Helpers shared by the integration tests: run the real `kubesim` binary, make
//! and clean up per-test temp folders, and read its output files.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The crate root (where Cargo.toml is).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `scenarios/NAME` in the crate.
pub fn scenario(name: &str) -> PathBuf {
    repo_root().join("scenarios").join(name)
}

/// Every `scenarios/*.yaml`, sorted.
pub fn shipped_scenarios() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(repo_root().join("scenarios"))
        .expect("scenarios/ folder is readable")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    v.sort();
    v
}

/// A folder under the system temp dir, unique to one test in one process,
/// removed when dropped.
pub struct TempDir {
    path: PathBuf,
}

impl TempDir {
    pub fn new(test_name: &str) -> TempDir {
        let path =
            std::env::temp_dir().join(format!("kubesim-test-{test_name}-{}", std::process::id()));
        if path.exists() {
            std::fs::remove_dir_all(&path).expect("remove stale temp dir");
        }
        std::fs::create_dir_all(&path).expect("create temp dir");
        TempDir { path }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn join(&self, rel: &str) -> PathBuf {
        self.path.join(rel)
    }

    /// Write `text` to `rel` (creating parent folders) and return its path.
    pub fn write(&self, rel: &str, text: &str) -> PathBuf {
        let p = self.path.join(rel);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).expect("create parent folder");
        }
        std::fs::write(&p, text).expect("write test file");
        p
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// The outcome of one run of the binary.
pub struct Run {
    pub args: Vec<String>,
    /// `None` when killed by a signal.
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// A description for assertion messages: the command and everything it printed.
    pub fn describe(&self) -> String {
        format!(
            "kubesim {}\nexit code: {:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.args.join(" "),
            self.code,
            self.stdout,
            self.stderr
        )
    }

    pub fn assert_success(&self) -> &Run {
        assert_eq!(self.code, Some(0), "expected exit 0\n{}", self.describe());
        self.assert_no_panic()
    }

    pub fn assert_no_panic(&self) -> &Run {
        assert_ne!(
            self.code,
            Some(101),
            "the binary panicked\n{}",
            self.describe()
        );
        assert!(
            self.code.is_some(),
            "the binary was killed by a signal\n{}",
            self.describe()
        );
        assert!(
            !self.stderr.contains("panicked"),
            "the binary panicked\n{}",
            self.describe()
        );
        self
    }
}

fn to_run(args: Vec<String>, out: Output) -> Run {
    Run {
        args,
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Run `kubesim ARGS...` in the crate root.
pub fn kubesim<I, S>(args: I) -> Run
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    kubesim_in(&repo_root(), args)
}

/// Run `kubesim ARGS...` with the working directory `cwd`.
pub fn kubesim_in<I, S>(cwd: &Path, args: I) -> Run
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    let args: Vec<std::ffi::OsString> = args.into_iter().map(|a| a.as_ref().to_owned()).collect();
    let shown = args
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let out = Command::new(env!("CARGO_BIN_EXE_kubesim"))
        .args(&args)
        .current_dir(cwd)
        .output()
        .expect("start the kubesim binary");
    to_run(shown, out)
}

/// The 1-based number of the first line of `text` that contains `needle`.
pub fn line_of(text: &str, needle: &str) -> usize {
    text.lines()
        .position(|l| l.contains(needle))
        .map(|i| i + 1)
        .unwrap_or_else(|| panic!("test bug: {needle:?} is not in the text:\n{text}"))
}

/// Every `(line, col)` that `stderr` gives right after `file`, as in `FILE:LINE:COL`.
pub fn positions_for(stderr: &str, file: &Path) -> Vec<(usize, usize)> {
    let f = file.display().to_string();
    let mut found = Vec::new();
    let mut rest = stderr;
    while let Some(i) = rest.find(&f) {
        rest = &rest[i + f.len()..];
        if let Some(pos) = parse_line_col(rest) {
            found.push(pos);
        }
    }
    found
}

/// Parse `:LINE:COL` at the start of `s`.
pub fn parse_line_col(s: &str) -> Option<(usize, usize)> {
    let s = s.strip_prefix(':')?;
    let (line, s) = split_number(s)?;
    let s = s.strip_prefix(':')?;
    let (col, _) = split_number(s)?;
    Some((line, col))
}

fn split_number(s: &str) -> Option<(usize, &str)> {
    let end = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    if end == 0 {
        return None;
    }
    Some((s[..end].parse().ok()?, &s[end..]))
}

/// Read and parse a JSON file.
pub fn read_json(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{} is not valid JSON: {e}\n{text}", path.display()))
}

/// Parse events.jsonl into one JSON object per line.
pub fn read_events(path: &Path) -> Vec<serde_json::Value> {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    text.lines()
        .enumerate()
        .map(|(i, l)| {
            serde_json::from_str(l).unwrap_or_else(|e| {
                panic!("{}:{}: not valid JSON ({e}): {l}", path.display(), i + 1)
            })
        })
        .collect()
}

/// Follow a dotted path (`pods.running`) into a JSON value.
pub fn json_at<'a>(v: &'a serde_json::Value, dotted: &str) -> Option<&'a serde_json::Value> {
    dotted.split('.').try_fold(v, |v, k| v.get(k))
}

/// Load a scenario given as text (kept in a temp folder named after the test).
pub fn load_scenario(test: &str, yaml: &str) -> (TempDir, kubesim::scenario::Scenario) {
    let dir = TempDir::new(test);
    let path = dir.write("scenario.yaml", yaml);
    let sc = kubesim::scenario::load(&path).unwrap_or_else(|e| panic!("{e}"));
    (dir, sc)
}

/// Run a scenario given as text to its end; the simulation and its records.
pub fn run_scenario(
    test: &str,
    yaml: &str,
) -> (kubesim::Simulation, Vec<kubesim::metrics::recorder::Record>) {
    let (_dir, sc) = load_scenario(test, yaml);
    let mut sim = kubesim::Simulation::new(&sc, kubesim::metrics::Recorder::in_memory());
    sim.run();
    let recs = sim.recorder().records().to_vec();
    (sim, recs)
}

/// The records with this reason about this object.
pub fn of<'a>(
    recs: &'a [kubesim::metrics::recorder::Record],
    reason: &str,
    object: &str,
) -> Vec<&'a kubesim::metrics::recorder::Record> {
    recs.iter()
        .filter(|r| r.reason == reason && r.object == object)
        .collect()
}
