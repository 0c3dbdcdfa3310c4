//! Volumes end to end: StorageClass, PersistentVolume, PersistentVolumeClaim, the
//! PV controller (static binding, dynamic provisioning, reclaim), the scheduler's
//! VolumeBinding / VolumeZone filters, and attach/detach with Multi-Attach errors.

mod common;

use common::TempDir;
use kubesim::api::storage::{ClaimPhase, PvPhase};
use kubesim::api::{ObjKey, PersistentVolume, PersistentVolumeClaim, Pod, PodPhase};
use kubesim::metrics::{EventType, Recorder};
use kubesim::sim::time::SimTime;
use kubesim::{scenario, Simulation};

use common::{load_scenario as load, of, run_scenario as run};

fn pod<'a>(sim: &'a Simulation, name: &str) -> Option<&'a Pod> {
    sim.api().get::<Pod>(&ObjKey::new("default", name))
}

fn claim<'a>(sim: &'a Simulation, name: &str) -> Option<&'a PersistentVolumeClaim> {
    sim.api()
        .get::<PersistentVolumeClaim>(&ObjKey::new("default", name))
}

fn volume<'a>(sim: &'a Simulation, name: &str) -> Option<&'a PersistentVolume> {
    sim.api().get::<PersistentVolume>(&ObjKey::cluster(name))
}

/// Two zones, one node each (cpu per node settable).
fn zones(cpu_a: &str) -> String {
    format!(
        r#"
cluster:
  nodePools:
    - name: a
      count: 1
      capacity: {{cpu: "{cpu_a}", memory: 16Gi, pods: 110}}
      labels: {{topology.kubernetes.io/zone: zone-a}}
    - name: b
      count: 1
      capacity: {{cpu: "8", memory: 16Gi, pods: 110}}
      labels: {{topology.kubernetes.io/zone: zone-b}}
"#
    )
}

fn pod_yaml(name: &str, extra_spec: &str, claim: &str) -> String {
    format!(
        r#"
  - apiVersion: v1
    kind: Pod
    metadata: {{name: {name}}}
    spec:
{extra_spec}      containers:
        - name: app
          image: postgres:16
          resources: {{requests: {{cpu: "1"}}}}
      volumes:
        - name: data
          persistentVolumeClaim: {{claimName: {claim}}}
"#
    )
}

const FAST_WFFC: &str = r#"
  - apiVersion: storage.k8s.io/v1
    kind: StorageClass
    metadata: {name: fast}
    provisioner: ebs.csi.aws.com
    volumeBindingMode: WaitForFirstConsumer
"#;

fn claim_yaml(name: &str, class: &str, mode: &str, size: &str) -> String {
    format!(
        r#"
  - apiVersion: v1
    kind: PersistentVolumeClaim
    metadata: {{name: {name}}}
    spec:
      storageClassName: {class}
      accessModes: [{mode}]
      resources: {{requests: {{storage: {size}}}}}
"#
    )
}

/// A static zonal volume in `zone`, class `manual`, Retain.
fn zonal_pv(name: &str, zone: &str, size: &str) -> String {
    format!(
        r#"
  - apiVersion: v1
    kind: PersistentVolume
    metadata: {{name: {name}, labels: {{topology.kubernetes.io/zone: {zone}}}}}
    spec:
      capacity: {{storage: {size}}}
      accessModes: [ReadWriteOnce]
      storageClassName: manual
      nodeAffinity:
        required:
          nodeSelectorTerms:
            - matchExpressions:
                - {{key: topology.kubernetes.io/zone, operator: In, values: [{zone}]}}
"#
    )
}

#[test]
fn read_write_once_claim_on_two_nodes_waits_with_multi_attach_until_the_first_pod_is_gone() {
    let on = |zone: &str| format!("      nodeSelector: {{topology.kubernetes.io/zone: {zone}}}\n");
    // a regional class (no zones), Immediate: the volume can go to either node
    // a volume reachable from every node (no node affinity), ReadWriteOnce
    let yaml = format!(
        "name: rwo\nuntil: 10m\n{}objects:
  - apiVersion: v1
    kind: PersistentVolume
    metadata: {{name: disk}}
    spec:
      capacity: {{storage: 10Gi}}
      accessModes: [ReadWriteOnce]
      storageClassName: regional
{}{}
timeline:
  - at: 1m
    action: apply
    object:
      apiVersion: v1
      kind: Pod
      metadata: {{name: second}}
      spec:
        nodeSelector: {{topology.kubernetes.io/zone: zone-b}}
        containers:
          - name: app
            image: postgres:16
        volumes:
          - name: data
            persistentVolumeClaim: {{claimName: shared}}
  - at: 3m
    action: delete
    target: pod/first
",
        zones("8"),
        claim_yaml("shared", "regional", "ReadWriteOnce", "10Gi"),
        pod_yaml("first", &on("zone-a"), "shared"),
    );
    let (_dir, sc) = load("rwo", &yaml);
    let mut sim = Simulation::new(&sc, Recorder::in_memory());
    sim.run_until(SimTime::from_millis(150_000));
    let second = pod(&sim, "second").expect("second exists");
    assert_eq!(second.node_name.as_deref(), Some("b-0"));
    assert_eq!(second.display_status(), "ContainerCreating");
    assert_eq!(pod(&sim, "first").unwrap().status.phase, PodPhase::Running);
    sim.run();
    let recs = sim.recorder().records().to_vec();
    let multi = of(&recs, "FailedAttachVolume", "Pod/default/second");
    assert_eq!(multi.len(), 1, "said once: {multi:?}");
    assert_eq!(multi[0].event_type, EventType::Warning);
    assert_eq!(multi[0].component, "attachdetach-controller");
    let pv = claim(&sim, "shared").unwrap().volume_name.clone().unwrap();
    assert_eq!(pv, "disk");
    assert_eq!(
        multi[0].message,
        format!("Multi-Attach error for volume \"{pv}\" Volume is already used by pod(s) first")
    );
    // first deleted at 3m: stopped, removed, detached from a-0, attached to b-0
    let started = of(&recs, "Started", "Pod/default/second");
    assert_eq!(started.len(), 1);
    let detached = recs
        .iter()
        .find(|r| r.reason == "Detached")
        .expect("detached from a-0");
    assert!(detached.message.contains("from node \"a-0\""));
    assert!(detached.time_ms > 180_000);
    let attach = of(&recs, "SuccessfulAttachVolume", "Pod/default/second");
    assert_eq!(attach.len(), 1);
    assert!(attach[0].time_ms >= detached.time_ms + 2_000);
    assert!(started[0].time_ms > attach[0].time_ms);
    assert!(pod(&sim, "first").is_none());
    assert_eq!(pod(&sim, "second").unwrap().status.phase, PodPhase::Running);
    assert_eq!(volume(&sim, &pv).unwrap().attached, ["b-0"]);
}

#[test]
fn a_zonal_volume_pins_its_pod_to_the_zone_and_leaves_it_unschedulable_when_the_zone_is_full() {
    let objects = |cpu_a: &str| {
        format!(
            "name: zonal\nuntil: 3m\n{}objects:{}{}{}",
            zones(cpu_a),
            zonal_pv("pv-a", "zone-a", "20Gi"),
            claim_yaml("data", "manual", "ReadWriteOnce", "5Gi"),
            pod_yaml("db", "", "data"),
        )
    };
    // zone-b's node has more room, but the volume lives in zone-a
    let (sim, recs) = run("zonal", &objects("2"));
    let c = claim(&sim, "data").unwrap();
    assert_eq!(c.phase, ClaimPhase::Bound);
    assert_eq!(c.volume_name.as_deref(), Some("pv-a"));
    let db = pod(&sim, "db").unwrap();
    assert_eq!(db.node_name.as_deref(), Some("a-0"));
    assert_eq!(db.status.phase, PodPhase::Running);
    assert!(of(&recs, "Scheduled", "Pod/default/db")[0]
        .message
        .ends_with("to a-0"));
    // zone-a's node cannot hold the pod's 1 CPU: nowhere to go
    let (sim, recs) = run("zonal-full", &objects("500m"));
    let db = pod(&sim, "db").unwrap();
    assert_eq!(db.node_name, None);
    let failed = of(&recs, "FailedScheduling", "Pod/default/db");
    assert!(!failed.is_empty());
    let m = &failed[0].message;
    assert!(m.contains("1 Insufficient cpu"), "{m}");
    assert!(
        m.contains("1 node(s) had volume node affinity conflict"),
        "{m}"
    );
}

#[test]
fn volume_zone_filter_rejects_nodes_outside_the_volume_zone() {
    // a volume with only the zone label (no nodeAffinity): VolumeZone decides
    let pv = zonal_pv("pv-a", "zone-a", "20Gi");
    let pv = pv.split("      nodeAffinity:").next().unwrap().to_string();
    let yaml = format!(
        "name: zone-label\nuntil: 3m\n{}objects:{pv}{}{}",
        zones("500m"),
        claim_yaml("data", "manual", "ReadWriteOnce", "5Gi"),
        pod_yaml("db", "", "data"),
    );
    let (sim, recs) = run("zone-label", &yaml);
    assert_eq!(pod(&sim, "db").unwrap().node_name, None);
    let m = &of(&recs, "FailedScheduling", "Pod/default/db")[0].message;
    assert!(m.contains("1 node(s) had no available volume zone"), "{m}");
}

#[test]
fn wait_for_first_consumer_provisions_in_the_zone_of_the_chosen_node() {
    let yaml = format!(
        "name: wffc\nuntil: 3m\n{}
  storage: {{provisioningDelay: 7s}}
objects:{FAST_WFFC}{}{}",
        zones("8"),
        claim_yaml("data", "fast", "ReadWriteOnce", "10Gi"),
        pod_yaml(
            "db",
            "      nodeSelector: {topology.kubernetes.io/zone: zone-b}\n",
            "data"
        ),
    );
    let (_dir, sc) = load("wffc", &yaml);
    let mut sim = Simulation::new(&sc, Recorder::in_memory());
    sim.run_until(SimTime::from_millis(40));
    // nothing provisioned before a consumer is scheduled
    assert!(sim.api().list::<PersistentVolume>().next().is_none());
    sim.run();
    let recs = sim.recorder().records().to_vec();
    let obj = "PersistentVolumeClaim/default/data";
    assert_eq!(of(&recs, "WaitForFirstConsumer", obj).len(), 1);
    let scheduled = of(&recs, "Scheduled", "Pod/default/db")[0].time_ms;
    let provisioning = of(&recs, "Provisioning", obj);
    assert_eq!(provisioning.len(), 1);
    assert!(provisioning[0].time_ms > scheduled);
    let done = of(&recs, "ProvisioningSucceeded", obj);
    assert_eq!(done.len(), 1);
    assert_eq!(done[0].time_ms, provisioning[0].time_ms + 7_000);
    assert!(
        done[0].message.ends_with("in zone zone-b"),
        "{}",
        done[0].message
    );
    let c = claim(&sim, "data").unwrap();
    assert_eq!(c.phase, ClaimPhase::Bound);
    assert_eq!(
        c.selected_node(),
        Some("b-0"),
        "annotated with the consumer's node"
    );
    let pv = volume(&sim, c.volume_name.as_deref().unwrap()).unwrap();
    assert_eq!(pv.zone(), Some("zone-b"));
    assert_eq!(pv.phase, PvPhase::Bound);
    assert_eq!(pv.capacity, 10 << 30);
    assert_eq!(pod(&sim, "db").unwrap().status.phase, PodPhase::Running);
}

#[test]
fn an_unbound_immediate_claim_keeps_the_pod_pending_until_a_volume_binds_it() {
    let yaml = format!(
        "name: immediate\nuntil: 5m\n{}objects:
  - apiVersion: storage.k8s.io/v1
    kind: StorageClass
    metadata: {{name: manual}}
    provisioner: kubernetes.io/no-provisioner
{}{}
timeline:
  - {{at: 1m, action: apply, file: pv.yaml}}
",
        zones("8"),
        claim_yaml("data", "manual", "ReadWriteOnce", "5Gi"),
        pod_yaml("db", "", "data"),
    );
    let dir = TempDir::new("immediate");
    dir.write(
        "pv.yaml",
        &zonal_pv("pv-b", "zone-b", "8Gi")
            .replace("\n  - ", "\n")
            .replace("\n    ", "\n"),
    );
    let path = dir.write("scenario.yaml", &yaml);
    let sc = scenario::load(&path).unwrap_or_else(|e| panic!("{e}"));
    let mut sim = Simulation::new(&sc, Recorder::in_memory());
    sim.run_until(SimTime::from_millis(50_000));
    assert_eq!(pod(&sim, "db").unwrap().node_name, None);
    let recs = sim.recorder().records().to_vec();
    let m = &of(&recs, "FailedScheduling", "Pod/default/db")[0].message;
    assert!(
        m.contains("pod has unbound immediate PersistentVolumeClaims"),
        "{m}"
    );
    assert!(!of(&recs, "FailedBinding", "PersistentVolumeClaim/default/data").is_empty());
    sim.run();
    let c = claim(&sim, "data").unwrap();
    assert_eq!(c.volume_name.as_deref(), Some("pv-b"));
    let db = pod(&sim, "db").unwrap();
    assert_eq!(db.node_name.as_deref(), Some("b-0"), "follows its volume");
    assert_eq!(db.status.phase, PodPhase::Running);
}

#[test]
fn static_binding_picks_the_smallest_matching_volume() {
    let yaml = format!(
        "name: smallest\nuntil: 1m\n{}objects:{}{}{}{}",
        zones("8"),
        zonal_pv("big", "zone-a", "100Gi"),
        zonal_pv("small", "zone-a", "10Gi"),
        zonal_pv("tiny", "zone-a", "1Gi"),
        claim_yaml("data", "manual", "ReadWriteOnce", "5Gi"),
    );
    let (sim, _) = run("smallest", &yaml);
    assert_eq!(
        claim(&sim, "data").unwrap().volume_name.as_deref(),
        Some("small")
    );
    assert_eq!(volume(&sim, "big").unwrap().phase, PvPhase::Available);
    assert_eq!(claim(&sim, "data").unwrap().capacity, Some(10 << 30));
}

#[test]
fn reclaim_delete_removes_the_volume_and_retain_keeps_it_released() {
    let yaml = format!(
        "name: reclaim\nuntil: 10m\n{}objects:
  - apiVersion: storage.k8s.io/v1
    kind: StorageClass
    metadata: {{name: scratch}}
    provisioner: ebs.csi.aws.com
    reclaimPolicy: Delete
  - apiVersion: storage.k8s.io/v1
    kind: StorageClass
    metadata: {{name: keep}}
    provisioner: ebs.csi.aws.com
    reclaimPolicy: Retain
{}{}{}
timeline:
  - at: 2m
    action: delete
    target: pod/user
  - at: 1m
    action: delete
    target: pvc/gone
  - at: 1m
    action: delete
    target: pvc/kept
",
        zones("8"),
        claim_yaml("gone", "scratch", "ReadWriteOnce", "1Gi"),
        claim_yaml("kept", "keep", "ReadWriteOnce", "1Gi"),
        pod_yaml("user", "", "gone"),
    );
    let (_dir, sc) = load("reclaim", &yaml);
    let mut sim = Simulation::new(&sc, Recorder::in_memory());
    sim.run_until(SimTime::from_millis(59_000));
    let gone_pv = claim(&sim, "gone").unwrap().volume_name.clone().unwrap();
    let kept_pv = claim(&sim, "kept").unwrap().volume_name.clone().unwrap();
    sim.run_until(SimTime::from_millis(90_000));
    // the claim in use is Terminating (pvc-protection), its volume still there
    let g = claim(&sim, "gone").expect("held while the pod uses it");
    assert!(g.meta.deletion_timestamp.is_some());
    assert!(volume(&sim, &gone_pv).is_some());
    // the unused Retain claim is gone; its volume stays, Released
    assert!(claim(&sim, "kept").is_none());
    assert_eq!(volume(&sim, &kept_pv).unwrap().phase, PvPhase::Released);
    sim.run();
    assert!(pod(&sim, "user").is_none());
    assert!(
        claim(&sim, "gone").is_none(),
        "removed once the pod is gone"
    );
    assert!(volume(&sim, &gone_pv).is_none(), "reclaim policy Delete");
    let kept = volume(&sim, &kept_pv).unwrap();
    assert_eq!(kept.phase, PvPhase::Released);
    let recs = sim.recorder().records().to_vec();
    assert!(!of(
        &recs,
        "VolumeDeleted",
        &format!("PersistentVolume/{gone_pv}")
    )
    .is_empty());
    assert!(!of(
        &recs,
        "VolumeReleased",
        &format!("PersistentVolume/{kept_pv}")
    )
    .is_empty());
}

#[test]
fn get_shows_claims_and_volumes() {
    let yaml = format!(
        "name: views\nuntil: 1m\n{}objects:{}{}",
        zones("8"),
        zonal_pv("pv-a", "zone-a", "20Gi"),
        claim_yaml("data", "manual", "ReadWriteOnce", "5Gi"),
    );
    let (_dir, sc) = load("get-pvc", &yaml);
    let sim = kubesim::views::run_to(&sc, SimTime::from_millis(10_000));
    let q = kubesim::views::get::Query {
        kind: kubesim::api::Kind::PersistentVolumeClaim,
        events: false,
        name: None,
        namespace: Some("default".into()),
    };
    let out =
        kubesim::views::get::get(&sim, &q, kubesim::views::get::Format::Table, sim.now()).unwrap();
    let lines: Vec<&str> = out.lines().collect();
    assert!(
        lines[0].starts_with("NAME   STATUS   VOLUME   CAPACITY   ACCESS MODES   STORAGECLASS"),
        "{out}"
    );
    assert!(
        lines[1].starts_with("data   Bound    pv-a     20Gi       RWO            manual"),
        "{out}"
    );
}

#[test]
fn explain_schedule_names_the_volume_filters_and_their_reasons() {
    let yaml = format!(
        "name: explain\nuntil: 2m\n{}objects:{}{}{}",
        zones("8"),
        zonal_pv("pv-a", "zone-a", "20Gi"),
        claim_yaml("data", "manual", "ReadWriteOnce", "5Gi"),
        claim_yaml("later", "nowhere", "ReadWriteOnce", "5Gi"),
    );
    let (dir, sc) = load("explain", &yaml);
    let explain = |claim: &str| {
        let pod_file = dir.write(
            &format!("{claim}.yaml"),
            &pod_yaml("probe", "", claim)
                .replace("\n  - ", "\n")
                .replace("\n    ", "\n"),
        );
        let pod = kubesim::explain::load_pod(&pod_file).unwrap_or_else(|e| panic!("{e}"));
        kubesim::explain::explain_scenario(
            &sc,
            &pod,
            SimTime::from_millis(60_000),
            None,
            &kubesim::scheduler::policies::Registry::builtin(),
        )
        .unwrap()
    };
    let e = explain("data");
    assert_eq!(e.selected.as_deref(), Some("a-0"));
    let b = e.nodes.iter().find(|n| n.name == "b-0").unwrap();
    assert!(!b.feasible);
    assert_eq!(b.filter.as_deref(), Some("VolumeBinding"));
    assert_eq!(
        b.reason.as_deref(),
        Some("node(s) had volume node affinity conflict")
    );
    // a claim of a class that does not exist: rejected everywhere at PreFilter
    // (an Immediate class would say "pod has unbound immediate PersistentVolumeClaims")
    let e = explain("later");
    assert_eq!(e.selected, None);
    assert!(e
        .nodes
        .iter()
        .all(|n| n.filter.as_deref() == Some("VolumeBinding")
            && n.reason.as_deref() == Some("storageclass.storage.k8s.io \"nowhere\" not found")));
}
