//! `batch/v1` Jobs end to end: manifest defaults and validation, the job
//! controller's waves, completion, suspension and deadlines, and summary.json.

mod common;

use common::*;
use kubesim::api::AnyObject;
use kubesim::manifest::{load_file, Loaded};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

const FIVE_MIN: u64 = 300_000;
/// Default `apiServer.watchDelay`: a pod's success reaches the job controller this late.
const WATCH_DELAY: u64 = 50;

fn run_scenario(scenario: &Path, out: &Path) -> (Vec<Value>, Value) {
    let r = kubesim([
        "run".as_ref(),
        scenario.as_os_str(),
        "--out".as_ref(),
        out.as_os_str(),
        "--quiet".as_ref(),
    ]);
    r.assert_success();
    (
        read_events(&out.join("events.jsonl")),
        read_json(&out.join("summary.json")),
    )
}

fn s<'a>(e: &'a Value, k: &str) -> &'a str {
    e[k].as_str()
        .unwrap_or_else(|| panic!("{k} missing in {e}"))
}

fn t(e: &Value) -> u64 {
    e["time_ms"].as_u64().expect("time_ms")
}

/// Events with this reason about this object.
fn events_of<'a>(events: &'a [Value], reason: &str, object: &str) -> Vec<&'a Value> {
    events
        .iter()
        .filter(|e| s(e, "reason") == reason && s(e, "object") == object)
        .collect()
}

/// name → creation time of the pods the job controller created for `job`.
fn created_pods(events: &[Value], job: &str) -> BTreeMap<String, u64> {
    events_of(events, "SuccessfulCreate", &format!("Job/default/{job}"))
        .into_iter()
        .map(|e| {
            let name = s(e, "message")
                .strip_prefix("Created pod: ")
                .expect("message `Created pod: NAME`");
            (name.to_string(), t(e))
        })
        .collect()
}

/// When the kubelet started the pod's (single) container.
fn started_at(events: &[Value], pod: &str) -> u64 {
    let ev = events_of(events, "Started", &format!("Pod/default/{pod}"));
    assert_eq!(ev.len(), 1, "pod {pod} should start once: {ev:?}");
    t(ev[0])
}

#[test]
fn batch_jobs_scenario_runs_parallelism_pods_at_a_time_in_three_waves() {
    let tmp = TempDir::new("jobs_waves");
    let (events, _) = run_scenario(&scenario("batch-jobs.yaml"), &tmp.join("out"));
    let created = created_pods(&events, "render");
    assert_eq!(created.len(), 6, "completions 6, no failures: {created:?}");
    assert!(created
        .keys()
        .all(|n| n.starts_with("render-") && n.len() == 12));

    // Running intervals [start, start + 5m): never more than parallelism (2) at once.
    let runs: Vec<(u64, u64)> = created
        .keys()
        .map(|p| {
            let st = started_at(&events, p);
            (st, st + FIVE_MIN)
        })
        .collect();
    for &(at, _) in &runs {
        let running = runs.iter().filter(|(a, b)| *a <= at && at < *b).count();
        assert!(running <= 2, "{running} pods running at t={at}ms: {runs:?}");
    }
    // Pods are created only when a slot frees: 3 waves of 2.
    let mut waves: BTreeMap<u64, usize> = BTreeMap::new();
    for at in created.values() {
        *waves.entry(*at).or_default() += 1;
    }
    assert_eq!(waves.len(), 3, "ceil(6/2) waves: {waves:?}");
    assert!(waves.values().all(|n| *n == 2), "{waves:?}");
    // The controller is level-triggered: it syncs when a pod's success reaches it
    // (watch delay later) and then sees every pod finished by that moment. Each
    // later wave is created by the first such sync after the previous wave ended.
    let notified_after = |ends: &[u64], all_done: u64| -> u64 {
        ends.iter()
            .map(|e| e + WATCH_DELAY)
            .filter(|n| *n >= all_done)
            .min()
            .unwrap()
    };
    let wave_times: Vec<u64> = waves.keys().copied().collect();
    for w in 1..3 {
        let ends: Vec<u64> = created
            .iter()
            .filter(|(_, c)| **c == wave_times[w - 1])
            .map(|(p, _)| started_at(&events, p) + FIVE_MIN)
            .collect();
        let first_end = *ends.iter().min().unwrap();
        assert_eq!(wave_times[w], first_end + WATCH_DELAY, "wave {w}");
    }

    // Complete exactly when the last pod's success has reached the controller.
    let done = events_of(&events, "Completed", "Job/default/render");
    assert_eq!(done.len(), 1, "one Completed event");
    assert_eq!(s(done[0], "message"), "Job completed");
    assert_eq!(s(done[0], "component"), "job-controller");
    let ends: Vec<u64> = runs.iter().map(|r| r.1).collect();
    let last_end = *ends.iter().max().unwrap();
    assert_eq!(t(done[0]), notified_after(&ends, last_end));
    assert!(t(done[0]) >= 3 * FIVE_MIN && t(done[0]) < 4 * FIVE_MIN);
    // Nothing is deleted when a Job completes.
    assert!(events_of(&events, "SuccessfulDelete", "Job/default/render").is_empty());
}

#[test]
fn batch_jobs_summary_lists_both_jobs() {
    let tmp = TempDir::new("jobs_summary");
    let (events, summary) = run_scenario(&scenario("batch-jobs.yaml"), &tmp.join("out"));
    let render = &summary["jobs"]["default/render"];
    assert_eq!(render["completions"], 6);
    assert_eq!(render["succeeded"], 6);
    assert_eq!(render["failed"], 0);
    assert_eq!(render["complete"], true);
    assert!(render["failed_reason"].is_null());
    // startTime is the first sync (when the first pods were created).
    let first = *created_pods(&events, "render").values().min().unwrap();
    let done = t(events_of(&events, "Completed", "Job/default/render")[0]);
    assert_eq!(render["duration_ms"].as_u64(), Some(done - first));

    // The second Job, applied at 10m: defaults completions = parallelism = 1.
    let report = &summary["jobs"]["default/report"];
    assert_eq!(report["completions"], 1);
    assert_eq!(report["succeeded"], 1);
    assert_eq!(report["complete"], true);
    let created = created_pods(&events, "report");
    assert_eq!(created.len(), 1);
    let (pod, at) = created.iter().next().unwrap();
    assert!(*at >= 600_000, "created after the 10m apply: {at}");
    let report_done = t(events_of(&events, "Completed", "Job/default/report")[0]);
    assert_eq!(
        report_done,
        started_at(&events, pod) + 120_000 + WATCH_DELAY
    );
    assert_eq!(report["duration_ms"].as_u64(), Some(report_done - at));
    assert_eq!(summary["pods"]["created"], 7);
    assert_eq!(summary["pods"]["succeeded"], 7);
}

const JOB_NEVER_ENDING: &str = r#"
name: jobs-test
until: 30m
cluster:
  nodePools:
    - {name: n, count: 2, capacity: {cpu: "4", memory: 8Gi}}
objects:
  - apiVersion: batch/v1
    kind: Job
    metadata: {name: crunch}
    spec:
      parallelism: 3
      completions: 5
      SPEC_EXTRA
      template:
        metadata: {annotations: {kubesim.io/run-for: 10m}}
        spec:
          restartPolicy: Never
          containers: [{name: c, image: "busybox:1.36", resources: {requests: {cpu: 100m}}}]
TIMELINE
"#;

fn job_scenario(extra: &str, timeline: &str) -> String {
    JOB_NEVER_ENDING
        .replace("SPEC_EXTRA", extra)
        .replace("TIMELINE", timeline)
}

#[test]
fn suspended_job_creates_no_pods_until_resumed() {
    let tmp = TempDir::new("jobs_suspend");
    let sc = tmp.write("s.yaml", &job_scenario("suspend: true", ""));
    let (events, summary) = run_scenario(&sc, &tmp.join("out"));
    assert!(created_pods(&events, "crunch").is_empty(), "{events:?}");
    assert_eq!(summary["pods"]["created"], 0);
    let j = &summary["jobs"]["default/crunch"];
    assert_eq!(j["complete"], false);
    assert_eq!(j["succeeded"], 0);
    assert!(j["duration_ms"].is_null());
    let susp = events_of(&events, "Suspended", "Job/default/crunch");
    assert_eq!(susp.len(), 1);
    assert_eq!(s(susp[0], "message"), "Job suspended");

    // Resumed at 5m by re-applying with suspend: false.
    let resume = r#"timeline:
  - at: 5m
    action: apply
    object:
      apiVersion: batch/v1
      kind: Job
      metadata: {name: crunch}
      spec:
        parallelism: 3
        completions: 5
        suspend: false
        template:
          metadata: {annotations: {kubesim.io/run-for: 10m}}
          spec:
            restartPolicy: Never
            containers: [{name: c, image: "busybox:1.36", resources: {requests: {cpu: 100m}}}]
"#;
    let sc = tmp.write("r.yaml", &job_scenario("suspend: true", resume));
    let (events, summary) = run_scenario(&sc, &tmp.join("out-r"));
    let created = created_pods(&events, "crunch");
    assert_eq!(created.len(), 5, "{created:?}");
    assert!(created.values().all(|at| *at > FIVE_MIN), "{created:?}");
    assert_eq!(events_of(&events, "Resumed", "Job/default/crunch").len(), 1);
    assert_eq!(summary["jobs"]["default/crunch"]["complete"], true);
}

#[test]
fn active_deadline_fails_the_job_with_deadline_exceeded_on_time() {
    let tmp = TempDir::new("jobs_deadline");
    let sc = tmp.write("s.yaml", &job_scenario("activeDeadlineSeconds: 120", ""));
    let (events, summary) = run_scenario(&sc, &tmp.join("out"));
    let created = created_pods(&events, "crunch");
    assert_eq!(created.len(), 3, "parallelism 3: {created:?}");
    let start = *created.values().min().unwrap();
    let failed = events_of(&events, "DeadlineExceeded", "Job/default/crunch");
    assert_eq!(failed.len(), 1, "{events:?}");
    assert_eq!(s(failed[0], "type"), "Warning");
    assert_eq!(
        s(failed[0], "message"),
        "Job was active longer than specified deadline"
    );
    assert_eq!(
        t(failed[0]),
        start + 120_000,
        "deadline from status.startTime"
    );
    // Its active pods are deleted at that moment.
    let deleted = events_of(&events, "SuccessfulDelete", "Job/default/crunch");
    assert_eq!(deleted.len(), 3);
    assert!(deleted.iter().all(|e| t(e) == start + 120_000));
    let j = &summary["jobs"]["default/crunch"];
    assert_eq!(j["failed_reason"], "DeadlineExceeded");
    assert_eq!(j["complete"], false);
    assert_eq!(j["failed"], 3);
    assert_eq!(j["succeeded"], 0);
    assert!(j["duration_ms"].is_null());
    assert!(events_of(&events, "Completed", "Job/default/crunch").is_empty());
}

const BAD_JOB: &str = r#"apiVersion: batch/v1
kind: Job
metadata:
  name: bad
spec:
  template:
    spec:
      restartPolicy: Always
      containers:
        - name: c
          image: busybox:1.36
"#;

#[test]
fn job_with_restart_policy_always_is_rejected_with_position() {
    let tmp = TempDir::new("jobs_bad_restart");
    let f = tmp.write("job.yaml", BAD_JOB);
    let r = kubesim(["validate".as_ref(), f.as_os_str()]);
    r.assert_no_panic();
    assert_eq!(r.code, Some(1), "{}", r.describe());
    let line = line_of(BAD_JOB, "restartPolicy: Always");
    let col = BAD_JOB
        .lines()
        .nth(line - 1)
        .unwrap()
        .find("Always")
        .unwrap()
        + 1;
    assert!(
        positions_for(&r.stderr, &f).contains(&(line, col)),
        "expected {}:{line}:{col}\n{}",
        f.display(),
        r.describe()
    );
    assert!(
        r.stderr.contains(
            r#"Unsupported value: "Always": supported values: "OnFailure", "Never" (at spec.template.spec.restartPolicy)"#
        ),
        "{}",
        r.describe()
    );

    // Without restartPolicy the pod default (Always) is rejected the same way.
    let f2 = tmp.write(
        "job2.yaml",
        &BAD_JOB.replace("      restartPolicy: Always\n", ""),
    );
    let r = kubesim(["validate".as_ref(), f2.as_os_str()]);
    assert_eq!(r.code, Some(1), "{}", r.describe());
    assert!(
        r.stderr.contains("Unsupported value: \"Always\""),
        "{}",
        r.describe()
    );
    assert!(
        !positions_for(&r.stderr, &f2).is_empty(),
        "{}",
        r.describe()
    );

    // A negative parallelism is an error at its value.
    let f3 = tmp.write(
        "job3.yaml",
        &BAD_JOB
            .replace("Always", "Never")
            .replace("spec:\n  template", "spec:\n  parallelism: -1\n  template"),
    );
    let r = kubesim(["validate".as_ref(), f3.as_os_str()]);
    assert_eq!(r.code, Some(1), "{}", r.describe());
    assert!(
        r.stderr.contains(
            "Invalid value: -1: must be greater than or equal to 0 (at spec.parallelism)"
        ),
        "{}",
        r.describe()
    );
    assert!(
        positions_for(&r.stderr, &f3).contains(&(6, 16)),
        "{}",
        r.describe()
    );
}

fn load_job(tmp: &TempDir, name: &str, spec_extra: &str) -> kubesim::api::Job {
    let text = BAD_JOB.replace("Always", "Never").replace(
        "spec:\n  template",
        &format!("spec:\n{spec_extra}  template"),
    );
    let f = tmp.write(name, &text);
    let mut out = Loaded::default();
    let mut errors = Vec::new();
    load_file(&f, &mut out, &mut errors);
    assert!(errors.is_empty(), "{errors:?}");
    match out.objects.into_iter().next().map(|(o, _)| o) {
        Some(AnyObject::Job(j)) => j,
        _ => panic!("expected one Job"),
    }
}

#[test]
fn job_defaults_follow_upstream() {
    let tmp = TempDir::new("jobs_defaults");
    // neither completions nor parallelism: both 1
    let j = load_job(&tmp, "a.yaml", "");
    assert_eq!((j.parallelism, j.completions), (1, Some(1)));
    assert_eq!(j.backoff_limit, 6);
    assert!(!j.suspend);
    assert_eq!(j.active_deadline, None);
    // generated selector and labels
    assert_eq!(
        j.selector.match_labels.get("batch.kubernetes.io/job-name"),
        Some(&"bad".to_string())
    );
    assert_eq!(
        j.template.labels.get("batch.kubernetes.io/job-name"),
        Some(&"bad".to_string())
    );
    assert_eq!(j.template.labels.get("job-name"), Some(&"bad".to_string()));
    // parallelism only: a work-queue Job (completions unset)
    let j = load_job(&tmp, "b.yaml", "  parallelism: 3\n");
    assert_eq!((j.parallelism, j.completions), (3, None));
    // completions only: parallelism 1
    let j = load_job(&tmp, "c.yaml", "  completions: 4\n  backoffLimit: 0\n");
    assert_eq!(
        (j.parallelism, j.completions, j.backoff_limit),
        (1, Some(4), 0)
    );
}
