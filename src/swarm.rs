//! Swarm testing: a seeded generator of random scenarios — cluster shapes,
//! Deployments, scheduling policies, timelines of kubectl actions and faults
//! that all heal — each run with the invariant checker after every event and a
//! liveness check at the end: once every fault has healed and a quiet period
//! has passed, every Deployment (all of which fit the cluster by construction)
//! is fully available.
//!
//! A scenario is plain scenario YAML, so a failure is reproduced with
//! `kubesim run` on the file the swarm writes, or regenerated from its seed
//! (`kubesim swarm --start SEED --count 1 --keep DIR`).

use crate::api::Deployment;
use crate::invariants::{run_checked, Checker};
use crate::metrics::Recorder;
use crate::sim::rng::SimRng;
use crate::Simulation;
use rand::RngExt;
use std::fmt::Write as _;
use std::path::Path;

/// Every fault and action starts by this time and heals within 10 minutes.
const LAST_ACTION_MIN: u64 = 30;
/// The run ends this long after the last possible heal: room for the 300 s
/// toleration, the 300 s maximum back-offs, and the rollouts to finish.
const UNTIL_MIN: u64 = LAST_ACTION_MIN + 10 + 30;

fn pick<'a, T>(rng: &mut SimRng, v: &'a [T]) -> &'a T {
    &v[rng.random_range(0..v.len())]
}

/// The scenario of swarm seed `seed`, as YAML text.
pub fn generate(seed: u64) -> String {
    let mut rng = crate::sim::rng::stream(seed, "swarm");
    let mut y = String::new();
    let zones = rng.random_range(1..=3u32);
    let pools = rng.random_range(1..=3u32);
    let policy = pick(
        &mut rng,
        &[
            "default",
            "least-allocated",
            "most-allocated",
            "balanced",
            "spread",
            "random",
            "first-fit",
        ],
    );
    let _ = writeln!(y, "name: swarm-{seed}\nseed: {seed}\nuntil: {UNTIL_MIN}m");
    let _ = writeln!(
        y,
        "cluster:\n  scheduler: {{policy: {policy}}}\n  nodePools:"
    );
    let mut nodes: Vec<String> = Vec::new();
    let mut min_cpu = u32::MAX;
    let mut min_mem = u32::MAX;
    for p in 0..pools {
        let count = rng.random_range(1..=4u32);
        let cpu = rng.random_range(2..=8u32);
        let mem = rng.random_range(4..=16u32);
        min_cpu = min_cpu.min(cpu);
        min_mem = min_mem.min(mem);
        let zone = rng.random_range(0..zones);
        let _ = writeln!(
            y,
            "    - {{name: p{p}, count: {count}, capacity: {{cpu: \"{cpu}\", memory: {mem}Gi, pods: 110}}, labels: {{topology.kubernetes.io/zone: z{zone}}}}}"
        );
        nodes.extend((0..count).map(|i| format!("p{p}-{i}")));
    }
    // capacity: Deployments ask at most ~35% of the smallest node count × the
    // smallest node, so they fit even with the largest fault healed
    let budget_cpu_m = (nodes.len() as u64 * u64::from(min_cpu) * 1000) * 35 / 100;
    let budget_mem_mi = (nodes.len() as u64 * u64::from(min_mem) * 1024) * 35 / 100;
    let mut used_mem = 0u64;
    let deployments = rng.random_range(1..=3u32);
    let _ = writeln!(y, "objects:");
    let mut names = Vec::new();
    let mut used = 0u64;
    for d in 0..deployments {
        let cpu_m = rng.random_range(1..=5u64) * 100;
        let mem_mi = rng.random_range(1..=8u64) * 64;
        let max_replicas = (budget_cpu_m.saturating_sub(used) / cpu_m)
            .min(budget_mem_mi.saturating_sub(used_mem) / mem_mi)
            .min(8);
        let replicas = rng.random_range(0..=max_replicas);
        used += replicas * cpu_m;
        used_mem += replicas * mem_mi;
        let strategy = if rng.random_range(0..7u32) == 0 {
            "{type: Recreate}".to_string()
        } else {
            let v = ["0", "1", "2", "\"25%\"", "\"50%\""];
            let mut s = pick(&mut rng, &v).to_string();
            let mut u = pick(&mut rng, &v).to_string();
            if s == "0" && u == "0" {
                if rng.random() {
                    s = "1".into();
                } else {
                    u = "1".into();
                }
            }
            format!(
                "{{type: RollingUpdate, rollingUpdate: {{maxSurge: {s}, maxUnavailable: {u}}}}}"
            )
        };
        let spread = if rng.random_range(0..3u32) == 0 {
            format!(
                "\n          topologySpreadConstraints: [{{maxSkew: 1, topologyKey: topology.kubernetes.io/zone, whenUnsatisfiable: ScheduleAnyway, labelSelector: {{matchLabels: {{app: d{d}}}}}}}]"
            )
        } else {
            String::new()
        };
        let _ = writeln!(
            y,
            "  - apiVersion: apps/v1\n    kind: Deployment\n    metadata: {{name: d{d}}}\n    spec:\n      replicas: {replicas}\n      strategy: {strategy}\n      selector: {{matchLabels: {{app: d{d}}}}}\n      template:\n        metadata: {{labels: {{app: d{d}}}}}\n        spec:{spread}\n          containers: [{{name: app, image: \"app{d}:1\", resources: {{requests: {{cpu: {cpu_m}m, memory: {mem_mi}Mi}}}}}}]"
        );
        names.push((format!("d{d}"), cpu_m, mem_mi, replicas));
    }
    // Services with clients in front of some Deployments
    let mut traffic = String::new();
    for (d, ..) in names.clone() {
        if rng.random_range(0..2u32) == 0 {
            continue;
        }
        let kind = pick(&mut rng, &["ClusterIP", "NodePort"]);
        let _ = writeln!(
            y,
            "  - {{apiVersion: v1, kind: Service, metadata: {{name: {d}}}, spec: {{type: {kind}, selector: {{app: {d}}}, ports: [{{port: 80}}]}}}}"
        );
        let rate = rng.random_range(1..=1000u32);
        let _ = writeln!(traffic, "  - {{name: c-{d}, service: {d}, rate: {rate}/s}}");
    }
    if !traffic.is_empty() {
        let _ = write!(y, "traffic:\n{traffic}");
    }
    let actions = rng.random_range(0..=8u32);
    let mut tl = String::new();
    let mut image_tag = 2;
    for _ in 0..actions {
        let at_s = rng.random_range(30..=LAST_ACTION_MIN * 60);
        let dur = |rng: &mut SimRng| format!("{}s", rng.random_range(10..=600u32));
        let node = pick(&mut rng, &nodes).clone();
        let (dep, cpu_m, mem_mi, replicas) = pick(&mut rng, &names).clone();
        let kind = rng.random_range(0..17u32);
        let line = match kind {
            0 => {
                // scale within what the budget left
                let room = (budget_cpu_m.saturating_sub(used) / cpu_m)
                    .min(budget_mem_mi.saturating_sub(used_mem) / mem_mi);
                let to = rng.random_range(0..=(replicas + room).min(10));
                used = used - replicas * cpu_m + to * cpu_m;
                used_mem = used_mem - replicas * mem_mi + to * mem_mi;
                if let Some(n) = names.iter_mut().find(|n| n.0 == dep) {
                    n.3 = to;
                }
                format!("{{at: {at_s}s, action: scale, target: deployment/{dep}, replicas: {to}}}")
            }
            1 => {
                image_tag += 1;
                let num = &dep[1..];
                format!("{{at: {at_s}s, action: set-image, target: deployment/{dep}, container: app, image: \"app{num}:{image_tag}\"}}")
            }
            2 => format!(
                "{{at: {at_s}s, action: node-crash, target: node/{node}, for: {}}}",
                dur(&mut rng)
            ),
            3 => format!(
                "{{at: {at_s}s, action: kubelet-stop, target: node/{node}, for: {}}}",
                dur(&mut rng)
            ),
            4 => {
                let k = rng.random_range(1..=nodes.len());
                let mut set = nodes.clone();
                // a seeded partial shuffle
                for i in 0..k {
                    let j = rng.random_range(i..set.len());
                    set.swap(i, j);
                }
                set.truncate(k);
                format!(
                    "{{at: {at_s}s, action: network-partition, nodes: [{}], for: {}}}",
                    set.join(", "),
                    dur(&mut rng)
                )
            }
            5 => format!(
                "{{at: {at_s}s, action: zone-outage, zone: z{}, for: {}}}",
                rng.random_range(0..zones),
                dur(&mut rng)
            ),
            6 => format!(
                "{{at: {at_s}s, action: pod-crash, selector: {{app: {dep}}}, count: {}}}",
                rng.random_range(1..=3u32)
            ),
            7 => format!("{{at: {at_s}s, action: pod-oom, selector: {{app: {dep}}}}}"),
            8 => format!(
                "{{at: {at_s}s, action: api-server-down, for: {}s}}",
                rng.random_range(5..=180u32)
            ),
            9 => format!(
                "{{at: {at_s}s, action: etcd-down, for: {}s}}",
                rng.random_range(5..=180u32)
            ),
            10 => format!(
                "{{at: {at_s}s, action: scheduler-down, for: {}}}",
                dur(&mut rng)
            ),
            11 => format!(
                "{{at: {at_s}s, action: controller-manager-down, for: {}}}",
                dur(&mut rng)
            ),
            12 => format!(
                "{{at: {at_s}s, action: image-registry-down, for: {}}}",
                dur(&mut rng)
            ),
            13 => format!(
                "{{at: {at_s}s, action: image-registry-slow, factor: {}, for: {}}}",
                rng.random_range(2..=20u32),
                dur(&mut rng)
            ),
            14 => {
                let back = at_s + rng.random_range(10..=600u64);
                format!("{{at: {at_s}s, action: drain, target: node/{node}}}\n  - {{at: {back}s, action: uncordon, target: node/{node}}}")
            }
            15 => {
                let back = at_s + rng.random_range(10..=600u64);
                format!("{{at: {at_s}s, action: rollout-pause, target: deployment/{dep}}}\n  - {{at: {back}s, action: rollout-resume, target: deployment/{dep}}}")
            }
            _ => format!(
                "{{at: {at_s}s, action: node-add, pool: {}, count: {}}}",
                pick(
                    &mut rng,
                    &(0..pools).map(|p| format!("p{p}")).collect::<Vec<_>>()
                ),
                rng.random_range(1..=2u32)
            ),
        };
        let _ = writeln!(tl, "  - {line}");
    }
    if !tl.is_empty() {
        // the operator's clean-up once every fault has healed: an uncordon or a
        // resume refused during an API outage is done again
        let at = (LAST_ACTION_MIN + 10) * 60 + 30;
        for n in &nodes {
            let _ = writeln!(tl, "  - {{at: {at}s, action: uncordon, target: node/{n}}}");
        }
        for (d, ..) in &names {
            let _ = writeln!(
                tl,
                "  - {{at: {at}s, action: rollout-resume, target: deployment/{d}}}"
            );
        }
        let _ = write!(y, "timeline:\n{tl}");
    }
    y
}

/// What one swarm scenario did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub seed: u64,
    pub events: u64,
}

/// Why one swarm scenario failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub seed: u64,
    /// The scenario, to write out and replay.
    pub yaml: String,
    pub message: String,
}

/// Generate, load and run swarm scenario `seed` with invariants on, then check liveness.
pub fn run_one(seed: u64) -> Result<Outcome, Failure> {
    let yaml = generate(seed);
    let fail = |message: String| Failure {
        seed,
        yaml: yaml.clone(),
        message,
    };
    let path = format!("swarm-{seed}.yaml");
    let sc = crate::scenario::load_text(Path::new(&path), &yaml)
        .map_err(|e| fail(format!("the generated scenario does not load: {e}")))?;
    let mut sim = Simulation::new(&sc, Recorder::discard());
    let mut checker = Checker::new();
    run_checked(&mut sim, &mut checker).map_err(|v| fail(v.to_string()))?;
    // liveness: every Service's endpoints are its Deployment's pods, all
    // ready, and its clients saw no failure in the last minute
    for svc in sim.api().list::<crate::api::Service>() {
        let d = sim
            .api()
            .get::<Deployment>(&svc.meta.key())
            .map_or(0, |d| d.replicas);
        let ready = svc.status.endpoints.iter().filter(|e| e.ready).count() as i32;
        if ready != d || svc.status.endpoints.len() as i32 != d {
            return Err(fail(format!(
                "liveness: Service {} has {} endpoints ({ready} ready) for {d} replicas",
                svc.meta.key(),
                svc.status.endpoints.len()
            )));
        }
    }
    let last_minute = sim.now().as_millis().saturating_sub(1) / 60_000;
    for ((minute, dest), row) in &sim.dataplane().series {
        let kubesim_dest_service = match dest {
            crate::net::Dest::Service(k) => k,
            crate::net::Dest::Ingress(_) => continue,
        };
        let svc = kubesim_dest_service;
        let (failed, timed_out) = (row.failed, row.timed_out);
        // a Service of a Deployment scaled to 0 refuses everything, rightly
        let replicas = sim.api().get::<Deployment>(svc).map_or(0, |d| d.replicas);
        if *minute == last_minute && replicas > 0 && failed + timed_out > 0 {
            return Err(fail(format!(
                "liveness: clients of Service {svc} still saw {failed} refused and {timed_out} timed-out requests in the last minute"
            )));
        }
    }
    // liveness: every Deployment fully available, nothing left over
    for d in sim.api().list::<Deployment>() {
        let st = &d.status;
        if st.available_replicas < d.replicas
            || st.replicas != d.replicas
            || st.updated_replicas != d.replicas
        {
            return Err(fail(format!(
                "liveness: Deployment {} is not fully available {} after the last fault healed: replicas {}, status replicas {}, updated {}, available {} (virtual time {})",
                d.meta.key(),
                crate::sim::time::human(crate::sim::time::SimDuration::from_secs((UNTIL_MIN - LAST_ACTION_MIN - 10) * 60)),
                d.replicas,
                st.replicas,
                st.updated_replicas,
                st.available_replicas,
                sim.now()
            )));
        }
    }
    Ok(Outcome {
        seed,
        events: sim.events_processed(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generation_is_seeded() {
        assert_eq!(generate(7), generate(7));
        assert_ne!(generate(7), generate(8));
    }
}
