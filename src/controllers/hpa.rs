//! The horizontal pod autoscaler controller
//! (`pkg/controller/podautoscaler/horizontal.go`, `replica_calculator.go`).
//!
//! Every sync period (15 s) each HPA reads its target's scale and the metrics
//! server's last scrape, and proposes, per metric,
//! `desired = ceil(currentReplicas × currentMetric / target)` — or keeps the
//! current count when the ratio is within the tolerance (|1 − ratio| ≤ 0.1).
//! Pods still starting, not Ready, or without metrics are handled as upstream
//! (`groupPods`: counted at 0 or at the target when that moves the ratio the
//! cautious way). The largest proposal wins; then the behaviour applies:
//! scale-down takes the highest recommendation of the stabilisation window
//! (300 s), scale-up the lowest of its window (0 s), and the change is limited
//! by the policies (Pods / Percent per period; `selectPolicy` Max / Min /
//! Disabled) counted from the scale events of each period, and by
//! min/maxReplicas.

use crate::api::autoscaling::{
    HorizontalPodAutoscaler, MetricSpec, MetricTarget, MetricValue, PolicyType, ScalingRules,
    SelectPolicy,
};
use crate::api::selector::LabelSelector;
use crate::api::{Change, Deployment, Kind, ObjKey, Op, Pod, PodPhase, ReplicaSet};
use crate::autoscaler::metrics::{running_and_ready, MetricsServer};
use crate::autoscaler::{AutoscaleEvent, Settings};
use crate::metrics::EventType;
use crate::sim::time::{SimDuration, SimTime};
use crate::sim::{Ctx, Event};
use std::collections::{BTreeMap, BTreeSet};

pub const COMPONENT: &str = "horizontal-pod-autoscaler";

/// The per-pod metric the data plane provides for `type: Pods`, and the
/// Service metric for `type: Object`.
pub const REQUESTS_PER_SECOND: &str = "requests_per_second";

/// A replica count with when it was recommended, or a scale event's change.
type Stamped = (i32, SimTime);

/// The HPA controller's memory between syncs (upstream keeps the same).
#[derive(Debug, Default)]
pub struct HpaController {
    settings: Settings,
    /// HPAs whose periodic sync runs.
    known: BTreeSet<ObjKey>,
    recommendations: BTreeMap<ObjKey, Vec<Stamped>>,
    scale_up_events: BTreeMap<ObjKey, Vec<Stamped>>,
    scale_down_events: BTreeMap<ObjKey, Vec<Stamped>>,
    /// Rescales done: (time, HPA, from, to), for the summary and metrics.
    pub rescales: Vec<(SimTime, ObjKey, i32, i32)>,
}

/// The inputs of one replica computation, read from the API and the metrics server.
pub struct Observed<'a> {
    pub pods: Vec<&'a Pod>,
    pub metrics: &'a MetricsServer,
    pub now: SimTime,
}

fn within(ratio: f64, tolerance: f64) -> bool {
    (1.0 - ratio).abs() <= tolerance
}

impl HpaController {
    pub fn new(settings: Settings) -> Self {
        HpaController {
            settings,
            ..Default::default()
        }
    }

    /// A new HPA: sync it now and every sync period after. Returns true if the
    /// metrics server should start scraping.
    pub fn on_watch(&mut self, ctx: &mut Ctx, change: &Change) -> bool {
        if change.kind != Kind::HorizontalPodAutoscaler || change.op == Op::Deleted {
            return false;
        }
        if self.known.insert(change.key.clone()) {
            ctx.after(
                SimDuration::ZERO,
                Event::Autoscale(AutoscaleEvent::Hpa(change.key.clone())),
            );
        }
        true
    }

    /// One replica proposal for metric `m`: (replicas, current value) or why not.
    pub fn replicas_for_metric(
        &self,
        m: &MetricSpec,
        current: i32,
        obs: &Observed,
        namespace: &str,
    ) -> Result<(i32, MetricValue), String> {
        let tol = self.settings.hpa_tolerance;
        match m {
            MetricSpec::Resource { name, target } => {
                let cpu = name == "cpu";
                let value =
                    |p: &Pod| {
                        obs.metrics.pod(&p.meta.key()).map(|s| {
                            if cpu {
                                s.cpu_millis
                            } else {
                                s.memory
                            }
                        })
                    };
                let request = |p: &Pod| -> Option<i64> {
                    let mut sum = 0;
                    for c in &p.spec.containers {
                        sum += if cpu {
                            c.requests.cpu_millis?
                        } else {
                            c.requests.memory?
                        };
                    }
                    Some(sum)
                };
                let g = self.group_pods(obs, cpu, &value);
                if obs.pods.is_empty() {
                    return Err(
                        "no pods returned by selector while calculating replica count".into(),
                    );
                }
                if g.metrics.is_empty() {
                    return Err(
                        "did not receive metrics for targeted pods (pods might be unready)".into(),
                    );
                }
                let mut requests = BTreeMap::new();
                for p in &obs.pods {
                    match request(p) {
                        Some(r) => {
                            requests.insert(p.meta.key(), r);
                        }
                        None => {
                            return Err(format!(
                                "missing request for {name} in container of pod {}",
                                p.meta.name
                            ))
                        }
                    }
                }
                match *target {
                    MetricTarget::Utilization(t) => {
                        let ratio_of = |ms: &BTreeMap<ObjKey, i64>| -> Result<(f64, i64), String> {
                            let (mut used, mut req) = (0i64, 0i64);
                            for (k, v) in ms {
                                if let Some(r) = requests.get(k) {
                                    used += v;
                                    req += r;
                                }
                            }
                            if req == 0 {
                                return Err("no metrics returned matched known pods".into());
                            }
                            let util = used * 100 / req;
                            Ok((util as f64 / t as f64, util))
                        };
                        let (ratio, util) = ratio_of(&g.metrics)?;
                        let mv = MetricValue {
                            metric: name.clone(),
                            value: util,
                            utilization: true,
                        };
                        let n = self.rebalance(
                            current,
                            ratio,
                            &g,
                            tol,
                            |k| requests[k] * (t.max(100) as i64) / 100,
                            |ms| ratio_of(ms).map(|r| r.0),
                        )?;
                        Ok((n, mv))
                    }
                    MetricTarget::AverageValue(t) => {
                        // milli-units: CPU is in millicores already, memory in bytes
                        let scale = if cpu { 1 } else { 1000 };
                        let ms: BTreeMap<ObjKey, i64> = g
                            .metrics
                            .iter()
                            .map(|(k, v)| (k.clone(), v * scale))
                            .collect();
                        let g2 = Grouped { metrics: ms, ..g };
                        self.plain(current, t, &g2, tol, name)
                    }
                    MetricTarget::Value(_) => {
                        Err("Value targets are not valid for resource metrics".into())
                    }
                }
            }
            MetricSpec::Pods { name, target } => {
                if name != REQUESTS_PER_SECOND {
                    return Err(format!(
                        "unable to get metric {name}: no metrics returned from custom metrics API (kubesim provides {REQUESTS_PER_SECOND})"
                    ));
                }
                let MetricTarget::AverageValue(t) = *target else {
                    return Err("Pods metrics need an AverageValue target".into());
                };
                if obs.pods.is_empty() {
                    return Err(
                        "no pods returned by selector while calculating replica count".into(),
                    );
                }
                let value = |p: &Pod| obs.metrics.pod(&p.meta.key()).map(|s| s.rps_milli);
                let g = self.group_pods(obs, false, &value);
                if g.metrics.is_empty() {
                    return Err(
                        "did not receive metrics for targeted pods (pods might be unready)".into(),
                    );
                }
                self.plain(current, t, &g, tol, name)
            }
            MetricSpec::Object {
                name,
                kind,
                object,
                target,
            } => {
                if kind != "Service" || name != REQUESTS_PER_SECOND {
                    return Err(format!(
                        "unable to get metric {name}: {kind}/{object}: kubesim provides {REQUESTS_PER_SECOND} of a Service"
                    ));
                }
                let usage = obs
                    .metrics
                    .service_rps_milli(&ObjKey::new(namespace, object.clone()))
                    .ok_or_else(|| format!("unable to get metric {name}: Service {object} not found or not scraped yet"))?;
                match *target {
                    MetricTarget::Value(t) => {
                        let ratio = usage as f64 / t as f64;
                        let n = if current == 0 {
                            ratio.ceil() as i32
                        } else if within(ratio, tol) {
                            current
                        } else {
                            let ready = obs.pods.iter().filter(|p| running_and_ready(p)).count();
                            (ratio * ready as f64).ceil() as i32
                        };
                        Ok((
                            n,
                            MetricValue {
                                metric: name.clone(),
                                value: usage,
                                utilization: false,
                            },
                        ))
                    }
                    MetricTarget::AverageValue(t) => {
                        // GetObjectPerPodMetricReplicas: status replicas = current
                        let ratio = usage as f64 / (t as f64 * current.max(1) as f64);
                        let n = if within(ratio, tol) {
                            current
                        } else {
                            (usage as f64 / t as f64).ceil() as i32
                        };
                        let avg = (usage as f64 / current.max(1) as f64).ceil() as i64;
                        Ok((
                            n,
                            MetricValue {
                                metric: name.clone(),
                                value: avg,
                                utilization: false,
                            },
                        ))
                    }
                    MetricTarget::Utilization(_) => {
                        Err("Object metrics need a Value or AverageValue target".into())
                    }
                }
            }
        }
    }

    /// `groupPods`: ignored (deleted or failed), unready (pending; for CPU also
    /// not Ready or just started), missing (no sample) and the rest with metrics.
    fn group_pods(
        &self,
        obs: &Observed,
        cpu: bool,
        value: &dyn Fn(&Pod) -> Option<i64>,
    ) -> Grouped {
        let mut g = Grouped::default();
        let window = obs.metrics.interval;
        let scraped = obs.metrics.last_scrape().unwrap_or(SimTime::ZERO);
        for p in &obs.pods {
            let k = p.meta.key();
            if p.is_terminating() || p.status.phase == PodPhase::Failed {
                continue;
            }
            if p.status.phase == PodPhase::Pending {
                g.unready.insert(k);
                continue;
            }
            let Some(v) = value(p) else {
                g.missing.insert(k);
                continue;
            };
            if cpu {
                let unready = match p.status.start_time {
                    None => true,
                    Some(start) => {
                        if start + self.settings.hpa_cpu_initialization_period > obs.now {
                            !p.status.ready
                                || p.status.ready_since.is_none_or(|t| scraped < t + window)
                        } else {
                            // unready and never was Ready since starting
                            !p.status.ready && p.status.ready_since.is_none()
                        }
                    }
                };
                if unready {
                    g.unready.insert(k);
                    continue;
                }
            }
            g.ready += 1;
            g.metrics.insert(k, v);
        }
        g
    }

    /// `calcPlainMetricReplicas` for an average-value target (milli-units).
    fn plain(
        &self,
        current: i32,
        target: i64,
        g: &Grouped,
        tol: f64,
        name: &str,
    ) -> Result<(i32, MetricValue), String> {
        let ratio_of = |ms: &BTreeMap<ObjKey, i64>| -> Result<f64, String> {
            if ms.is_empty() {
                return Err("no metrics".into());
            }
            let avg = ms.values().sum::<i64>() / ms.len() as i64;
            Ok(avg as f64 / target as f64)
        };
        let avg = g.metrics.values().sum::<i64>() / g.metrics.len().max(1) as i64;
        let n = self.rebalance(current, ratio_of(&g.metrics)?, g, tol, |_| target, ratio_of)?;
        Ok((
            n,
            MetricValue {
                metric: name.to_string(),
                value: avg,
                utilization: false,
            },
        ))
    }

    /// The common tail of the replica calculator: the plain formula when no pod
    /// is missing or (scaling up) unready; otherwise fill in the missing pods
    /// the cautious way, recompute, and keep the current count if the direction flips.
    fn rebalance(
        &self,
        current: i32,
        ratio: f64,
        g: &Grouped,
        tol: f64,
        fallback: impl Fn(&ObjKey) -> i64,
        ratio_of: impl Fn(&BTreeMap<ObjKey, i64>) -> Result<f64, String>,
    ) -> Result<i32, String> {
        let with_unready = !g.unready.is_empty() && ratio > 1.0;
        if !with_unready && g.missing.is_empty() {
            if within(ratio, tol) {
                return Ok(current);
            }
            return Ok((ratio * g.ready as f64).ceil() as i32);
        }
        let mut ms = g.metrics.clone();
        for k in &g.missing {
            if ratio < 1.0 {
                ms.insert(k.clone(), fallback(k));
            } else if ratio > 1.0 {
                ms.insert(k.clone(), 0);
            }
        }
        if with_unready {
            for k in &g.unready {
                ms.insert(k.clone(), 0);
            }
        }
        let new_ratio = ratio_of(&ms)?;
        if within(new_ratio, tol)
            || (ratio < 1.0 && new_ratio > 1.0)
            || (ratio > 1.0 && new_ratio < 1.0)
        {
            return Ok(current);
        }
        let n = (new_ratio * ms.len() as f64).ceil() as i32;
        if (new_ratio < 1.0 && n > current) || (new_ratio > 1.0 && n < current) {
            return Ok(current);
        }
        Ok(n)
    }

    /// Stabilisation, then the rate limits and min/max
    /// (`normalizeDesiredReplicasWithBehaviors`). Records the recommendation.
    pub fn normalize(
        &mut self,
        key: &ObjKey,
        h: &HorizontalPodAutoscaler,
        current: i32,
        desired: i32,
        now: SimTime,
    ) -> (i32, Option<String>) {
        let up_w = h.scale_up.stabilization_window.unwrap_or(SimDuration::ZERO);
        let down_w = h
            .scale_down
            .stabilization_window
            .unwrap_or(self.settings.hpa_downscale_stabilization);
        let cutoff =
            |w: SimDuration| SimTime::from_millis(now.as_millis().saturating_sub(w.as_millis()));
        let (up_cut, down_cut) = (cutoff(up_w), cutoff(down_w));
        let recs = self.recommendations.entry(key.clone()).or_default();
        let (mut up_rec, mut down_rec) = (desired, desired);
        for (r, t) in recs.iter() {
            if *t > up_cut {
                up_rec = up_rec.min(*r);
            }
            if *t > down_cut {
                down_rec = down_rec.max(*r);
            }
        }
        // forget what no window can see any more, then remember this one
        recs.retain(|(_, t)| !(*t < up_cut && *t < down_cut));
        recs.push((desired, now));
        let stabilized = current.max(up_rec).min(down_rec);
        // rate limits
        let ups = self
            .scale_up_events
            .get(key)
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        let downs = self
            .scale_down_events
            .get(key)
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        if stabilized > current {
            let limit = scale_up_limit(current, ups, downs, &h.scale_up, now).max(current);
            let (max_allowed, why) = if h.max_replicas > limit {
                (limit, "ScaleUpLimit")
            } else {
                (h.max_replicas, "TooManyReplicas")
            };
            if stabilized > max_allowed {
                return (max_allowed, Some(why.to_string()));
            }
        } else if stabilized < current {
            let limit = scale_down_limit(current, ups, downs, &h.scale_down, now).min(current);
            let (min_allowed, why) = if h.min_replicas < limit {
                (limit, "ScaleDownLimit")
            } else {
                (h.min_replicas, "TooFewReplicas")
            };
            if stabilized < min_allowed {
                return (min_allowed, Some(why.to_string()));
            }
        }
        (stabilized, None)
    }

    /// Remember a rescale for the rate limits (`storeScaleEvent`); events older
    /// than the longest policy period are dropped.
    fn store_event(
        &mut self,
        key: &ObjKey,
        h: &HorizontalPodAutoscaler,
        from: i32,
        to: i32,
        now: SimTime,
    ) {
        let (events, rules) = if to > from {
            (
                self.scale_up_events.entry(key.clone()).or_default(),
                &h.scale_up,
            )
        } else {
            (
                self.scale_down_events.entry(key.clone()).or_default(),
                &h.scale_down,
            )
        };
        let longest = rules
            .policies
            .iter()
            .map(|p| p.period)
            .max()
            .unwrap_or_default();
        events.retain(|(_, t)| t.as_millis() + longest.as_millis() > now.as_millis());
        events.push(((to - from).abs(), now));
    }

    /// The periodic sync of one HPA (`reconcileAutoscaler`).
    pub fn sync(&mut self, ctx: &mut Ctx, key: &ObjKey, metrics: &MetricsServer) {
        let Some(h) = ctx.api.get::<HorizontalPodAutoscaler>(key).cloned() else {
            self.known.remove(key);
            self.recommendations.remove(key);
            return;
        };
        ctx.after(
            self.settings.hpa_sync_period,
            Event::Autoscale(AutoscaleEvent::Hpa(key.clone())),
        );
        let object = crate::api::meta::object_ref(Kind::HorizontalPodAutoscaler, key);
        let tkey = ObjKey::new(key.namespace.clone(), h.target_name.clone());
        let scale: Option<(i32, LabelSelector)> = match h.target_kind {
            Kind::Deployment => ctx
                .api
                .get::<Deployment>(&tkey)
                .map(|d| (d.replicas, d.selector.clone())),
            _ => ctx
                .api
                .get::<ReplicaSet>(&tkey)
                .map(|r| (r.replicas, r.selector.clone())),
        };
        let Some((current, selector)) = scale else {
            ctx.event(
                COMPONENT,
                EventType::Warning,
                "FailedGetScale",
                object,
                format!(
                    "{}s.apps {:?} not found",
                    h.target_kind.as_str().to_lowercase(),
                    h.target_name
                ),
            );
            return;
        };
        let mut statuses = Vec::new();
        let (desired, reason, limited) = if current == 0 {
            (0, None, None)
        } else if current > h.max_replicas {
            (
                h.max_replicas,
                Some("Current number of replicas above Spec.MaxReplicas".to_string()),
                None,
            )
        } else if current < h.min_replicas {
            (
                h.min_replicas,
                Some("Current number of replicas below Spec.MinReplicas".to_string()),
                None,
            )
        } else {
            let pods: Vec<&Pod> = ctx
                .api
                .list::<Pod>()
                .filter(|p| p.meta.namespace == key.namespace && selector.matches(&p.meta.labels))
                .collect();
            let obs = Observed {
                pods,
                metrics,
                now: ctx.now,
            };
            let mut best: Option<(i32, String)> = None;
            let mut invalid = 0;
            let mut errors = Vec::new();
            for m in &h.metrics {
                match self.replicas_for_metric(m, current, &obs, &key.namespace) {
                    Ok((n, v)) => {
                        statuses.push(v);
                        if best.as_ref().is_none_or(|(b, _)| n > *b) {
                            best = Some((n, m.describe()));
                        }
                    }
                    Err(e) => {
                        invalid += 1;
                        let reason = match m {
                            MetricSpec::Resource { .. } => "FailedGetResourceMetric",
                            MetricSpec::Pods { .. } => "FailedGetPodsMetric",
                            MetricSpec::Object { .. } => "FailedGetObjectMetric",
                        };
                        errors.push((reason, e));
                    }
                }
            }
            drop(obs);
            for (reason, e) in &errors {
                ctx.event(
                    COMPONENT,
                    EventType::Warning,
                    reason,
                    object.clone(),
                    e.clone(),
                );
            }
            let proposal = best.as_ref().map_or(-1, |b| b.0);
            if invalid >= h.metrics.len() || (invalid > 0 && proposal < current) {
                ctx.event(
                    COMPONENT,
                    EventType::Warning,
                    "FailedComputeMetricsReplicas",
                    object.clone(),
                    "invalid metrics, first error is: failed to get metric value".into(),
                );
                let st = statuses.clone();
                let _ = ctx.api.update_status::<HorizontalPodAutoscaler>(key, |o| {
                    o.status.current_replicas = current;
                    o.status.current_metrics = st;
                    o.status.scaling_active = false;
                });
                return;
            }
            let (metric_desired, metric_name) = best.expect("at least one valid metric");
            let reason = if metric_desired > current {
                Some(format!("{metric_name} above target"))
            } else if metric_desired < current {
                Some("All metrics below target".to_string())
            } else {
                None
            };
            let (n, limited) = self.normalize(key, &h, current, metric_desired, ctx.now);
            (n, reason, limited)
        };
        ctx.decision(
            COMPONENT,
            "Reconcile",
            object.clone(),
            (
                format!("{current} replicas; {}", metric_summary(&h, &statuses)),
                format!("{desired} replicas"),
                if desired != current {
                    format!("scale {} to {desired}", h.target_name)
                } else {
                    "none".into()
                },
            ),
            match &limited {
                Some(l) => format!("recommendation limited ({l})"),
                None => "within limits".into(),
            },
        );
        if desired != current {
            let r = match h.target_kind {
                Kind::Deployment => ctx
                    .api
                    .update::<Deployment>(&tkey, |d| d.replicas = desired),
                _ => ctx
                    .api
                    .update::<ReplicaSet>(&tkey, |r| r.replicas = desired),
            };
            if r.is_ok() {
                ctx.event(
                    COMPONENT,
                    EventType::Normal,
                    "SuccessfulRescale",
                    object,
                    format!(
                        "New size: {desired}; reason: {}",
                        reason.unwrap_or_else(|| "All metrics below target".into())
                    ),
                );
                self.store_event(key, &h, current, desired, ctx.now);
                self.rescales.push((ctx.now, key.clone(), current, desired));
            }
        }
        let now = ctx.now;
        let _ = ctx.api.update_status::<HorizontalPodAutoscaler>(key, |o| {
            o.status.current_replicas = current;
            o.status.desired_replicas = desired;
            o.status.current_metrics = statuses;
            o.status.scaling_active = true;
            o.status.limited = limited;
            if desired != current {
                o.status.last_scale_time = Some(now);
            }
        });
    }
}

/// Pods sorted into upstream's groups.
#[derive(Debug, Default, Clone)]
struct Grouped {
    metrics: BTreeMap<ObjKey, i64>,
    ready: usize,
    unready: BTreeSet<ObjKey>,
    missing: BTreeSet<ObjKey>,
}

/// Replicas added (or removed) by the events inside `period` before `now`.
fn changed_in(period: SimDuration, events: &[Stamped], now: SimTime) -> i32 {
    events
        .iter()
        .filter(|(_, t)| t.as_millis() + period.as_millis() > now.as_millis())
        .map(|(c, _)| *c)
        .sum()
}

/// `calculateScaleUpLimitWithScalingRules`.
pub fn scale_up_limit(
    current: i32,
    ups: &[Stamped],
    downs: &[Stamped],
    r: &ScalingRules,
    now: SimTime,
) -> i32 {
    let pick: fn(i32, i32) -> i32 = match r.select_policy {
        SelectPolicy::Disabled => return current,
        SelectPolicy::Min => std::cmp::min,
        SelectPolicy::Max => std::cmp::max,
    };
    let mut result = if r.select_policy == SelectPolicy::Min {
        i32::MAX
    } else {
        i32::MIN
    };
    for p in &r.policies {
        let start = current - changed_in(p.period, ups, now) + changed_in(p.period, downs, now);
        let proposed = match p.ty {
            PolicyType::Pods => start + p.value,
            PolicyType::Percent => (start as f64 * (1.0 + p.value as f64 / 100.0)).ceil() as i32,
        };
        result = pick(result, proposed);
    }
    result
}

/// `calculateScaleDownLimitWithBehaviors`.
pub fn scale_down_limit(
    current: i32,
    ups: &[Stamped],
    downs: &[Stamped],
    r: &ScalingRules,
    now: SimTime,
) -> i32 {
    let pick: fn(i32, i32) -> i32 = match r.select_policy {
        SelectPolicy::Disabled => return current,
        SelectPolicy::Min => std::cmp::max,
        SelectPolicy::Max => std::cmp::min,
    };
    let mut result = if r.select_policy == SelectPolicy::Min {
        i32::MIN
    } else {
        i32::MAX
    };
    for p in &r.policies {
        let start = current - changed_in(p.period, ups, now) + changed_in(p.period, downs, now);
        let proposed = match p.ty {
            PolicyType::Pods => start - p.value,
            PolicyType::Percent => (start as f64 * (1.0 - p.value as f64 / 100.0)) as i32,
        };
        result = pick(result, proposed);
    }
    result
}

fn metric_summary(h: &HorizontalPodAutoscaler, statuses: &[MetricValue]) -> String {
    if statuses.is_empty() {
        return "no metrics".into();
    }
    let _ = h;
    statuses
        .iter()
        .map(|m| {
            if m.utilization {
                format!("{} {}%", m.metric, m.value)
            } else {
                format!("{} {}", m.metric, milli(m.value))
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The TARGETS column of `kubectl get hpa`: `cpu: 45%/50%`, `<unknown>/50%`.
pub fn targets_column(h: &HorizontalPodAutoscaler) -> String {
    let mut parts = Vec::new();
    for (i, m) in h.metrics.iter().enumerate() {
        let (name, target) = match m {
            MetricSpec::Resource { name, target }
            | MetricSpec::Pods { name, target }
            | MetricSpec::Object { name, target, .. } => (name, target),
        };
        let cur = h.status.current_metrics.get(i);
        let t = match target {
            MetricTarget::Utilization(u) => format!("{u}%"),
            MetricTarget::AverageValue(v) | MetricTarget::Value(v) => milli(*v),
        };
        let c = match cur {
            Some(c) if c.utilization => format!("{}%", c.value),
            Some(c) => milli(c.value),
            None => "<unknown>".into(),
        };
        parts.push(format!("{name}: {c}/{t}"));
    }
    parts.join(", ")
}

/// A milli-value as kubectl prints a quantity: `4`, `500m`.
pub fn milli(v: i64) -> String {
    if v % 1000 == 0 {
        (v / 1000).to_string()
    } else {
        format!("{v}m")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::autoscaling::ScalingPolicy;

    fn t(s: u64) -> SimTime {
        SimTime::from_millis(s * 1000)
    }

    fn rules(select: SelectPolicy, policies: &[(PolicyType, i32, u64)]) -> ScalingRules {
        ScalingRules {
            stabilization_window: None,
            select_policy: select,
            policies: policies
                .iter()
                .map(|&(ty, value, p)| ScalingPolicy {
                    ty,
                    value,
                    period: SimDuration::from_secs(p),
                })
                .collect(),
        }
    }

    #[test]
    fn default_scale_up_is_the_larger_of_four_pods_and_double() {
        let r = ScalingRules::default_up();
        assert_eq!(scale_up_limit(1, &[], &[], &r, t(100)), 5);
        assert_eq!(scale_up_limit(10, &[], &[], &r, t(100)), 20);
        // 6 added 10 s ago count against the period: start = 10 − 6 = 4
        assert_eq!(scale_up_limit(10, &[(6, t(90))], &[], &r, t(100)), 8);
        // an event exactly one period ago no longer counts
        assert_eq!(scale_up_limit(10, &[(6, t(85))], &[], &r, t(100)), 20);
    }

    #[test]
    fn select_policy_min_and_disabled() {
        let r = rules(
            SelectPolicy::Min,
            &[(PolicyType::Pods, 1, 60), (PolicyType::Percent, 100, 60)],
        );
        assert_eq!(scale_up_limit(5, &[], &[], &r, t(0)), 6);
        let off = rules(SelectPolicy::Disabled, &[(PolicyType::Pods, 1, 60)]);
        assert_eq!(scale_up_limit(5, &[], &[], &off, t(0)), 5);
        assert_eq!(scale_down_limit(5, &[], &[], &off, t(0)), 5);
    }

    #[test]
    fn scale_down_percent_rounds_down_and_counts_recent_removals() {
        let r = rules(SelectPolicy::Max, &[(PolicyType::Percent, 50, 60)]);
        // ⌊7 × 0.5⌋ = 3
        assert_eq!(scale_down_limit(7, &[], &[], &r, t(100)), 3);
        // 3 removed 30 s ago: start = 4 + 3 = 7 → 3 again
        assert_eq!(scale_down_limit(4, &[], &[(3, t(70))], &r, t(100)), 3);
        let pods = rules(
            SelectPolicy::Max,
            &[(PolicyType::Pods, 2, 60), (PolicyType::Percent, 10, 60)],
        );
        // Max picks the bigger change: min(10 − 2, ⌊10 × 0.9⌋) = 8
        assert_eq!(scale_down_limit(10, &[], &[], &pods, t(0)), 8);
    }

    #[test]
    fn tolerance_is_ten_percent_either_way() {
        assert!(within(1.08, 0.1));
        assert!(within(0.92, 0.1));
        assert!(!within(1.12, 0.1));
        assert!(!within(0.88, 0.1));
    }

    #[test]
    fn targets_column_reads_like_kubectl() {
        assert_eq!(milli(4000), "4");
        assert_eq!(milli(500), "500m");
    }
}
