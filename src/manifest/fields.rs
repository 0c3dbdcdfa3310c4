//! Which manifest fields kubesim acts on, per kind, and the walk that finds
//! fields Kubernetes does not know at all.

use serde_json::Value as Json;

const META: &[&str] = &[
    "apiVersion",
    "kind",
    "metadata.name",
    "metadata.namespace",
    "metadata.labels",
    "metadata.annotations",
];

const POD_SPEC: &[&str] = &[
    "containers[].name",
    "containers[].image",
    "containers[].imagePullPolicy",
    "containers[].resources.requests",
    "containers[].resources.limits",
    "containers[].ports",
    "containers[].startupProbe",
    "containers[].readinessProbe",
    "containers[].livenessProbe",
    "containers[].env[].valueFrom.configMapKeyRef",
    "containers[].env[].valueFrom.secretKeyRef",
    "containers[].envFrom[].configMapRef",
    "containers[].envFrom[].secretRef",
    "volumes[].name",
    "volumes[].configMap.name",
    "volumes[].configMap.optional",
    "volumes[].configMap.items[].key",
    "volumes[].secret.secretName",
    "volumes[].secret.optional",
    "volumes[].secret.items[].key",
    "volumes[].persistentVolumeClaim",
    "restartPolicy",
    "nodeSelector",
    "tolerations",
    "priority",
    "schedulerName",
    "terminationGracePeriodSeconds",
    "nodeName",
    "priorityClassName",
    "affinity.nodeAffinity",
    "affinity.podAffinity.requiredDuringSchedulingIgnoredDuringExecution[].labelSelector",
    "affinity.podAffinity.requiredDuringSchedulingIgnoredDuringExecution[].namespaces",
    "affinity.podAffinity.requiredDuringSchedulingIgnoredDuringExecution[].namespaceSelector",
    "affinity.podAffinity.requiredDuringSchedulingIgnoredDuringExecution[].topologyKey",
    "affinity.podAffinity.preferredDuringSchedulingIgnoredDuringExecution[].weight",
    "affinity.podAffinity.preferredDuringSchedulingIgnoredDuringExecution[].podAffinityTerm.labelSelector",
    "affinity.podAffinity.preferredDuringSchedulingIgnoredDuringExecution[].podAffinityTerm.namespaces",
    "affinity.podAffinity.preferredDuringSchedulingIgnoredDuringExecution[].podAffinityTerm.namespaceSelector",
    "affinity.podAffinity.preferredDuringSchedulingIgnoredDuringExecution[].podAffinityTerm.topologyKey",
    "affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[].labelSelector",
    "affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[].namespaces",
    "affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[].namespaceSelector",
    "affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[].topologyKey",
    "affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[].weight",
    "affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[].podAffinityTerm.labelSelector",
    "affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[].podAffinityTerm.namespaces",
    "affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[].podAffinityTerm.namespaceSelector",
    "affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[].podAffinityTerm.topologyKey",
    "topologySpreadConstraints",
];

const TEMPLATE_META: &[&str] = &[
    "spec.template.metadata.labels",
    "spec.template.metadata.annotations",
];

/// Field paths (indices written `[]`) that kubesim simulates for `kind`.
pub fn modelled(kind: &str) -> Vec<String> {
    let mut v: Vec<String> = META.iter().map(|s| s.to_string()).collect();
    let pod_spec = |prefix: &'static str| POD_SPEC.iter().map(move |s| format!("{prefix}{s}"));
    match kind {
        "Pod" => v.extend(pod_spec("spec.")),
        "ReplicationController" => {
            v.extend(TEMPLATE_META.iter().map(|s| s.to_string()));
            v.extend(pod_spec("spec.template.spec."));
            v.extend(
                ["spec.replicas", "spec.selector", "spec.minReadySeconds"]
                    .iter()
                    .map(|s| s.to_string()),
            );
        }
        "StatefulSet" | "DaemonSet" => {
            v.extend(TEMPLATE_META.iter().map(|s| s.to_string()));
            v.extend(pod_spec("spec.template.spec."));
            v.extend(
                [
                    "spec.selector",
                    "spec.minReadySeconds",
                    "spec.updateStrategy",
                    "spec.revisionHistoryLimit",
                ]
                .iter()
                .map(|s| s.to_string()),
            );
            if kind == "StatefulSet" {
                v.extend(
                    [
                        "spec.replicas",
                        "spec.serviceName",
                        "spec.podManagementPolicy",
                        "spec.ordinals",
                        "spec.persistentVolumeClaimRetentionPolicy",
                        "spec.volumeClaimTemplates[].metadata.name",
                        "spec.volumeClaimTemplates[].metadata.labels",
                        "spec.volumeClaimTemplates[].metadata.annotations",
                        "spec.volumeClaimTemplates[].spec.accessModes",
                        "spec.volumeClaimTemplates[].spec.resources.requests",
                        "spec.volumeClaimTemplates[].spec.storageClassName",
                    ]
                    .iter()
                    .map(|s| s.to_string()),
                );
            }
        }
        "CronJob" => {
            v.extend(
                [
                    "spec.schedule",
                    "spec.timeZone",
                    "spec.concurrencyPolicy",
                    "spec.startingDeadlineSeconds",
                    "spec.suspend",
                    "spec.successfulJobsHistoryLimit",
                    "spec.failedJobsHistoryLimit",
                    "spec.jobTemplate.metadata.labels",
                    "spec.jobTemplate.metadata.annotations",
                    "spec.jobTemplate.spec.template.metadata.labels",
                    "spec.jobTemplate.spec.template.metadata.annotations",
                    "spec.jobTemplate.spec.parallelism",
                    "spec.jobTemplate.spec.completions",
                    "spec.jobTemplate.spec.backoffLimit",
                    "spec.jobTemplate.spec.activeDeadlineSeconds",
                    "spec.jobTemplate.spec.selector",
                    "spec.jobTemplate.spec.manualSelector",
                    "spec.jobTemplate.spec.suspend",
                ]
                .iter()
                .map(|s| s.to_string()),
            );
            v.extend(pod_spec("spec.jobTemplate.spec.template.spec."));
        }
        "ReplicaSet" | "Deployment" => {
            v.extend(TEMPLATE_META.iter().map(|s| s.to_string()));
            v.extend(pod_spec("spec.template.spec."));
            v.extend(
                ["spec.replicas", "spec.selector", "spec.minReadySeconds"]
                    .iter()
                    .map(|s| s.to_string()),
            );
            if kind == "Deployment" {
                v.extend(
                    [
                        "spec.strategy",
                        "spec.revisionHistoryLimit",
                        "spec.progressDeadlineSeconds",
                        "spec.paused",
                    ]
                    .iter()
                    .map(|s| s.to_string()),
                );
            }
        }
        "Node" => v.extend(
            [
                "spec.unschedulable",
                "spec.taints",
                "status.capacity",
                "status.allocatable",
                "status.images",
            ]
            .iter()
            .map(|s| s.to_string()),
        ),
        "Job" => {
            v.extend(TEMPLATE_META.iter().map(|s| s.to_string()));
            v.extend(pod_spec("spec.template.spec."));
            v.extend(
                [
                    "spec.parallelism",
                    "spec.completions",
                    "spec.backoffLimit",
                    "spec.activeDeadlineSeconds",
                    "spec.selector",
                    "spec.manualSelector",
                    "spec.suspend",
                ]
                .iter()
                .map(|s| s.to_string()),
            );
        }
        "PriorityClass" => v.extend(
            ["value", "globalDefault", "preemptionPolicy", "description"]
                .iter()
                .map(|s| s.to_string()),
        ),
        "Ingress" => v.extend(
            [
                "spec.ingressClassName",
                "spec.defaultBackend.service",
                "spec.rules[].host",
                "spec.rules[].http.paths[].path",
                "spec.rules[].http.paths[].pathType",
                "spec.rules[].http.paths[].backend.service",
                "spec.tls",
            ]
            .iter()
            .map(|s| s.to_string()),
        ),
        "IngressClass" => v.extend(["spec.controller"].iter().map(|s| s.to_string())),
        "PodDisruptionBudget" => v.extend(
            [
                "spec.selector",
                "spec.minAvailable",
                "spec.maxUnavailable",
                "spec.unhealthyPodEvictionPolicy",
            ]
            .iter()
            .map(|s| s.to_string()),
        ),
        "VerticalPodAutoscaler" => v.extend(
            [
                "apiVersion",
                "kind",
                "spec.targetRef",
                "spec.updatePolicy.updateMode",
            ]
            .iter()
            .map(|s| s.to_string()),
        ),
        "HorizontalPodAutoscaler" => v.extend(
            [
                "spec.scaleTargetRef",
                "spec.minReplicas",
                "spec.maxReplicas",
                "spec.metrics[].type",
                "spec.metrics[].resource",
                "spec.metrics[].pods.metric.name",
                "spec.metrics[].pods.target",
                "spec.metrics[].object.metric.name",
                "spec.metrics[].object.describedObject",
                "spec.metrics[].object.target",
                "spec.behavior",
            ]
            .iter()
            .map(|s| s.to_string()),
        ),
        "ConfigMap" => v.extend(
            ["data", "binaryData", "immutable"]
                .iter()
                .map(|s| s.to_string()),
        ),
        "Secret" => v.extend(
            ["type", "data", "stringData", "immutable"]
                .iter()
                .map(|s| s.to_string()),
        ),
        "StorageClass" => v.extend(
            [
                "provisioner",
                "volumeBindingMode",
                "reclaimPolicy",
                "allowedTopologies",
            ]
            .iter()
            .map(|s| s.to_string()),
        ),
        "PersistentVolume" => v.extend(
            [
                "spec.capacity.storage",
                "spec.accessModes",
                "spec.nodeAffinity",
                "spec.claimRef.name",
                "spec.claimRef.namespace",
                "spec.persistentVolumeReclaimPolicy",
                "spec.storageClassName",
            ]
            .iter()
            .map(|s| s.to_string()),
        ),
        "PersistentVolumeClaim" => v.extend(
            [
                "spec.accessModes",
                "spec.resources.requests.storage",
                "spec.storageClassName",
                "spec.volumeName",
            ]
            .iter()
            .map(|s| s.to_string()),
        ),
        "Service" => v.extend(
            ["spec.type", "spec.selector", "spec.ports", "spec.clusterIP"]
                .iter()
                .map(|s| s.to_string()),
        ),
        _ => {}
    }
    v
}

/// Every leaf path of `v`, with sequence indices written `[]`.
fn leaves(v: &Json, path: &str, out: &mut Vec<String>) {
    match v {
        Json::Object(m) if !m.is_empty() => {
            for (k, x) in m {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                leaves(x, &p, out);
            }
        }
        Json::Array(a) if !a.is_empty() => {
            for x in a {
                leaves(x, &format!("{path}[]"), out);
            }
        }
        _ => out.push(path.to_string()),
    }
}

fn covered(path: &str, patterns: &[String]) -> bool {
    patterns.iter().any(|p| {
        path == p
            || (path.starts_with(p.as_str())
                && matches!(path.as_bytes().get(p.len()), Some(b'.') | Some(b'[')))
    })
}

/// Fields set in `raw` that kubesim does not simulate for `kind`, deduplicated,
/// in document order of first appearance.
pub fn unmodelled(kind: &str, raw: &Json) -> Vec<String> {
    let patterns = modelled(kind);
    let mut all = Vec::new();
    leaves(raw, "", &mut all);
    let mut out: Vec<String> = Vec::new();
    for p in all {
        if !covered(&p, &patterns) {
            // report at a readable depth: the first level below the modelled parent
            if !out.contains(&p) {
                out.push(p);
            }
        }
    }
    out
}

/// Keys present in `raw` that do not survive a round trip through the upstream
/// type: fields Kubernetes itself does not know. Paths use real indices.
pub fn unknown_fields(raw: &Json, round: &Json, path: &str, out: &mut Vec<String>) {
    match (raw, round) {
        (Json::Object(a), Json::Object(b)) => {
            for (k, v) in a {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                match b.get(k) {
                    Some(w) => unknown_fields(v, w, &p, out),
                    None if v.is_null() => {}
                    None => out.push(p),
                }
            }
        }
        (Json::Array(a), Json::Array(b)) => {
            for (i, (v, w)) in a.iter().zip(b).enumerate() {
                unknown_fields(v, w, &format!("{path}[{i}]"), out);
            }
        }
        _ => {}
    }
}

/// Field names common in manifests, for "did you mean" hints on unknown fields.
pub const COMMON_FIELDS: &[&str] = &[
    "apiVersion",
    "kind",
    "metadata",
    "spec",
    "status",
    "name",
    "namespace",
    "labels",
    "annotations",
    "replicas",
    "selector",
    "matchLabels",
    "matchExpressions",
    "template",
    "containers",
    "initContainers",
    "image",
    "imagePullPolicy",
    "ports",
    "containerPort",
    "protocol",
    "resources",
    "requests",
    "limits",
    "env",
    "envFrom",
    "value",
    "valueFrom",
    "volumeMounts",
    "volumes",
    "mountPath",
    "command",
    "args",
    "nodeSelector",
    "tolerations",
    "affinity",
    "nodeName",
    "schedulerName",
    "priority",
    "priorityClassName",
    "restartPolicy",
    "terminationGracePeriodSeconds",
    "strategy",
    "type",
    "rollingUpdate",
    "maxSurge",
    "maxUnavailable",
    "minReadySeconds",
    "revisionHistoryLimit",
    "progressDeadlineSeconds",
    "paused",
    "readinessProbe",
    "livenessProbe",
    "startupProbe",
    "httpGet",
    "path",
    "port",
    "targetPort",
    "nodePort",
    "clusterIP",
    "externalTrafficPolicy",
    "sessionAffinity",
    "taints",
    "key",
    "operator",
    "values",
    "effect",
    "tolerationSeconds",
    "unschedulable",
    "capacity",
    "allocatable",
    "serviceAccountName",
    "securityContext",
    "workingDir",
    "hostNetwork",
    "dnsPolicy",
    "serviceName",
    "initialDelaySeconds",
    "periodSeconds",
    "timeoutSeconds",
    "failureThreshold",
    "successThreshold",
    "cpu",
    "memory",
];

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn unknown_fields_are_keys_lost_in_the_round_trip() {
        let raw = json!({"spec": {"replcias": 3, "template": {"spec": {"containers": [{"name": "a", "imagee": "x"}]}}}});
        let round = json!({"spec": {"template": {"spec": {"containers": [{"name": "a"}]}}}});
        let mut out = Vec::new();
        unknown_fields(&raw, &round, "", &mut out);
        assert_eq!(
            out,
            vec!["spec.replcias", "spec.template.spec.containers[0].imagee"]
        );
    }

    #[test]
    fn unmodelled_fields_are_listed_with_generic_indices() {
        let raw = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "w"},
            "spec": {"replicas": 1, "template": {"spec": {"containers": [
                {"name": "a", "image": "x", "env": [{"name": "A"}]},
                {"name": "b", "image": "y", "env": [{"name": "B"}]}]}}}});
        assert_eq!(
            unmodelled("Deployment", &raw),
            vec!["spec.template.spec.containers[].env[].name"]
        );
    }
}
