//! StatefulSets, DaemonSets, ReplicationControllers and CronJobs end to end,
//! through the library (stepping the simulation to catch the moment a pod
//! appears) and the CLI.

mod common;

use common::*;
use kubesim::api::apps::PodManagementPolicy;
use kubesim::api::{ObjKey, Pod, PodPhase, StatefulSet};
use kubesim::metrics::recorder::Record;
use std::collections::BTreeMap;

/// Default `apiServer.watchDelay`: a controller hears of a write this late.
const WATCH_DELAY: u64 = 50;

fn sts_scenario(name: &str, policy: &str, replicas: u32, timeline: &str) -> String {
    format!(
        r#"name: {name}
seed: 1
until: 20m
cluster:
  nodePools:
    - name: n
      count: 3
      capacity: {{cpu: "4", memory: 16Gi, pods: 110}}
  storage: {{provisioningDelay: 5s, attachDelay: 2s, detachDelay: 2s}}
objects:
  - apiVersion: storage.k8s.io/v1
    kind: StorageClass
    metadata:
      name: standard
      annotations: {{storageclass.kubernetes.io/is-default-class: "true"}}
    provisioner: ebs.csi.aws.com
    volumeBindingMode: WaitForFirstConsumer
  - apiVersion: apps/v1
    kind: StatefulSet
    metadata: {{name: web}}
    spec:
      serviceName: web
      replicas: {replicas}
      podManagementPolicy: {policy}
      selector: {{matchLabels: {{app: web}}}}
      template:
        metadata: {{labels: {{app: web}}}}
        spec:
          containers:
            - name: nginx
              image: nginx:1.25
              resources: {{requests: {{cpu: 100m, memory: 128Mi}}}}
      volumeClaimTemplates:
        - metadata: {{name: data}}
          spec:
            accessModes: [ReadWriteOnce]
            resources: {{requests: {{storage: 1Gi}}}}
{timeline}"#
    )
}

fn messages<'a>(recs: &'a [Record], component: &str, reason: &str) -> Vec<(u64, &'a str)> {
    recs.iter()
        .filter(|r| r.component == component && r.reason == reason)
        .map(|r| (r.time_ms, r.message.as_str()))
        .collect()
}

fn running_and_ready(p: &Pod) -> bool {
    p.status.phase == PodPhase::Running && p.status.ready && !p.is_terminating()
}

#[test]
fn ordered_ready_creates_web_1_only_once_web_0_is_running_and_ready() {
    let (_dir, sc) = load_scenario(
        "sts_ordered",
        &sts_scenario("sts-ordered", "OrderedReady", 3, ""),
    );
    let mut sim = kubesim::Simulation::new(&sc, kubesim::metrics::Recorder::in_memory());
    let key = |n: &str| ObjKey::new("default", n);
    let mut seen: BTreeMap<String, u64> = BTreeMap::new();
    while sim.step() {
        for i in 0..3 {
            let name = format!("web-{i}");
            if seen.contains_key(&name) || sim.api().get::<Pod>(&key(&name)).is_none() {
                continue;
            }
            seen.insert(name.clone(), sim.now().as_millis());
            // every lower ordinal is Running and Ready at that moment
            for j in 0..i {
                let lower = sim.api().get::<Pod>(&key(&format!("web-{j}")));
                assert!(
                    lower.is_some_and(running_and_ready),
                    "web-{i} created at {} ms while web-{j} is {:?}",
                    sim.now().as_millis(),
                    lower.map(|p| (&p.status.phase, p.status.ready))
                );
            }
        }
    }
    assert_eq!(seen.len(), 3, "{seen:?}");
    // web-0 is created by the first sync, one watch delay after the apply
    assert_eq!(seen["web-0"], WATCH_DELAY);
    assert!(seen["web-0"] < seen["web-1"] && seen["web-1"] < seen["web-2"]);
    let recs = sim.recorder().records().to_vec();
    let created = messages(&recs, "statefulset-controller", "SuccessfulCreate");
    let order: Vec<&str> = created.iter().map(|(_, m)| *m).collect();
    assert_eq!(
        order,
        vec![
            "create Claim data-web-0 Pod web-0 in StatefulSet web success",
            "create Pod web-0 in StatefulSet web successful",
            "create Claim data-web-1 Pod web-1 in StatefulSet web success",
            "create Pod web-1 in StatefulSet web successful",
            "create Claim data-web-2 Pod web-2 in StatefulSet web success",
            "create Pod web-2 in StatefulSet web successful",
        ]
    );
    let set = sim.api().get::<StatefulSet>(&key("web")).unwrap();
    assert_eq!(set.pod_management_policy, PodManagementPolicy::OrderedReady);
    assert_eq!(set.status.ready_replicas, 3);
    // each pod mounts its own claim
    for i in 0..3 {
        let p = sim.api().get::<Pod>(&key(&format!("web-{i}"))).unwrap();
        let claims: Vec<&str> = p.spec.claims().collect();
        assert_eq!(claims, vec![format!("data-web-{i}").as_str()]);
    }
}

#[test]
fn parallel_creates_every_pod_in_the_first_sync() {
    let (_s, recs) = run_scenario(
        "sts_parallel",
        &sts_scenario("sts-parallel", "Parallel", 3, ""),
    );
    let pods: Vec<(u64, &str)> = messages(&recs, "statefulset-controller", "SuccessfulCreate")
        .into_iter()
        .filter(|(_, m)| m.starts_with("create Pod"))
        .collect();
    assert_eq!(
        pods,
        vec![
            (
                WATCH_DELAY,
                "create Pod web-0 in StatefulSet web successful"
            ),
            (
                WATCH_DELAY,
                "create Pod web-1 in StatefulSet web successful"
            ),
            (
                WATCH_DELAY,
                "create Pod web-2 in StatefulSet web successful"
            ),
        ]
    );
}

#[test]
fn scale_down_removes_the_highest_ordinal_first_one_at_a_time() {
    let timeline = "timeline:\n  - {at: 5m, action: scale, target: statefulset/web, replicas: 1}\n";
    let (sim, recs) = run_scenario(
        "sts_scale_down",
        &sts_scenario("sts-scale-down", "OrderedReady", 4, timeline),
    );
    let deletes = messages(&recs, "statefulset-controller", "SuccessfulDelete");
    let names: Vec<&str> = deletes.iter().map(|(_, m)| *m).collect();
    assert_eq!(
        names,
        vec![
            "delete Pod web-3 in StatefulSet web successful",
            "delete Pod web-2 in StatefulSet web successful",
            "delete Pod web-1 in StatefulSet web successful",
        ]
    );
    // OrderedReady: each deletion waits until the previous pod is gone (its
    // graceful termination takes time), so the times strictly increase
    assert_eq!(deletes[0].0, 300_000 + WATCH_DELAY);
    assert!(deletes[0].0 < deletes[1].0 && deletes[1].0 < deletes[2].0);
    // the claims stay (retention policy Retain)
    for i in 0..4 {
        let k = ObjKey::new("default", format!("data-web-{i}"));
        assert!(
            sim.api()
                .get::<kubesim::api::PersistentVolumeClaim>(&k)
                .is_some(),
            "claim data-web-{i} is kept"
        );
    }
}

#[test]
fn partitioned_rolling_update_replaces_ordinals_at_or_above_the_partition_from_the_top() {
    let timeline = r#"timeline:
  - at: 5m
    action: apply
    object:
      apiVersion: apps/v1
      kind: StatefulSet
      metadata: {name: web}
      spec:
        serviceName: web
        replicas: 4
        selector: {matchLabels: {app: web}}
        updateStrategy: {type: RollingUpdate, rollingUpdate: {partition: 2}}
        template:
          metadata: {labels: {app: web}}
          spec:
            containers:
              - name: nginx
                image: nginx:1.26
                resources: {requests: {cpu: 100m, memory: 128Mi}}
        volumeClaimTemplates:
          - metadata: {name: data}
            spec:
              accessModes: [ReadWriteOnce]
              resources: {requests: {storage: 1Gi}}
"#;
    let (sim, recs) = run_scenario(
        "sts_partition",
        &sts_scenario("sts-partition", "OrderedReady", 4, timeline),
    );
    let deletes: Vec<&str> = messages(&recs, "statefulset-controller", "SuccessfulDelete")
        .into_iter()
        .map(|(_, m)| m)
        .collect();
    assert_eq!(
        deletes,
        vec![
            "delete Pod web-3 in StatefulSet web successful",
            "delete Pod web-2 in StatefulSet web successful",
        ]
    );
    let set = sim
        .api()
        .get::<StatefulSet>(&ObjKey::new("default", "web"))
        .unwrap();
    assert_eq!(set.status.updated_replicas, 2);
    assert_eq!(set.status.current_replicas, 2);
    assert_ne!(set.status.current_revision, set.status.update_revision);
    let image = |i: i32| {
        let p = sim
            .api()
            .get::<Pod>(&ObjKey::new("default", format!("web-{i}")))
            .unwrap();
        p.spec.containers[0].image.clone()
    };
    assert_eq!(
        (0..4).map(image).collect::<Vec<_>>(),
        vec!["nginx:1.25", "nginx:1.25", "nginx:1.26", "nginx:1.26"]
    );
    // web-2 goes only after the new web-3 is Running and Ready
    let started_web3 = recs
        .iter()
        .filter(|r| r.reason == "Started" && r.object == "Pod/default/web-3")
        .map(|r| r.time_ms)
        .max()
        .unwrap();
    let web2_deleted = messages(&recs, "statefulset-controller", "SuccessfulDelete")[1].0;
    assert!(
        web2_deleted >= started_web3,
        "{web2_deleted} < {started_web3}"
    );
}

#[test]
fn the_shipped_scenario_brings_web_1_back_with_the_same_name_and_claim() {
    let tmp = TempDir::new("sts_shipped");
    let out = tmp.join("out");
    kubesim([
        "run".as_ref(),
        scenario("statefulset.yaml").as_os_str(),
        "--out".as_ref(),
        out.as_os_str(),
        "--quiet".as_ref(),
        "--check-invariants".as_ref(),
    ])
    .assert_success();
    let events = read_events(&out.join("events.jsonl"));
    let msgs = |reason: &str, object: &str| -> Vec<(u64, String)> {
        events
            .iter()
            .filter(|e| e["reason"] == reason && e["object"] == object)
            .map(|e| {
                (
                    e["time_ms"].as_u64().unwrap(),
                    e["message"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    let created = msgs("SuccessfulCreate", "StatefulSet/default/web");
    let web1: Vec<u64> = created
        .iter()
        .filter(|(_, m)| m == "create Pod web-1 in StatefulSet web successful")
        .map(|(t, _)| *t)
        .collect();
    let claim1 = created
        .iter()
        .filter(|(_, m)| m.starts_with("create Claim data-web-1 "))
        .count();
    // created at start, again after the crash (evicted 300 s after the
    // unreachable taint), and again in the rolling update: one claim throughout
    assert_eq!(web1.len(), 3, "{created:?}");
    assert_eq!(claim1, 1);
    assert!(web1[1] > 600_000 + 300_000, "{web1:?}");
    let scheduled = msgs("Scheduled", "Pod/default/web-1");
    assert!(scheduled[0].1.ends_with("to pool-a-2"), "{scheduled:?}");
    assert!(!scheduled[1].1.ends_with("to pool-a-2"), "{scheduled:?}");
    let s = read_json(&out.join("summary.json"));
    let w = &s["statefulsets"]["default/web"];
    assert_eq!(w["desired"], 2);
    assert_eq!(w["ready"], 2);
    assert_eq!(
        (w["updated"].as_i64(), w["current"].as_i64()),
        (Some(1), Some(1))
    );
}

fn ds_scenario(name: &str, timeline: &str, max_unavailable: u32, workers: u32) -> String {
    format!(
        r#"name: {name}
seed: 2
until: 30m
cluster:
  nodePools:
    - name: worker
      count: {workers}
      capacity: {{cpu: "4", memory: 16Gi, pods: 110}}
    - name: tainted
      count: 1
      capacity: {{cpu: "4", memory: 16Gi, pods: 110}}
      taints:
        - {{key: dedicated, value: infra, effect: NoSchedule}}
objects:
  - apiVersion: apps/v1
    kind: DaemonSet
    metadata: {{name: agent}}
    spec:
      selector: {{matchLabels: {{app: agent}}}}
      updateStrategy: {{type: RollingUpdate, rollingUpdate: {{maxUnavailable: {max_unavailable}}}}}
      template:
        metadata: {{labels: {{app: agent}}}}
        spec:
          containers:
            - name: agent
              image: agent:1
              resources: {{requests: {{cpu: 100m, memory: 64Mi}}}}
{timeline}"#
    )
}

fn daemon_nodes(sim: &kubesim::Simulation) -> Vec<String> {
    let mut v: Vec<String> = sim
        .api()
        .list::<Pod>()
        .filter(|p| p.meta.name.starts_with("agent-") && p.is_active())
        .filter_map(|p| p.node_name.clone())
        .collect();
    v.sort();
    v
}

#[test]
fn a_joining_node_gets_its_daemon_pod_and_tainted_nodes_none() {
    let timeline = "timeline:\n  - {at: 2m, action: node-add, pool: worker, count: 1}\n";
    let (sim, recs) = run_scenario("ds_join", &ds_scenario("ds-join", timeline, 1, 2));
    assert_eq!(daemon_nodes(&sim), vec!["worker-0", "worker-1", "worker-2"]);
    let created = messages(&recs, "daemonset-controller", "SuccessfulCreate");
    assert_eq!(created.len(), 3, "{created:?}");
    // two at the first sync; the third once worker-2 registers (node-add at 2m
    // + nodeStartup) and its watch notification arrives
    assert_eq!((created[0].0, created[1].0), (WATCH_DELAY, WATCH_DELAY));
    assert!(created[2].0 > 120_000, "{created:?}");
    let ds = sim
        .api()
        .get::<kubesim::api::DaemonSet>(&ObjKey::new("default", "agent"))
        .unwrap();
    assert_eq!(ds.status.desired_number_scheduled, 3);
    assert_eq!(ds.status.number_ready, 3);
    assert_eq!(ds.status.number_misscheduled, 0);
    // the pod for worker-2 was pinned to it by node affinity on metadata.name
    let p = sim
        .api()
        .list::<Pod>()
        .find(|p| p.node_name.as_deref() == Some("worker-2") && p.meta.name.starts_with("agent-"))
        .unwrap();
    let term = &p.spec.affinity.node.required.as_ref().unwrap()[0];
    assert_eq!(term.match_fields[0].key, "metadata.name");
    assert_eq!(term.match_fields[0].values, vec!["worker-2".to_string()]);
}

#[test]
fn rolling_update_keeps_at_most_max_unavailable_nodes_without_an_available_pod() {
    let timeline = "timeline:\n  - {at: 5m, action: set-image, target: daemonset/agent, container: agent, image: agent:2}\n";
    let (_dir, sc) = load_scenario("ds_rolling", &ds_scenario("ds-rolling", timeline, 2, 5));
    let mut sim = kubesim::Simulation::new(&sc, kubesim::metrics::Recorder::in_memory());
    let mut worst = 0;
    while sim.step() {
        if sim.now().as_millis() <= 300_000 {
            continue;
        }
        let mut available: BTreeMap<String, bool> =
            (0..5).map(|i| (format!("worker-{i}"), false)).collect();
        for p in sim.api().list::<Pod>() {
            if p.meta.name.starts_with("agent-") && p.is_active() && p.status.ready {
                if let Some(n) = &p.node_name {
                    available.insert(n.clone(), true);
                }
            }
        }
        worst = worst.max(available.values().filter(|a| !**a).count());
    }
    assert_eq!(worst, 2, "maxUnavailable 2 is used, never exceeded");
    let recs = sim.recorder().records().to_vec();
    let deletes = messages(&recs, "daemonset-controller", "SuccessfulDelete");
    assert_eq!(deletes.len(), 5, "{deletes:?}");
    // the first two old pods go together, at the first sync after the update
    assert_eq!(deletes[0].0, 300_000 + WATCH_DELAY);
    assert_eq!(deletes[1].0, 300_000 + WATCH_DELAY);
    assert!(deletes[2].0 > deletes[1].0);
    let images: Vec<String> = sim
        .api()
        .list::<Pod>()
        .filter(|p| p.meta.name.starts_with("agent-") && p.is_active())
        .map(|p| p.spec.containers[0].image.clone())
        .collect();
    assert_eq!(images, vec!["agent:2"; 5]);
}

#[test]
fn cronjob_forbid_skips_while_a_job_runs_and_history_limits_delete_old_jobs() {
    let tmp = TempDir::new("cronjob_shipped");
    let out = tmp.join("out");
    kubesim([
        "run".as_ref(),
        scenario("cronjob.yaml").as_os_str(),
        "--out".as_ref(),
        out.as_os_str(),
        "--quiet".as_ref(),
        "--check-invariants".as_ref(),
    ])
    .assert_success();
    let events = read_events(&out.join("events.jsonl"));
    let of = |reason: &str, cj: &str| -> Vec<(u64, String)> {
        events
            .iter()
            .filter(|e| e["reason"] == reason && e["object"] == format!("CronJob/default/{cj}"))
            .map(|e| {
                (
                    e["time_ms"].as_u64().unwrap(),
                    e["message"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    const MIN: u64 = 60_000;
    // */30 from 00:00: 00:30, 01:30, 02:30 run (45 min each); 01:00, 02:00,
    // 03:00 find the previous one active and are skipped
    let report: Vec<(u64, String)> = of("SuccessfulCreate", "report");
    assert_eq!(
        report,
        vec![
            (30 * MIN, "Created job report-29453790".to_string()),
            (90 * MIN, "Created job report-29453850".to_string()),
            (150 * MIN, "Created job report-29453910".to_string()),
        ]
    );
    let skipped: Vec<u64> = of("JobAlreadyActive", "report")
        .iter()
        .map(|x| x.0)
        .collect();
    assert_eq!(skipped, vec![60 * MIN, 120 * MIN, 180 * MIN]);
    // Allow: every 20 minutes, overlapping
    let ticker: Vec<u64> = of("SuccessfulCreate", "ticker")
        .iter()
        .map(|x| x.0)
        .collect();
    assert_eq!(ticker, (1..=9).map(|i| i * 20 * MIN).collect::<Vec<_>>());
    // successfulJobsHistoryLimit 2: the oldest successful Jobs are deleted, in order
    let deleted: Vec<String> = of("SuccessfulDelete", "ticker")
        .into_iter()
        .map(|x| x.1)
        .collect();
    assert_eq!(
        deleted,
        vec![
            "Deleted job ticker-29453780",
            "Deleted job ticker-29453800",
            "Deleted job ticker-29453820",
            "Deleted job ticker-29453840",
        ]
    );
    // failedJobsHistoryLimit 1 (default): each failure removes the previous one
    let flaky: Vec<String> = of("SuccessfulDelete", "flaky")
        .into_iter()
        .map(|x| x.1)
        .collect();
    assert_eq!(
        flaky,
        vec!["Deleted job flaky-29453820", "Deleted job flaky-29453880"]
    );
    let saw = of("SawCompletedJob", "flaky");
    assert_eq!(saw.len(), 3);
    assert!(saw.iter().all(
        |(_, m)| m.starts_with("Saw completed job: flaky-") && m.ends_with("condition: Failed")
    ));
    let s = read_json(&out.join("summary.json"));
    assert_eq!(s["cronjobs"]["default/flaky"]["jobs"], 1);
    assert_eq!(
        s["cronjobs"]["default/report"]["last_schedule_time"],
        "2026-01-01T02:30:00Z"
    );
}

#[test]
fn a_legacy_replication_controller_manifest_runs_its_pods() {
    let manifest = repo_root()
        .join("../shared/manifests/kubernetes-examples/web/guestbook-go/guestbook-controller.yaml");
    if !manifest.is_file() {
        println!("note: {} is absent; skipping", manifest.display());
        return;
    }
    let yaml = format!(
        "name: rc\nuntil: 5m\ncluster:\n  nodePools:\n    - name: n\n      count: 2\n      capacity: {{cpu: \"4\", memory: 16Gi}}\nmanifests:\n  - {}\ntimeline:\n  - {{at: 2m, action: scale, target: replicationcontroller/guestbook, replicas: 1}}\n",
        manifest.display()
    );
    let (sim, recs) = run_scenario("rc_legacy", &yaml);
    let created = messages(&recs, "replication-controller", "SuccessfulCreate");
    assert_eq!(created.len(), 3, "replicas: 3 in the manifest");
    assert!(created
        .iter()
        .all(|(_, m)| m.starts_with("Created pod: guestbook-")));
    let deleted = messages(&recs, "replication-controller", "SuccessfulDelete");
    assert_eq!(deleted.len(), 2, "scaled from 3 to 1");
    let rc = sim
        .api()
        .get::<kubesim::api::ReplicationController>(&ObjKey::new("default", "guestbook"))
        .unwrap();
    assert_eq!(
        (rc.replicas, rc.status.replicas, rc.status.ready_replicas),
        (1, 1, 1)
    );
    let owned: Vec<&Pod> = sim
        .api()
        .list::<Pod>()
        .filter(|p| p.is_active())
        .filter(|p| {
            p.meta
                .controller_ref()
                .is_some_and(|o| o.kind == kubesim::api::Kind::ReplicationController)
        })
        .collect();
    assert_eq!(owned.len(), 1);
    assert_eq!(
        owned[0].meta.labels.get("app").map(String::as_str),
        Some("guestbook")
    );
}

#[test]
fn a_replication_controller_without_a_selector_selects_its_template_labels() {
    let yaml = "name: rc-default\nuntil: 2m\ncluster:\n  nodePools:\n    - name: n\n      count: 1\n      capacity: {cpu: \"4\", memory: 16Gi}\nobjects:\n  - apiVersion: v1\n    kind: ReplicationController\n    metadata: {name: legacy}\n    spec:\n      replicas: 2\n      template:\n        metadata: {labels: {app: legacy, tier: be}}\n        spec:\n          containers: [{name: c, image: busybox:1.36}]\n";
    let (sim, _) = run_scenario("rc_default_selector", yaml);
    let rc = sim
        .api()
        .get::<kubesim::api::ReplicationController>(&ObjKey::new("default", "legacy"))
        .unwrap();
    let want: BTreeMap<String, String> = [("app", "legacy"), ("tier", "be")]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    assert_eq!(rc.selector.match_labels, want);
    assert_eq!(rc.status.ready_replicas, 2);
}

#[test]
fn bad_workload_fields_are_errors_with_positions() {
    let tmp = TempDir::new("workload_errors");
    let f = tmp.write(
        "bad.yaml",
        "apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: c}\nspec:\n  schedule: \"61 * * * *\"\n  concurrencyPolicy: Sometimes\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          restartPolicy: Never\n          containers: [{name: c, image: busybox:1.36}]\n---\napiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: s}\nspec:\n  podManagementPolicy: Sometimes\n  selector: {matchLabels: {a: b}}\n  template:\n    metadata: {labels: {a: b}}\n    spec:\n      containers: [{name: c, image: busybox:1.36}]\n",
    );
    let r = kubesim(["validate".as_ref(), f.as_os_str()]);
    assert_eq!(r.code, Some(1), "{}", r.describe());
    let text = std::fs::read_to_string(&f).unwrap();
    let pos = positions_for(&r.stderr, &f);
    assert!(
        r.stderr
            .contains("minute field: \"61\" is out of range 0-59"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("Unsupported value: \"Sometimes\""),
        "{}",
        r.stderr
    );
    assert!(pos.contains(&(line_of(&text, "schedule:"), 13)), "{pos:?}");
    assert!(
        pos.contains(&(line_of(&text, "podManagementPolicy"), 24)),
        "{pos:?}"
    );
}

#[test]
fn get_prints_kubectl_columns_for_the_new_kinds() {
    let get = |kind: &str, sc: &str, at: &str| {
        let r = kubesim(["get", kind, scenario(sc).to_str().unwrap(), "--at", at]);
        r.assert_success();
        r.stdout
    };
    let sts = get("sts", "statefulset.yaml", "5m");
    assert_eq!(
        sts.lines()
            .map(|l| l.split_whitespace().collect::<Vec<_>>())
            .collect::<Vec<_>>(),
        vec![vec!["NAME", "READY", "AGE"], vec!["web", "3/3", "5m"]]
    );
    let ds = get("daemonsets", "daemonset.yaml", "1m");
    assert_eq!(
        ds.lines()
            .next()
            .unwrap()
            .split_whitespace()
            .collect::<Vec<_>>(),
        vec![
            "NAME",
            "DESIRED",
            "CURRENT",
            "READY",
            "UP-TO-DATE",
            "AVAILABLE",
            "NODE",
            "SELECTOR",
            "AGE"
        ]
    );
    assert_eq!(
        ds.lines()
            .nth(1)
            .unwrap()
            .split_whitespace()
            .collect::<Vec<_>>(),
        vec!["log-agent", "2", "2", "2", "2", "2", "<none>", "1m"]
    );
    // at 1h ticker has three Jobs running (20m, 40m, 1h), last scheduled just now
    let cj = get("cj", "cronjob.yaml", "1h");
    let row: Vec<&str> = cj
        .lines()
        .find(|l| l.starts_with("ticker"))
        .unwrap()
        .split_whitespace()
        .collect();
    assert_eq!(
        row,
        vec!["ticker", "*/20", "*", "*", "*", "*", "<none>", "False", "3", "0s", "1h"]
    );
}

fn cron_scenario(
    name: &str,
    extra_spec: &str,
    run_for: &str,
    until: &str,
    timeline: &str,
) -> String {
    format!(
        r#"name: {name}
seed: 4
until: {until}
cluster:
  nodePools:
    - name: n
      count: 1
      capacity: {{cpu: "4", memory: 16Gi, pods: 110}}
objects:
  - apiVersion: batch/v1
    kind: CronJob
    metadata: {{name: c}}
    spec:
      schedule: "*/10 * * * *"
{extra_spec}      jobTemplate:
        spec:
          template:
            metadata:
              annotations: {{kubesim.io/run-for: {run_for}}}
            spec:
              restartPolicy: Never
              containers: [{{name: c, image: busybox:1.36}}]
{timeline}"#
    )
}

fn cron_events(recs: &[Record], reason: &str) -> Vec<(u64, String)> {
    recs.iter()
        .filter(|r| r.component == "cronjob-controller" && r.reason == reason)
        .map(|r| (r.time_ms, r.message.clone()))
        .collect()
}

const MINUTE: u64 = 60_000;

#[test]
fn cronjob_replace_deletes_the_running_job_before_starting_the_next() {
    let (_s, recs) = run_scenario(
        "cron_replace",
        &cron_scenario(
            "cron-replace",
            "      concurrencyPolicy: Replace\n",
            "15m",
            "35m",
            "",
        ),
    );
    assert_eq!(
        cron_events(&recs, "SuccessfulCreate"),
        vec![
            (10 * MINUTE, "Created job c-29453770".to_string()),
            (20 * MINUTE, "Created job c-29453780".to_string()),
            (30 * MINUTE, "Created job c-29453790".to_string()),
        ]
    );
    assert_eq!(
        cron_events(&recs, "SuccessfulDelete"),
        vec![
            (20 * MINUTE, "Deleted job c-29453770".to_string()),
            (30 * MINUTE, "Deleted job c-29453780".to_string()),
        ]
    );
}

#[test]
fn resuming_a_suspended_cronjob_without_a_deadline_starts_the_missed_time_at_once() {
    let timeline = r#"timeline:
  - at: 25m
    action: apply
    object:
      apiVersion: batch/v1
      kind: CronJob
      metadata: {name: c}
      spec:
        schedule: "*/10 * * * *"
        suspend: false
        jobTemplate:
          spec:
            template:
              metadata:
                annotations: {kubesim.io/run-for: 1m}
              spec:
                restartPolicy: Never
                containers: [{name: c, image: busybox:1.36}]
"#;
    let (_s, recs) = run_scenario(
        "cron_suspend",
        &cron_scenario(
            "cron-suspend",
            "      suspend: true\n",
            "1m",
            "35m",
            timeline,
        ),
    );
    // suspended through 10m and 20m; resumed at 25m, the most recent missed
    // time (20m) starts at once (no startingDeadlineSeconds), then 30m on time
    assert_eq!(
        cron_events(&recs, "SuccessfulCreate"),
        vec![
            (
                25 * MINUTE + WATCH_DELAY,
                "Created job c-29453780".to_string()
            ),
            (30 * MINUTE, "Created job c-29453790".to_string()),
        ]
    );
}

#[test]
fn on_delete_statefulsets_update_a_pod_only_when_it_is_deleted() {
    let timeline = r#"timeline:
  - at: 5m
    action: apply
    object:
      apiVersion: apps/v1
      kind: StatefulSet
      metadata: {name: web}
      spec:
        serviceName: web
        replicas: 2
        selector: {matchLabels: {app: web}}
        updateStrategy: {type: OnDelete}
        template:
          metadata: {labels: {app: web}}
          spec:
            containers:
              - name: nginx
                image: nginx:1.26
                resources: {requests: {cpu: 100m, memory: 128Mi}}
        volumeClaimTemplates:
          - metadata: {name: data}
            spec:
              accessModes: [ReadWriteOnce]
              resources: {requests: {storage: 1Gi}}
  - {at: 8m, action: delete, target: pod/web-1}
"#;
    let (sim, recs) = run_scenario(
        "sts_on_delete",
        &sts_scenario("sts-on-delete", "OrderedReady", 2, timeline),
    );
    assert!(messages(&recs, "statefulset-controller", "SuccessfulDelete").is_empty());
    let image = |i: i32| {
        sim.api()
            .get::<Pod>(&ObjKey::new("default", format!("web-{i}")))
            .unwrap()
            .spec
            .containers[0]
            .image
            .clone()
    };
    assert_eq!(
        (image(0), image(1)),
        ("nginx:1.25".into(), "nginx:1.26".into())
    );
}

#[test]
fn surge_rolling_update_starts_the_new_daemon_pod_before_the_old_one_goes() {
    let yaml = ds_scenario("ds-surge", "timeline:\n  - {at: 5m, action: set-image, target: daemonset/agent, container: agent, image: agent:2}\n", 1, 3)
        .replace("rollingUpdate: {maxUnavailable: 1}", "rollingUpdate: {maxUnavailable: 0, maxSurge: 1}");
    let (_dir, sc) = load_scenario("ds_surge", &yaml);
    let mut sim = kubesim::Simulation::new(&sc, kubesim::metrics::Recorder::in_memory());
    let (mut worst_unavailable, mut most_doubled) = (0, 0);
    while sim.step() {
        let mut ready: BTreeMap<String, usize> =
            (0..3).map(|i| (format!("worker-{i}"), 0)).collect();
        let mut active: BTreeMap<String, usize> = BTreeMap::new();
        for p in sim.api().list::<Pod>() {
            if !p.meta.name.starts_with("agent-") || !p.is_active() {
                continue;
            }
            let n = kubesim::controllers::daemonset::target_node(p)
                .unwrap()
                .to_string();
            *active.entry(n.clone()).or_default() += 1;
            if p.status.ready {
                *ready.entry(n).or_default() += 1;
            }
        }
        if sim.now().as_millis() > 60_000 {
            worst_unavailable = worst_unavailable.max(ready.values().filter(|r| **r == 0).count());
        }
        most_doubled = most_doubled.max(active.values().filter(|a| **a == 2).count());
    }
    assert_eq!(
        worst_unavailable, 0,
        "maxUnavailable 0: every node keeps a ready pod"
    );
    assert_eq!(most_doubled, 1, "maxSurge 1: one node at a time runs two");
    assert_eq!(daemon_nodes(&sim), vec!["worker-0", "worker-1", "worker-2"]);
    let recs = sim.recorder().records().to_vec();
    assert_eq!(
        messages(&recs, "daemonset-controller", "SuccessfulDelete").len(),
        3
    );
    assert!(sim
        .api()
        .list::<Pod>()
        .filter(|p| p.meta.name.starts_with("agent-") && p.is_active())
        .all(|p| p.spec.containers[0].image == "agent:2"));
}
