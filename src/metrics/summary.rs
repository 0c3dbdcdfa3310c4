//! `summary.json`: the figures at the end of a run.

use super::sampler::Utilization;
use crate::api::node::ConditionStatus;
use crate::api::{
    CronJob, DaemonSet, Deployment, Job, Node, Pod, PodPhase, ReplicationController, StatefulSet,
};
use crate::sim::time::SimTime;
use crate::sim::Simulation;
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct PodCounts {
    /// Pods ever created during the run.
    pub created: u64,
    pub running: u64,
    pub pending: u64,
    pub succeeded: u64,
    pub failed: u64,
    /// Pods being deleted (counted in their phase too).
    pub terminating: u64,
    /// Pending pods not yet bound to a node.
    pub unscheduled: u64,
    /// Container restarts (`restartCount`) summed over the pods still there.
    pub restarts: u64,
    /// Pods waiting out a restart back-off (STATUS `CrashLoopBackOff`) at the end.
    pub crash_loop_back_off: u64,
}

#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct SchedulingCounts {
    /// Scheduling cycles run.
    pub attempts: u64,
    pub bound: u64,
    /// Attempts that found no feasible node (or whose binding was rejected).
    pub failed: u64,
    /// Pods evicted by preemption (DefaultPreemption).
    pub preemptions: u64,
    /// Time from entering the scheduling queue to binding, over bound pods.
    pub latency_ms: Percentiles,
    /// When the last finite pod (`kubesim.io/run-for`) completed; null if none did.
    pub makespan_ms: Option<u64>,
}

#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Percentiles {
    pub p50: Option<u64>,
    pub p99: Option<u64>,
    pub max: Option<u64>,
}

impl Percentiles {
    /// Nearest-rank percentiles of a histogram (value → count); the same
    /// figures as [`Percentiles::of`] on the values it counts.
    pub fn of_histogram(h: &BTreeMap<u64, u64>) -> Self {
        let n: u64 = h.values().sum();
        if n == 0 {
            return Percentiles::default();
        }
        let rank = |p: f64| {
            let r = ((p * n as f64).ceil() as u64).clamp(1, n);
            let mut seen = 0;
            h.iter()
                .find_map(|(v, c)| {
                    seen += c;
                    (seen >= r).then_some(*v)
                })
                .unwrap_or_default()
        };
        Percentiles {
            p50: Some(rank(0.50)),
            p99: Some(rank(0.99)),
            max: h.keys().next_back().copied(),
        }
    }

    /// Nearest-rank percentiles of `v`.
    pub fn of(v: &[u64]) -> Self {
        if v.is_empty() {
            return Percentiles::default();
        }
        let mut s = v.to_vec();
        s.sort_unstable();
        let rank = |p: f64| s[(((p * s.len() as f64).ceil() as usize).max(1) - 1).min(s.len() - 1)];
        Percentiles {
            p50: Some(rank(0.50)),
            p99: Some(rank(0.99)),
            max: s.last().copied(),
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct NodeCounts {
    pub total: u64,
    pub ready: u64,
    pub unschedulable: u64,
}

/// The most Deployments the printed summary lists one per line.
const HUMAN_LIST_MAX: usize = 20;

#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct DeploymentFigures {
    pub desired: i32,
    pub updated: i32,
    pub ready: i32,
    pub available: i32,
    /// Availability over the run and the rollouts.
    #[serde(flatten)]
    pub availability: crate::metrics::recovery::Availability,
}

#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct JobFigures {
    /// `spec.completions`; null for a work-queue Job.
    pub completions: Option<i32>,
    pub succeeded: i32,
    pub failed: i32,
    /// Condition Complete=True.
    pub complete: bool,
    /// Reason of condition Failed=True (`BackoffLimitExceeded`, `DeadlineExceeded`).
    pub failed_reason: Option<String>,
    /// From `status.startTime` to `status.completionTime`; null unless complete.
    pub duration_ms: Option<u64>,
}

/// A StatefulSet at the end of the run.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct StatefulSetFigures {
    pub desired: i32,
    pub ready: i32,
    /// Pods at the update revision.
    pub updated: i32,
    /// Pods at the current revision.
    pub current: i32,
    pub current_revision: String,
    pub update_revision: String,
}

/// A DaemonSet at the end of the run.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct DaemonSetFigures {
    /// Nodes that should run the daemon pod.
    pub desired: i32,
    pub current: i32,
    pub ready: i32,
    pub updated: i32,
    pub available: i32,
    pub misscheduled: i32,
}

/// A ReplicationController at the end of the run.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct ReplicationControllerFigures {
    pub desired: i32,
    pub current: i32,
    pub ready: i32,
    pub available: i32,
}

/// A CronJob at the end of the run.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct CronJobFigures {
    pub schedule: String,
    /// Jobs still running.
    pub active: usize,
    /// Its Jobs still in the store (active and kept by the history limits).
    pub jobs: usize,
    /// The last scheduled time a Job was started for (RFC 3339, virtual time 0 = 2026-01-01T00:00:00Z).
    pub last_schedule_time: Option<String>,
    pub last_successful_time_ms: Option<u64>,
}

#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct SimFigures {
    /// Events the engine processed.
    pub events: u64,
    /// Lines written to the event log.
    pub records: u64,
    pub virtual_time_ms: u64,
    /// The scenario's `until`.
    pub until_ms: u64,
    /// Why the run stopped: `until` (time was up), `idle` (nothing left to
    /// happen), `interrupted` (Ctrl-C), `invariant-violation` or `event-limit`
    /// (`limits.maxEvents`).
    pub stopped: &'static str,
    /// False when the run was cut short (`interrupted`, `invariant-violation`):
    /// the figures then describe the cluster at that moment only.
    pub complete: bool,
    /// Wall-clock time of the run (the one figure that differs between identical runs).
    pub wall_ms: u64,
}

#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Summary {
    pub scenario: String,
    pub seed: u64,
    pub pods: PodCounts,
    pub scheduling: SchedulingCounts,
    pub nodes: NodeCounts,
    /// Per Deployment, keyed `namespace/name`.
    pub deployments: BTreeMap<String, DeploymentFigures>,
    /// Per injected fault (timeline or chaos), in the order they struck.
    pub faults: Vec<crate::metrics::recovery::FaultFigures>,
    /// Per Service with traffic, keyed `namespace/name`: what its clients saw.
    pub services: BTreeMap<String, crate::net::ServiceFigures>,
    /// Per Ingress with clients, keyed `namespace/name` (omitted without any).
    #[serde(skip_serializing_if = "BTreeMap::is_empty", default)]
    pub ingresses: BTreeMap<String, crate::net::ServiceFigures>,
    /// Per Job, keyed `namespace/name`.
    pub jobs: BTreeMap<String, JobFigures>,
    /// Per StatefulSet, keyed `namespace/name` (omitted without any).
    #[serde(skip_serializing_if = "BTreeMap::is_empty", default)]
    pub statefulsets: BTreeMap<String, StatefulSetFigures>,
    /// Per DaemonSet, keyed `namespace/name` (omitted without any).
    #[serde(skip_serializing_if = "BTreeMap::is_empty", default)]
    pub daemonsets: BTreeMap<String, DaemonSetFigures>,
    /// Per ReplicationController, keyed `namespace/name` (omitted without any).
    #[serde(skip_serializing_if = "BTreeMap::is_empty", default)]
    pub replicationcontrollers: BTreeMap<String, ReplicationControllerFigures>,
    /// Per CronJob, keyed `namespace/name` (omitted without any).
    #[serde(skip_serializing_if = "BTreeMap::is_empty", default)]
    pub cronjobs: BTreeMap<String, CronJobFigures>,
    /// Means over periodic samples of the cluster's allocation.
    pub utilization: Utilization,
    pub sim: SimFigures,
    /// HPA and Cluster Autoscaler figures (omitted when the run has neither).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub autoscaling: Option<AutoscalingFigures>,
}

/// What autoscaling did and cost.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct AutoscalingFigures {
    /// Σ over nodes of the time each was registered, in hours.
    pub node_hours: f64,
    /// Node-hours per node group (`""`: nodes outside any group).
    pub node_hours_by_group: BTreeMap<String, f64>,
    /// Σ node-hours × the group's `costPerHour`.
    pub cost: f64,
    /// Pod-seconds spent Pending with no node to take them, sampled at each
    /// Cluster Autoscaler scan (pending pods × scan interval).
    pub pending_pod_seconds: f64,
    /// Requests that failed or timed out, over every Service.
    pub requests_failed: u64,
    /// HPA rescales (`SuccessfulRescale`), up and down.
    pub hpa_scale_ups: u64,
    pub hpa_scale_downs: u64,
    /// Cluster Autoscaler scale-ups (`TriggeredScaleUp`) and the nodes they asked for.
    pub ca_scale_ups: u64,
    pub ca_nodes_added: u64,
    /// Nodes the Cluster Autoscaler removed (`ScaleDown`).
    pub ca_scale_downs: u64,
    /// Pods the VPA updater evicted (`EvictedByVPA`).
    pub vpa_evictions: u64,
}

impl AutoscalingFigures {
    pub fn collect(sim: &Simulation) -> Option<AutoscalingFigures> {
        let ca = sim.cluster_autoscaler();
        let rescales = &sim.hpa().rescales;
        let store = sim.api().store();
        if ca.is_none()
            && store.horizontal_pod_autoscalers.is_empty()
            && store.vertical_pod_autoscalers.is_empty()
            && rescales.is_empty()
        {
            return None;
        }
        let by_group = sim.node_clock().hours(sim.now());
        let price = |g: &str| {
            ca.and_then(|c| c.settings.groups.iter().find(|x| x.name == g))
                .map_or(0.0, |x| x.cost_per_hour)
        };
        let round = |x: f64| (x * 1e6).round() / 1e6;
        Some(AutoscalingFigures {
            node_hours: round(by_group.values().sum()),
            cost: round(by_group.iter().map(|(g, h)| h * price(g)).sum()),
            node_hours_by_group: by_group
                .iter()
                .map(|(g, h)| (g.clone(), round(*h)))
                .collect(),
            pending_pod_seconds: ca.map_or(0.0, |c| c.stats.pending_pod_seconds),
            requests_failed: sim
                .dataplane()
                .figures()
                .values()
                .map(|f| f.failed + f.timed_out)
                .sum(),
            hpa_scale_ups: rescales.iter().filter(|r| r.3 > r.2).count() as u64,
            hpa_scale_downs: rescales.iter().filter(|r| r.3 < r.2).count() as u64,
            ca_scale_ups: ca.map_or(0, |c| c.stats.scale_ups),
            ca_nodes_added: ca.map_or(0, |c| c.stats.nodes_added),
            ca_scale_downs: ca.map_or(0, |c| c.stats.scale_downs),
            vpa_evictions: sim.vpa().evictions,
        })
    }
}

impl Summary {
    pub fn collect(sim: &Simulation) -> Summary {
        let api = sim.api();
        let mut pods = PodCounts {
            created: api.stats.pods_created,
            ..Default::default()
        };
        for p in api.list::<Pod>() {
            match p.status.phase {
                PodPhase::Running => pods.running += 1,
                PodPhase::Pending | PodPhase::Unknown => pods.pending += 1,
                PodPhase::Succeeded => pods.succeeded += 1,
                PodPhase::Failed => pods.failed += 1,
            }
            if p.is_terminating() {
                pods.terminating += 1;
            }
            if p.node_name.is_none() && p.status.phase == PodPhase::Pending {
                pods.unscheduled += 1;
            }
            pods.restarts += u64::from(p.status.restart_count);
            if p.status.reason.as_deref() == Some("CrashLoopBackOff") {
                pods.crash_loop_back_off += 1;
            }
        }
        let st = &sim.scheduler().stats;
        let mut nodes = NodeCounts::default();
        for n in api.list::<Node>() {
            nodes.total += 1;
            if n.status.ready == ConditionStatus::True {
                nodes.ready += 1;
            }
            if n.unschedulable {
                nodes.unschedulable += 1;
            }
        }
        let mut avail = sim.recovery().availability(sim.now());
        let deployments = api
            .list::<Deployment>()
            .map(|d| {
                (
                    d.meta.key().to_string(),
                    DeploymentFigures {
                        desired: d.replicas,
                        updated: d.status.updated_replicas,
                        ready: d.status.ready_replicas,
                        available: d.status.available_replicas,
                        availability: avail.remove(&d.meta.key().to_string()).unwrap_or_default(),
                    },
                )
            })
            .collect();
        let jobs = api
            .list::<Job>()
            .map(|j| {
                let st = &j.status;
                (
                    j.meta.key().to_string(),
                    JobFigures {
                        completions: j.completions,
                        succeeded: st.succeeded,
                        failed: st.failed,
                        complete: st.complete,
                        failed_reason: st.failed_reason.clone(),
                        duration_ms: match (st.start_time, st.completion_time) {
                            (Some(a), Some(b)) => Some(b.since(a).as_millis()),
                            _ => None,
                        },
                    },
                )
            })
            .collect();
        let statefulsets = api
            .list::<StatefulSet>()
            .map(|x| {
                (
                    x.meta.key().to_string(),
                    StatefulSetFigures {
                        desired: x.replicas,
                        ready: x.status.ready_replicas,
                        updated: x.status.updated_replicas,
                        current: x.status.current_replicas,
                        current_revision: x.status.current_revision.clone(),
                        update_revision: x.status.update_revision.clone(),
                    },
                )
            })
            .collect();
        let daemonsets = api
            .list::<DaemonSet>()
            .map(|x| {
                let st = &x.status;
                (
                    x.meta.key().to_string(),
                    DaemonSetFigures {
                        desired: st.desired_number_scheduled,
                        current: st.current_number_scheduled,
                        ready: st.number_ready,
                        updated: st.updated_number_scheduled,
                        available: st.number_available,
                        misscheduled: st.number_misscheduled,
                    },
                )
            })
            .collect();
        let replicationcontrollers = api
            .list::<ReplicationController>()
            .map(|x| {
                (
                    x.meta.key().to_string(),
                    ReplicationControllerFigures {
                        desired: x.replicas,
                        current: x.status.replicas,
                        ready: x.status.ready_replicas,
                        available: x.status.available_replicas,
                    },
                )
            })
            .collect();
        let cronjobs = api
            .list::<CronJob>()
            .map(|x| {
                (
                    x.meta.key().to_string(),
                    CronJobFigures {
                        schedule: x.schedule_text.clone(),
                        active: x.status.active.len(),
                        jobs: api.dependents_of(x.meta.uid, crate::api::Kind::Job).count(),
                        last_schedule_time: x
                            .status
                            .last_schedule_minute
                            .map(crate::api::cron::format_minute),
                        last_successful_time_ms: x
                            .status
                            .last_successful_time
                            .map(|t| t.as_millis()),
                    },
                )
            })
            .collect();
        let mut summary = Summary {
            scenario: sim.name().to_string(),
            statefulsets,
            daemonsets,
            replicationcontrollers,
            cronjobs,
            seed: sim.seed(),
            pods,
            scheduling: SchedulingCounts {
                attempts: st.attempts,
                bound: st.bound,
                failed: st.failed,
                preemptions: st.preemptions,
                latency_ms: Percentiles::of_histogram(&st.latencies_ms),
                makespan_ms: api.stats.last_success.map(|t| t.as_millis()),
            },
            utilization: Utilization::of(sim.sampler()),
            nodes,
            deployments,
            faults: {
                let mut f = sim
                    .recovery()
                    .faults(sim.now(), &sim.node_lifecycle().evictions);
                if sim.dataplane().has_traffic() {
                    for x in &mut f {
                        let from = SimTime::from_millis(x.start_ms);
                        let to = match x.recovery_ms {
                            Some(r) => SimTime::from_millis(x.start_ms + r),
                            None => sim.now(),
                        }
                        .max(x.heal_ms.map_or(from, SimTime::from_millis));
                        x.requests_failed = Some(sim.dataplane().failures_between(from, to));
                    }
                }
                f
            },
            services: sim.dataplane().figures(),
            ingresses: sim.dataplane().ingress_figures(),
            jobs,
            sim: SimFigures {
                events: sim.events_processed(),
                records: sim.recorder().written(),
                virtual_time_ms: sim.now().as_millis(),
                until_ms: sim.until().as_millis(),
                stopped: if sim.has_pending_events() {
                    "until"
                } else {
                    "idle"
                },
                wall_ms: sim.wall_ms(),
                complete: true,
            },
            autoscaling: AutoscalingFigures::collect(sim),
        };
        if sim.hit_event_limit() {
            summary.mark_stopped("event-limit");
        }
        summary
    }

    /// Mark a run that was cut short (`interrupted`, `invariant-violation`).
    pub fn mark_stopped(&mut self, why: &'static str) {
        self.sim.stopped = why;
        self.sim.complete = false;
    }

    /// A few lines for the terminal.
    pub fn human(&self) -> String {
        let mut s = String::new();
        use std::fmt::Write;
        let _ = writeln!(
            s,
            "scenario {} (seed {}) ran to t={}{} in {} ms wall: {} events, {} records",
            self.scenario,
            self.seed,
            crate::sim::time::human(crate::sim::time::SimDuration::from_millis(
                self.sim.virtual_time_ms
            )),
            if self.sim.stopped == "idle" {
                " (idle: nothing left to happen)"
            } else {
                ""
            },
            self.sim.wall_ms,
            self.sim.events,
            self.sim.records
        );
        let _ = writeln!(
            s,
            "nodes: {} ({} Ready, {} cordoned)",
            self.nodes.total, self.nodes.ready, self.nodes.unschedulable
        );
        let p = &self.pods;
        let _ = writeln!(
            s,
            "pods: {} created; now {} Running, {} Pending ({} unscheduled), {} Succeeded, {} Failed",
            p.created, p.running, p.pending, p.unscheduled, p.succeeded, p.failed
        );
        let sc = &self.scheduling;
        let _ = writeln!(
            s,
            "scheduling: {} attempts, {} bound, {} failed; latency p50 {} ms, p99 {} ms",
            sc.attempts,
            sc.bound,
            sc.failed,
            sc.latency_ms.p50.map_or("-".into(), |v| v.to_string()),
            sc.latency_ms.p99.map_or("-".into(), |v| v.to_string())
        );
        if !self.deployments.is_empty() {
            let line = |s: &mut String, k: &str, d: &DeploymentFigures| {
                let _ = writeln!(
                    s,
                    "  {k}: {}/{} ready, {} up-to-date, {} available",
                    d.ready, d.desired, d.updated, d.available
                );
            };
            if self.deployments.len() <= HUMAN_LIST_MAX {
                let _ = writeln!(s, "deployments:");
                for (k, d) in &self.deployments {
                    line(&mut s, k, d);
                }
            } else {
                // a scale run has thousands: list only those short of their
                // replicas (summary.json has every one)
                let short: Vec<_> = self
                    .deployments
                    .iter()
                    .filter(|(_, d)| {
                        d.ready != d.desired || d.updated != d.desired || d.available != d.desired
                    })
                    .collect();
                let _ = writeln!(
                    s,
                    "deployments: {} ({} with every replica ready, up to date and available{}; all in summary.json)",
                    self.deployments.len(),
                    self.deployments.len() - short.len(),
                    match short.len() {
                        0 => String::new(),
                        n if n <= HUMAN_LIST_MAX => "; the others:".to_string(),
                        n => format!("; the first {HUMAN_LIST_MAX} of the {n} others:"),
                    }
                );
                for (k, d) in short.into_iter().take(HUMAN_LIST_MAX) {
                    line(&mut s, k, d);
                }
            }
        }
        if let Some(a) = &self.autoscaling {
            let _ = writeln!(
                s,
                "autoscaling: {:.2} node-hours, cost {:.2}; HPA {} up / {} down; cluster autoscaler {} scale-up(s) (+{} nodes), {} node(s) removed; {:.0} pod-s pending for capacity; {} requests failed",
                a.node_hours,
                a.cost,
                a.hpa_scale_ups,
                a.hpa_scale_downs,
                a.ca_scale_ups,
                a.ca_nodes_added,
                a.ca_scale_downs,
                a.pending_pod_seconds,
                a.requests_failed
            );
        }
        if !self.statefulsets.is_empty() {
            let _ = writeln!(s, "statefulsets:");
            for (k, x) in &self.statefulsets {
                let _ = writeln!(
                    s,
                    "  {k}: {}/{} ready, {} updated (revision {}), {} current (revision {})",
                    x.ready, x.desired, x.updated, x.update_revision, x.current, x.current_revision
                );
            }
        }
        if !self.daemonsets.is_empty() {
            let _ = writeln!(s, "daemonsets:");
            for (k, x) in &self.daemonsets {
                let _ = writeln!(
                    s,
                    "  {k}: {} desired, {} current, {} ready, {} up-to-date, {} available",
                    x.desired, x.current, x.ready, x.updated, x.available
                );
            }
        }
        if !self.replicationcontrollers.is_empty() {
            let _ = writeln!(s, "replicationcontrollers:");
            for (k, x) in &self.replicationcontrollers {
                let _ = writeln!(
                    s,
                    "  {k}: {}/{} ready, {} current, {} available",
                    x.ready, x.desired, x.current, x.available
                );
            }
        }
        if !self.cronjobs.is_empty() {
            let _ = writeln!(s, "cronjobs:");
            for (k, x) in &self.cronjobs {
                let _ = writeln!(
                    s,
                    "  {k}: schedule {:?}, {} active, {} jobs kept, last schedule {}",
                    x.schedule,
                    x.active,
                    x.jobs,
                    x.last_schedule_time.as_deref().unwrap_or("<none>")
                );
            }
        }
        if !self.jobs.is_empty() {
            let _ = writeln!(s, "jobs:");
            for (k, j) in &self.jobs {
                let state = match (&j.failed_reason, j.complete, j.duration_ms) {
                    (Some(r), _, _) => format!("Failed ({r})"),
                    (None, true, Some(d)) => format!(
                        "Complete in {}",
                        crate::sim::time::human(crate::sim::time::SimDuration::from_millis(d))
                    ),
                    (None, true, None) => "Complete".to_string(),
                    _ => "Running".to_string(),
                };
                let _ = writeln!(
                    s,
                    "  {k}: {}/{} succeeded, {} failed, {state}",
                    j.succeeded,
                    j.completions.map_or("-".into(), |c| c.to_string()),
                    j.failed
                );
            }
        }
        s
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn printed_summary_lists_every_deployment_only_when_there_are_few() {
        let fig = |ready| DeploymentFigures {
            desired: 3,
            updated: 3,
            ready,
            available: ready,
            ..Default::default()
        };
        let mut s = Summary::default();
        for i in 0..5 {
            s.deployments.insert(format!("default/d{i}"), fig(3));
        }
        assert_eq!(s.human().matches("/3 ready").count(), 5);
        for i in 5..100 {
            s.deployments.insert(
                format!("default/d{i:02}"),
                fig(if i % 10 == 0 { 1 } else { 3 }),
            );
        }
        let h = s.human();
        assert!(h.contains("deployments: 100 (91 with every replica ready, up to date and available; the others:"), "{h}");
        assert_eq!(h.matches("1/3 ready").count(), 9, "{h}");
        assert_eq!(h.matches("3/3 ready").count(), 0, "{h}");
    }

    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let v: Vec<u64> = (1..=100).collect();
        let p = Percentiles::of(&v);
        assert_eq!((p.p50, p.p99, p.max), (Some(50), Some(99), Some(100)));
        assert_eq!(Percentiles::of(&[]).p50, None);
        assert_eq!(Percentiles::of(&[7]).p99, Some(7));
        // the histogram form gives the same figures
        for v in [
            vec![],
            vec![7],
            vec![3, 1, 2, 2, 9, 9, 9, 4],
            (0..1000).map(|i| i * 7 % 13).collect(),
        ] {
            let mut h = BTreeMap::new();
            for x in &v {
                *h.entry(*x).or_insert(0u64) += 1;
            }
            assert_eq!(Percentiles::of_histogram(&h), Percentiles::of(&v), "{v:?}");
        }
    }
}
