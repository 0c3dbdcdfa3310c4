//! The scenario's autoscaling settings: `usage:` (what pods use),
//! `cluster.metricsServer`, the HPA flags of `cluster.controllerManager`, and
//! `cluster.autoscaler` (the Cluster Autoscaler's node groups, whose initial
//! nodes join like node pools).

use super::pool_nodes;
use super::schema::{self, QuantityValue, ScenarioFile};
use crate::api::quantity::{parse_cpu_millis, parse_value};
use crate::api::AnyObject;
use crate::autoscaler::cluster::{CaSettings, Expander, NodeGroup, GROUP_LABEL};
use crate::autoscaler::metrics::UsageModel;
use crate::diag::{suggest, Diagnostic, Loc};
use crate::manifest::{Loaded, Origin};
use crate::sim::time::SimDuration;
use crate::sim::Settings;
use std::path::Path;

fn millis(q: &QuantityValue, path: &str, loc: &Loc, errors: &mut Vec<Diagnostic>) -> i64 {
    match parse_cpu_millis(&q.as_string()) {
        Ok(v) if v >= 0 => v,
        Ok(_) => {
            errors.push(loc.at_value(path, "must not be negative"));
            0
        }
        Err(e) => {
            errors.push(loc.at_value(path, e.to_string()));
            0
        }
    }
}

pub(super) fn load(
    raw: &ScenarioFile,
    loc: &Loc,
    path: &Path,
    settings: &mut Settings,
    loaded: &mut Loaded,
    errors: &mut Vec<Diagnostic>,
) {
    let a = &mut settings.autoscaling;
    let cm = &raw.cluster.controller_manager;
    if let Some(d) = cm.horizontal_pod_autoscaler_sync_period {
        if d == SimDuration::ZERO {
            errors.push(loc.at_value(
                "cluster.controllerManager.horizontalPodAutoscalerSyncPeriod",
                "must be longer than 0",
            ));
        } else {
            a.hpa_sync_period = d;
        }
    }
    if let Some(t) = cm.horizontal_pod_autoscaler_tolerance {
        if !(0.0..1.0).contains(&t) {
            errors.push(loc.at_value(
                "cluster.controllerManager.horizontalPodAutoscalerTolerance",
                format!("tolerance must be at least 0 and below 1, got {t}"),
            ));
        } else {
            a.hpa_tolerance = t;
        }
    }
    if let Some(d) = cm.horizontal_pod_autoscaler_downscale_stabilization {
        a.hpa_downscale_stabilization = d;
    }
    if let Some(d) = raw.cluster.metrics_server.scrape_interval {
        if d == SimDuration::ZERO {
            errors.push(loc.at_value(
                "cluster.metricsServer.scrapeInterval",
                "scrapeInterval must be longer than 0",
            ));
        } else {
            a.scrape_interval = d;
        }
    }
    for (i, u) in raw.usage.iter().enumerate() {
        let p = format!("usage[{i}]");
        super::check_labels(
            &u.selector.match_labels,
            &format!("{p}.selector.matchLabels"),
            loc,
            errors,
        );
        let cpu = u
            .cpu
            .as_ref()
            .map_or(0, |q| millis(q, &format!("{p}.cpu"), loc, errors));
        let mut steps = Vec::new();
        for (j, s) in u.steps.iter().enumerate() {
            if steps.last().is_some_and(|(t, _)| *t >= s.at) {
                errors.push(loc.at_value(
                    &format!("{p}.steps[{j}].at"),
                    "steps must be in increasing time order",
                ));
            }
            steps.push((
                s.at,
                millis(&s.cpu, &format!("{p}.steps[{j}].cpu"), loc, errors),
            ));
        }
        let per_request = u.cpu_per_request.as_ref().map_or(0.0, |q| {
            millis(q, &format!("{p}.cpuPerRequest"), loc, errors) as f64
        });
        let memory = match u.memory.as_ref().map(|q| parse_value(&q.as_string())) {
            None => 0,
            Some(Ok(v)) if v >= 0 => v,
            Some(Ok(_)) => {
                errors.push(loc.at_value(&format!("{p}.memory"), "memory must not be negative"));
                0
            }
            Some(Err(e)) => {
                errors.push(loc.at_value(&format!("{p}.memory"), e.to_string()));
                0
            }
        };
        a.usage.push(UsageModel {
            selector: u.selector.match_labels.clone(),
            namespace: u.namespace.clone(),
            cpu_millis: cpu,
            steps,
            cpu_per_request_millis: per_request,
            memory,
        });
    }
    let Some(ca) = &raw.cluster.autoscaler else {
        return;
    };
    let base = "cluster.autoscaler";
    let mut s = CaSettings::default();
    if let Some(d) = ca.scan_interval {
        if d == SimDuration::ZERO {
            errors.push(loc.at_value(
                &format!("{base}.scanInterval"),
                "scanInterval must be longer than 0",
            ));
        } else {
            s.scan_interval = d;
        }
    }
    if let Some(e) = &ca.expander {
        match Expander::parse(e) {
            Some(x) => s.expander = x,
            None => {
                let mut m = format!(
                    "unknown expander {e:?}; expected one of: {}",
                    Expander::NAMES.join(", ")
                );
                if let Some(g) = suggest(e, Expander::NAMES.iter().copied()) {
                    m.push_str(&format!(" (did you mean {g:?}?)"));
                }
                errors.push(loc.at_value(&format!("{base}.expander"), m));
            }
        }
    }
    if let Some(b) = ca.scale_down_enabled {
        s.scale_down_enabled = b;
    }
    if let Some(t) = ca.scale_down_utilization_threshold {
        if !(0.0..=1.0).contains(&t) {
            errors.push(loc.at_value(
                &format!("{base}.scaleDownUtilizationThreshold"),
                format!("must be between 0 and 1, got {t}"),
            ));
        } else {
            s.utilization_threshold = t;
        }
    }
    if let Some(d) = ca.scale_down_unneeded_time {
        s.unneeded_time = d;
    }
    if let Some(d) = ca.scale_down_delay_after_add {
        s.delay_after_add = d;
    }
    if ca.node_groups.is_empty() {
        errors.push(loc.at(
            &format!("{base}.nodeGroups"),
            "the autoscaler needs at least one node group",
        ));
    }
    for (i, g) in ca.node_groups.iter().enumerate() {
        let p = format!("{base}.nodeGroups[{i}]");
        if raw.cluster.node_pools.iter().any(|n| n.name == g.name)
            || ca.node_groups[..i].iter().any(|o| o.name == g.name)
        {
            errors.push(loc.at_value(
                &format!("{p}.name"),
                format!(
                    "{:?} names another node pool or group already: node names would clash",
                    g.name
                ),
            ));
            continue;
        }
        let count = g.count.unwrap_or(g.min);
        if g.min > g.max || count < g.min || count > g.max {
            errors.push(loc.at(
                &p,
                format!(
                    "need min ≤ count ≤ max, got min {} count {count} max {}",
                    g.min, g.max
                ),
            ));
            continue;
        }
        if g.max > 1000 {
            errors.push(loc.at_value(&format!("{p}.max"), "at most 1000 nodes per group"));
            continue;
        }
        if let Some(c) = g.cost_per_hour {
            if !(c >= 0.0 && c.is_finite()) {
                errors.push(
                    loc.at_value(&format!("{p}.costPerHour"), "costPerHour must be 0 or more"),
                );
            }
        }
        let mut labels = g.template.labels.clone();
        labels.insert(GROUP_LABEL.into(), g.name.clone());
        if let Some(z) = &g.template.zone {
            labels.insert("topology.kubernetes.io/zone".into(), z.clone());
        }
        let pool = schema::NodePool {
            name: g.name.clone(),
            count: g.max,
            capacity: g.template.capacity.clone(),
            allocatable: g.template.allocatable.clone(),
            labels,
            taints: g.template.taints.clone(),
        };
        match pool_nodes(&pool, &format!("{p}.template"), loc, 0..g.max) {
            Ok(nodes) => {
                let at = loc.pos.nearest(&p);
                for n in nodes.iter().take(count as usize) {
                    loaded.objects.push((
                        AnyObject::Node(n.clone()),
                        Origin {
                            file: path.to_path_buf(),
                            line: at.line,
                            col: at.col,
                            namespace_pos: None,
                        },
                    ));
                }
                s.groups.push(NodeGroup {
                    name: g.name.clone(),
                    min: g.min,
                    max: g.max,
                    initial: count,
                    provisioning_delay: g.provisioning_delay.unwrap_or(SimDuration::from_secs(60)),
                    cost_per_hour: g.cost_per_hour.unwrap_or(0.0),
                    priority: g.priority.unwrap_or(0),
                    nodes,
                });
            }
            Err(mut e) => errors.append(&mut e),
        }
    }
    a.cluster_autoscaler = Some(s);
}
