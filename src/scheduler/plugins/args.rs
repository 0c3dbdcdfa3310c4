//! Build plugins by their upstream names from upstream-shaped `pluginConfig` args.

use super::noderesources::default_resources;
use super::{
    BalancedAllocation, FitStrategy, ImageLocality, InterPodAffinity, NodeAffinity, NodeName,
    NodePorts, NodeResourcesFit, NodeResourcesFitScore, NodeUnschedulable, PodTopologySpread,
    TaintToleration,
};
use crate::api::affinity::{TopologySpreadConstraint, WhenUnsatisfiable};
use crate::api::selector::validate_label_key;
use crate::scheduler::framework::{FilterPlugin, ScorePlugin};
use serde_json::{Map, Value};

/// Filter plugins in upstream's default order (`default_plugins.go`).
pub const FILTER_PLUGINS: &[&str] = &[
    "NodeUnschedulable",
    "NodeName",
    "TaintToleration",
    "NodeAffinity",
    "NodePorts",
    "NodeResourcesFit",
    "VolumeRestrictions",
    "VolumeBinding",
    "VolumeZone",
    "PodTopologySpread",
    "InterPodAffinity",
];

/// Score plugins in upstream's default order.
pub const SCORE_PLUGINS: &[&str] = &[
    "TaintToleration",
    "NodeAffinity",
    "NodeResourcesFit",
    "PodTopologySpread",
    "InterPodAffinity",
    "NodeResourcesBalancedAllocation",
    "ImageLocality",
];

/// Upstream's default score weight of a score plugin.
pub fn default_weight(name: &str) -> Option<i64> {
    Some(match name {
        "TaintToleration" => 3,
        "NodeAffinity" | "PodTopologySpread" | "InterPodAffinity" => 2,
        "NodeResourcesFit" | "NodeResourcesBalancedAllocation" | "ImageLocality" => 1,
        _ => return None,
    })
}

/// Every plugin name kubesim knows (filter and score).
pub const KNOWN: &[&str] = &[
    "NodeUnschedulable",
    "NodeName",
    "TaintToleration",
    "NodeAffinity",
    "NodePorts",
    "NodeResourcesFit",
    "PodTopologySpread",
    "InterPodAffinity",
    "NodeResourcesBalancedAllocation",
    "ImageLocality",
    "VolumeRestrictions",
    "VolumeBinding",
    "VolumeZone",
];

fn unknown(name: &str) -> String {
    format!(
        "unknown scheduler plugin {name:?}; kubesim implements {}",
        KNOWN.join(", ")
    )
}

/// A filter plugin by upstream name with default args; `None` for a name that is
/// unknown or not a filter.
pub fn filter_plugin(name: &str) -> Option<Box<dyn FilterPlugin>> {
    filter_plugin_with_args(name, None).ok().flatten()
}

/// A filter plugin by upstream name with its `pluginConfig` args (only
/// PodTopologySpread's `defaultConstraints` matter to filtering; other plugins'
/// args are still validated). `Ok(None)` for a known plugin that does not filter.
pub fn filter_plugin_with_args(
    name: &str,
    args: Option<&Value>,
) -> Result<Option<Box<dyn FilterPlugin>>, String> {
    Ok(Some(match name {
        "NodeUnschedulable" => {
            no_args(name, args)?;
            Box::new(NodeUnschedulable)
        }
        "NodeName" => {
            no_args(name, args)?;
            Box::new(NodeName)
        }
        "TaintToleration" => {
            no_args(name, args)?;
            Box::new(TaintToleration)
        }
        "NodeAffinity" => {
            node_affinity_args(args)?;
            Box::new(NodeAffinity)
        }
        "NodePorts" => {
            no_args(name, args)?;
            Box::new(NodePorts)
        }
        "NodeResourcesFit" => {
            fit_args(args)?;
            Box::new(NodeResourcesFit)
        }
        "PodTopologySpread" => Box::new(spread_args(args)?),
        "InterPodAffinity" => Box::new(ipa_args(args)?),
        "VolumeRestrictions" => {
            no_args(name, args)?;
            Box::new(super::volume_binding::VolumeRestrictions)
        }
        "VolumeBinding" => {
            no_args(name, args)?;
            Box::new(super::volume_binding::VolumeBinding)
        }
        "VolumeZone" => {
            no_args(name, args)?;
            Box::new(super::volume_binding::VolumeZone)
        }
        "NodeResourcesBalancedAllocation" | "ImageLocality" => return Ok(None),
        _ => return Err(unknown(name)),
    }))
}

/// A score plugin by upstream name with its `pluginConfig` args in upstream's
/// shape, e.g. NodeResourcesFit
/// `{"scoringStrategy": {"type": "MostAllocated", "resources": [{"name": "cpu", "weight": 1}]}}`.
/// `Ok(None)` for a known plugin that does not score; `Err` for an unknown name
/// or bad args.
pub fn score_plugin(
    name: &str,
    args: Option<&Value>,
) -> Result<Option<Box<dyn ScorePlugin>>, String> {
    Ok(Some(match name {
        "TaintToleration" => {
            no_args(name, args)?;
            Box::new(TaintToleration)
        }
        "NodeAffinity" => {
            node_affinity_args(args)?;
            Box::new(NodeAffinity)
        }
        "NodeResourcesFit" => Box::new(fit_args(args)?),
        "PodTopologySpread" => Box::new(spread_args(args)?),
        "InterPodAffinity" => Box::new(ipa_args(args)?),
        "NodeResourcesBalancedAllocation" => Box::new(balanced_args(args)?),
        "ImageLocality" => {
            no_args(name, args)?;
            Box::new(ImageLocality)
        }
        "NodeUnschedulable" | "NodeName" | "NodePorts" | "VolumeRestrictions" | "VolumeBinding"
        | "VolumeZone" => {
            no_args(name, args)?;
            return Ok(None);
        }
        _ => return Err(unknown(name)),
    }))
}

/// The args object with `apiVersion`/`kind` checked and removed; `allowed` are the
/// other keys it may have.
fn object(
    plugin: &str,
    args: Option<&Value>,
    allowed: &[&str],
) -> Result<Map<String, Value>, String> {
    let Some(v) = args else {
        return Ok(Map::new());
    };
    if v.is_null() {
        return Ok(Map::new());
    }
    let Some(m) = v.as_object() else {
        return Err(format!("{plugin} args must be an object"));
    };
    let mut m = m.clone();
    m.remove("apiVersion");
    if let Some(k) = m.remove("kind") {
        let want = format!("{plugin}Args");
        if k.as_str() != Some(want.as_str()) {
            return Err(format!("{plugin} args: kind must be {want:?}, got {k}"));
        }
    }
    for k in m.keys() {
        if !allowed.contains(&k.as_str()) {
            return Err(if allowed.is_empty() {
                format!("{plugin} takes no args (got {k:?})")
            } else {
                format!(
                    "{plugin} args: unknown or unsupported field {k:?} (kubesim supports {})",
                    allowed.join(", ")
                )
            });
        }
    }
    Ok(m)
}

fn no_args(plugin: &str, args: Option<&Value>) -> Result<(), String> {
    object(plugin, args, &[]).map(|_| ())
}

fn node_affinity_args(args: Option<&Value>) -> Result<(), String> {
    let m = object("NodeAffinity", args, &["addedAffinity"])?;
    match m.get("addedAffinity") {
        None | Some(Value::Null) => Ok(()),
        Some(_) => Err("NodeAffinity args: addedAffinity is not supported by kubesim".into()),
    }
}

fn int(v: &Value, path: &str) -> Result<i64, String> {
    v.as_i64()
        .ok_or_else(|| format!("{path} must be an integer, got {v}"))
}

fn string<'a>(v: &'a Value, path: &str) -> Result<&'a str, String> {
    v.as_str()
        .ok_or_else(|| format!("{path} must be a string, got {v}"))
}

fn array<'a>(v: &'a Value, path: &str) -> Result<&'a Vec<Value>, String> {
    v.as_array()
        .ok_or_else(|| format!("{path} must be a list, got {v}"))
}

/// `[{name, weight}]` with upstream defaulting (weight 0 → 1, empty → cpu, memory)
/// and validation (weight in [1, 100]).
fn resources(v: Option<&Value>, path: &str) -> Result<Vec<(String, i64)>, String> {
    let Some(v) = v.filter(|v| !v.is_null()) else {
        return Ok(default_resources());
    };
    let mut out = Vec::new();
    for (i, r) in array(v, path)?.iter().enumerate() {
        let rp = format!("{path}[{i}]");
        let Some(m) = r.as_object() else {
            return Err(format!("{rp} must be an object with name and weight"));
        };
        for k in m.keys() {
            if k != "name" && k != "weight" {
                return Err(format!("{rp}: unknown field {k:?} (expected name, weight)"));
            }
        }
        let name = string(
            m.get("name")
                .ok_or_else(|| format!("{rp}.name is required"))?,
            &format!("{rp}.name"),
        )?;
        if name.is_empty() {
            return Err(format!("{rp}.name must not be empty"));
        }
        let mut weight = match m.get("weight") {
            None | Some(Value::Null) => 0,
            Some(w) => int(w, &format!("{rp}.weight"))?,
        };
        if weight == 0 {
            weight = 1;
        }
        if !(1..=100).contains(&weight) {
            return Err(format!(
                "{rp}.weight: resource weight of {name} not in valid range [1, 100], got {weight}"
            ));
        }
        if out.iter().any(|(n, _)| n == name) {
            return Err(format!("{rp}.name: duplicate resource {name:?}"));
        }
        out.push((name.to_string(), weight));
    }
    if out.is_empty() {
        return Ok(default_resources());
    }
    Ok(out)
}

fn fit_args(args: Option<&Value>) -> Result<NodeResourcesFitScore, String> {
    let m = object(
        "NodeResourcesFit",
        args,
        &[
            "scoringStrategy",
            "ignoredResources",
            "ignoredResourceGroups",
        ],
    )?;
    for k in ["ignoredResources", "ignoredResourceGroups"] {
        if m.get(k)
            .is_some_and(|v| !v.is_null() && v != &Value::Array(vec![]))
        {
            return Err(format!(
                "NodeResourcesFit args: {k} is not supported by kubesim"
            ));
        }
    }
    let Some(ss) = m.get("scoringStrategy").filter(|v| !v.is_null()) else {
        return Ok(NodeResourcesFitScore::default());
    };
    let p = "NodeResourcesFit args: scoringStrategy";
    let Some(ss) = ss.as_object() else {
        return Err(format!("{p} must be an object"));
    };
    for k in ss.keys() {
        if !["type", "resources", "requestedToCapacityRatio"].contains(&k.as_str()) {
            return Err(format!(
                "{p}: unknown field {k:?} (expected type, resources, requestedToCapacityRatio)"
            ));
        }
    }
    let resources = resources(ss.get("resources"), &format!("{p}.resources"))?;
    let ty = match ss.get("type") {
        None | Some(Value::Null) => {
            return Err(format!(
                "{p}.type is required: LeastAllocated, MostAllocated or RequestedToCapacityRatio"
            ))
        }
        Some(t) => string(t, &format!("{p}.type"))?,
    };
    let rtcr = ss.get("requestedToCapacityRatio").filter(|v| !v.is_null());
    let strategy = match ty {
        "LeastAllocated" => FitStrategy::LeastAllocated,
        "MostAllocated" => FitStrategy::MostAllocated,
        "RequestedToCapacityRatio" => {
            let Some(r) = rtcr else {
                return Err(format!(
                    "{p}.requestedToCapacityRatio is required when type is RequestedToCapacityRatio"
                ));
            };
            FitStrategy::RequestedToCapacityRatio {
                shape: shape(r, &format!("{p}.requestedToCapacityRatio"))?,
            }
        }
        other => {
            return Err(format!(
                "{p}.type: unsupported value {other:?}: expected LeastAllocated, MostAllocated or RequestedToCapacityRatio"
            ))
        }
    };
    if rtcr.is_some() && !matches!(strategy, FitStrategy::RequestedToCapacityRatio { .. }) {
        return Err(format!(
            "{p}.requestedToCapacityRatio may only be set when type is RequestedToCapacityRatio"
        ));
    }
    Ok(NodeResourcesFitScore {
        strategy,
        resources,
    })
}

/// `{shape: [{utilization, score}]}`, validated as upstream's `validateFunctionShape`.
fn shape(v: &Value, path: &str) -> Result<Vec<(i64, i64)>, String> {
    let Some(m) = v.as_object() else {
        return Err(format!("{path} must be an object with a shape"));
    };
    for k in m.keys() {
        if k != "shape" {
            return Err(format!("{path}: unknown field {k:?} (expected shape)"));
        }
    }
    let sp = format!("{path}.shape");
    let points = match m.get("shape") {
        None | Some(Value::Null) => &Vec::new(),
        Some(s) => array(s, &sp)?,
    };
    if points.is_empty() {
        return Err(format!("{sp}: at least one point must be specified"));
    }
    let mut out: Vec<(i64, i64)> = Vec::new();
    for (i, pt) in points.iter().enumerate() {
        let pp = format!("{sp}[{i}]");
        let Some(o) = pt.as_object() else {
            return Err(format!("{pp} must be an object with utilization and score"));
        };
        for k in o.keys() {
            if k != "utilization" && k != "score" {
                return Err(format!(
                    "{pp}: unknown field {k:?} (expected utilization, score)"
                ));
            }
        }
        let get = |k: &str| -> Result<i64, String> {
            match o.get(k) {
                None | Some(Value::Null) => Ok(0),
                Some(x) => int(x, &format!("{pp}.{k}")),
            }
        };
        let (u, s) = (get("utilization")?, get("score")?);
        if !(0..=100).contains(&u) {
            return Err(format!("{pp}.utilization: {u} not in valid range [0, 100]"));
        }
        if !(0..=10).contains(&s) {
            return Err(format!("{pp}.score: {s} not in valid range [0, 10]"));
        }
        if let Some(&(prev, _)) = out.last() {
            if prev >= u {
                return Err(format!(
                    "{pp}.utilization: utilization values must be sorted in increasing order"
                ));
            }
        }
        out.push((u, s));
    }
    Ok(out)
}

fn balanced_args(args: Option<&Value>) -> Result<BalancedAllocation, String> {
    let m = object("NodeResourcesBalancedAllocation", args, &["resources"])?;
    Ok(BalancedAllocation::new(resources(
        m.get("resources"),
        "NodeResourcesBalancedAllocation args: resources",
    )?))
}

fn ipa_args(args: Option<&Value>) -> Result<InterPodAffinity, String> {
    let m = object(
        "InterPodAffinity",
        args,
        &[
            "hardPodAffinityWeight",
            "ignorePreferredTermsOfExistingPods",
        ],
    )?;
    let mut p = InterPodAffinity::new();
    if let Some(w) = m.get("hardPodAffinityWeight").filter(|v| !v.is_null()) {
        let w = int(w, "InterPodAffinity args: hardPodAffinityWeight")?;
        if !(0..=100).contains(&w) {
            return Err(format!(
                "InterPodAffinity args: hardPodAffinityWeight: {w} not in valid range [0, 100]"
            ));
        }
        p.hard_pod_affinity_weight = w;
    }
    if let Some(b) = m
        .get("ignorePreferredTermsOfExistingPods")
        .filter(|v| !v.is_null())
    {
        p.ignore_preferred_terms_of_existing_pods = b.as_bool().ok_or_else(|| {
            format!("InterPodAffinity args: ignorePreferredTermsOfExistingPods must be a boolean, got {b}")
        })?;
    }
    Ok(p)
}

fn spread_args(args: Option<&Value>) -> Result<PodTopologySpread, String> {
    let p = "PodTopologySpread args";
    let m = object(
        "PodTopologySpread",
        args,
        &["defaultingType", "defaultConstraints"],
    )?;
    let ty = match m.get("defaultingType").filter(|v| !v.is_null()) {
        None => "System",
        Some(t) => string(t, &format!("{p}: defaultingType"))?,
    };
    let list = match m.get("defaultConstraints").filter(|v| !v.is_null()) {
        None => Vec::new(),
        Some(v) => array(v, &format!("{p}: defaultConstraints"))?.clone(),
    };
    match ty {
        "System" => {
            if !list.is_empty() {
                return Err(format!(
                    "{p}: defaultConstraints: when .defaultingType is \"System\", .defaultConstraints must be empty"
                ));
            }
            Ok(PodTopologySpread::new())
        }
        "List" => {
            let mut out: Vec<TopologySpreadConstraint> = Vec::new();
            for (i, c) in list.iter().enumerate() {
                let c = default_constraint(c, &format!("{p}: defaultConstraints[{i}]"))?;
                if out.iter().any(|o| {
                    o.topology_key == c.topology_key && o.when_unsatisfiable == c.when_unsatisfiable
                }) {
                    return Err(format!(
                        "{p}: defaultConstraints[{i}]: duplicate {{topologyKey {:?}, whenUnsatisfiable {:?}}}",
                        c.topology_key, c.when_unsatisfiable
                    ));
                }
                out.push(c);
            }
            Ok(PodTopologySpread::with_default_constraints(out))
        }
        other => Err(format!(
            "{p}: defaultingType: unsupported value {other:?}: expected \"System\" or \"List\""
        )),
    }
}

fn default_constraint(v: &Value, path: &str) -> Result<TopologySpreadConstraint, String> {
    let Some(m) = v.as_object() else {
        return Err(format!("{path} must be an object"));
    };
    const FIELDS: &[&str] = &[
        "maxSkew",
        "topologyKey",
        "whenUnsatisfiable",
        "labelSelector",
        "minDomains",
        "nodeAffinityPolicy",
        "nodeTaintsPolicy",
        "matchLabelKeys",
    ];
    for k in m.keys() {
        if !FIELDS.contains(&k.as_str()) {
            return Err(format!("{path}: unknown field {k:?}"));
        }
    }
    if m.get("labelSelector").is_some_and(|v| !v.is_null()) {
        return Err(format!(
            "{path}.labelSelector: constraint must not define a selector, as they deduced for each pod"
        ));
    }
    let max_skew = int(
        m.get("maxSkew").unwrap_or(&Value::Null),
        &format!("{path}.maxSkew"),
    )?;
    if max_skew <= 0 || max_skew > i32::MAX as i64 {
        return Err(format!(
            "{path}.maxSkew: must be greater than zero, got {max_skew}"
        ));
    }
    let topology_key = string(
        m.get("topologyKey").unwrap_or(&Value::Null),
        &format!("{path}.topologyKey"),
    )?;
    if topology_key.is_empty() {
        return Err(format!("{path}.topologyKey: can not be empty"));
    }
    validate_label_key(topology_key).map_err(|e| format!("{path}.topologyKey: {e}"))?;
    let when = match string(
        m.get("whenUnsatisfiable").unwrap_or(&Value::Null),
        &format!("{path}.whenUnsatisfiable"),
    )? {
        "DoNotSchedule" => WhenUnsatisfiable::DoNotSchedule,
        "ScheduleAnyway" => WhenUnsatisfiable::ScheduleAnyway,
        o => {
            return Err(format!(
                "{path}.whenUnsatisfiable: unsupported value {o:?}: expected DoNotSchedule or ScheduleAnyway"
            ))
        }
    };
    let min_domains = match m.get("minDomains").filter(|v| !v.is_null()) {
        None => None,
        Some(v) => {
            let d = int(v, &format!("{path}.minDomains"))?;
            if d <= 0 || d > i32::MAX as i64 {
                return Err(format!("{path}.minDomains: must be greater than 0"));
            }
            if when != WhenUnsatisfiable::DoNotSchedule {
                return Err(format!(
                    "{path}.minDomains: can only use minDomains if whenUnsatisfiable=DoNotSchedule"
                ));
            }
            Some(d as i32)
        }
    };
    let policy = |k: &str, default: bool| -> Result<bool, String> {
        match m.get(k).filter(|v| !v.is_null()) {
            None => Ok(default),
            Some(v) => match string(v, &format!("{path}.{k}"))? {
                "Honor" => Ok(true),
                "Ignore" => Ok(false),
                o => Err(format!(
                    "{path}.{k}: unsupported value {o:?}: expected Honor or Ignore"
                )),
            },
        }
    };
    let match_label_keys = match m.get("matchLabelKeys").filter(|v| !v.is_null()) {
        None => Vec::new(),
        Some(v) => array(v, &format!("{path}.matchLabelKeys"))?
            .iter()
            .enumerate()
            .map(|(i, k)| string(k, &format!("{path}.matchLabelKeys[{i}]")).map(String::from))
            .collect::<Result<_, _>>()?,
    };
    Ok(TopologySpreadConstraint {
        max_skew: max_skew as i32,
        topology_key: topology_key.into(),
        when_unsatisfiable: when,
        label_selector: None,
        min_domains,
        node_affinity_honor: policy("nodeAffinityPolicy", true)?,
        node_taints_honor: policy("nodeTaintsPolicy", false)?,
        match_label_keys,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_listed_plugin_builds_with_default_args() {
        for n in FILTER_PLUGINS {
            let p = filter_plugin(n).unwrap_or_else(|| panic!("{n}"));
            assert_eq!(p.name(), *n);
        }
        for n in SCORE_PLUGINS {
            let p = score_plugin(n, None).unwrap().unwrap();
            assert_eq!(p.name(), *n);
            assert!(default_weight(n).is_some());
        }
        assert!(score_plugin("NodePorts", None).unwrap().is_none());
        assert!(score_plugin("Nope", None)
            .err()
            .unwrap()
            .contains("unknown scheduler plugin"));
        assert!(filter_plugin("ImageLocality").is_none());
    }

    #[test]
    fn fit_args() {
        let a = json!({"kind": "NodeResourcesFitArgs", "scoringStrategy": {"type": "RequestedToCapacityRatio",
            "resources": [{"name": "cpu", "weight": 2}, {"name": "nvidia.com/gpu"}],
            "requestedToCapacityRatio": {"shape": [{"utilization": 0, "score": 0}, {"utilization": 100, "score": 10}]}}});
        let f = super::fit_args(Some(&a)).unwrap();
        assert_eq!(
            f,
            NodeResourcesFitScore {
                strategy: FitStrategy::RequestedToCapacityRatio {
                    shape: vec![(0, 0), (100, 10)]
                },
                resources: vec![("cpu".into(), 2), ("nvidia.com/gpu".into(), 1)],
            }
        );
        let most =
            super::fit_args(Some(&json!({"scoringStrategy": {"type": "MostAllocated"}}))).unwrap();
        assert_eq!(most.resources, default_resources());
        let bad = |v: Value| super::fit_args(Some(&v)).unwrap_err();
        assert!(bad(json!({"scoringStrategy": {"type": "Best"}}))
            .contains("unsupported value \"Best\""));
        assert!(bad(json!({"scoringStrategy": {}})).contains("type is required"));
        assert!(
            bad(json!({"scoringStrategy": {"type": "RequestedToCapacityRatio"}}))
                .contains("is required")
        );
        assert!(bad(json!({"scoringStrategy": {"type": "RequestedToCapacityRatio", "requestedToCapacityRatio": {"shape": []}}}))
            .contains("at least one point"));
        assert!(bad(json!({"scoringStrategy": {"type": "RequestedToCapacityRatio", "requestedToCapacityRatio": {"shape": [{"utilization": 50, "score": 1}, {"utilization": 50, "score": 2}]}}}))
            .contains("increasing order"));
        assert!(bad(json!({"scoringStrategy": {"type": "RequestedToCapacityRatio", "requestedToCapacityRatio": {"shape": [{"utilization": 50, "score": 11}]}}}))
            .contains("[0, 10]"));
        assert!(bad(json!({"scoringStrategy": {"type": "LeastAllocated", "resources": [{"name": "cpu", "weight": 101}]}}))
            .contains("[1, 100]"));
        assert!(
            bad(json!({"scoringStrategy": {"type": "LeastAllocated"}, "extra": 1}))
                .contains("\"extra\"")
        );
        assert!(bad(json!({"kind": "OtherArgs"})).contains("kind must be"));
    }

    #[test]
    fn spread_and_affinity_args() {
        let s = super::spread_args(Some(&json!({"defaultingType": "List", "defaultConstraints": [
            {"maxSkew": 1, "topologyKey": "topology.kubernetes.io/zone", "whenUnsatisfiable": "DoNotSchedule"}]}))).unwrap();
        assert!(!s.system_defaulted);
        assert_eq!(s.default_constraints.len(), 1);
        assert_eq!(super::spread_args(None).unwrap(), PodTopologySpread::new());
        let bad = |v: Value| super::spread_args(Some(&v)).unwrap_err();
        assert!(bad(json!({"defaultConstraints": [{"maxSkew": 1, "topologyKey": "k", "whenUnsatisfiable": "DoNotSchedule"}]}))
            .contains("must be empty"));
        assert!(bad(json!({"defaultingType": "List", "defaultConstraints": [{"maxSkew": 0, "topologyKey": "k", "whenUnsatisfiable": "DoNotSchedule"}]}))
            .contains("greater than zero"));
        assert!(bad(json!({"defaultingType": "List", "defaultConstraints": [{"maxSkew": 1, "topologyKey": "k", "whenUnsatisfiable": "DoNotSchedule", "labelSelector": {}}]}))
            .contains("must not define a selector"));
        assert!(bad(json!({"defaultingType": "List", "defaultConstraints": [
            {"maxSkew": 1, "topologyKey": "k", "whenUnsatisfiable": "DoNotSchedule"},
            {"maxSkew": 2, "topologyKey": "k", "whenUnsatisfiable": "DoNotSchedule"}]}))
        .contains("duplicate"));
        assert!(bad(json!({"defaultingType": "Sometimes"})).contains("unsupported value"));

        let i = super::ipa_args(Some(&json!({"hardPodAffinityWeight": 5}))).unwrap();
        assert_eq!(i.hard_pod_affinity_weight, 5);
        assert!(
            super::ipa_args(Some(&json!({"hardPodAffinityWeight": 101})))
                .unwrap_err()
                .contains("[0, 100]")
        );
        assert!(no_args("ImageLocality", Some(&json!({"x": 1})))
            .unwrap_err()
            .contains("takes no args"));
        let b = super::balanced_args(Some(&json!({"resources": [{"name": "cpu", "weight": 1}, {"name": "memory", "weight": 1}, {"name": "nvidia.com/gpu", "weight": 1}]}))).unwrap();
        assert_eq!(b.resources.len(), 3);
    }
}
