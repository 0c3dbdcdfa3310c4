//! The `kubesim` command line. Parses flags and calls the library; nothing else.

#![forbid(unsafe_code)]

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use kubesim::metrics::Recorder;
use kubesim::output::{write_atomic, AtomicFile};
use kubesim::scheduler::policies::Registry;
use kubesim::sim::time::SimDuration;
use kubesim::sim::time::SimTime;
use kubesim::{explain, manifest, scenario, views, Simulation};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// A deterministic discrete-event simulator of a Kubernetes cluster.
///
/// Same scenario + same seed = byte-identical event log, on any machine.
#[derive(Parser)]
#[command(name = "kubesim", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Simulate a scenario and print a summary; with --out, write events.jsonl and summary.json.
    Run {
        /// The scenario file (YAML).
        scenario: PathBuf,
        /// Seed for every random stream (overrides the scenario's `seed`).
        #[arg(long)]
        seed: Option<u64>,
        /// Virtual time to stop at, e.g. 30m or 1h30m (overrides the scenario's `until`).
        #[arg(long, value_parser = parse_duration)]
        until: Option<SimDuration>,
        /// Folder to write events.jsonl and summary.json into (created if missing).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Scheduling policy of the default-scheduler profile (see `kubesim policies`).
        #[arg(long)]
        scheduler: Option<String>,
        /// Print nothing but errors.
        #[arg(long, short)]
        quiet: bool,
        /// Check the simulator's invariants after every event (slower); a
        /// violation stops the run with the event and a command reproducing it.
        #[arg(long)]
        check_invariants: bool,
        /// How much of events.jsonl to write: full (every record), summary
        /// (Warnings and the actions of kubectl, kubeadm, faults and chaos) or
        /// none (summary.json only) — for huge runs.
        #[arg(long, value_enum, default_value_t = EventsArg::Full)]
        events: EventsArg,
        /// How much of metrics.csv to write: full (cluster-wide series plus one
        /// per node, Deployment, ReplicaSet and HPA), cluster (cluster-wide
        /// series and the end-of-run rows only) or none (no metrics.csv) — a
        /// day of a 5,000-node cluster is 3 GB in full.
        #[arg(long, value_enum, default_value_t = MetricsArg::Full)]
        metrics: MetricsArg,
        /// Run the scenario twice and compare the event logs record by record;
        /// report the first difference (writes no output files).
        #[arg(long, conflicts_with_all = ["out", "check_invariants"])]
        check_determinism: bool,
        /// Also write a timeline for other tools into --out: `perfetto` writes
        /// trace.perfetto.json (Chrome trace event JSON, for ui.perfetto.dev).
        #[arg(long, value_enum, requires = "out")]
        export: Option<ExportArg>,
    },
    /// Charts and tables of one run: report.md and a self-contained report.html
    /// (charts inline as SVG), from a `run --out` folder or a scenario (run first).
    Report {
        /// A folder written by `kubesim run --out`, or a scenario file.
        input: PathBuf,
        /// Folder for the report (default: the run folder; for a scenario,
        /// report-NAME in the current folder).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Seed for a scenario (overrides its `seed`).
        #[arg(long)]
        seed: Option<u64>,
        /// Virtual time to stop a scenario at (overrides its `until`).
        #[arg(long, value_parser = parse_duration)]
        until: Option<SimDuration>,
    },
    /// Show how the scheduler would place one pod: every node's filter verdict and every plugin's score.
    ExplainSchedule {
        /// The scenario whose cluster the pod meets.
        scenario: PathBuf,
        /// The incoming pod (a YAML file with one `kind: Pod`).
        #[arg(long)]
        pod: PathBuf,
        /// Virtual time at which to look at the cluster (default 0: after the initial objects are applied).
        #[arg(long, value_parser = parse_duration, default_value = "0")]
        at: SimDuration,
        /// Policy to evaluate with (default: the profile the pod's schedulerName selects).
        #[arg(long)]
        scheduler: Option<String>,
        /// Seed (overrides the scenario's).
        #[arg(long)]
        seed: Option<u64>,
        /// Output format.
        #[arg(short = 'o', long = "output", value_enum, default_value = "table")]
        output: OutputFormat,
    },
    /// Run one scenario under several scheduling policies and seeds; print means with 95% CIs
    /// and paired differences; with --out, write comparison.json and comparison.csv.
    Compare {
        scenario: PathBuf,
        /// Comma-separated policy names (see `kubesim policies`); the first is the baseline.
        #[arg(long, value_delimiter = ',', required = true)]
        schedulers: Vec<String>,
        /// Number of seeds: 1, 2, ..., N.
        #[arg(long, conflicts_with = "seed_list", default_value_t = 10)]
        seeds: u64,
        /// Explicit seeds, comma-separated.
        #[arg(long, value_delimiter = ',')]
        seed_list: Option<Vec<u64>>,
        /// Worker threads (default: every core). Results do not depend on it.
        #[arg(long)]
        threads: Option<usize>,
        /// Virtual time to stop each run at (overrides the scenario's `until`).
        #[arg(long, value_parser = parse_duration)]
        until: Option<SimDuration>,
        /// Folder for comparison.json and comparison.csv.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Run only shard K of N of the policy × seed grid (K from 1 to N; grid
        /// index i is in shard K when i % N == K-1) and write runs.jsonl and
        /// shard.json into --out, for `kubesim merge`.
        #[arg(long, value_name = "K/N", requires = "out")]
        shard: Option<kubesim::sweep::Shard>,
        /// Print nothing but errors (no tables, no progress bar).
        #[arg(long, short)]
        quiet: bool,
    },
    /// Run a scenario over a grid of parameter values × policies × seeds declared in a
    /// sweep file; with --out, write sweep.json and sweep.csv.
    Sweep {
        /// The sweep file (YAML): base scenario, parameters, policies, seeds.
        sweep: PathBuf,
        /// Worker threads (default: every core). Results do not depend on it.
        #[arg(long)]
        threads: Option<usize>,
        /// Virtual time to stop each run at (overrides the sweep file's and the scenario's `until`).
        #[arg(long, value_parser = parse_duration)]
        until: Option<SimDuration>,
        /// Folder for sweep.json and sweep.csv (or, with --shard, runs.jsonl and shard.json).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Run only shard K of N of the grid (K from 1 to N; grid index i is in
        /// shard K when i % N == K-1), for `kubesim merge`.
        #[arg(long, value_name = "K/N", requires = "out")]
        shard: Option<kubesim::sweep::Shard>,
        /// Print nothing but errors (no tables, no progress bar).
        #[arg(long, short)]
        quiet: bool,
    },
    /// Combine the output folders of every shard of a `compare` or `sweep` into exactly
    /// the output of one unsharded run.
    Merge {
        /// The shard output folders (every shard 1/N … N/N, once each).
        #[arg(required = true)]
        dirs: Vec<PathBuf>,
        /// Folder to write the merged output into.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// The narrated reconciliation trace: every control loop's decision (observed → desired →
    /// action, because …) interleaved with the Kubernetes events, in virtual time.
    Trace {
        scenario: PathBuf,
        /// Only this component (`kubelet` matches every `kubelet/NODE`).
        #[arg(long)]
        component: Option<String>,
        /// Only records about this object, as KIND/NAME (e.g. deployment/web).
        #[arg(long)]
        object: Option<String>,
        /// From this virtual time.
        #[arg(long, value_parser = parse_duration)]
        from: Option<SimDuration>,
        /// Up to this virtual time (default: the scenario's until).
        #[arg(long, value_parser = parse_duration)]
        to: Option<SimDuration>,
        #[arg(long)]
        seed: Option<u64>,
    },
    /// kubectl get for the simulated cluster at a virtual time: `kubesim get pods SCENARIO --at 10m`.
    Get {
        /// pods, nodes, deployments, replicasets, statefulsets, daemonsets, replicationcontrollers, services, jobs, cronjobs, namespaces, priorityclasses or events.
        kind: String,
        /// [NAME] SCENARIO
        #[arg(num_args = 1..=2, required = true)]
        args: Vec<String>,
        /// Virtual time to look at (default: the scenario's until).
        #[arg(long, value_parser = parse_duration)]
        at: Option<SimDuration>,
        /// Namespace (default: default).
        #[arg(short = 'n', long)]
        namespace: Option<String>,
        /// Every namespace.
        #[arg(short = 'A', long)]
        all_namespaces: bool,
        /// Output: wide, json or yaml (default: a table).
        #[arg(short = 'o', long = "output", value_enum)]
        output: Option<GetFormat>,
        #[arg(long)]
        seed: Option<u64>,
    },
    /// kubectl describe for the simulated cluster at a virtual time: `kubesim describe pod/web-x SCENARIO --at 10m`.
    Describe {
        /// KIND/NAME
        object: String,
        scenario: PathBuf,
        #[arg(long, value_parser = parse_duration)]
        at: Option<SimDuration>,
        #[arg(short = 'n', long, default_value = "default")]
        namespace: String,
        #[arg(long)]
        seed: Option<u64>,
    },
    /// List the registered scheduling policies.
    Policies,
    /// Swarm-test the simulator: random scenarios (clusters, Deployments, policies,
    /// kubectl actions, faults that heal) with invariants checked after every
    /// event and every Deployment fully available at the end.
    Swarm {
        /// How many scenarios.
        #[arg(long, default_value_t = 1000)]
        count: u64,
        /// The first seed; scenario i uses seed start + i.
        #[arg(long, default_value_t = 1)]
        start: u64,
        /// Folder to write failing scenarios to (default: the system temp folder).
        #[arg(long)]
        keep: Option<PathBuf>,
        /// Threads (default: all cores); results do not depend on it.
        #[arg(long)]
        threads: Option<usize>,
    },
    /// What a trace contains: jobs, tasks, arrivals by hour, request and run-time quantiles,
    /// priorities, machines and skipped rows (see the README's "Production traces").
    TraceStats {
        /// The trace file or folder.
        path: PathBuf,
        /// kubesim, alibaba-v2018, google-2019 or alibaba-gpu-2020.
        #[arg(long, default_value = "kubesim")]
        format: String,
        /// Only arrivals in START..END of trace time (e.g. 2h..8h), shifted to start at 0.
        #[arg(long)]
        window: Option<String>,
        /// CPU and memory of the machine normalised units are fractions of (e.g. 64,256Gi).
        #[arg(long)]
        machine: Option<String>,
        #[arg(short, long, value_enum, default_value = "table")]
        output: OutputFormat,
    },
    /// Check scenario and manifest files without running them; exits non-zero on any error.
    Validate {
        /// Scenario files or Kubernetes manifests (files or folders).
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum ExportArg {
    Perfetto,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum GetFormat {
    Wide,
    Json,
    Yaml,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum OutputFormat {
    Table,
    Json,
}

fn parse_duration(s: &str) -> Result<SimDuration, String> {
    SimDuration::parse(s).map_err(|e| e.to_string())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let r = match cli.command {
        Command::Run {
            scenario,
            seed,
            until,
            out,
            scheduler,
            quiet,
            check_invariants,
            check_determinism,
            events,
            metrics,
            export,
        } => run(
            &scenario,
            RunOpts {
                metrics,
                seed,
                until,
                out: out.as_deref(),
                scheduler: scheduler.as_deref(),
                quiet,
                check_invariants,
                check_determinism,
                perfetto: export == Some(ExportArg::Perfetto),
                events: match events {
                    EventsArg::Full => kubesim::metrics::recorder::EventsLevel::Full,
                    EventsArg::Summary => kubesim::metrics::recorder::EventsLevel::Summary,
                    EventsArg::None => kubesim::metrics::recorder::EventsLevel::None,
                },
            },
        ),
        Command::TraceStats {
            path,
            format,
            window,
            machine,
            output,
        } => trace_stats(
            &path,
            &format,
            window.as_deref(),
            machine.as_deref(),
            output,
        ),
        Command::Validate { files } => validate(&files),
        Command::ExplainSchedule {
            scenario,
            pod,
            at,
            scheduler,
            seed,
            output,
        } => explain_schedule(&scenario, &pod, at, scheduler.as_deref(), seed, output),
        Command::Compare {
            scenario,
            schedulers,
            seeds,
            seed_list,
            threads,
            until,
            out,
            shard,
            quiet,
        } => {
            let seeds: Vec<u64> = seed_list.unwrap_or_else(|| (1..=seeds).collect());
            compare_cmd(
                &scenario,
                &schedulers,
                &seeds,
                threads,
                until,
                GridOut {
                    dir: out.as_deref(),
                    shard,
                    quiet,
                },
            )
        }
        Command::Sweep {
            sweep,
            threads,
            until,
            out,
            shard,
            quiet,
        } => sweep_cmd(
            &sweep,
            threads,
            until,
            GridOut {
                dir: out.as_deref(),
                shard,
                quiet,
            },
        ),
        Command::Merge { dirs, out } => merge_cmd(&dirs, out.as_deref()),
        Command::Trace {
            scenario,
            component,
            object,
            from,
            to,
            seed,
        } => {
            let f = views::trace::Filter {
                component,
                object,
                from: from.map(|d| SimTime::ZERO + d),
                to: to.map(|d| SimTime::ZERO + d),
            };
            if let Err(e) = f.check() {
                eprintln!("error: --object {e}");
                return ExitCode::FAILURE;
            }
            let Some(mut sc) = load_scenario(&scenario) else {
                return ExitCode::FAILURE;
            };
            if let Some(s) = seed {
                sc.seed = s;
            }
            let until = f.to.unwrap_or(SimTime::ZERO + sc.until);
            let sim = views::run_to(&sc, until);
            print!("{}", views::trace::render(sim.recorder().records(), &f));
            Ok(ExitCode::SUCCESS)
        }
        Command::Get {
            kind,
            args,
            at,
            namespace,
            all_namespaces,
            output,
            seed,
        } => get_cmd(&kind, &args, at, namespace, all_namespaces, output, seed),
        Command::Describe {
            object,
            scenario,
            at,
            namespace,
            seed,
        } => {
            let (kind, name) = match views::parse_ref(&object) {
                Ok(x) => x,
                Err(e) => {
                    eprintln!("error: {e}");
                    return ExitCode::FAILURE;
                }
            };
            let Some(mut sc) = load_scenario(&scenario) else {
                return ExitCode::FAILURE;
            };
            if let Some(s) = seed {
                sc.seed = s;
            }
            let t = SimTime::ZERO + at.unwrap_or(sc.until);
            let sim = views::run_to(&sc, t);
            match views::describe::describe(&sim, kind, &namespace, &name, t) {
                Ok(s) => {
                    print!("{s}");
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => {
                    eprintln!("{e}");
                    Ok(ExitCode::FAILURE)
                }
            }
        }
        Command::Swarm {
            count,
            start,
            keep,
            threads,
        } => swarm_cmd(count, start, keep, threads),
        Command::Report {
            input,
            out,
            seed,
            until,
        } => report_cmd(&input, out.as_deref(), seed, until),
        Command::Policies => {
            let r = Registry::builtin();
            let w = r.list().map(|p| p.name.len()).max().unwrap_or(0);
            for p in r.list() {
                println!("{:<w$}  {}", p.name, p.description);
            }
            Ok(ExitCode::SUCCESS)
        }
    };
    match r {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Load a scenario, printing every error (file:line:col) if it does not load.
fn load_scenario(path: &Path) -> Option<scenario::Scenario> {
    match scenario::load(path) {
        Ok(s) => Some(s),
        Err(e) => {
            eprintln!("{e}");
            None
        }
    }
}

fn print_warnings(ws: &[String]) {
    for w in ws {
        eprintln!("warning: {w}");
    }
}

/// Check a policy name given on the command line.
fn check_policy(name: &str) -> Result<(), ExitCode> {
    match Registry::builtin().get(name) {
        Ok(_) => Ok(()),
        Err(e) => {
            eprintln!("error: --scheduler: {e}");
            Err(ExitCode::FAILURE)
        }
    }
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum EventsArg {
    Full,
    Summary,
    None,
}

#[derive(Clone, Copy, PartialEq, clap::ValueEnum)]
enum MetricsArg {
    Full,
    Cluster,
    None,
}

struct RunOpts<'a> {
    events: kubesim::metrics::recorder::EventsLevel,
    metrics: MetricsArg,
    seed: Option<u64>,
    until: Option<SimDuration>,
    out: Option<&'a Path>,
    scheduler: Option<&'a str>,
    quiet: bool,
    check_invariants: bool,
    check_determinism: bool,
    perfetto: bool,
}

/// Exit code of a run stopped by an invariant violation.
const EXIT_INVARIANT: u8 = 3;
/// Exit code of a failed determinism check.
const EXIT_NONDETERMINISTIC: u8 = 4;
/// Exit code of a run stopped at its event limit.
const EXIT_EVENT_LIMIT: u8 = 5;
/// Exit code of a run interrupted by Ctrl-C (128 + SIGINT, as shells report it).
const EXIT_INTERRUPTED: u8 = 130;

/// Set by Ctrl-C: the run stops at the next event and says its outputs are incomplete.
static INTERRUPTED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Simulate to the end, checking invariants if asked; stops early on Ctrl-C.
/// Returns why it stopped early, if it did.
/// `metrics.csv`: the samples streamed to `spill` merged with the end-of-run
/// `rows`; the spill file is removed.
fn write_metrics(
    dest: &Path,
    spill: &Path,
    sink: &kubesim::metrics::timeseries::CsvSink,
    rows: &[kubesim::metrics::timeseries::Row],
) -> std::io::Result<()> {
    use std::io::Write as _;
    sink.finish()?;
    let streamed = std::io::BufReader::new(std::fs::File::open(spill)?);
    let (file, mut w) = AtomicFile::create(dest)?;
    kubesim::metrics::timeseries::write_merged(streamed, rows, &mut w)?;
    w.flush()?;
    drop(w);
    file.commit()?;
    std::fs::remove_file(spill)
}

fn drive(
    sim: &mut Simulation,
    checker: Option<&mut kubesim::invariants::Checker>,
    mut tracker: Option<&mut kubesim::export::perfetto::PodTracker>,
    progress: &mut kubesim::progress::RunProgress,
) -> Option<(&'static str, Option<kubesim::invariants::Violation>)> {
    use std::sync::atomic::Ordering;
    let mut violation = None;
    let mut interrupted = false;
    if tracker.is_some() {
        // the pod tracker reads each event's API changes (observation only)
        sim.set_track_changes(true);
    }
    match checker {
        Some(c) => {
            sim.set_track_changes(true);
            sim.run_stepwise(true, |s, d| {
                if INTERRUPTED.load(Ordering::Relaxed) {
                    interrupted = true;
                    return false;
                }
                if let Some(t) = tracker.as_deref_mut() {
                    t.observe(s);
                }
                progress.tick(s);
                match c.check(s, d) {
                    Ok(()) => true,
                    Err(v) => {
                        violation = Some(v);
                        false
                    }
                }
            });
        }
        None => {
            sim.run_stepwise(false, |s, _| {
                if let Some(t) = tracker.as_deref_mut() {
                    t.observe(s);
                }
                progress.tick(s);
                let stop = INTERRUPTED.load(Ordering::Relaxed);
                interrupted |= stop;
                !stop
            });
        }
    }
    progress.finish();
    if violation.is_some() {
        Some(("invariant-violation", violation))
    } else if interrupted {
        Some(("interrupted", None))
    } else {
        None
    }
}

fn run(path: &Path, o: RunOpts) -> Result<ExitCode> {
    let RunOpts {
        seed,
        until,
        out,
        scheduler,
        quiet,
        check_invariants,
        check_determinism,
        events,
        metrics,
        perfetto,
    } = o;
    if let Some(Err(code)) = scheduler.map(check_policy) {
        return Ok(code);
    }
    let Some(mut sc) = load_scenario(path) else {
        return Ok(ExitCode::FAILURE);
    };
    if let Some(s) = scheduler {
        sc.settings.profiles[0].1 = s.to_string();
    }
    if !quiet {
        print_warnings(&sc.warnings);
    }
    if let Some(s) = seed {
        sc.seed = s;
    }
    if let Some(u) = until {
        sc.until = u;
    }
    if check_determinism {
        return Ok(determinism(path, &sc, quiet));
    }
    let _ = ctrlc::set_handler(|| {
        INTERRUPTED.store(true, std::sync::atomic::Ordering::Relaxed);
    });
    let mut checker = check_invariants.then(kubesim::invariants::Checker::new);
    let stopped;
    let mut summary = match out {
        None => {
            let mut sim = Simulation::new(&sc, Recorder::discard());
            let mut progress = kubesim::progress::RunProgress::new(sc.until, quiet);
            stopped = drive(&mut sim, checker.as_mut(), None, &mut progress);
            let summary = sim.summary();
            std::mem::forget(sim); // as below: the process is about to exit
            summary
        }
        Some(dir) => {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create output folder {}", dir.display()))?;
            let events_path = dir.join("events.jsonl");
            use kubesim::metrics::recorder::EventsLevel;
            let (file, rec) = if events == EventsLevel::None {
                // no event log: one left from an earlier run would look like this run's
                if events_path.exists() {
                    std::fs::remove_file(&events_path).with_context(|| {
                        format!("cannot remove the old {}", events_path.display())
                    })?;
                }
                (None, Recorder::discard().with_level(EventsLevel::None))
            } else {
                let (file, writer) = AtomicFile::create(&events_path)
                    .with_context(|| format!("cannot write {}", events_path.display()))?;
                (
                    Some(file),
                    Recorder::to_writer(Box::new(writer)).with_level(events),
                )
            };
            let mut sim = Simulation::new(&sc, rec);
            // the detailed time series for metrics.csv (sampling only reads),
            // streamed to a spill file so that memory stays flat
            let metrics_path = dir.join("metrics.csv");
            let spill_path = dir.join("metrics.csv.spill");
            let sink = if metrics == MetricsArg::None {
                // no metrics.csv: one left from an earlier run would look like this run's
                if metrics_path.exists() {
                    std::fs::remove_file(&metrics_path).with_context(|| {
                        format!("cannot remove the old {}", metrics_path.display())
                    })?;
                }
                None
            } else {
                let spill = std::fs::File::create(&spill_path)
                    .with_context(|| format!("cannot write {}", spill_path.display()))?;
                let sink = kubesim::metrics::timeseries::CsvSink::new(Box::new(
                    std::io::BufWriter::with_capacity(1 << 16, spill),
                ));
                sim.stream_timeseries(sink.clone(), metrics == MetricsArg::Cluster);
                Some(sink)
            };
            let mut tracker = perfetto.then(kubesim::export::perfetto::PodTracker::new);
            let mut progress = kubesim::progress::RunProgress::new(sc.until, quiet);
            stopped = drive(&mut sim, checker.as_mut(), tracker.as_mut(), &mut progress);
            sim.recorder_mut()
                .finish()
                .with_context(|| format!("cannot write {}", events_path.display()))?;
            let mut summary = sim.summary();
            if let Some((why, _)) = &stopped {
                summary.mark_stopped(why);
            }
            if sim.dataplane().has_traffic() {
                let mut csv = String::from(
                    "minute,service,requests,failed,timed_out,rejected,latency_mean_ms\n",
                );
                for ((minute, svc), r) in &sim.dataplane().series {
                    let ok = r.requests - r.failed - r.timed_out;
                    let mean = if ok > 0 {
                        format!("{:.1}", r.latency_sum_ms / ok as f64)
                    } else {
                        String::new()
                    };
                    csv.push_str(&format!(
                        "{minute},{svc},{},{},{},{},{mean}\n",
                        r.requests, r.failed, r.timed_out, r.rejected
                    ));
                }
                let p = dir.join("traffic.csv");
                write_atomic(&p, csv.as_bytes())
                    .with_context(|| format!("cannot write {}", p.display()))?;
            }
            if let Some(sink) = &sink {
                let rows = kubesim::metrics::timeseries::run_rows(&sim);
                write_metrics(&metrics_path, &spill_path, sink, &rows)
                    .with_context(|| format!("cannot write {}", metrics_path.display()))?;
            }
            let pods = tracker.map(|t| t.finish(sim.now().as_millis()));
            let title = format!("kubesim {} (seed {})", sim.name(), sim.seed());
            // Its outputs are flushed. Freeing a big cluster object by object
            // takes seconds (about 4% of a 5,000-node run) just before the
            // process exits and the system takes the memory back at once.
            std::mem::forget(sim);
            if let Some(file) = file {
                file.commit()
                    .with_context(|| format!("cannot write {}", events_path.display()))?;
            }
            if let Some((slices, nodes)) = pods {
                let log = match std::fs::read_to_string(&events_path) {
                    Ok(t) if events != EventsLevel::None => {
                        kubesim::report::run::parse_events(&t).map_err(anyhow::Error::msg)?
                    }
                    _ => Vec::new(),
                };
                let p = dir.join("trace.perfetto.json");
                let text = kubesim::export::perfetto::trace_json(&title, &slices, &nodes, &log);
                write_atomic(&p, text.as_bytes())
                    .with_context(|| format!("cannot write {}", p.display()))?;
                if !quiet {
                    println!("wrote {}", p.display());
                }
            }
            let json = serde_json::to_vec_pretty(&summary)?;
            write_atomic(&dir.join("summary.json"), &json)
                .with_context(|| format!("cannot write {}", dir.join("summary.json").display()))?;
            summary
        }
    };
    if let Some((why, _)) = &stopped {
        summary.mark_stopped(why);
    }
    if !quiet {
        print!("{}", summary.human());
        if let Some(dir) = out {
            let wrote = if events == kubesim::metrics::recorder::EventsLevel::None {
                format!(
                    "{}/summary.json (no event log: --events none)",
                    dir.display()
                )
            } else {
                format!(
                    "{}/events.jsonl and {}/summary.json",
                    dir.display(),
                    dir.display()
                )
            };
            println!(
                "wrote {wrote}{}",
                if stopped.is_some() {
                    " (INCOMPLETE: the run was cut short; summary.json says sim.complete = false)"
                } else {
                    ""
                }
            );
        }
    }
    if summary.sim.stopped == "event-limit" {
        eprintln!(
            "error: the run stopped after {} events, the scenario's limit (limits.maxEvents); outputs are marked incomplete; raise the limit in the scenario if you mean it",
            summary.sim.events
        );
        return Ok(ExitCode::from(EXIT_EVENT_LIMIT));
    }
    match stopped {
        None => {
            if let (Some(c), false) = (&checker, quiet) {
                println!("invariants: held after each of {} events", c.checked);
            }
            Ok(ExitCode::SUCCESS)
        }
        Some((_, Some(v))) => {
            eprintln!("error: {v}");
            eprintln!(
                "  scenario {}, seed {}; reproduce with:\n  kubesim run {} --seed {} --until {} --check-invariants",
                path.display(),
                sc.seed,
                path.display(),
                sc.seed,
                kubesim::sim::time::human(sc.until)
            );
            Ok(ExitCode::from(EXIT_INVARIANT))
        }
        Some((_, None)) => {
            eprintln!(
                "interrupted at virtual time {}: outputs are marked incomplete",
                summary.sim.virtual_time_ms
            );
            Ok(ExitCode::from(EXIT_INTERRUPTED))
        }
    }
}

fn swarm_cmd(
    count: u64,
    start: u64,
    keep: Option<PathBuf>,
    threads: Option<usize>,
) -> Result<ExitCode> {
    use rayon::prelude::*;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads.unwrap_or(0))
        .build()?;
    let keep = keep.unwrap_or_else(std::env::temp_dir);
    std::fs::create_dir_all(&keep).with_context(|| format!("cannot create {}", keep.display()))?;
    let results: Vec<_> = pool.install(|| {
        (start..start.saturating_add(count))
            .into_par_iter()
            .map(kubesim::swarm::run_one)
            .collect()
    });
    let mut events = 0u64;
    let mut failed = 0u64;
    for r in results {
        match r {
            Ok(o) => events += o.events,
            Err(f) => {
                failed += 1;
                let path = keep.join(format!("swarm-{}.yaml", f.seed));
                write_atomic(&path, f.yaml.as_bytes())
                    .with_context(|| format!("cannot write {}", path.display()))?;
                eprintln!("seed {}: {}", f.seed, f.message);
                eprintln!(
                    "  scenario: {}\n  reproduce: kubesim run {} --check-invariants",
                    path.display(),
                    path.display()
                );
            }
        }
    }
    println!(
        "swarm: {count} scenarios from seed {start}, {events} events checked, {failed} failed"
    );
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// `run --check-determinism`.
fn determinism(path: &Path, sc: &scenario::Scenario, quiet: bool) -> ExitCode {
    use kubesim::determinism::Verdict;
    match kubesim::determinism::check(sc) {
        Verdict::Same {
            records,
            events,
            hash,
        } => {
            if !quiet {
                println!(
                    "deterministic: two runs of {} (seed {}) gave the same {records} records from {events} events (hash {hash:016x}) and the same summary",
                    path.display(),
                    sc.seed
                );
            }
            ExitCode::SUCCESS
        }
        Verdict::Diverged {
            index,
            first,
            second,
        } => {
            eprintln!(
                "error: NOT deterministic: {} (seed {}) diverges at record #{} of events.jsonl (line {}):",
                path.display(),
                sc.seed,
                index,
                index + 1
            );
            eprintln!(
                "  one run:     {}",
                first.as_deref().unwrap_or("(no such line)")
            );
            eprintln!("  another run: {second}");
            ExitCode::from(EXIT_NONDETERMINISTIC)
        }
        Verdict::SummaryDiffers { first, second } => {
            eprintln!(
                "error: NOT deterministic: {} (seed {}): same event log, different summary:\n  {first}\n  {second}",
                path.display(),
                sc.seed
            );
            ExitCode::from(EXIT_NONDETERMINISTIC)
        }
    }
}

fn explain_schedule(
    path: &Path,
    pod: &Path,
    at: SimDuration,
    scheduler: Option<&str>,
    seed: Option<u64>,
    output: OutputFormat,
) -> Result<ExitCode> {
    if let Some(Err(code)) = scheduler.map(check_policy) {
        return Ok(code);
    }
    let Some(mut sc) = load_scenario(path) else {
        return Ok(ExitCode::FAILURE);
    };
    if let Some(s) = seed {
        sc.seed = s;
    }
    let pod = match explain::load_pod(pod) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("{e}");
            return Ok(ExitCode::FAILURE);
        }
    };
    let at = kubesim::sim::time::SimTime::ZERO + at;
    match explain::explain_scenario(&sc, &pod, at, scheduler, &Registry::builtin()) {
        Ok(e) => {
            match output {
                OutputFormat::Json => println!("{}", serde_json::to_string_pretty(&e)?),
                OutputFormat::Table => print!("{}", explain::table(&e)),
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(msg) => {
            eprintln!("error: {msg}");
            Ok(ExitCode::FAILURE)
        }
    }
}

fn get_cmd(
    kind: &str,
    args: &[String],
    at: Option<SimDuration>,
    namespace: Option<String>,
    all_namespaces: bool,
    output: Option<GetFormat>,
    seed: Option<u64>,
) -> Result<ExitCode> {
    let events = matches!(
        kind.to_ascii_lowercase().as_str(),
        "events" | "event" | "ev"
    );
    let k = if events {
        kubesim::api::Kind::Pod
    } else {
        match kubesim::api::Kind::from_kubectl(kind) {
            Some(k) => k,
            None => {
                eprintln!(
                    "error: the server doesn't have a resource type {kind:?}: expected pods, nodes, deployments, replicasets, statefulsets, daemonsets, replicationcontrollers, services, jobs, cronjobs, namespaces, priorityclasses or events"
                );
                return Ok(ExitCode::FAILURE);
            }
        }
    };
    let (name, scenario) = match args {
        [s] => (None, s),
        [n, s] => (Some(n.clone()), s),
        _ => unreachable!("clap takes one or two"),
    };
    let Some(mut sc) = load_scenario(Path::new(scenario)) else {
        return Ok(ExitCode::FAILURE);
    };
    if let Some(s) = seed {
        sc.seed = s;
    }
    let t = SimTime::ZERO + at.unwrap_or(sc.until);
    let sim = views::run_to(&sc, t);
    let q = views::get::Query {
        kind: k,
        events,
        name,
        namespace: if all_namespaces {
            None
        } else {
            Some(namespace.unwrap_or_else(|| "default".into()))
        },
    };
    let fmt = match output {
        None => views::get::Format::Table,
        Some(GetFormat::Wide) => views::get::Format::Wide,
        Some(GetFormat::Json) => views::get::Format::Json,
        Some(GetFormat::Yaml) => views::get::Format::Yaml,
    };
    match views::get::get(&sim, &q, fmt, t) {
        Ok(s) => {
            print!("{s}");
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("{e}");
            Ok(ExitCode::FAILURE)
        }
    }
}

/// Where a grid's results go and how much is said on the way.
struct GridOut<'a> {
    dir: Option<&'a Path>,
    shard: Option<kubesim::sweep::Shard>,
    quiet: bool,
}

fn compare_cmd(
    path: &Path,
    policies: &[String],
    seeds: &[u64],
    threads: Option<usize>,
    until: Option<SimDuration>,
    out: GridOut,
) -> Result<ExitCode> {
    for p in policies {
        if let Err(code) = check_policy(p) {
            return Ok(code);
        }
    }
    if seeds.is_empty() {
        eprintln!("error: --seeds must be at least 1");
        return Ok(ExitCode::FAILURE);
    }
    if threads == Some(0) {
        eprintln!("error: --threads must be at least 1");
        return Ok(ExitCode::FAILURE);
    }
    let Some(mut sc) = load_scenario(path) else {
        return Ok(ExitCode::FAILURE);
    };
    if !out.quiet {
        print_warnings(&sc.warnings);
    }
    if let Some(u) = until {
        sc.until = u;
    }
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let plan = kubesim::sweep::Plan::for_compare(sc, &text, policies, seeds, until);
    run_grid(&plan, threads, out)
}

/// Run a grid (whole, or one shard of it) and print and write its outputs.
fn run_grid(plan: &kubesim::sweep::Plan, threads: Option<usize>, o: GridOut) -> Result<ExitCode> {
    let GridOut {
        dir: out,
        shard,
        quiet,
    } = o;
    let registry = Registry::builtin();
    let whole = shard.unwrap_or(kubesim::sweep::Shard::WHOLE);
    let progress = kubesim::progress::GridProgress::new(whole.len_of(plan.desc.len()), quiet);
    let runs = match plan.run_with_progress(whole, &registry, threads, &progress) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(ExitCode::FAILURE);
        }
    };
    if let (Some(shard), Some(dir)) = (shard, out) {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create output folder {}", dir.display()))?;
        let files = kubesim::sweep::write_shard(dir, &plan.desc, shard, &runs)
            .map_err(anyhow::Error::msg)?;
        if quiet {
            return Ok(ExitCode::SUCCESS);
        }
        println!(
            "shard {shard} of {} (grid {}): ran {} of {} runs",
            plan.desc.summary(),
            plan.desc.hash(),
            runs.len(),
            plan.desc.len()
        );
        for f in &files {
            println!("wrote {}", f.display());
        }
        println!("when every shard is done: kubesim merge SHARD_DIR... --out DIR");
        return Ok(ExitCode::SUCCESS);
    }
    let outcome = kubesim::sweep::outcome(&plan.desc, runs).map_err(anyhow::Error::msg)?;
    write_outcome(&outcome, out, quiet)
}

/// Print a grid's tables (unless `quiet`) and, with a folder, write its files.
fn write_outcome(
    outcome: &kubesim::sweep::Outcome,
    out: Option<&Path>,
    quiet: bool,
) -> Result<ExitCode> {
    if !quiet {
        print!("{}", outcome.table());
    }
    if let Some(dir) = out {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create output folder {}", dir.display()))?;
        let files = outcome.write(dir).map_err(anyhow::Error::msg)?;
        if quiet {
            return Ok(ExitCode::SUCCESS);
        }
        match outcome {
            kubesim::sweep::Outcome::Compare(_) => {
                println!(
                    "wrote {}/comparison.json and {}/comparison.csv",
                    dir.display(),
                    dir.display()
                );
                for f in &files[2..] {
                    println!("wrote {}", f.display());
                }
            }
            kubesim::sweep::Outcome::Sweep(_) => {
                for f in &files {
                    println!("wrote {}", f.display());
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn sweep_cmd(
    path: &Path,
    threads: Option<usize>,
    until: Option<SimDuration>,
    out: GridOut,
) -> Result<ExitCode> {
    if threads == Some(0) {
        eprintln!("error: --threads must be at least 1");
        return Ok(ExitCode::FAILURE);
    }
    let plan = match kubesim::sweep::Plan::for_sweep(path, until, &Registry::builtin()) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(ExitCode::FAILURE);
        }
    };
    // each warning once, though every variant may repeat it
    let mut seen = std::collections::BTreeSet::new();
    for sc in &plan.scenarios {
        let fresh: Vec<String> = sc
            .warnings
            .iter()
            .filter(|w| seen.insert(w.as_str()))
            .cloned()
            .collect();
        if !out.quiet {
            print_warnings(&fresh);
        }
    }
    run_grid(&plan, threads, out)
}

fn merge_cmd(dirs: &[PathBuf], out: Option<&Path>) -> Result<ExitCode> {
    let (grid, runs) = match kubesim::sweep::merge(dirs) {
        Ok(x) => x,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(ExitCode::FAILURE);
        }
    };
    let outcome = kubesim::sweep::outcome(&grid, runs).map_err(anyhow::Error::msg)?;
    write_outcome(&outcome, out, false)
}

/// A scenario has a top-level `name` and no `apiVersion`; everything else is a manifest.
fn trace_stats(
    path: &Path,
    format: &str,
    window: Option<&str>,
    machine: Option<&str>,
    output: OutputFormat,
) -> Result<ExitCode> {
    use kubesim::workload::traces;
    let f = traces::Format::parse(format).map_err(|m| anyhow::anyhow!("--format: {m}"))?;
    let mut opts = traces::Options::new(f);
    if let Some(w) = window {
        opts.window = traces::Window::parse(w).map_err(|m| anyhow::anyhow!("--window: {m}"))?;
    }
    if let Some(m) = machine {
        let bad = || anyhow::anyhow!("--machine {m:?}: expected CPU,MEMORY, e.g. 64,256Gi");
        let (c, mem) = m.split_once(',').ok_or_else(bad)?;
        opts.machine_cpu_millis = kubesim::api::quantity::parse_cpu_millis(c.trim())
            .ok()
            .filter(|v| *v > 0)
            .ok_or_else(bad)?;
        opts.machine_memory = kubesim::api::quantity::parse_value(mem.trim())
            .ok()
            .filter(|v| *v > 0)
            .ok_or_else(bad)?;
    }
    let c = traces::read(f, path, &opts)?;
    let stats = traces::stats::TraceStats::of(f.name(), &path.display().to_string(), &c);
    if c.skipped.total() > 0 {
        eprintln!("warning: {}", c.skipped.describe());
    }
    match output {
        OutputFormat::Table => print!("{}", stats.render()),
        OutputFormat::Json => println!("{}", serde_json::to_string_pretty(&stats)?),
    }
    Ok(ExitCode::SUCCESS)
}

fn looks_like_scenario(path: &Path) -> bool {
    if path.is_dir() {
        return false;
    }
    match manifest::parse_yaml_file(path) {
        Ok(f) => {
            f.docs.len() == 1
                && f.docs[0].0.get("apiVersion").is_none()
                && f.docs[0].0.get("name").is_some()
        }
        Err(_) => false,
    }
}

fn validate(files: &[PathBuf]) -> Result<ExitCode> {
    let mut failed = false;
    for f in files {
        if looks_like_scenario(f) {
            match scenario::load(f) {
                Ok(sc) => {
                    print_warnings(&sc.warnings);
                    let nodes = sc
                        .objects
                        .iter()
                        .filter(|o| o.kind() == kubesim::api::Kind::Node)
                        .count();
                    println!(
                        "{}: ok: scenario {:?}, {} nodes, {} other objects, {} timeline actions",
                        f.display(),
                        sc.name,
                        nodes,
                        sc.objects.len() - nodes,
                        sc.timeline.len()
                    );
                }
                Err(e) => {
                    eprintln!("{e}");
                    failed = true;
                }
            }
        } else {
            let mut loaded = manifest::Loaded::default();
            let mut errors = Vec::new();
            if !f.exists() {
                eprintln!("error: {}: no such file or folder", f.display());
                failed = true;
                continue;
            }
            manifest::load_path(f, &mut loaded, &mut errors);
            print_warnings(&loaded.warnings);
            if errors.is_empty() {
                println!("{}: ok: {} objects", f.display(), loaded.objects.len());
            } else {
                eprintln!("{}", kubesim::diag::LoadError(errors));
                failed = true;
            }
        }
    }
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// `kubesim report RUN_DIR | SCENARIO`.
fn report_cmd(
    input: &Path,
    out: Option<&Path>,
    seed: Option<u64>,
    until: Option<SimDuration>,
) -> Result<ExitCode> {
    use kubesim::report::run::RunData;
    let (data, dir) = if input.is_dir() {
        if seed.is_some() || until.is_some() {
            eprintln!("error: --seed and --until apply to a scenario, not to a run folder");
            return Ok(ExitCode::FAILURE);
        }
        match RunData::from_dir(input) {
            Ok(d) => (d, out.unwrap_or(input).to_path_buf()),
            Err(e) => {
                eprintln!("error: {e}");
                return Ok(ExitCode::FAILURE);
            }
        }
    } else {
        let Some(mut sc) = load_scenario(input) else {
            return Ok(ExitCode::FAILURE);
        };
        print_warnings(&sc.warnings);
        if let Some(s) = seed {
            sc.seed = s;
        }
        if let Some(u) = until {
            sc.until = u;
        }
        let dir = out
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from(format!("report-{}", sc.name)));
        (RunData::from_scenario(&sc), dir)
    };
    let written = kubesim::report::html::write_report(&data, &dir)
        .with_context(|| format!("cannot write the report into {}", dir.display()))?;
    println!(
        "wrote {}/report.md and {}/report.html ({} charts)",
        dir.display(),
        dir.display(),
        written.len() - 2
    );
    Ok(ExitCode::SUCCESS)
}
