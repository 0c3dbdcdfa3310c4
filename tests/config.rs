//! ConfigMaps and Secrets end to end: loading (base64, stringData, immutable),
//! the kubelet's waits on missing references (CreateContainerConfigError for
//! env, ContainerCreating + FailedMount for volumes), optional references, and
//! the propagation of a ConfigMap update into mounted volumes.

mod common;

use common::TempDir;
use kubesim::api::{ConfigMap, ObjKey, Pod, PodPhase, Secret};
use kubesim::metrics::{EventType, Recorder};
use kubesim::sim::time::SimTime;
use kubesim::{scenario, Simulation};

use common::{load_scenario as load, of, run_scenario as run};

fn pod<'a>(sim: &'a Simulation, name: &str) -> &'a Pod {
    sim.api()
        .get::<Pod>(&ObjKey::new("default", name))
        .unwrap_or_else(|| panic!("pod {name} exists"))
}

const CLUSTER: &str = r#"
cluster:
  nodePools:
    - name: n
      count: 1
      capacity: {cpu: "8", memory: 32Gi, pods: 110}
"#;

/// A pod whose container reads `MODE` from ConfigMap app-config.
const ENV_POD: &str = r#"
  - apiVersion: v1
    kind: Pod
    metadata: {name: web}
    spec:
      containers:
        - name: app
          image: nginx:1.25
          env:
            - name: MODE
              valueFrom:
                configMapKeyRef: {name: app-config, key: mode}
"#;

const CONFIG_AT_1M: &str = r#"
timeline:
  - at: 1m
    action: apply
    object:
      apiVersion: v1
      kind: ConfigMap
      metadata: {name: app-config}
      data: {mode: blue}
"#;

#[test]
fn missing_configmap_holds_pod_in_create_container_config_error_until_created() {
    let yaml = format!("name: cm-env\nuntil: 5m\n{CLUSTER}objects:{ENV_POD}{CONFIG_AT_1M}");
    let (_dir, sc) = load("cm-env", &yaml);
    let mut sim = Simulation::new(&sc, Recorder::in_memory());
    sim.run_until(SimTime::from_millis(30_000));
    let p = pod(&sim, "web");
    assert_eq!(p.status.phase, PodPhase::Pending);
    assert_eq!(p.display_status(), "CreateContainerConfigError");
    sim.run();
    let recs = sim.recorder().records().to_vec();
    let obj = "Pod/default/web";
    let failed = of(&recs, "Failed", obj);
    assert!(!failed.is_empty());
    assert_eq!(
        failed[0].message,
        "Error: configmap \"app-config\" not found"
    );
    assert_eq!(failed[0].event_type, EventType::Warning);
    // the pod worker retries every 10 s; the first retry after 1m starts it
    let started = of(&recs, "Started", obj);
    assert_eq!(started.len(), 1);
    let (first, start) = (failed[0].time_ms, started[0].time_ms);
    assert_eq!((start - first) % 10_000, 0, "retries on the 10 s grid");
    assert!((60_000..70_000).contains(&start), "started at {start}");
    assert!(failed.iter().all(|f| f.time_ms < 60_000));
    let p = pod(&sim, "web");
    assert_eq!(p.status.phase, PodPhase::Running);
    assert_eq!(p.display_status(), "Running");
}

#[test]
fn missing_key_is_a_config_error_too() {
    let yaml = format!(
        "name: cm-key\nuntil: 2m\n{CLUSTER}objects:{ENV_POD}
  - apiVersion: v1
    kind: ConfigMap
    metadata: {{name: app-config}}
    data: {{colour: blue}}
"
    );
    let (sim, recs) = run("cm-key", &yaml);
    let failed = of(&recs, "Failed", "Pod/default/web");
    assert_eq!(
        failed[0].message,
        "Error: couldn't find key mode in ConfigMap default/app-config"
    );
    assert_eq!(
        pod(&sim, "web").display_status(),
        "CreateContainerConfigError"
    );
}

#[test]
fn missing_volume_source_keeps_pod_container_creating_until_it_exists() {
    let yaml = format!(
        "name: cm-vol\nuntil: 5m\n{CLUSTER}objects:
  - apiVersion: v1
    kind: Pod
    metadata: {{name: vol}}
    spec:
      containers:
        - name: app
          image: nginx:1.25
      volumes:
        - name: cfg
          configMap: {{name: app-config}}
        - name: creds
          secret: {{secretName: db-creds}}
{CONFIG_AT_1M}
  - at: 2m
    action: apply
    object:
      apiVersion: v1
      kind: Secret
      metadata: {{name: db-creds}}
      stringData: {{password: hunter2}}
"
    );
    let (_dir, sc) = load("cm-vol", &yaml);
    let mut sim = Simulation::new(&sc, Recorder::in_memory());
    sim.run_until(SimTime::from_millis(90_000));
    let p = pod(&sim, "vol");
    assert_eq!(p.display_status(), "ContainerCreating");
    let recs = sim.recorder().records().to_vec();
    let mounts = of(&recs, "FailedMount", "Pod/default/vol");
    assert!(mounts.iter().any(|r| r.message
        == "MountVolume.SetUp failed for volume \"cfg\" : configmap \"app-config\" not found"));
    assert!(mounts.iter().any(|r| r.message
        == "MountVolume.SetUp failed for volume \"creds\" : secret \"db-creds\" not found"));
    // after the ConfigMap only the Secret is missing
    assert!(mounts
        .iter()
        .filter(|r| r.time_ms > 60_100)
        .all(|r| r.message.contains("db-creds")));
    assert!(
        of(&recs, "Pulling", "Pod/default/vol").is_empty(),
        "no pull before the mount"
    );
    sim.run();
    let recs = sim.recorder().records().to_vec();
    let started = of(&recs, "Started", "Pod/default/vol");
    assert_eq!(started.len(), 1);
    assert!(started[0].time_ms > 120_000);
    assert_eq!(pod(&sim, "vol").status.phase, PodPhase::Running);
}

#[test]
fn optional_references_do_not_block() {
    let yaml = format!(
        "name: optional\nuntil: 2m\n{CLUSTER}objects:
  - apiVersion: v1
    kind: ConfigMap
    metadata: {{name: present}}
    data: {{a: '1'}}
  - apiVersion: v1
    kind: Pod
    metadata: {{name: opt}}
    spec:
      containers:
        - name: app
          image: nginx:1.25
          env:
            - name: A
              valueFrom:
                configMapKeyRef: {{name: missing, key: a, optional: true}}
            - name: B
              valueFrom:
                configMapKeyRef: {{name: present, key: nope, optional: true}}
            - name: C
              valueFrom:
                secretKeyRef: {{name: missing, key: c, optional: true}}
          envFrom:
            - configMapRef: {{name: missing, optional: true}}
            - secretRef: {{name: missing, optional: true}}
      volumes:
        - name: v1
          configMap: {{name: missing, optional: true}}
        - name: v2
          secret: {{secretName: missing, optional: true}}
"
    );
    let (sim, recs) = run("optional", &yaml);
    let obj = "Pod/default/opt";
    assert!(of(&recs, "Failed", obj).is_empty());
    assert!(of(&recs, "FailedMount", obj).is_empty());
    assert_eq!(pod(&sim, "opt").status.phase, PodPhase::Running);
    // and without `optional` the same pod would wait
    let strict = yaml.replace(", optional: true", "");
    let (sim, _) = run("optional-strict", &strict);
    assert_eq!(pod(&sim, "opt").display_status(), "ContainerCreating");
}

#[test]
fn bad_base64_secret_error_names_file_and_place() {
    let dir = TempDir::new("bad-b64");
    let manifest = dir.write(
        "secret.yaml",
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\ndata:\n  user: YWRtaW4=\n  password: not base64!\n",
    );
    let yaml = format!("name: b64\n{CLUSTER}manifests: [secret.yaml]\n");
    let path = dir.write("scenario.yaml", &yaml);
    let err = scenario::load(&path)
        .expect_err("bad base64 is an error")
        .to_string();
    let file = manifest.display().to_string();
    assert!(err.contains(&format!("{file}:7:13")), "{err}");
    assert!(err.contains("(at data.password)"), "{err}");
    assert!(
        err.contains("invalid base64 in Secret data key \"password\""),
        "{err}"
    );
    assert!(err.contains("expected the value base64-encoded"), "{err}");
    // stringData takes plain text and is merged into data
    let ok = dir.write(
        "ok.yaml",
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\ntype: kubernetes.io/basic-auth\ndata:\n  username: YWRtaW4=\nstringData:\n  password: hunter2\n",
    );
    let yaml = format!("name: b64ok\n{CLUSTER}manifests: [{}]\n", ok.display());
    let path = dir.write("ok-scenario.yaml", &yaml);
    let sc = scenario::load(&path).unwrap_or_else(|e| panic!("{e}"));
    let mut sim = Simulation::new(&sc, Recorder::in_memory());
    sim.run();
    let s = sim
        .api()
        .get::<Secret>(&ObjKey::new("default", "db"))
        .expect("secret applied");
    assert_eq!(s.secret_type, "kubernetes.io/basic-auth");
    assert_eq!(s.data["username"], b"admin");
    assert_eq!(s.data["password"], b"hunter2");
}

#[test]
fn immutable_configmap_update_is_refused() {
    let yaml = format!(
        "name: immutable\nuntil: 2m\n{CLUSTER}objects:
  - apiVersion: v1
    kind: ConfigMap
    metadata: {{name: frozen}}
    data: {{mode: blue}}
    immutable: true
timeline:
  - at: 1m
    action: apply
    object:
      apiVersion: v1
      kind: ConfigMap
      metadata: {{name: frozen}}
      data: {{mode: green}}
      immutable: true
"
    );
    let (sim, recs) = run("immutable", &yaml);
    let applies = of(&recs, "Apply", "ConfigMap/default/frozen");
    assert_eq!(applies.len(), 2);
    assert_eq!(applies[1].event_type, EventType::Warning);
    assert_eq!(
        applies[1].message,
        "Error from server: ConfigMap \"frozen\" is invalid: data: Forbidden: field is immutable when `immutable` is set"
    );
    let cm = sim
        .api()
        .get::<ConfigMap>(&ObjKey::new("default", "frozen"))
        .unwrap();
    assert_eq!(cm.data["mode"], "blue");
    // a mutable one is updated
    let (sim, _) = run("mutable", &yaml.replace("    immutable: true\n", ""));
    let cm = sim
        .api()
        .get::<ConfigMap>(&ObjKey::new("default", "frozen"))
        .unwrap();
    assert_eq!(cm.data["mode"], "green");
}

fn update_yaml(kubelet: &str) -> String {
    format!(
        "name: propagate\nuntil: 10m
cluster:
  nodePools:
    - name: n
      count: 1
      capacity: {{cpu: \"8\", memory: 32Gi, pods: 110}}
  kubelet: {{{kubelet}}}
objects:
  - apiVersion: v1
    kind: ConfigMap
    metadata: {{name: app-config}}
    data: {{mode: blue}}
  - apiVersion: v1
    kind: Pod
    metadata: {{name: vol}}
    spec:
      containers:
        - name: app
          image: nginx:1.25
      volumes:
        - name: cfg
          configMap: {{name: app-config}}
{}
timeline:
  - at: 3m
    action: apply
    object:
      apiVersion: v1
      kind: ConfigMap
      metadata: {{name: app-config}}
      data: {{mode: green}}
",
        ENV_POD
    )
}

#[test]
fn configmap_volume_update_reaches_running_pods_at_the_next_sync() {
    // defaults: syncFrequency 60s, no cache TTL; the watch delay is 50 ms
    let (_, recs) = run("propagate", &update_yaml(""));
    let started = of(&recs, "Started", "Pod/default/vol")[0].time_ms;
    assert_eq!(started, 3_101, "mounted at 101 ms, pulled 2 s, started 1 s");
    let updated = of(&recs, "VolumeUpdated", "Pod/default/vol");
    assert_eq!(updated.len(), 1);
    // update at 180 s, seen at 180.05 s; the pod syncs at 3.101 + k × 60 s
    assert_eq!(updated[0].time_ms, 183_101);
    assert!(updated[0]
        .message
        .starts_with("Volume \"cfg\" now shows the updated ConfigMap default/app-config"));
    // env values of a running container never change
    assert!(of(&recs, "VolumeUpdated", "Pod/default/web").is_empty());
    // a cache TTL of 90 s and a 30 s sync: seen at 270.05 s → next sync 273.101 s
    let (_, recs) = run(
        "propagate-ttl",
        &update_yaml("syncFrequency: 30s, configCacheTTL: 90s"),
    );
    let updated = of(&recs, "VolumeUpdated", "Pod/default/vol");
    assert_eq!(updated.len(), 1);
    assert_eq!(updated[0].time_ms, 273_101);
}

#[test]
fn get_and_describe_show_configmaps_and_secrets() {
    let yaml = format!(
        "name: views\nuntil: 1m\n{CLUSTER}objects:
  - apiVersion: v1
    kind: ConfigMap
    metadata: {{name: app-config}}
    data: {{a: '1', b: '2'}}
  - apiVersion: v1
    kind: Secret
    metadata: {{name: db}}
    stringData: {{password: x}}
"
    );
    let (_dir, sc) = load("views", &yaml);
    let sim = kubesim::views::run_to(&sc, SimTime::from_millis(10_000));
    let q = kubesim::views::get::Query {
        kind: kubesim::api::Kind::ConfigMap,
        events: false,
        name: None,
        namespace: Some("default".into()),
    };
    let out =
        kubesim::views::get::get(&sim, &q, kubesim::views::get::Format::Table, sim.now()).unwrap();
    assert!(out.contains("NAME"), "{out}");
    assert!(out.contains("app-config   2"), "{out}");
}
