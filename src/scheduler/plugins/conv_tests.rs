//! Manifest conversion of the fields these plugins read (affinity, topology spread,
//! priorityClassName): values, defaults and error paths.

use crate::api::affinity::{NodeSelectorOperator, WhenUnsatisfiable};
use crate::api::AnyObject;
use crate::diag::Loc;
use crate::manifest::convert::{convert, Converted};
use crate::manifest::parse_yaml_text;
use std::path::Path;

type Loaded = Result<(crate::api::Pod, Vec<String>), Vec<(String, String)>>;

fn load(yaml: &str) -> Loaded {
    let f = parse_yaml_text(Path::new("t.yaml"), yaml).expect("yaml");
    let (v, pos) = &f.docs[0];
    let loc = Loc {
        file: Path::new("t.yaml"),
        pos,
        prefix: "",
    };
    match convert(v, &loc) {
        Ok(Converted::Object(o, warnings)) => match *o {
            AnyObject::Pod(p) => Ok((p, warnings)),
            _ => panic!("not a pod"),
        },
        Ok(_) => panic!("not converted"),
        Err(e) => Err(e.into_iter().map(|d| (d.path, d.message)).collect()),
    }
}

const HEAD: &str = "apiVersion: v1\nkind: Pod\nmetadata: {name: p, labels: {app: web}}\nspec:\n  containers: [{name: c, image: nginx}]\n";

#[test]
fn converts_affinity_and_spread() {
    let (p, warnings) = load(&format!(
        "{HEAD}  priorityClassName: high
  affinity:
    nodeAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
        nodeSelectorTerms:
        - matchExpressions: [{{key: zone, operator: In, values: [a, b]}}]
          matchFields: [{{key: metadata.name, operator: NotIn, values: [n9]}}]
      preferredDuringSchedulingIgnoredDuringExecution:
      - weight: 7
        preference: {{matchExpressions: [{{key: cpu, operator: Gt, values: ['4']}}]}}
    podAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
      - labelSelector: {{matchLabels: {{app: db}}}}
        topologyKey: topology.kubernetes.io/zone
    podAntiAffinity:
      preferredDuringSchedulingIgnoredDuringExecution:
      - weight: 100
        podAffinityTerm:
          labelSelector: {{matchExpressions: [{{key: app, operator: In, values: [web]}}]}}
          namespaces: [other]
          namespaceSelector: {{}}
          topologyKey: kubernetes.io/hostname
  topologySpreadConstraints:
  - maxSkew: 2
    topologyKey: topology.kubernetes.io/zone
    whenUnsatisfiable: DoNotSchedule
    minDomains: 3
    labelSelector: {{matchLabels: {{app: web}}}}
    matchLabelKeys: [pod-template-hash]
  - maxSkew: 1
    topologyKey: kubernetes.io/hostname
    whenUnsatisfiable: ScheduleAnyway
    nodeAffinityPolicy: Ignore
    nodeTaintsPolicy: Honor
"
    ))
    .unwrap();
    assert!(warnings.is_empty(), "{warnings:?}");
    let s = &p.spec;
    assert_eq!(s.priority_class_name.as_deref(), Some("high"));
    let req = s.affinity.node.required.as_ref().unwrap();
    assert_eq!(req[0].match_expressions[0].values, vec!["a", "b"]);
    assert_eq!(req[0].match_fields[0].operator, NodeSelectorOperator::NotIn);
    assert_eq!(s.affinity.node.preferred[0].0, 7);
    assert_eq!(
        s.affinity.pod.required[0].topology_key,
        "topology.kubernetes.io/zone"
    );
    let (w, t) = &s.affinity.anti.preferred[0];
    assert_eq!((*w, t.namespaces.clone()), (100, vec!["other".to_string()]));
    assert!(t.namespace_selector.as_ref().unwrap().is_empty());
    let c = &s.topology_spread;
    assert_eq!(c[0].max_skew, 2);
    assert_eq!(c[0].min_domains, Some(3));
    assert!(c[0].node_affinity_honor && !c[0].node_taints_honor);
    assert_eq!(c[0].match_label_keys, vec!["pod-template-hash"]);
    assert_eq!(c[1].when_unsatisfiable, WhenUnsatisfiable::ScheduleAnyway);
    assert!(!c[1].node_affinity_honor && c[1].node_taints_honor);
}

#[test]
fn pod_affinity_match_label_keys_are_reported_unmodelled() {
    let (_, warnings) = load(&format!(
        "{HEAD}  affinity:
    podAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
      - labelSelector: {{matchLabels: {{app: db}}}}
        matchLabelKeys: [x]
        topologyKey: zone
"
    ))
    .unwrap();
    assert_eq!(warnings.len(), 1);
    assert!(warnings[0].contains("matchLabelKeys"), "{warnings:?}");
}

fn errors(spec_tail: &str) -> Vec<(String, String)> {
    load(&format!("{HEAD}{spec_tail}")).unwrap_err()
}

#[test]
fn bad_values_are_errors_at_their_paths() {
    let e = errors("  affinity:\n    nodeAffinity:\n      requiredDuringSchedulingIgnoredDuringExecution:\n        nodeSelectorTerms: []\n");
    assert_eq!(e[0].0, "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms");
    let e = errors("  affinity:\n    nodeAffinity:\n      requiredDuringSchedulingIgnoredDuringExecution:\n        nodeSelectorTerms:\n        - matchExpressions: [{key: k, operator: Like, values: [a]}]\n");
    assert_eq!(e[0].0, "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].operator");
    let e = errors("  affinity:\n    nodeAffinity:\n      requiredDuringSchedulingIgnoredDuringExecution:\n        nodeSelectorTerms:\n        - matchExpressions: [{key: k, operator: Gt, values: [x]}]\n");
    assert_eq!(e[0].0, "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].values[0]");
    let e = errors("  affinity:\n    nodeAffinity:\n      requiredDuringSchedulingIgnoredDuringExecution:\n        nodeSelectorTerms:\n        - matchFields: [{key: metadata.labels, operator: In, values: [x]}]\n");
    assert!(e[0].0.ends_with("matchFields[0].key"), "{e:?}");
    let e = errors("  affinity:\n    nodeAffinity:\n      preferredDuringSchedulingIgnoredDuringExecution:\n      - weight: 0\n        preference: {matchExpressions: [{key: k, operator: Exists}]}\n");
    assert_eq!(
        e[0].0,
        "spec.affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].weight"
    );
    let e = errors("  affinity:\n    podAntiAffinity:\n      requiredDuringSchedulingIgnoredDuringExecution:\n      - labelSelector: {matchLabels: {app: db}}\n        topologyKey: ''\n");
    assert_eq!(e[0].0, "spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].topologyKey");
    let e = errors("  topologySpreadConstraints:\n  - {maxSkew: 0, topologyKey: zone, whenUnsatisfiable: DoNotSchedule}\n");
    assert_eq!(e[0].0, "spec.topologySpreadConstraints[0].maxSkew");
    let e = errors("  topologySpreadConstraints:\n  - {maxSkew: 1, topologyKey: zone, whenUnsatisfiable: Maybe}\n");
    assert_eq!(
        e[0].0,
        "spec.topologySpreadConstraints[0].whenUnsatisfiable"
    );
    let e = errors("  topologySpreadConstraints:\n  - {maxSkew: 1, topologyKey: zone, whenUnsatisfiable: ScheduleAnyway, minDomains: 2}\n");
    assert_eq!(e[0].0, "spec.topologySpreadConstraints[0].minDomains");
    let e = errors("  topologySpreadConstraints:\n  - {maxSkew: 1, topologyKey: zone, whenUnsatisfiable: DoNotSchedule, nodeTaintsPolicy: Sometimes}\n");
    assert_eq!(e[0].0, "spec.topologySpreadConstraints[0].nodeTaintsPolicy");
    let e = errors("  topologySpreadConstraints:\n  - {maxSkew: 1, topologyKey: zone, whenUnsatisfiable: DoNotSchedule}\n  - {maxSkew: 2, topologyKey: zone, whenUnsatisfiable: DoNotSchedule}\n");
    assert_eq!(e[0].0, "spec.topologySpreadConstraints[1]");
    let e = errors("  priorityClassName: Not_Valid\n");
    assert_eq!(e[0].0, "spec.priorityClassName");
}
