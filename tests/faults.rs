//! Failure injection through the library API and the shipped scenarios: control
//! plane outages, partitions, zone states and rate-limited eviction, the image
//! registry, chaos, and the recovery figures in the summary.

mod common;

use kubesim::api::node::ConditionStatus;
use kubesim::api::pod::PodPhase;
use kubesim::api::{Node, ObjKey, Pod};
use kubesim::metrics::recorder::Record;
use kubesim::metrics::Recorder;
use kubesim::sim::time::SimTime;
use kubesim::{scenario, Simulation};
use std::collections::{BTreeMap, BTreeSet};

fn load(path: &std::path::Path) -> scenario::Scenario {
    scenario::load(path).unwrap_or_else(|e| panic!("{e}"))
}

fn run(path: &std::path::Path) -> (Simulation, Vec<Record>) {
    let mut sim = Simulation::new(&load(path), Recorder::in_memory());
    sim.run();
    let recs = sim.recorder().records().to_vec();
    (sim, recs)
}

fn with_reason<'a>(recs: &'a [Record], reason: &str) -> Vec<&'a Record> {
    recs.iter().filter(|r| r.reason == reason).collect()
}

fn at(ms: u64) -> SimTime {
    SimTime::from_millis(ms)
}

#[test]
fn api_server_outage_keeps_pods_running_and_creates_nothing_until_it_heals() {
    let sc = load(&common::scenario("api-server-outage.yaml"));
    let mut sim = Simulation::new(&sc, Recorder::in_memory());
    // just before the outage: 4 web pods Running
    sim.run_until(at(299_999));
    let running: BTreeMap<ObjKey, u64> = sim
        .api()
        .list::<Pod>()
        .filter(|p| p.status.phase == PodPhase::Running)
        .map(|p| (p.meta.key(), p.meta.uid.0))
        .collect();
    assert_eq!(running.len(), 4);
    let created = sim.api().stats.pods_created;
    let rv = sim.api().resource_version();
    // step through the outage, checking after every single event
    let mut steps = 0;
    while sim.now() < at(600_000) {
        if !sim.step() {
            break;
        }
        if sim.now() >= at(600_000) {
            break;
        }
        steps += 1;
        for (k, uid) in &running {
            let p = sim.api().get::<Pod>(k).expect("no pod is deleted");
            assert_eq!(p.meta.uid.0, *uid);
            assert_eq!(p.status.phase, PodPhase::Running, "{k} at {}", sim.now());
        }
        assert_eq!(
            sim.api().stats.pods_created,
            created,
            "no pod is created while the API server is down (at {})",
            sim.now()
        );
        if sim.now() > at(300_000) {
            assert_eq!(
                sim.api().resource_version(),
                rv,
                "nothing is written while the API server is down (at {})",
                sim.now()
            );
        }
        for n in sim.api().list::<Node>() {
            assert_eq!(n.status.ready, ConditionStatus::True, "{}", n.meta.name);
        }
    }
    assert!(steps > 10, "the outage spans many events ({steps})");
    sim.run();
    let recs = sim.recorder().records().to_vec();
    // kubectl's requests during the outage failed, and said so
    let failed = with_reason(&recs, "FailedRequest");
    assert_eq!(failed.len(), 2, "{failed:?}");
    assert!(failed
        .iter()
        .all(|r| r.time_ms >= 300_000 && r.time_ms < 600_000));
    assert!(failed[0].message.contains("connection to the server"));
    // the crash during the outage was reported after it: a restart, then Ready
    let backoff = with_reason(&recs, "BackOff");
    assert_eq!(backoff.len(), 1);
    assert_eq!(backoff[0].time_ms, 600_000, "{backoff:?}");
    // no node was mistaken for dead
    assert!(with_reason(&recs, "NodeNotReady").is_empty());
    // after the heal, the retried scale at 11m creates the 2 new pods
    assert_eq!(sim.api().stats.pods_created, created + 2);
    let s = sim.summary();
    assert_eq!(s.deployments["default/web"].available, 6);
    assert_eq!(s.faults[0].kind, "api-server-down");
    assert_eq!(s.faults[0].heal_ms, Some(600_000));
}

#[test]
fn node_crash_recovery_figures_match_the_events() {
    let (sim, recs) = run(&common::scenario("node-crash.yaml"));
    let s = sim.summary();
    assert_eq!(s.faults.len(), 1);
    let f = &s.faults[0];
    assert_eq!(
        (f.kind.as_str(), f.target.as_str()),
        ("node-crash", "Node/pool-a-1")
    );
    assert_eq!(f.start_ms, 600_000);
    assert_eq!(f.affected_deployments, vec!["default/web".to_string()]);
    let evictions = with_reason(&recs, "TaintManagerEviction");
    assert_eq!(f.pods_evicted, evictions.len() as u64);
    assert_eq!(f.pods_evicted, 2);
    let rescheduled = recs
        .iter()
        .filter(|r| r.reason == "Scheduled" && r.time_ms >= f.start_ms)
        .count() as u64;
    assert_eq!(f.pods_rescheduled, rescheduled);
    // recovered when the last replacement started (+ the status round trip:
    // watch delays and syncs, well under a second)
    let last_start = recs
        .iter()
        .filter(|r| r.reason == "Started" && r.time_ms > f.start_ms)
        .map(|r| r.time_ms)
        .max()
        .expect("replacements started");
    let rec = f.recovery_ms.expect("recovered");
    let back = f.start_ms + rec;
    assert!(
        back >= last_start && back < last_start + 1_000,
        "recovered at {back}, last replacement started at {last_start}"
    );
    // ~50 s to notice + 300 s toleration + start-up
    assert!((340_000..=360_000).contains(&rec), "{rec}");
    // the Deployment was below 6 available from NodeNotReady until then
    let nr = with_reason(&recs, "NodeNotReady")[0].time_ms;
    let d = &s.deployments["default/web"].availability;
    let below_ms = (d.below_desired_seconds * 1000.0).round() as u64;
    let startup = d.rollouts[0].duration_ms.unwrap();
    let expect = (back - nr) + startup;
    assert!(
        below_ms.abs_diff(expect) <= 200,
        "{below_ms} vs {expect}: {d:?}"
    );
    // two pods missing for that whole time
    let pod_ms = (d.unavailable_pod_seconds * 1000.0).round() as u64;
    assert!(pod_ms >= 2 * (back - nr), "{d:?}");
    assert_eq!(d.rollouts_completed, 1);
}

#[test]
fn zone_outage_taints_at_the_eviction_rate_and_replaces_pods_in_other_zones() {
    let (sim, recs) = run(&common::scenario("zone-outage.yaml"));
    let zs = with_reason(&recs, "ZoneStateChanged");
    assert!(
        zs.iter()
            .any(|r| r.object == "Zone/zone-b" && r.message.ends_with("FullDisruption")),
        "{zs:?}"
    );
    assert!(with_reason(&recs, "MasterDisruption").is_empty());
    // two waves of evictions, one per node, 10 s apart (0.1 nodes/s, burst 1)
    let mut waves: Vec<u64> = with_reason(&recs, "TaintManagerEviction")
        .iter()
        .map(|r| r.time_ms)
        .collect();
    waves.dedup();
    assert_eq!(waves.len(), 2, "{waves:?}");
    assert_eq!(waves[1] - waves[0], 10_000);
    let nr = with_reason(&recs, "NodeNotReady")[0].time_ms;
    assert_eq!(waves[0] - nr, 300_000);
    // every replacement went to zone-a or zone-c
    for r in recs
        .iter()
        .filter(|r| r.reason == "Scheduled" && r.time_ms > 600_000)
    {
        assert!(!r.message.contains(" to b-"), "{r:?}");
    }
    let s = sim.summary();
    assert_eq!(s.faults[0].kind, "zone-outage");
    assert_eq!(s.faults[0].pods_evicted, 4);
    assert_eq!(s.faults[0].heal_ms, Some(1_800_000));
    assert!(s.faults[0].recovery_ms.is_some());
    assert_eq!(s.deployments["default/web"].available, 12);
    // the zone is back and untainted
    for n in ["b-0", "b-1"] {
        let n = sim.api().get::<Node>(&ObjKey::cluster(n)).unwrap();
        assert_eq!(n.status.ready, ConditionStatus::True);
        assert!(n.taints.is_empty(), "{:?}", n.taints);
    }
}

#[test]
fn partial_disruption_of_a_small_zone_stops_evictions_until_it_is_normal() {
    let (sim, recs) = run(&common::scenario("zone-partial-disruption.yaml"));
    let zs: Vec<&str> = with_reason(&recs, "ZoneStateChanged")
        .iter()
        .map(|r| r.message.rsplit(' ').next().unwrap())
        .collect();
    assert_eq!(zs, ["PartialDisruption", "Normal"]);
    let ev = with_reason(&recs, "TaintManagerEviction");
    assert_eq!(ev.len(), 2, "only the node that stays dead loses its pods");
    // not before the zone is Normal again (25m) plus the 300 s toleration
    assert!(
        ev.iter().all(|r| r.time_ms == 1_500_000 + 300_000),
        "{ev:?}"
    );
    assert_eq!(sim.summary().deployments["default/api"].available, 10);
}

/// A one-zone cluster whose every node is cut off: the controller blames
/// itself (master disruption), taints nothing for eviction, evicts nothing.
#[test]
fn all_nodes_unreachable_is_master_disruption_with_no_evictions() {
    let dir = common::TempDir::new("master-disruption");
    let p = dir.write(
        "s.yaml",
        r#"
name: master-disruption
until: 30m
cluster:
  nodePools:
    - {name: n, count: 3, capacity: {cpu: "4", memory: 8Gi, pods: 110}}
objects:
  - apiVersion: apps/v1
    kind: Deployment
    metadata: {name: web}
    spec:
      replicas: 3
      selector: {matchLabels: {app: web}}
      template:
        metadata: {labels: {app: web}}
        spec:
          containers: [{name: c, image: nginx:1.25}]
timeline:
  - {at: 1m, action: network-partition, selector: {kubernetes.io/os: linux}, for: 10m}
  - {at: 1m, action: network-partition, nodes: [n-0, n-1, n-2], for: 10m}
"#,
    );
    let (sim, recs) = run(&p);
    assert_eq!(with_reason(&recs, "NodeNotReady").len(), 3);
    let md = with_reason(&recs, "MasterDisruption");
    assert_eq!(md.len(), 1, "{md:?}");
    assert!(md[0].observed.is_some() && md[0].action.is_some());
    assert!(with_reason(&recs, "TaintManagerEviction").is_empty());
    assert_eq!(with_reason(&recs, "MasterDisruptionEnded").len(), 1);
    // pods were never deleted; after the partition they are Ready again
    assert_eq!(sim.api().stats.pods_created, 3);
    assert!(sim.api().list::<Pod>().all(|p| p.status.ready));
    let s = sim.summary();
    // the selector matched no node (kubesim nodes have no os label): an empty partition
    assert_eq!(s.faults.len(), 2);
    assert_eq!(s.faults[1].kind, "network-partition");
}

#[test]
fn network_partition_replaces_pods_and_the_kubelet_stops_them_when_back() {
    let (sim, recs) = run(&common::scenario("network-partition.yaml"));
    let ev = with_reason(&recs, "TaintManagerEviction");
    assert_eq!(ev.len(), 4, "two pods on each partitioned node");
    // the old containers keep running until the link heals at 15m, then stop
    let kills: Vec<&Record> = recs
        .iter()
        .filter(|r| {
            r.reason == "Killing"
                && (r.component == "kubelet/node-0" || r.component == "kubelet/node-1")
        })
        .collect();
    assert_eq!(kills.len(), 4, "{kills:?}");
    assert!(kills.iter().all(|r| r.time_ms >= 900_000), "{kills:?}");
    assert_eq!(sim.api().list::<Pod>().count(), 8);
    assert!(sim.api().list::<Pod>().all(|p| p
        .node_name
        .as_deref()
        .is_some_and(|n| n == "node-2" || n == "node-3")));
    let s = sim.summary();
    assert_eq!(s.deployments["default/web"].available, 8);
    assert_eq!(s.faults[0].pods_evicted, 4);
    assert_eq!(s.faults[0].pods_rescheduled, 4);
}

#[test]
fn kubelet_stop_short_of_the_toleration_keeps_the_pods() {
    let dir = common::TempDir::new("kubelet-stop");
    let p = dir.write(
        "s.yaml",
        r#"
name: kubelet-stop
until: 30m
cluster:
  nodePools:
    - {name: n, count: 2, capacity: {cpu: "4", memory: 8Gi, pods: 110}}
objects:
  - apiVersion: apps/v1
    kind: Deployment
    metadata: {name: web}
    spec:
      replicas: 4
      selector: {matchLabels: {app: web}}
      template:
        metadata: {labels: {app: web}}
        spec:
          containers: [{name: c, image: nginx:1.25}]
timeline:
  - {at: 2m, action: kubelet-stop, target: node/n-0, for: 3m}
"#,
    );
    let (sim, recs) = run(&p);
    let nr = with_reason(&recs, "NodeNotReady");
    assert_eq!(nr.len(), 1);
    // back after 3m, within the 300 s toleration: nothing evicted, nothing restarted
    assert!(with_reason(&recs, "TaintManagerEviction").is_empty());
    assert_eq!(sim.api().stats.pods_created, 4);
    let s = sim.summary();
    assert_eq!(s.pods.restarts, 0);
    assert_eq!(s.deployments["default/web"].available, 4);
    // the pods were marked not ready while the node was silent, and Ready again after
    let f = &s.faults[0];
    let rec = f.recovery_ms.unwrap();
    let back = f.start_ms + rec;
    assert!(
        (300_000..301_000).contains(&back),
        "Ready again when the kubelet reconnects at 5m: {back}"
    );
    assert!(sim.api().list::<Pod>().all(|p| p.status.ready));
}

#[test]
fn scheduler_and_controller_manager_outages_delay_their_work() {
    let (sim, recs) = run(&common::scenario("control-plane-outages.yaml"));
    // scale at 6m: the pods are created (controllers run), bound at 8m
    let created: Vec<&Record> = with_reason(&recs, "SuccessfulCreate")
        .into_iter()
        .filter(|r| r.time_ms > 300_000 && r.time_ms < 480_000)
        .collect();
    assert_eq!(created.len(), 2);
    let bound: Vec<u64> = with_reason(&recs, "Scheduled")
        .iter()
        .filter(|r| r.time_ms > 300_000 && r.time_ms < 700_000)
        .map(|r| r.time_ms)
        .collect();
    assert_eq!(bound.len(), 2);
    assert!(
        bound.iter().all(|t| *t >= 480_000 && *t < 481_000),
        "{bound:?}"
    );
    // node crash at 13m, controller manager back at 22m: NotReady only then
    let nr = with_reason(&recs, "NodeNotReady");
    assert_eq!(nr.len(), 1);
    assert!(
        nr[0].time_ms >= 1_320_000 && nr[0].time_ms <= 1_325_000,
        "{nr:?}"
    );
    let ev = with_reason(&recs, "TaintManagerEviction");
    assert!(
        ev.iter().all(|r| r.time_ms == nr[0].time_ms + 300_000),
        "{ev:?}"
    );
    assert_eq!(sim.summary().deployments["default/web"].available, 6);
}

#[test]
fn registry_outage_backs_off_pulls_and_the_rollout_waits() {
    let (sim, recs) = run(&common::scenario("image-registry-outage.yaml"));
    // size / bandwidth: 240Mi at 40Mi/s is 6 s
    let pulled: Vec<&Record> = with_reason(&recs, "Pulled")
        .into_iter()
        .filter(|r| r.message.starts_with("Successfully pulled"))
        .collect();
    assert!(
        pulled
            .iter()
            .filter(|r| r.time_ms < 300_000)
            .all(|r| r.message.ends_with("in 6s")),
        "{pulled:?}"
    );
    // slow registry after 11m: 5 × 6 s
    assert!(
        pulled
            .iter()
            .filter(|r| r.time_ms > 660_000)
            .all(|r| r.message.ends_with("in 30s")),
        "{pulled:?}"
    );
    // one surge pod's pull back-offs: 10, 20, 40, 80, 160 s, then capped at 300 s
    let mut by_pod: BTreeMap<&str, Vec<u64>> = BTreeMap::new();
    for r in with_reason(&recs, "Failed") {
        by_pod.entry(r.object.as_str()).or_default().push(r.time_ms);
    }
    assert!(!by_pod.is_empty());
    for times in by_pod.values() {
        let gaps: Vec<u64> = times.windows(2).map(|w| (w[1] - w[0]) / 1000).collect();
        let want = [10, 20, 40, 80, 160, 300];
        assert_eq!(gaps[..], want[..gaps.len()], "{times:?}");
    }
    // while the registry was down, availability never dropped below 6 − 1
    let s = sim.summary();
    let d = &s.deployments["default/shop"];
    assert_eq!(d.available, 6);
    assert_eq!(d.availability.rollouts.len(), 2);
    assert_eq!(d.availability.rollouts_completed, 2);
    // at most one pod short during the rollout (maxUnavailable 25% of 6 → 1);
    // the initial start-up, with all 6 short, accounts for the rest
    let a = &d.availability;
    let startup_s = a.rollouts[0].duration_ms.unwrap() as f64 / 1000.0;
    assert!(
        a.unavailable_pod_seconds <= a.below_desired_seconds + 5.0 * startup_s + 1e-9,
        "{a:?}"
    );
    assert!(a.below_desired_seconds >= a.rollouts[1].duration_ms.unwrap() as f64 / 1000.0 - 1.0);
    assert!(s.pods.restarts == 0);
}

#[test]
fn chaos_is_seeded_reproducible_and_per_entry() {
    let sc = load(&common::scenario("chaos.yaml"));
    let faults = |sc: &scenario::Scenario| {
        let mut sim = Simulation::new(sc, Recorder::discard());
        sim.run();
        sim.summary()
            .faults
            .iter()
            .map(|f| (f.kind.clone(), f.target.clone(), f.start_ms, f.heal_ms))
            .collect::<Vec<_>>()
    };
    let a = faults(&sc);
    assert_eq!(a, faults(&sc), "same seed, same faults");
    let kinds: BTreeSet<&str> = a.iter().map(|f| f.0.as_str()).collect();
    assert!(
        kinds.contains("node-crash") && kinds.contains("pod-crash"),
        "{kinds:?}"
    );
    let mut other = sc.clone();
    other.seed += 1;
    assert_ne!(a, faults(&other), "another seed, other faults");
    // dropping the last entry leaves the others' strike times where they were
    let mut fewer = sc.clone();
    let last = fewer.chaos.pop().unwrap().fault;
    let b = faults(&fewer);
    let first_crash = |v: &[(String, String, u64, Option<u64>)]| {
        v.iter().find(|f| f.0 == "node-crash").map(|f| f.2)
    };
    assert_ne!(last, "node-crash");
    assert_eq!(first_crash(&a), first_crash(&b));
}

#[test]
fn bad_fault_and_chaos_entries_are_clear_errors_with_positions() {
    let dir = common::TempDir::new("bad-faults");
    let cases: &[(&str, &str)] = &[
        (
            "timeline:\n  - {at: 1m, action: network-partition, for: 1m}\n",
            "network-partition needs `nodes: [NAME, ...]`",
        ),
        (
            "timeline:\n  - {at: 1m, action: network-partition, nodes: [n-7]}\n",
            "no Node n-7 is defined",
        ),
        (
            "timeline:\n  - {at: 1m, action: zone-outage}\n",
            "zone-outage needs `zone:`",
        ),
        (
            "timeline:\n  - {at: 1m, action: api-server-down, target: node/n-0}\n",
            "`target` does not apply to action api-server-down",
        ),
        (
            "timeline:\n  - {at: 1m, action: image-registry-slow, factor: 1}\n",
            "factor must be between 2 and 10000",
        ),
        (
            "chaos:\n  - {fault: node-crsh, mtbf: 1h, mttr: 5m}\n",
            "did you mean \"node-crash\"",
        ),
        (
            "chaos:\n  - {fault: node-crash, mtbf: 1h}\n",
            "needs `mttr`",
        ),
        (
            "chaos:\n  - {fault: pod-crash, mtbf: 1h, mttr: 5m}\n",
            "takes no mttr",
        ),
        (
            "cluster:\n  nodePools: [{name: n, count: 1, capacity: {cpu: 1, memory: 1Gi}}]\n  kubelet: {pullBandwidth: fast}\n",
            "pullBandwidth must be a positive quantity",
        ),
        (
            "cluster:\n  nodePools: [{name: n, count: 1, capacity: {cpu: 1, memory: 1Gi}}]\n  controllerManager: {unhealthyZoneThreshold: 1.5}\n",
            "unhealthyZoneThreshold must be between 0 and 1",
        ),
    ];
    for (i, (tail, want)) in cases.iter().enumerate() {
        let head = if tail.starts_with("cluster:") {
            "name: bad\nuntil: 1h\n\n\n\n".to_string()
        } else {
            "name: bad\nuntil: 1h\ncluster:\n  nodePools: [{name: n, count: 1, capacity: {cpu: 1, memory: 1Gi}}]\n\n".to_string()
        };
        let text = head + "\n" + tail;
        let last_line = text.lines().count();
        let p = dir.write(&format!("s{i}.yaml"), &text);
        let err = match scenario::load(&p) {
            Ok(_) => panic!("case {i} loaded: {tail}"),
            Err(e) => e.to_string(),
        };
        assert!(err.contains(want), "case {i}: {err}");
        assert!(
            err.contains(&format!("s{i}.yaml:{last_line}:")),
            "case {i} names line {last_line}: {err}"
        );
    }
}

#[test]
fn node_add_joins_after_startup_and_node_remove_orphans_are_collected() {
    let (sim, recs) = run(&common::scenario("node-add-remove.yaml"));
    let joins = with_reason(&recs, "Join");
    assert_eq!(joins.len(), 2);
    assert!(joins
        .iter()
        .all(|r| r.component == "kubeadm" && r.time_ms == 300_000));
    // registered 20 s later (nodeStartup), and the two Pending pods bound at once
    let ready: Vec<u64> = with_reason(&recs, "NodeReady")
        .iter()
        .filter(|r| r.object == "Node/worker-2" || r.object == "Node/worker-3")
        .map(|r| r.time_ms)
        .collect();
    assert_eq!(ready, [320_000, 320_000]);
    let bound: Vec<u64> = with_reason(&recs, "Scheduled")
        .iter()
        .filter(|r| r.time_ms >= 300_000 && r.time_ms < 900_000)
        .map(|r| r.time_ms)
        .collect();
    assert_eq!(bound.len(), 2, "{bound:?}");
    assert!(bound.iter().all(|t| (320_000..321_000).contains(t)));
    // worker-1 removed at 25m without a drain: its pods are collected within a
    // monitor period and recreated
    let worker1_pods_after = sim
        .api()
        .list::<Pod>()
        .filter(|p| p.node_name.as_deref() == Some("worker-1"))
        .count();
    assert_eq!(worker1_pods_after, 0);
    let recreated = with_reason(&recs, "SuccessfulCreate")
        .iter()
        .filter(|r| r.time_ms >= 1_500_000 && r.time_ms <= 1_505_100)
        .count();
    assert_eq!(recreated, 4);
    let s = sim.summary();
    assert_eq!(s.nodes.total, 2);
    assert_eq!(s.pods.unscheduled, 2, "10 × 500m on two 2-CPU nodes: 8 fit");
}
