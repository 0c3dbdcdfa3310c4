//! The data plane beyond the basics: rate patterns, pods with a concurrency
//! limit (aggregate against per-request), externalTrafficPolicy, stale rules on
//! a partitioned node, ClientIP affinity, LoadBalancer and Ingress clients.

mod common;

use kubesim::metrics::Recorder;
use kubesim::net::ServiceFigures;
use kubesim::{scenario, Simulation};

/// Three nodes; `web` has `replicas` pods spread over them (one per node while
/// it can), behind Service `web` with `svc_spec` extra fields; then `rest`.
fn scenario_text(replicas: u32, svc_spec: &str, rest: &str) -> String {
    format!(
        r#"
name: dataplane
seed: 7
until: 10m
cluster:
  nodePools:
    - name: node
      count: 3
      capacity: {{cpu: "8", memory: 32Gi, pods: 110}}
objects:
  - apiVersion: v1
    kind: Service
    metadata: {{name: web}}
    spec: {{type: NodePort, selector: {{app: web}}, ports: [{{port: 80}}]{svc_spec}}}
  - apiVersion: apps/v1
    kind: Deployment
    metadata: {{name: web}}
    spec:
      replicas: {replicas}
      selector: {{matchLabels: {{app: web}}}}
      template:
        metadata: {{labels: {{app: web}}}}
        spec:
          topologySpreadConstraints:
            - {{maxSkew: 1, topologyKey: kubernetes.io/hostname, whenUnsatisfiable: DoNotSchedule, labelSelector: {{matchLabels: {{app: web}}}}}}
          containers:
            - {{name: app, image: web:1.0, resources: {{requests: {{cpu: 100m, memory: 64Mi}}}}}}
{rest}"#
    )
}

fn run_text(text: &str) -> Simulation {
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = common::TempDir::new(&format!("dataplane-{n}"));
    let p = dir.write("s.yaml", text);
    let sc = scenario::load(&p).unwrap_or_else(|e| panic!("{e}"));
    let mut sim = Simulation::new(&sc, Recorder::in_memory());
    sim.run();
    sim
}

fn web(sim: &Simulation) -> ServiceFigures {
    sim.dataplane().figures()["default/web"].clone()
}

#[test]
fn stepped_and_daily_rates_send_their_integral() {
    let sim = run_text(&scenario_text(
        3,
        "",
        "traffic:\n  - {name: a, service: web, rate: 10/s, steps: [{at: 2m, rate: 100/s}, {at: 5m, rate: 0}], start: 1m}\n",
    ));
    // 1m..2m at 10/s, 2m..5m at 100/s, then nothing
    assert_eq!(web(&sim).requests, 600 + 18_000);
    let sim = run_text(&scenario_text(
        3,
        "",
        "traffic:\n  - {name: a, service: web, daily: {min: 0, max: 200/s, peakAt: 5m}}\n",
    ));
    // over 10 minutes around the peak the rate stays near 200/s
    let n = web(&sim).requests as f64;
    assert!(n > 0.99 * 200.0 * 600.0 && n < 200.0 * 600.0, "{n}");
}

#[test]
fn poisson_arrivals_vary_with_the_seed_around_the_mean() {
    let text = scenario_text(
        3,
        "",
        "traffic:\n  - {name: a, service: web, rate: 50/s, arrivals: poisson}\n",
    );
    let a = web(&run_text(&text)).requests;
    let again = web(&run_text(&text)).requests;
    let b = web(&run_text(&text.replace("seed: 7", "seed: 8"))).requests;
    assert_eq!(a, again, "same seed, same draws");
    assert_ne!(a, b, "another seed, other draws");
    for n in [a, b] {
        // mean 30,000, sd ≈ 173
        assert!((29_000..31_000).contains(&n), "{n}");
    }
}

/// An overloaded pod queues, then rejects; the aggregate model (M/M/c/K in
/// steady state) and the request-by-request replay agree.
#[test]
fn concurrency_limits_agree_between_aggregate_and_per_request() {
    let figures = |rate: &str, model: &str| {
        let sim = run_text(&scenario_text(
            3,
            "",
            &format!(
                "traffic:\n  - {{name: a, service: web, rate: {rate}, arrivals: poisson, serviceTime: 100ms, concurrency: 4, queueLimit: 8, model: {model}, start: 1m}}\n"
            ),
        ));
        web(&sim)
    };
    // 3 pods × 4 workers / 100 ms = 120/s capacity
    for (rate, want_reject) in [("100/s", (0.005, 0.12)), ("180/s", (0.25, 0.40))] {
        let agg = figures(rate, "aggregate");
        let per = figures(rate, "per-request");
        // Poisson counts: the two models draw from the stream differently
        assert!(agg.requests.abs_diff(per.requests) < agg.requests / 50);
        let ra = agg.rejected as f64 / agg.requests as f64;
        let rp = per.rejected as f64 / per.requests as f64;
        eprintln!(
            "{rate}: rejected {ra:.4} vs {rp:.4}; mean latency {:?} vs {:?} ms; p99 {:?} vs {:?}",
            agg.latency_mean_ms, per.latency_mean_ms, agg.latency_ms.p99, per.latency_ms.p99
        );
        assert!(
            ra > want_reject.0 && ra < want_reject.1,
            "{rate}: aggregate rejects {ra}"
        );
        assert!(
            (ra - rp).abs() < 0.02 + 0.1 * ra,
            "{rate}: aggregate rejects {ra}, per-request {rp}"
        );
        let (la, lp) = (agg.latency_mean_ms.unwrap(), per.latency_mean_ms.unwrap());
        assert!(la > 100.0, "queueing adds latency: {la}");
        assert!(
            (la - lp).abs() < 0.08 * lp,
            "{rate}: mean latency aggregate {la} ms, per-request {lp} ms"
        );
        let (pa, pp) = (agg.latency_ms.p99.unwrap(), per.latency_ms.p99.unwrap());
        assert!(
            pa.abs_diff(pp) * 100 < 15 * pp,
            "{rate}: p99 aggregate {pa} ms, per-request {pp} ms"
        );
        assert_eq!(agg.failed, agg.rejected, "all failures are 503s");
    }
    // without a limit nothing is rejected and latency is the service time
    let sim = run_text(&scenario_text(
        3,
        "",
        "traffic:\n  - {name: a, service: web, rate: 180/s, serviceTime: 100ms}\n",
    ));
    assert_eq!(web(&sim).rejected, 0);
    assert_eq!(web(&sim).latency_ms.p99, Some(100));
}

/// From outside through node ports: with `externalTrafficPolicy: Local` a node
/// without a local endpoint drops what it gets; with Cluster it forwards.
#[test]
fn external_traffic_policy_local_drops_at_nodes_without_endpoints() {
    let rest = "traffic:\n  - {name: a, service: web, rate: 30/s, from: nodePort, start: 1m}\n";
    let cluster = web(&run_text(&scenario_text(2, "", rest)));
    let local = web(&run_text(&scenario_text(
        2,
        ", externalTrafficPolicy: Local",
        rest,
    )));
    assert_eq!(cluster.timed_out, 0);
    // 2 pods on 2 of 3 nodes: a third of the nodes have none
    assert_eq!(local.requests, 30 * 540);
    assert_eq!(local.timed_out, 30 * 540 / 3);
}

/// Through the cloud load balancer: refused until it exists; with Local only
/// nodes with endpoints pass its health check, so nothing is dropped.
#[test]
fn load_balancer_clients_wait_for_the_address_and_follow_health_checks() {
    let rest = "traffic:\n  - {name: a, service: web, rate: 10/s, from: loadBalancer}\n";
    let svc = ", type: LoadBalancer, externalTrafficPolicy: Local";
    let text = scenario_text(2, "", rest).replace(
        "spec: {type: NodePort, selector: {app: web}, ports: [{port: 80}]}",
        &format!("spec: {{selector: {{app: web}}, ports: [{{port: 80}}]{svc}}}"),
    );
    assert!(text.contains("LoadBalancer"));
    let f = web(&run_text(&text));
    // the load balancer arrives after 20 s (plus the watch and sync lag)
    assert!(
        (200..=215).contains(&f.failed),
        "refused while provisioning: {}",
        f.failed
    );
    assert_eq!(f.timed_out, 0, "the health check keeps empty nodes out");
    assert_eq!(f.requests, 6000);
}

/// A partitioned node keeps the rules it had: after the pods it routes to are
/// replaced, its clients' requests to them time out until it hears the API.
#[test]
fn a_partitioned_node_routes_by_its_stale_rules() {
    let rest = r#"traffic:
  - {name: a, service: web, rate: 90/s, start: 1m}
timeline:
  - {at: 3m, action: network-partition, nodes: [node-0], for: 3m}
  - {at: 4m, action: set-image, target: deployment/web, container: app, image: web:2.0}
"#;
    let stale = web(&run_text(&scenario_text(3, "", rest)));
    let without = web(&run_text(&scenario_text(
        3,
        "",
        &rest.replace(
            "  - {at: 3m, action: network-partition, nodes: [node-0], for: 3m}\n",
            "",
        ),
    )));
    eprintln!(
        "partition: {} timed out, without: {}",
        stale.timed_out, without.timed_out
    );
    assert!(
        stale.timed_out > without.timed_out + 1000,
        "stale rules on the cut-off node: {} timed out vs {} without the partition",
        stale.timed_out,
        without.timed_out
    );
}

/// `sessionAffinity: ClientIP` pins each client address to one pod: with one
/// address everything lands on one pod, which overloads; spread, it does not.
#[test]
fn client_ip_affinity_pins_addresses_to_pods() {
    let rest = |sources: u32| {
        format!(
            "traffic:\n  - {{name: a, service: web, rate: 60/s, serviceTime: 100ms, concurrency: 4, queueLimit: 4, sources: {sources}, start: 1m}}\n"
        )
    };
    let pinned = web(&run_text(&scenario_text(
        3,
        ", sessionAffinity: ClientIP",
        &rest(1),
    )));
    let spread = web(&run_text(&scenario_text(3, "", &rest(1))));
    // one pod gets 60/s against a capacity of 40/s
    let r = pinned.rejected as f64 / pinned.requests as f64;
    assert!(r > 0.25, "pinned to one pod: {r}");
    assert!(
        (spread.rejected as f64) < 0.01 * spread.requests as f64,
        "{}",
        spread.rejected
    );
}

#[test]
fn ingress_routes_by_host_and_path_after_its_controller_reloads() {
    let rest = r#"  - apiVersion: networking.k8s.io/v1
    kind: IngressClass
    metadata: {name: nginx}
    spec: {controller: k8s.io/ingress-nginx}
traffic:
  - {name: shop, ingress: {name: shop, host: shop.example.com, path: /cart/items}, rate: 10/s}
  - {name: lost, ingress: {name: shop, host: other.org, path: /}, rate: 1/s}
timeline:
  - at: 2m
    action: apply
    object:
      apiVersion: networking.k8s.io/v1
      kind: Ingress
      metadata: {name: shop}
      spec:
        ingressClassName: nginx
        tls: [{hosts: [shop.example.com], secretName: shop-tls}]
        rules:
          - host: shop.example.com
            http:
              paths:
                - {path: /, pathType: Prefix, backend: {service: {name: nothing, port: {number: 80}}}}
                - {path: /cart, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
"#;
    let text = scenario_text(3, "", rest);
    let sim = run_text(&text);
    let ing = &sim.dataplane().ingress_figures()["default/shop"];
    // before the Ingress is served (2m + watch 50 ms + reload 1 s) every
    // request is a 404: 10/s and 1/s for 121.05 s; after, `lost` stays 404
    assert_eq!(ing.requests, 11 * 600);
    let shop_404 = 10.0 * 121.05;
    let lost_404 = 600.0;
    let nf = ing.not_found.unwrap() as f64;
    assert!(
        (nf - (shop_404 + lost_404 + 1.05)).abs() < 3.0,
        "404s: {nf}"
    );
    assert_eq!(ing.timed_out, 0);
    assert_eq!(ing.tls_terminated, Some(true));
    assert_eq!(ing.succeeded + ing.failed, ing.requests);
    assert!(
        sim.dataplane().figures().is_empty(),
        "Ingress clients count under the Ingress"
    );
}

#[test]
fn the_service_cidr_is_configurable_and_checked() {
    let text = scenario_text(1, "", "").replace(
        "cluster:\n",
        "cluster:\n  apiServer: {serviceClusterIpRange: 10.0.0.0/24}\n",
    );
    let sim = run_text(&text);
    let svc = sim
        .api()
        .get::<kubesim::api::Service>(&kubesim::api::ObjKey::new("default", "web"))
        .unwrap();
    let ip = svc.cluster_ip.clone().unwrap();
    assert!(ip.starts_with("10.0.0."), "{ip}");
    let dir = common::TempDir::new("dataplane-cidr");
    for (cidr, want) in [
        ("10.0.0.1/24", "host bits set; the network is 10.0.0.0/24"),
        ("10.0.0.0/8", "expected /12 to /28"),
        ("ten/12", "expected an IPv4 network such as 10.96.0.0/12"),
    ] {
        let p = dir.write("bad.yaml", &text.replace("10.0.0.0/24", cidr));
        let e = scenario::load(&p).expect_err("an error").to_string();
        assert!(
            e.contains("cluster.apiServer.serviceClusterIpRange") && e.contains(want),
            "{e}"
        );
    }
}

#[test]
fn bad_traffic_entries_are_errors_at_their_place() {
    let dir = common::TempDir::new("dataplane-bad");
    for (entry, path, want) in [
        (
            "{name: a, service: web, rate: 1/s, daily: {min: 1, max: 2}}",
            "traffic[0]",
            "only one kind",
        ),
        (
            "{name: a, service: web, rate: 1/s, from: outside}",
            "traffic[0].from",
            "expected inside, nodePort or loadBalancer",
        ),
        (
            "{name: a, service: web, rate: 20000/s, model: per-request}",
            "traffic[0].model",
            "use the aggregate model",
        ),
        (
            "{name: a, service: web, steps: [{at: 5m, rate: 1/s}, {at: 2m, rate: 2/s}]}",
            "traffic[0].steps[1].at",
            "increasing order",
        ),
        (
            "{name: a, ingress: {name: nope}, rate: 1/s}",
            "traffic[0].ingress.name",
            "no Ingress default/nope is defined",
        ),
        (
            "{name: a, service: web, ingress: {name: shop}, rate: 1/s}",
            "traffic[0]",
            "exactly one of `service` and `ingress`",
        ),
    ] {
        let p = dir.write(
            "bad.yaml",
            &scenario_text(1, "", &format!("traffic:\n  - {entry}\n")),
        );
        let e = scenario::load(&p).expect_err("an error").to_string();
        assert!(e.contains(path) && e.contains(want), "{entry}: {e}");
    }
}

/// A Node deleted and created again under its name gets a new kubelet. The
/// Simulation answers the data plane's "does this pod serve?" from hints that
/// name a kubelet by index; hints made for the old kubelet must not count for
/// the new one (debug builds check every hinted answer against the lookup by
/// name), and the pods placed on the new node serve.
#[test]
fn a_node_created_again_under_its_name_serves_through_its_new_kubelet() {
    let rest = r#"traffic:
  - {name: a, service: web, rate: 50/s}
timeline:
  - {at: 2m, action: delete, target: node/node-1}
  - at: 3m
    action: apply
    object:
      apiVersion: v1
      kind: Node
      metadata: {name: node-1, labels: {kubernetes.io/hostname: node-1}}
      status:
        capacity: {cpu: "8", memory: 32Gi, pods: "110"}
  - {at: 4m, action: scale, target: deployment/web, replicas: 6}
"#;
    let sim = run_text(&scenario_text(3, "", rest));
    let on_new: Vec<_> = sim
        .api()
        .list::<kubesim::api::Pod>()
        .filter(|p| p.node_name.as_deref() == Some("node-1"))
        .map(|p| p.meta.name.clone())
        .collect();
    assert!(!on_new.is_empty(), "no pod went to the new node-1");
    // the new node's pods answer requests: a hint made for the old kubelet
    // (which held none of them) would have said they time out
    for n in &on_new {
        let key = kubesim::api::ObjKey::new("default", n);
        assert!(
            sim.dataplane().served_by(&key) > 0.0,
            "{n} answered nothing"
        );
    }
    assert!(web(&sim).succeeded > 0);
}

/// The data plane keeps each pod's last "does it answer?" until something
/// happens to that pod (or to the kubelets at large). An app that crashes on
/// its own is such a moment: from its exit until its endpoint leaves the
/// rules, requests to it time out. Were the answer kept past the exit (debug
/// builds also check every kept answer), those requests would succeed.
#[test]
fn requests_to_an_app_that_exits_time_out_until_its_endpoint_goes() {
    let rest = r#"behaviors:
  - selector: {matchLabels: {app: web}}
    crash: {after: 2m}
traffic:
  - {name: a, service: web, rate: 100/s, start: 30s}
"#;
    let f = web(&run_text(&scenario_text(1, "", rest)));
    // the app exits 2 minutes after each start: at 2m1s, 4m11s, 6m31s and
    // 9m11s (restarts after back-offs of 10 s, 20 s, 40 s). After each exit
    // the rules keep the pod for two watch delays (50 ms each: kubelet →
    // endpoints controller → kube-proxy), 10 requests at 100/s
    assert!(
        f.timed_out >= 4 * 10,
        "requests sent to an exited app: {} timed out",
        f.timed_out
    );
    assert!(f.failed > 0, "refused while no endpoint was ready");
    assert_eq!(f.requests, f.succeeded + f.failed + f.timed_out);
}
