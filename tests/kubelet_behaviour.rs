//! The kubelet's container lifecycle: simulated app behaviour (startup, crash,
//! memory), probes (startup, readiness, liveness), restartPolicy, the
//! CrashLoopBackOff back-off, OOMKilled, and the `pod-crash` / `pod-oom` faults.

mod common;

use common::TempDir;
use kubesim::api::job::Job;
use kubesim::api::pod::PodPhase;
use kubesim::api::{ObjKey, Pod};
use kubesim::metrics::recorder::Record;
use kubesim::metrics::Recorder;
use kubesim::{scenario, Simulation};

fn run_text(test: &str, yaml: &str) -> (Simulation, Vec<Record>) {
    let dir = TempDir::new(test);
    let path = dir.write("scenario.yaml", yaml);
    let sc = scenario::load(&path).unwrap_or_else(|e| panic!("{e}"));
    let mut sim = Simulation::new(&sc, Recorder::in_memory());
    sim.run();
    let recs = sim.recorder().records().to_vec();
    (sim, recs)
}

fn load_err(test: &str, yaml: &str) -> String {
    let dir = TempDir::new(test);
    let path = dir.write("scenario.yaml", yaml);
    match scenario::load(&path) {
        Ok(_) => panic!("expected a load error"),
        Err(e) => e.to_string(),
    }
}

fn of<'a>(recs: &'a [Record], reason: &str, object: &str) -> Vec<&'a Record> {
    recs.iter()
        .filter(|r| r.reason == reason && r.object == object)
        .collect()
}

const CLUSTER: &str = r#"
cluster:
  nodePools:
    - name: n
      count: 1
      capacity: {cpu: "8", memory: 32Gi, pods: 110}
"#;

fn pod(name: &str, extra_meta: &str, spec: &str) -> String {
    format!(
        r#"
  - apiVersion: v1
    kind: Pod
    metadata:
      name: {name}
      labels: {{app: {name}}}
{extra_meta}
    spec:
{spec}
"#
    )
}

const NGINX: &str = r#"      containers:
        - name: app
          image: nginx:1.25
"#;

#[test]
fn crash_loop_back_off_delays_are_10_20_40_80_160_300_300() {
    let yaml = format!(
        "name: crashloop\nuntil: 30m\n{CLUSTER}\nbehaviors:\n  - selector: {{matchLabels: {{app: boom}}}}\n    crash: {{after: 0s}}\nobjects:{}",
        pod("boom", "", NGINX)
    );
    let (sim, recs) = run_text("backoff", &yaml);
    let obj = "Pod/default/boom";
    let started = of(&recs, "Started", obj);
    let backoffs = of(&recs, "BackOff", obj);
    assert!(started.len() >= 8, "{started:?}");
    assert_eq!(
        backoffs[0].message,
        "Back-off restarting failed container app in pod boom"
    );
    assert_eq!(backoffs[0].event_type, kubesim::metrics::EventType::Warning);
    let delays: Vec<u64> = backoffs
        .iter()
        .zip(started.iter().skip(1))
        .map(|(b, s)| (s.time_ms - b.time_ms) / 1000)
        .take(7)
        .collect();
    eprintln!("back-off delays (s): {delays:?}");
    assert_eq!(delays, vec![10, 20, 40, 80, 160, 300, 300]);
    // the crash is at the start (crash after 0s)
    assert_eq!(backoffs[0].time_ms, started[0].time_ms);
    let p = sim
        .api()
        .get::<Pod>(&ObjKey::new("default", "boom"))
        .unwrap();
    assert_eq!(p.status.restart_count as usize, started.len() - 1);
    assert_eq!(p.status.phase, PodPhase::Running);
    assert!(!p.status.ready);
    assert_eq!(p.display_status(), "CrashLoopBackOff");
    assert_eq!(p.status.last_termination_reason.as_deref(), Some("Error"));
    assert_eq!(p.status.last_exit_code, Some(1));
}

#[test]
fn back_off_resets_after_ten_minutes_without_a_restart() {
    // crashes every 11 minutes: the back-off never grows past 10 s
    let yaml = format!(
        "name: reset\nuntil: 60m\n{CLUSTER}\nbehaviors:\n  - selector: {{matchLabels: {{app: slow}}}}\n    crash: {{after: 11m}}\nobjects:{}",
        pod("slow", "", NGINX)
    );
    let (_, recs) = run_text("reset", &yaml);
    let obj = "Pod/default/slow";
    let started = of(&recs, "Started", obj);
    let backoffs = of(&recs, "BackOff", obj);
    assert!(backoffs.len() >= 3);
    for (b, s) in backoffs.iter().zip(started.iter().skip(1)) {
        assert_eq!(s.time_ms - b.time_ms, 10_000);
    }
    // and crashes 11 minutes after each start
    for (s, b) in started.iter().zip(backoffs.iter()) {
        assert_eq!(b.time_ms - s.time_ms, 660_000);
    }
}

#[test]
fn readiness_probe_gates_ready_until_the_first_good_probe_after_startup() {
    let spec = r#"      containers:
        - name: app
          image: nginx:1.25
          readinessProbe:
            httpGet: {path: /healthz, port: 80}
            initialDelaySeconds: 2
            periodSeconds: 5
"#;
    let yaml = format!(
        "name: ready\nuntil: 5m\n{CLUSTER}\nobjects:{}{}",
        pod("slow", "      annotations: {kubesim.io/startup: 13s}", spec),
        pod("plain", "", NGINX)
    );
    let (sim, recs) = run_text("ready", &yaml);
    let started = of(&recs, "Started", "Pod/default/slow")[0].time_ms;
    let p = sim
        .api()
        .get::<Pod>(&ObjKey::new("default", "slow"))
        .unwrap();
    assert!(p.status.ready);
    // probes at +2, +7, +12, +17 s: the app answers from +13 s
    assert_eq!(p.status.ready_since.unwrap().as_millis() - started, 17_000);
    // without a readiness probe a pod is Ready when its container starts
    let plain_started = of(&recs, "Started", "Pod/default/plain")[0].time_ms;
    let q = sim
        .api()
        .get::<Pod>(&ObjKey::new("default", "plain"))
        .unwrap();
    assert_eq!(q.status.ready_since.unwrap().as_millis(), plain_started);
    assert!(of(&recs, "Unhealthy", "Pod/default/slow").is_empty());
}

#[test]
fn liveness_probe_kills_a_slow_starting_container_and_a_startup_probe_prevents_it() {
    let live = r#"      containers:
        - name: app
          image: nginx:1.25
          livenessProbe:
            tcpSocket: {port: 80}
"#;
    let guarded = r#"      containers:
        - name: app
          image: nginx:1.25
          startupProbe:
            tcpSocket: {port: 80}
            failureThreshold: 30
          livenessProbe:
            tcpSocket: {port: 80}
"#;
    let yaml = format!(
        "name: live\nuntil: 3m\n{CLUSTER}\nbehaviors:\n  - selector: {{matchLabels: {{}}}}\n    startup: 45s\nobjects:{}{}",
        pod("killed", "", live),
        pod("guarded", "", guarded)
    );
    let (sim, recs) = run_text("live", &yaml);
    let started = of(&recs, "Started", "Pod/default/killed");
    let unhealthy = of(&recs, "Unhealthy", "Pod/default/killed");
    let killing = of(&recs, "Killing", "Pod/default/killed");
    // probes at +0, +10, +20 s fail (the app needs 45 s): killed at +20 s
    assert_eq!(unhealthy[0].time_ms - started[0].time_ms, 20_000);
    assert_eq!(
        unhealthy[0].message,
        "Liveness probe failed: dial tcp: connect: connection refused"
    );
    assert_eq!(
        killing[0].message,
        "Container app failed liveness probe, will be restarted"
    );
    assert_eq!(killing[0].time_ms, unhealthy[0].time_ms);
    // then restarted through the back-off
    assert_eq!(started[1].time_ms - killing[0].time_ms, 10_000);
    // the startup probe holds liveness back: never killed, Ready at +50 s
    assert!(of(&recs, "Unhealthy", "Pod/default/guarded").is_empty());
    let g = sim
        .api()
        .get::<Pod>(&ObjKey::new("default", "guarded"))
        .unwrap();
    let gs = of(&recs, "Started", "Pod/default/guarded")[0].time_ms;
    assert_eq!(g.status.restart_count, 0);
    assert_eq!(g.status.ready_since.unwrap().as_millis() - gs, 50_000);
}

#[test]
fn startup_probe_failure_threshold_kills_the_container() {
    let spec = r#"      containers:
        - name: app
          image: nginx:1.25
          startupProbe:
            exec: {command: [cat, /ready]}
            periodSeconds: 5
            failureThreshold: 2
"#;
    let yaml = format!(
        "name: startup\nuntil: 2m\n{CLUSTER}\nobjects:{}",
        pod("never", "      annotations: {kubesim.io/startup: 1h}", spec)
    );
    let (_, recs) = run_text("startup", &yaml);
    let started = of(&recs, "Started", "Pod/default/never");
    let u = of(&recs, "Unhealthy", "Pod/default/never");
    assert_eq!(u[0].time_ms - started[0].time_ms, 5_000);
    assert!(u[0].message.starts_with("Startup probe failed: "));
    assert_eq!(
        of(&recs, "Killing", "Pod/default/never")[0].message,
        "Container app failed startup probe, will be restarted"
    );
}

#[test]
fn memory_over_the_limit_is_oom_killed_and_crash_loops() {
    let spec = r#"      containers:
        - name: app
          image: nginx:1.25
          resources:
            limits: {memory: 256Mi}
"#;
    let yaml = format!(
        "name: oom\nuntil: 10m\n{CLUSTER}\nbehaviors:\n  - selector: {{matchLabels: {{app: hog}}}}\n    memory: 300Mi\n  - selector: {{matchLabels: {{app: fits}}}}\n    memory: 200Mi\nobjects:{}{}",
        pod("hog", "", spec),
        pod("fits", "", spec)
    );
    let (sim, recs) = run_text("oom", &yaml);
    let hog = sim
        .api()
        .get::<Pod>(&ObjKey::new("default", "hog"))
        .unwrap();
    assert_eq!(
        hog.status.last_termination_reason.as_deref(),
        Some("OOMKilled")
    );
    assert_eq!(hog.status.last_exit_code, Some(137));
    assert!(hog.status.restart_count >= 3);
    let started = of(&recs, "Started", "Pod/default/hog");
    let backoff = of(&recs, "BackOff", "Pod/default/hog");
    assert_eq!(backoff[0].time_ms - started[0].time_ms, 1_000);
    let fits = sim
        .api()
        .get::<Pod>(&ObjKey::new("default", "fits"))
        .unwrap();
    assert_eq!(fits.status.restart_count, 0);
    assert!(fits.status.ready);
}

#[test]
fn restart_policy_decides_between_restart_failed_and_succeeded() {
    let never = "      restartPolicy: Never\n".to_string() + NGINX;
    let on_failure = "      restartPolicy: OnFailure\n".to_string() + NGINX;
    let yaml = format!(
        "name: policy\nuntil: 10m\n{CLUSTER}\nobjects:{}{}{}{}",
        pod(
            "never-fails",
            "      annotations: {kubesim.io/crash-after: 30s}",
            &never
        ),
        pod(
            "onfailure-fails",
            "      annotations: {kubesim.io/crash-after: 30s}",
            &on_failure
        ),
        pod(
            "onfailure-zero",
            "      annotations: {kubesim.io/crash-after: 30s, kubesim.io/exit-code: \"0\"}",
            &on_failure
        ),
        pod(
            "always-zero",
            "      annotations: {kubesim.io/crash-after: 30s, kubesim.io/exit-code: \"0\"}",
            NGINX
        ),
    );
    let (sim, _) = run_text("policy", &yaml);
    let get = |n: &str| {
        sim.api()
            .get::<Pod>(&ObjKey::new("default", n))
            .unwrap()
            .clone()
    };
    let p = get("never-fails");
    assert_eq!(p.status.phase, PodPhase::Failed);
    assert_eq!(p.display_status(), "Error");
    assert_eq!(p.status.restart_count, 0);
    let p = get("onfailure-fails");
    assert_eq!(p.status.phase, PodPhase::Running);
    assert!(p.status.restart_count >= 2);
    let p = get("onfailure-zero");
    assert_eq!(p.status.phase, PodPhase::Succeeded);
    assert_eq!(p.display_status(), "Completed");
    let p = get("always-zero");
    assert_eq!(p.status.phase, PodPhase::Running);
    assert!(p.status.restart_count >= 2);
}

#[test]
fn job_whose_pods_crash_hits_backoff_limit_exceeded() {
    let yaml = format!(
        r#"name: job-crash
until: 30m
{CLUSTER}
behaviors:
  - selector: {{matchLabels: {{job-name: crunch}}}}
    crash: {{after: 5s}}
objects:
  - apiVersion: batch/v1
    kind: Job
    metadata: {{name: crunch}}
    spec:
      backoffLimit: 2
      template:
        spec:
          restartPolicy: Never
          containers:
            - name: work
              image: busybox:1.36
"#
    );
    let (sim, recs) = run_text("jobcrash", &yaml);
    let job = sim
        .api()
        .get::<Job>(&ObjKey::new("default", "crunch"))
        .unwrap();
    assert_eq!(
        job.status.failed_reason.as_deref(),
        Some("BackoffLimitExceeded"),
        "{:?}",
        job.status
    );
    assert_eq!(job.status.failed, 3);
    assert!(recs.iter().any(|r| r.reason == "BackoffLimitExceeded"));
}

#[test]
fn pod_crash_and_pod_oom_faults_hit_the_first_running_pods_by_name() {
    let deploy = r#"
  - apiVersion: apps/v1
    kind: Deployment
    metadata: {name: web}
    spec:
      replicas: 3
      selector: {matchLabels: {app: web}}
      template:
        metadata: {labels: {app: web}}
        spec:
          containers:
            - name: nginx
              image: nginx:1.25
"#;
    let yaml = format!(
        "name: faults\nuntil: 10m\n{CLUSTER}\nobjects:{deploy}\ntimeline:\n  - {{at: 2m, action: pod-crash, selector: {{app: web}}, count: 2}}\n  - {{at: 5m, action: pod-oom, selector: {{app: web}}}}\n"
    );
    let (sim, recs) = run_text("faults", &yaml);
    let mut pods: Vec<&Pod> = sim.api().list::<Pod>().collect();
    pods.sort_by(|a, b| a.meta.name.cmp(&b.meta.name));
    assert_eq!(pods.len(), 3);
    let crashes: Vec<&Record> = recs.iter().filter(|r| r.reason == "PodCrash").collect();
    assert_eq!(crashes.len(), 2);
    assert_eq!(
        crashes[0].object,
        format!("Pod/default/{}", pods[0].meta.name)
    );
    assert_eq!(
        crashes[1].object,
        format!("Pod/default/{}", pods[1].meta.name)
    );
    assert_eq!(pods[0].status.restart_count, 2);
    assert_eq!(
        pods[0].status.last_termination_reason.as_deref(),
        Some("OOMKilled")
    );
    assert_eq!(pods[1].status.restart_count, 1);
    assert_eq!(
        pods[1].status.last_termination_reason.as_deref(),
        Some("Error")
    );
    assert_eq!(pods[2].status.restart_count, 0);
    // restarted 10 s after each fault, and Ready again
    for p in &pods {
        assert!(p.status.ready, "{}", p.meta.name);
    }
    let started: Vec<u64> = of(
        &recs,
        "Started",
        &format!("Pod/default/{}", pods[1].meta.name),
    )
    .iter()
    .map(|r| r.time_ms)
    .collect();
    assert_eq!(started[1], 120_000 + 10_000);
}

#[test]
fn pod_fault_actions_are_checked_with_positions() {
    let e = load_err(
        "faulterr",
        &format!("name: x\n{CLUSTER}\ntimeline:\n  - {{at: 1m, action: pod-crash, count: 0, target: node/n-0}}\n"),
    );
    assert!(e.contains("count must be between 1"), "{e}");
    assert!(
        e.contains("`target` does not apply to action pod-crash"),
        "{e}"
    );
    assert!(e.contains("needs a `selector`"), "{e}");
    assert!(e.contains("scenario.yaml:"), "{e}");
}

#[test]
fn uniform_startup_draws_are_deterministic_per_seed() {
    let spec = r#"      containers:
        - name: app
          image: nginx:1.25
          readinessProbe:
            httpGet: {path: /, port: 80}
            periodSeconds: 1
"#;
    let yaml = format!(
        "name: uni\nuntil: 5m\nseed: 7\n{CLUSTER}\nbehaviors:\n  - selector: {{matchLabels: {{app: u}}}}\n    startup: {{uniform: [2s, 8s]}}\nobjects:{}",
        pod("u", "", spec)
    );
    let ready = |t: &str| {
        let (sim, recs) = run_text(t, &yaml);
        let s = of(&recs, "Started", "Pod/default/u")[0].time_ms;
        let p = sim.api().get::<Pod>(&ObjKey::new("default", "u")).unwrap();
        p.status.ready_since.unwrap().as_millis() - s
    };
    let a = ready("uni-a");
    assert_eq!(a, ready("uni-b"));
    assert!((2_000..=8_000).contains(&a), "{a}");
}

#[test]
fn timers_of_a_run_from_before_a_node_crash_do_not_fire_after_recovery() {
    let yaml = format!(
        "name: gen\nuntil: 10m\n{CLUSTER}\nobjects:{}\ntimeline:\n  - {{at: 1m, action: node-crash, target: node/n-0, for: 30s}}\n",
        pod("p", "      annotations: {kubesim.io/crash-after: 2m}", NGINX)
    );
    let (_, recs) = run_text("gen", &yaml);
    let started = of(&recs, "Started", "Pod/default/p");
    let backoffs = of(&recs, "BackOff", "Pod/default/p");
    // the first run died with the node at 1m; its 2m crash timer is void
    assert!(started.len() >= 2);
    assert!(started[1].time_ms >= 90_000);
    assert_eq!(backoffs[0].time_ms, started[1].time_ms + 120_000);
}

#[test]
fn shipped_crashloop_scenario_shows_backoff_readiness_and_oom() {
    let sc = scenario::load(&common::scenario("crashloop.yaml")).unwrap_or_else(|e| panic!("{e}"));
    let mut sim = Simulation::new(&sc, Recorder::in_memory());
    sim.run();
    let recs = sim.recorder().records().to_vec();
    let pods: Vec<Pod> = sim.api().list::<Pod>().cloned().collect();
    let named = |prefix: &str| -> Vec<&Pod> {
        pods.iter()
            .filter(|p| p.meta.name.starts_with(prefix))
            .collect()
    };
    // flaky: crash 30 s after every start, back-off 10, 20, 40, ...
    let f = named("flaky-")[0];
    let obj = format!("Pod/default/{}", f.meta.name);
    let started = of(&recs, "Started", &obj);
    let backoffs = of(&recs, "BackOff", &obj);
    assert_eq!(backoffs[0].time_ms - started[0].time_ms, 30_000);
    let delays: Vec<u64> = backoffs
        .iter()
        .zip(started.iter().skip(1))
        .map(|(b, s)| s.time_ms - b.time_ms)
        .take(4)
        .collect();
    assert_eq!(delays, vec![10_000, 20_000, 40_000, 80_000]);
    // slow: Ready 25 s after the start, never killed by liveness
    for s in named("slow-") {
        let obj = format!("Pod/default/{}", s.meta.name);
        assert!(of(&recs, "Unhealthy", &obj).is_empty());
        let last = of(&recs, "Started", &obj).last().unwrap().time_ms;
        assert_eq!(s.status.ready_since.unwrap().as_millis() - last, 25_000);
    }
    assert_eq!(
        named("slow-")
            .iter()
            .map(|p| p.status.restart_count)
            .sum::<u32>(),
        1,
        "the pod-crash fault restarted one slow pod"
    );
    let h = named("hog-")[0];
    assert_eq!(
        h.status.last_termination_reason.as_deref(),
        Some("OOMKilled")
    );
    assert!(h.status.restart_count >= 3);
    let s = sim.summary();
    assert!((1..=s.pods.running).contains(&s.pods.crash_loop_back_off));
    assert!(s.pods.restarts >= 10);
}
