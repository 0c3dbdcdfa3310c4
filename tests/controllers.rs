//! Controller behaviours through the library API: the ReplicaSet controller's
//! slow start, adoption and release of pods; the garbage collector's foreground
//! and orphan propagation; the Deployment controller's proportional scaling.

use kubesim::api::meta::{FINALIZER_FOREGROUND, FINALIZER_ORPHAN};
use kubesim::api::selector::LabelSelector;
use kubesim::api::store::Propagation;
use kubesim::api::{
    ApiServer, Deployment, Kind, ObjKey, ObjectMeta, OwnerReference, Pod, PodTemplate, ReplicaSet,
};
use kubesim::controllers::gc;
use kubesim::controllers::replicaset::claim_pods;
use kubesim::metrics::Recorder;
use kubesim::sim::time::SimTime;
use kubesim::{scenario, Simulation};
use std::path::PathBuf;

struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str, text: &str) -> Scratch {
        let dir =
            std::env::temp_dir().join(format!("kubesim-controllers-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("s.yaml"), text).unwrap();
        Scratch(dir)
    }
    fn sim(&self) -> Simulation {
        let sc = scenario::load(&self.0.join("s.yaml")).unwrap();
        Simulation::new(&sc, Recorder::in_memory())
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn minutes(m: u64) -> SimTime {
    SimTime::from_millis(m * 60_000)
}

fn reasons(sim: &Simulation, reason: &str) -> Vec<String> {
    sim.recorder()
        .records()
        .iter()
        .filter(|r| r.reason == reason)
        .map(|r| r.message.clone())
        .collect()
}

const ADOPT: &str = r#"
name: adopt
until: 10m
cluster:
  nodePools:
    - {name: n, count: 1, capacity: {cpu: "4", memory: 8Gi}}
objects:
  - apiVersion: v1
    kind: Pod
    metadata: {name: bare, labels: {app: web}}
    spec:
      containers: [{name: c, image: "nginx:1.25", resources: {requests: {cpu: 100m}}}]
  - apiVersion: v1
    kind: Pod
    metadata: {name: other, labels: {app: db}}
    spec:
      containers: [{name: c, image: "nginx:1.25", resources: {requests: {cpu: 100m}}}]
  - apiVersion: apps/v1
    kind: ReplicaSet
    metadata: {name: web}
    spec:
      replicas: 3
      selector: {matchLabels: {app: web}}
      template:
        metadata: {labels: {app: web}}
        spec:
          containers: [{name: c, image: "nginx:1.25", resources: {requests: {cpu: 100m}}}]
"#;

fn controller_of(sim: &Simulation, pod: &str) -> Option<String> {
    sim.api()
        .get::<Pod>(&ObjKey::new("default", pod))
        .and_then(|p| p.meta.controller_ref().map(|o| o.name.clone()))
}

#[test]
fn a_replicaset_adopts_a_matching_bare_pod_and_creates_only_the_rest() {
    let s = Scratch::new("adopt", ADOPT);
    let mut sim = s.sim();
    sim.run_until(minutes(4));
    assert_eq!(controller_of(&sim, "bare").as_deref(), Some("web"));
    assert_eq!(controller_of(&sim, "other"), None, "labels do not match");
    let rs = sim
        .api()
        .get::<ReplicaSet>(&ObjKey::new("default", "web"))
        .unwrap();
    let owned = sim.api().dependents_of(rs.meta.uid, Kind::Pod).count();
    assert_eq!(owned, 3);
    assert_eq!(rs.status.replicas, 3);
    assert_eq!(
        reasons(&sim, "SuccessfulCreate").len(),
        2,
        "the adopted pod counts as one of the 3"
    );
    assert_eq!(sim.api().list::<Pod>().count(), 4);
}

#[test]
fn a_pod_relabelled_out_of_the_selector_is_released_and_another_set_adopts_it() {
    // the timeline cannot relabel a pod yet: drive the claim on the API server
    let mut api = ApiServer::new();
    let mut sets = Vec::new();
    for app in ["web", "debug"] {
        let mut labels = kubesim::api::selector::Labels::new();
        labels.insert("app".into(), app.into());
        sets.push(
            api.create(ReplicaSet {
                meta: ObjectMeta::new("default", app),
                replicas: 1,
                selector: LabelSelector::from_labels(labels),
                template: PodTemplate::default(),
                min_ready: Default::default(),
                status: Default::default(),
            })
            .unwrap()
            .clone(),
        );
    }
    let mut meta = ObjectMeta::new("default", "p");
    meta.labels.insert("app".into(), "web".into());
    api.create(Pod {
        meta,
        spec: Default::default(),
        node_name: None,
        status: Default::default(),
    })
    .unwrap();
    let key = ObjKey::new("default", "p");
    assert_eq!(claim_pods(&mut api, &sets[0]).adopted, ["p"]);
    assert!(claim_pods(&mut api, &sets[1]).adopted.is_empty());
    api.update::<Pod>(&key, |p| {
        p.meta.labels.insert("app".into(), "debug".into());
    })
    .unwrap();
    // the pod still has a controller: the other set leaves it alone
    assert!(claim_pods(&mut api, &sets[1]).adopted.is_empty());
    let c = claim_pods(&mut api, &sets[0]);
    assert_eq!((c.released, c.pods.len()), (vec!["p".to_string()], 0));
    assert_eq!(claim_pods(&mut api, &sets[1]).adopted, ["p"]);
    let owner = api.get::<Pod>(&key).unwrap().meta.controller_ref().cloned();
    assert_eq!(owner.map(|o| o.uid), Some(sets[1].meta.uid));
    assert_eq!(api.dependents_of(sets[0].meta.uid, Kind::Pod).count(), 0);
    assert_eq!(api.dependents_of(sets[1].meta.uid, Kind::Pod).count(), 1);
}

const SLOW_START: &str = r#"
name: slow-start
until: 10m
cluster:
  nodePools:
    - {name: n, count: 1, capacity: {cpu: "4", memory: 8Gi}}
objects:
  - {apiVersion: v1, kind: Namespace, metadata: {name: team}}
  - apiVersion: apps/v1
    kind: ReplicaSet
    metadata: {name: web, namespace: team}
    spec:
      replicas: 1
      selector: {matchLabels: {app: web}}
      template:
        metadata: {labels: {app: web}}
        spec:
          containers: [{name: c, image: "nginx:1.25", resources: {requests: {cpu: 100m}}}]
timeline:
  - {at: 1m, action: delete, target: namespace/team}
  - {at: 2m, action: scale, target: replicaset/web, namespace: team, replicas: 40}
"#;

#[test]
fn slow_start_gives_up_after_the_first_failed_batch() {
    let s = Scratch::new("slow-start", SLOW_START);
    let mut sim = s.sim();
    sim.run_until(minutes(3));
    let syncs = sim
        .recorder()
        .records()
        .iter()
        .filter(|r| r.reason == "Reconcile" && r.time_ms >= 120_000)
        .count();
    assert!(syncs >= 1);
    let failed = reasons(&sim, "FailedCreate");
    assert_eq!(
        failed.len(),
        syncs,
        "one request per sync, not 39: {failed:?}"
    );
    assert!(
        failed[0].starts_with("Error creating: namespace \"team\" not found"),
        "{failed:?}"
    );
    let why = reasons(&sim, "SlowStartBatch");
    assert_eq!(why.len(), syncs);
    assert_eq!(
        why[0],
        "Slow-start failure: created 0 of 39 pods, skipped creation of 38 after a failed batch"
    );
}

const PROPORTIONAL: &str = r#"
name: proportional
until: 10m
cluster:
  nodePools:
    - {name: n, count: 1, capacity: {cpu: "1", memory: 8Gi}}
objects:
  - apiVersion: apps/v1
    kind: Deployment
    metadata: {name: web}
    spec:
      replicas: 10
      strategy: {type: RollingUpdate, rollingUpdate: {maxSurge: 3, maxUnavailable: 0}}
      selector: {matchLabels: {app: web}}
      template:
        metadata: {labels: {app: web}}
        spec:
          containers: [{name: web, image: "nginx:1.25", resources: {requests: {cpu: 100m}}}]
timeline:
  - {at: 2m, action: set-image, target: deployment/web, container: web, image: "nginx:1.26"}
  - {at: 4m, action: scale, target: deployment/web, replicas: 20}
"#;

/// (replicas, desired-replicas annotation) of the Deployment's sets, oldest first.
fn sets(sim: &Simulation) -> Vec<(i32, String)> {
    let mut v: Vec<&ReplicaSet> = sim.api().list::<ReplicaSet>().collect();
    v.sort_by_key(|r| r.meta.creation_timestamp);
    v.iter()
        .map(|r| {
            let a = r
                .meta
                .annotations
                .get("deployment.kubernetes.io/desired-replicas")
                .cloned()
                .unwrap_or_default();
            (r.replicas, a)
        })
        .collect()
}

#[test]
fn scaling_mid_rollout_spreads_the_new_replicas_proportionally() {
    let s = Scratch::new("proportional", PROPORTIONAL);
    let mut sim = s.sim();
    // the node fits 10 pods: the 3 surge pods of the new set stay Pending
    sim.run_until(minutes(3));
    assert_eq!(sets(&sim), [(10, "10".into()), (3, "10".into())]);
    sim.run();
    // 10 + 3 (max 13) -> 20 + 3 = 23: old round(10*23/13) = 18, new round(3*23/13) = 5
    assert_eq!(sets(&sim), [(18, "20".into()), (5, "20".into())]);
    let d = sim
        .api()
        .get::<Deployment>(&ObjKey::new("default", "web"))
        .unwrap();
    assert_eq!(d.replicas, 20);
}

const ADOPT_SET: &str = r#"
name: adopt-set
until: 10m
cluster:
  nodePools:
    - {name: n, count: 1, capacity: {cpu: "4", memory: 8Gi}}
objects:
  - apiVersion: apps/v1
    kind: ReplicaSet
    metadata: {name: legacy, labels: {app: web}}
    spec:
      replicas: 2
      selector: {matchLabels: {app: web}}
      template:
        metadata: {labels: {app: web}}
        spec:
          containers: [{name: c, image: "nginx:1.25", resources: {requests: {cpu: 100m}}}]
  - apiVersion: apps/v1
    kind: Deployment
    metadata: {name: web}
    spec:
      replicas: 3
      selector: {matchLabels: {app: web}}
      template:
        metadata: {labels: {app: web}}
        spec:
          containers: [{name: c, image: "nginx:1.25", resources: {requests: {cpu: 100m}}}]
"#;

#[test]
fn a_deployment_adopts_a_matching_replicaset_and_scales_it_instead_of_creating_one() {
    let s = Scratch::new("adopt-set", ADOPT_SET);
    let mut sim = s.sim();
    sim.run();
    let sets: Vec<&ReplicaSet> = sim.api().list::<ReplicaSet>().collect();
    assert_eq!(
        sets.len(),
        1,
        "the legacy set has the Deployment's template"
    );
    assert_eq!(sets[0].meta.name, "legacy");
    assert_eq!(
        sets[0].meta.controller_ref().map(|o| o.kind),
        Some(Kind::Deployment)
    );
    assert_eq!(sets[0].replicas, 3);
    assert_eq!(sim.api().list::<Pod>().count(), 3);
    assert_eq!(reasons(&sim, "ClaimReplicaSets").len(), 1);
}

// The garbage collector driven as the simulation drives it: every write's watch
// notification that `gc::wants` is passed to `gc::collect`.

fn settle(api: &mut ApiServer) -> Vec<gc::GcAction> {
    let mut all = Vec::new();
    loop {
        let changes = api.take_changes();
        if changes.is_empty() {
            return all;
        }
        for c in changes {
            if gc::wants(&c, api) {
                all.extend(gc::collect(api, c.uid));
            }
        }
    }
}

/// A Deployment with one ReplicaSet and two pods, each owned by the one above.
fn chain() -> (ApiServer, ObjKey) {
    let mut api = ApiServer::new();
    let d = api
        .create(Deployment {
            meta: ObjectMeta::new("default", "web"),
            replicas: 2,
            selector: LabelSelector::default(),
            template: PodTemplate::default(),
            strategy: Default::default(),
            min_ready: Default::default(),
            revision_history_limit: 10,
            progress_deadline: Default::default(),
            paused: false,
            status: Default::default(),
        })
        .unwrap()
        .meta
        .clone();
    let mut meta = ObjectMeta::new("default", "web-1");
    meta.owner_references
        .push(OwnerReference::controller_of(Kind::Deployment, &d));
    let rs = api
        .create(ReplicaSet {
            meta,
            replicas: 2,
            selector: LabelSelector::default(),
            template: PodTemplate::default(),
            min_ready: Default::default(),
            status: Default::default(),
        })
        .unwrap()
        .meta
        .clone();
    for name in ["web-1-a", "web-1-b"] {
        let mut meta = ObjectMeta::new("default", name);
        meta.owner_references
            .push(OwnerReference::controller_of(Kind::ReplicaSet, &rs));
        api.create(Pod {
            meta,
            spec: Default::default(),
            node_name: None,
            status: Default::default(),
        })
        .unwrap();
    }
    api.take_changes();
    (api, d.key())
}

#[test]
fn foreground_deletion_removes_the_dependents_first_then_the_owner() {
    let (mut api, key) = chain();
    api.delete_with(Kind::Deployment, &key, Propagation::Foreground)
        .unwrap();
    let d = api
        .get::<Deployment>(&key)
        .expect("still there, finalizing");
    assert_eq!(d.meta.finalizers, [FINALIZER_FOREGROUND]);
    let acts = settle(&mut api);
    assert!(api.get::<Deployment>(&key).is_none());
    assert_eq!(api.list::<ReplicaSet>().count(), 0);
    assert_eq!(api.list::<Pod>().count(), 0);
    let order: Vec<(Kind, &str)> = acts
        .iter()
        .filter(|a| a.deleted)
        .map(|a| (a.kind, a.key.name.as_str()))
        .collect();
    // the ReplicaSet has dependents, so it is itself deleted in the foreground:
    // marked first, removed after its pods
    assert_eq!(
        order,
        [
            (Kind::ReplicaSet, "web-1"),
            (Kind::Pod, "web-1-a"),
            (Kind::Pod, "web-1-b"),
            (Kind::ReplicaSet, "web-1"),
            (Kind::Deployment, "web"),
        ]
    );
}

#[test]
fn orphan_deletion_keeps_the_replicaset_and_its_pods_without_the_owner() {
    let (mut api, key) = chain();
    api.delete_with(Kind::Deployment, &key, Propagation::Orphan)
        .unwrap();
    assert_eq!(
        api.get::<Deployment>(&key).unwrap().meta.finalizers,
        [FINALIZER_ORPHAN]
    );
    settle(&mut api);
    assert!(api.get::<Deployment>(&key).is_none());
    let rs = api
        .get::<ReplicaSet>(&ObjKey::new("default", "web-1"))
        .expect("orphaned, not deleted");
    assert!(rs.meta.owner_references.is_empty());
    assert_eq!(
        api.list::<Pod>().count(),
        2,
        "the pods keep their ReplicaSet"
    );
    assert_eq!(api.dependents_of(rs.meta.uid, Kind::Pod).count(), 2);
}

#[test]
fn background_deletion_removes_the_owner_first() {
    let (mut api, key) = chain();
    api.delete_with(Kind::Deployment, &key, Propagation::Background)
        .unwrap();
    assert!(api.get::<Deployment>(&key).is_none());
    assert_eq!(api.list::<ReplicaSet>().count(), 1, "not yet collected");
    settle(&mut api);
    assert_eq!(api.list::<ReplicaSet>().count(), 0);
    assert_eq!(api.list::<Pod>().count(), 0);
}

/// The timeline's `delete … cascade:` is kubectl's `--cascade`, end to end.
#[test]
fn timeline_delete_cascade_orphan_and_foreground() {
    let scenario = |cascade: &str| {
        format!(
            r#"
name: cascade
until: 10m
cluster:
  nodePools:
    - {{name: n, count: 2, capacity: {{cpu: "4", memory: 8Gi, pods: 110}}}}
objects:
  - apiVersion: apps/v1
    kind: Deployment
    metadata: {{name: web}}
    spec:
      replicas: 3
      selector: {{matchLabels: {{app: web}}}}
      template:
        metadata: {{labels: {{app: web}}}}
        spec:
          containers: [{{name: c, image: nginx:1.25}}]
timeline:
  - {{at: 2m, action: delete, target: deployment/web, cascade: {cascade}}}
"#
        )
    };
    // orphan: the Deployment goes, its ReplicaSet and pods stay, without an owner
    let s = Scratch::new("cascade-orphan", &scenario("orphan"));
    let mut sim = s.sim();
    sim.run();
    assert!(sim.api().list::<Deployment>().next().is_none());
    let rs: Vec<&ReplicaSet> = sim.api().list::<ReplicaSet>().collect();
    assert_eq!(rs.len(), 1);
    assert!(rs[0].meta.owner_references.is_empty(), "{:?}", rs[0].meta);
    assert_eq!(sim.api().list::<Pod>().count(), 3);
    // foreground: everything goes, the Deployment last
    let s = Scratch::new("cascade-foreground", &scenario("foreground"));
    let mut sim = s.sim();
    sim.run_until(minutes(2) + kubesim::sim::time::SimDuration::from_millis(1));
    let d = sim
        .api()
        .get::<Deployment>(&ObjKey::new("default", "web"))
        .expect("kept while its dependents go");
    assert!(d.meta.has_finalizer(FINALIZER_FOREGROUND));
    sim.run();
    assert!(sim.api().list::<Deployment>().next().is_none());
    assert!(sim.api().list::<ReplicaSet>().next().is_none());
    assert_eq!(sim.api().list::<Pod>().count(), 0);
    // a bad value is an error naming it
    let s = Scratch::new("cascade-bad", &scenario("sideways"));
    let err = scenario::load(&s.0.join("s.yaml")).unwrap_err().to_string();
    assert!(
        err.contains("cascade must be background, foreground or orphan"),
        "{err}"
    );
}
