//! The data plane: Services' ClusterIP and NodePort allocation, endpoints,
//! kube-proxy's lag, and what clients see in a node crash and in rollouts.

mod common;

use kubesim::api::{ObjKey, Service};
use kubesim::metrics::Recorder;
use kubesim::{scenario, Simulation};

fn run(name: &str) -> (Simulation, Vec<kubesim::metrics::Record>) {
    let sc = scenario::load(&common::scenario(name)).unwrap_or_else(|e| panic!("{e}"));
    let mut sim = Simulation::new(&sc, Recorder::in_memory());
    sim.run();
    let recs = sim.recorder().records().to_vec();
    (sim, recs)
}

/// Requests sent to the dead node's endpoints time out from the crash until
/// every kube-proxy has dropped them: rate × their share × (detection delay +
/// endpoint and proxy propagation). The propagation is the endpoints
/// controller's watch delay (50 ms) + kube-proxy's (50 ms) + at most its
/// minSyncPeriod (1 s).
#[test]
fn failed_requests_in_a_node_crash_match_rate_share_and_detection_delay() {
    let (sim, recs) = run("service-node-crash.yaml");
    let s = sim.summary();
    let web = &s.services["default/web"];
    let crash_ms = 300_000u64;
    let not_ready = recs
        .iter()
        .find(|r| r.reason == "NodeNotReady")
        .expect("NodeNotReady")
        .time_ms;
    let rate = 300.0;
    let share = 2.0 / 6.0;
    let detection = (not_ready - crash_ms) as f64 / 1000.0;
    let lo = rate * share * (detection + 0.1);
    let hi = rate * share * (detection + 1.1);
    let got = web.timed_out as f64;
    assert!(
        got >= lo - 1.0 && got <= hi + 1.0,
        "timed out {got}, expected {lo}..{hi} (NodeNotReady {detection} s after the crash)"
    );
    assert_eq!(web.failed, 0, "never without any endpoint");
    assert_eq!(web.requests, 300 * 14 * 60, "300/s from 1m to 15m");
    assert_eq!(web.requests, web.succeeded + web.timed_out);
    assert_eq!(
        web.latency_ms.p99,
        Some(2000),
        "timeouts at the client's 2s"
    );
    assert_eq!(s.faults[0].requests_failed, Some(web.timed_out));
}

#[test]
fn a_readiness_probe_keeps_a_rolling_update_almost_lossless() {
    let (sim, _) = run("rollout-traffic.yaml");
    let s = sim.summary();
    let probed = &s.services["default/probed"];
    let unprobed = &s.services["default/unprobed"];
    assert_eq!(probed.requests, unprobed.requests);
    let lost = |f: &kubesim::net::ServiceFigures| f.failed + f.timed_out;
    // without the probe: ~8 s of start-up per new pod taking its share
    assert!(
        lost(unprobed) > 10 * lost(probed),
        "{unprobed:?} vs {probed:?}"
    );
    // with it: only requests already routed to pods told to stop
    assert!(
        (lost(probed) as f64) < 0.005 * probed.requests as f64,
        "{probed:?}"
    );
    assert!(lost(probed) > 0, "proxies lag: a few still fail");
}

#[test]
fn services_get_cluster_ips_and_node_ports_and_a_conflict_is_refused() {
    let dir = common::TempDir::new("svc-alloc");
    let p = dir.write(
        "s.yaml",
        r#"
name: alloc
until: 1m
objects:
  - {apiVersion: v1, kind: Service, metadata: {name: a}, spec: {type: NodePort, selector: {app: a}, ports: [{port: 80, nodePort: 30080}]}}
  - {apiVersion: v1, kind: Service, metadata: {name: b}, spec: {type: NodePort, selector: {app: b}, ports: [{port: 80, nodePort: 30080}]}}
  - {apiVersion: v1, kind: Service, metadata: {name: c}, spec: {type: NodePort, selector: {app: c}, ports: [{port: 80}]}}
  - {apiVersion: v1, kind: Service, metadata: {name: h}, spec: {clusterIP: None, selector: {app: h}, ports: [{port: 80}]}}
"#,
    );
    let sc = scenario::load(&p).unwrap();
    let mut sim = Simulation::new(&sc, Recorder::in_memory());
    sim.run();
    let get = |n: &str| {
        sim.api()
            .get::<Service>(&ObjKey::new("default", n))
            .cloned()
    };
    let a = get("a").unwrap();
    assert_eq!(a.ports[0].node_port, Some(30080));
    assert!(get("b").is_none(), "the conflicting Service is refused");
    let refused = sim
        .recorder()
        .records()
        .iter()
        .find(|r| r.object == "Service/default/b")
        .expect("kubectl reports it");
    assert!(
        refused
            .message
            .contains("provided port is already allocated"),
        "{refused:?}"
    );
    let c = get("c").unwrap();
    let np = c.ports[0].node_port.unwrap();
    assert!((30000..=32767).contains(&np) && np != 30080, "{np}");
    assert!(a.cluster_ip.as_deref().unwrap().starts_with("10.96."));
    assert_ne!(a.cluster_ip, c.cluster_ip);
    assert!(get("h").unwrap().is_headless());
    assert_eq!(a.dns_name(), "a.default.svc.cluster.local");
}

#[test]
fn endpoints_follow_pod_readiness_through_the_api() {
    let (sim, _) = run("service-node-crash.yaml");
    let svc = sim
        .api()
        .get::<Service>(&ObjKey::new("default", "web"))
        .unwrap();
    // at the end: the 6 live pods, all ready; the dead node's are gone
    assert_eq!(svc.status.endpoints.len(), 6);
    assert!(svc
        .status
        .endpoints
        .iter()
        .all(|e| e.ready && e.node != "node-1"));
}

#[test]
fn traffic_cost_does_not_grow_with_the_rate() {
    // the same scenario at 10 and at 100,000 requests/s processes the same events
    let text = std::fs::read_to_string(common::scenario("service-node-crash.yaml")).unwrap();
    let dir = common::TempDir::new("rate");
    let events = |rate: &str| {
        let p = dir.write(
            &format!("r{rate}.yaml"),
            &text.replace("rate: 300/s", &format!("rate: {rate}/s")),
        );
        let sc = scenario::load(&p).unwrap();
        let mut sim = Simulation::new(&sc, Recorder::discard());
        sim.run();
        (
            sim.events_processed(),
            sim.summary().services["default/web"].requests,
        )
    };
    let (e_low, r_low) = events("10");
    let (e_high, r_high) = events("100000");
    assert_eq!(e_low, e_high);
    assert_eq!(r_low, 10 * 14 * 60);
    assert_eq!(r_high, 100_000 * 14 * 60);
}

#[test]
fn a_load_balancer_gets_its_address_after_the_cloud_delay() {
    let dir = common::TempDir::new("lb");
    let p = dir.write(
        "s.yaml",
        r#"
name: lb
until: 2m
cluster:
  cloud: {loadBalancerDelay: 45s}
objects:
  - {apiVersion: v1, kind: Service, metadata: {name: front}, spec: {type: LoadBalancer, selector: {app: f}, ports: [{port: 80}]}}
"#,
    );
    let sc = scenario::load(&p).unwrap();
    let mut sim = Simulation::new(&sc, Recorder::in_memory());
    sim.run();
    let svc = sim
        .api()
        .get::<Service>(&ObjKey::new("default", "front"))
        .unwrap();
    assert_eq!(svc.status.load_balancer_ip.as_deref(), Some("203.0.113.2"));
    assert!(
        svc.ports[0].node_port.is_some(),
        "a LoadBalancer has node ports too"
    );
    let recs = sim.recorder().records();
    let ensuring = recs
        .iter()
        .find(|r| r.reason == "EnsuringLoadBalancer")
        .unwrap();
    let ensured = recs
        .iter()
        .find(|r| r.reason == "EnsuredLoadBalancer")
        .unwrap();
    assert_eq!(ensured.time_ms - ensuring.time_ms, 45_000);
    assert_eq!(ensured.component, "service-controller");
}
