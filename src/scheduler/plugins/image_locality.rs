//! ImageLocality: favour nodes that already have the pod's container images.

use crate::scheduler::framework::{
    CycleState, NodeInfo, PodInfo, ScorePlugin, Snapshot, MAX_NODE_SCORE,
};
use std::collections::{BTreeMap, BTreeSet};

const MB: i64 = 1024 * 1024;
/// Sums below this score 0.
pub const MIN_THRESHOLD: i64 = 23 * MB;
/// Per container: sums above `MAX_CONTAINER_THRESHOLD × containers` score 100.
pub const MAX_CONTAINER_THRESHOLD: i64 = 1000 * MB;
const STATE_KEY: &str = "PreScoreImageLocality";

/// The fully qualified reference a container runtime reports for an image name:
/// `nginx` → `docker.io/library/nginx:latest`, `gcr.io/x/y` → `gcr.io/x/y:latest`,
/// `localhost:5000/app:v1` unchanged; digests are kept and get no tag.
///
/// Upstream's `normalizedImageName` only appends `:latest` to untagged names
/// (and documents the registry mismatch as a TODO); kubesim normalizes the
/// registry and `library/` too, on both pod and node image names, so `nginx` in a
/// pod matches `docker.io/library/nginx:latest` in a node's status.
pub fn normalize_image_name(name: &str) -> String {
    let (named, digest) = match name.find('@') {
        Some(i) => (&name[..i], &name[i..]),
        None => (name, ""),
    };
    let last_slash = named.rfind('/');
    let (repo, tag) = match named.rfind(':') {
        Some(c) if last_slash.is_none_or(|s| c > s) => (&named[..c], &named[c..]),
        _ => (named, ""),
    };
    let (domain, path) = match repo.find('/') {
        Some(i) => {
            let first = &repo[..i];
            if first.contains(['.', ':'])
                || first == "localhost"
                || first.chars().any(|c| c.is_ascii_uppercase())
            {
                (first, &repo[i + 1..])
            } else {
                ("docker.io", repo)
            }
        }
        None => ("docker.io", repo),
    };
    let domain = if domain == "index.docker.io" {
        "docker.io"
    } else {
        domain
    };
    let library = if domain == "docker.io" && !path.contains('/') {
        "library/"
    } else {
        ""
    };
    let tag = if tag.is_empty() && digest.is_empty() {
        ":latest"
    } else {
        tag
    };
    format!("{domain}/{library}{path}{tag}{digest}")
}

/// One container's image as PreScore resolved it.
#[derive(Debug, Clone)]
struct ImageSpread {
    /// The node-status names (as the nodes spell them) that normalize to it.
    node_names: Vec<String>,
    /// How many present nodes have it.
    num_nodes: i64,
}

#[derive(Debug, Clone)]
struct ImageState {
    images: Vec<ImageSpread>,
    total_nodes: i64,
    containers: i64,
}

/// ImageLocality score (K8S-FACTS §1): Σ over the pod's containers whose image is
/// on the node of size × (nodes with the image / all nodes), clamped to
/// [23 MiB, 1000 MiB × containers], then 100 × (sum − min) / (max − min).
/// PreScore resolves each image's node spread from the snapshot; Score only does
/// map lookups on the node.
#[derive(Debug, Clone, Copy, Default)]
pub struct ImageLocality;

impl ImageLocality {
    pub fn new() -> Self {
        ImageLocality
    }
}

impl ScorePlugin for ImageLocality {
    fn name(&self) -> &'static str {
        "ImageLocality"
    }
    fn pre_score(
        &self,
        pod: &PodInfo,
        snap: &Snapshot,
        _feasible: &[usize],
        state: &mut CycleState,
    ) -> bool {
        let wanted: Vec<String> = pod
            .spec
            .containers
            .iter()
            .map(|c| normalize_image_name(&c.image))
            .collect();
        let set: BTreeSet<&str> = wanted.iter().map(String::as_str).collect();
        // normalized name → node-status spellings
        let mut spellings: BTreeMap<String, Vec<&String>> = BTreeMap::new();
        for raw in snap.image_nodes.keys() {
            let n = normalize_image_name(raw);
            if set.contains(n.as_str()) {
                spellings.entry(n).or_default().push(raw);
            }
        }
        let images = wanted
            .iter()
            .map(|w| {
                let names: Vec<String> = spellings
                    .get(w)
                    .map(|v| v.iter().map(|s| s.to_string()).collect())
                    .unwrap_or_default();
                let num_nodes = match names.as_slice() {
                    [] => 0,
                    [one] => snap.image_nodes.get(one).copied().unwrap_or(0) as i64,
                    // several spellings: count nodes, not spellings
                    many => snap
                        .present()
                        .filter(|(_, n)| many.iter().any(|m| n.images.contains_key(m)))
                        .count() as i64,
                };
                ImageSpread {
                    node_names: names,
                    num_nodes,
                }
            })
            .collect();
        state.insert(
            STATE_KEY,
            ImageState {
                images,
                total_nodes: snap.node_count as i64,
                containers: pod.spec.containers.len() as i64,
            },
        );
        true
    }
    /// No node has any of the pod's images (nodes report none unless their
    /// manifests list `status.images`): every node scores 0.
    fn uniform(&self, state: &CycleState) -> bool {
        state
            .get::<ImageState>(STATE_KEY)
            .is_none_or(|s| s.images.iter().all(|i| i.num_nodes == 0))
    }
    fn score(&self, _pod: &PodInfo, node: &NodeInfo, state: &CycleState) -> i64 {
        match state.get::<ImageState>(STATE_KEY) {
            Some(s) => score_node(s, node),
            None => 0,
        }
    }
    fn score_all(
        &self,
        _pod: &PodInfo,
        snap: &Snapshot,
        feasible: &[usize],
        state: &CycleState,
        out: &mut Vec<i64>,
    ) {
        match state.get::<ImageState>(STATE_KEY) {
            Some(s) => out.extend(feasible.iter().map(|&i| score_node(s, &snap.nodes[i]))),
            None => out.extend(feasible.iter().map(|_| 0)),
        }
    }
}

/// ImageLocality's score of one node from the PreScore state.
fn score_node(s: &ImageState, node: &NodeInfo) -> i64 {
    let mut sum = 0i64;
    if s.total_nodes > 0 && !node.images.is_empty() {
        for img in &s.images {
            if let Some(size) = img.node_names.iter().find_map(|n| node.images.get(n)) {
                let spread = img.num_nodes as f64 / s.total_nodes as f64;
                sum += (*size as f64 * spread) as i64;
            }
        }
    }
    calculate_priority(sum, s.containers)
}

/// `calculatePriority`.
pub fn calculate_priority(sum: i64, containers: i64) -> i64 {
    let max = MAX_CONTAINER_THRESHOLD * containers;
    let sum = if sum < MIN_THRESHOLD {
        MIN_THRESHOLD
    } else if sum > max {
        max
    } else {
        sum
    };
    MAX_NODE_SCORE * (sum - MIN_THRESHOLD) / (max - MIN_THRESHOLD)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scheduler::plugins::testutil::*;

    #[test]
    fn normalization() {
        assert_eq!(
            normalize_image_name("nginx"),
            "docker.io/library/nginx:latest"
        );
        assert_eq!(
            normalize_image_name("nginx:1.25"),
            "docker.io/library/nginx:1.25"
        );
        assert_eq!(
            normalize_image_name("library/nginx"),
            "docker.io/library/nginx:latest"
        );
        assert_eq!(
            normalize_image_name("docker.io/nginx"),
            "docker.io/library/nginx:latest"
        );
        assert_eq!(
            normalize_image_name("index.docker.io/library/nginx:latest"),
            "docker.io/library/nginx:latest"
        );
        assert_eq!(
            normalize_image_name("bitnami/redis:7"),
            "docker.io/bitnami/redis:7"
        );
        assert_eq!(normalize_image_name("gcr.io/40"), "gcr.io/40:latest");
        assert_eq!(
            normalize_image_name("localhost:5000/app"),
            "localhost:5000/app:latest"
        );
        assert_eq!(
            normalize_image_name("localhost:5000/app:v1"),
            "localhost:5000/app:v1"
        );
        assert_eq!(
            normalize_image_name("localhost/app"),
            "localhost/app:latest"
        );
        assert_eq!(
            normalize_image_name("nginx@sha256:abc"),
            "docker.io/library/nginx@sha256:abc"
        );
        assert_eq!(
            normalize_image_name("nginx:1.25@sha256:abc"),
            "docker.io/library/nginx:1.25@sha256:abc"
        );
    }

    fn image_node(name: &str, images: &[(&[&str], i64)]) -> crate::scheduler::framework::NodeInfo {
        let mut n = node(name, &[]);
        for (names, size) in images {
            for img in *names {
                n.images.insert(img.to_string(), size * MB);
            }
        }
        n
    }

    fn image_pod(images: &[&str]) -> crate::api::Pod {
        with_spec(pod("p", &[]), |s| {
            s.containers = images
                .iter()
                .enumerate()
                .map(|(i, img)| container(&format!("c{i}"), img))
                .collect();
        })
    }

    /// With none of the pod's images on any node every node scores 0, and the
    /// plugin says so (the cycle then leaves it out); one node holding one is
    /// enough to make it count.
    #[test]
    fn uniform_only_when_no_node_has_the_images() {
        let uniform = |nodes: Vec<crate::scheduler::framework::NodeInfo>, img: &str| {
            let c = Cluster::new(nodes);
            let pod = image_pod(&[img]);
            let info = crate::scheduler::framework::PodInfo::new(&pod);
            let mut st = CycleState::default();
            assert!(ImageLocality.pre_score(&info, &c.snap(), &[0, 1], &mut st));
            c.score(&ImageLocality, &image_pod(&[img])).unwrap(); // checks the claim
            ImageLocality.uniform(&st)
        };
        let bare = || vec![image_node("a", &[]), image_node("b", &[])];
        assert!(uniform(bare(), "gcr.io/300"));
        let one = vec![
            image_node("a", &[(&["gcr.io/300:latest"], 300)]),
            image_node("b", &[]),
        ];
        assert!(!uniform(one, "gcr.io/300"));
        let other = vec![
            image_node("a", &[(&["gcr.io/300:latest"], 300)]),
            image_node("b", &[]),
        ];
        assert!(uniform(other, "gcr.io/40"));
    }

    /// image_locality_test.go TestImageLocalityPriority (current upstream, with the
    /// per-container max threshold); expected numbers computed by hand below.
    #[test]
    fn upstream_golden() {
        let n1 = || {
            image_node(
                "machine1",
                &[
                    (&["gcr.io/40:latest", "gcr.io/40:v1", "gcr.io/40:v1"], 40),
                    (&["gcr.io/300:latest", "gcr.io/300:v1"], 300),
                    (&["gcr.io/2000:latest"], 2000),
                ],
            )
        };
        let n2 = || {
            image_node(
                "machine2",
                &[
                    (&["gcr.io/250:latest"], 250),
                    (&["gcr.io/10:latest", "gcr.io/10:v1"], 10),
                ],
            )
        };
        let c = Cluster::new(vec![n1(), n2()]);
        // machine1: 40M × 1/2 = 20M < 23M → 0
        // machine2: 250M × 1/2 = 125M → 100 × (125M − 23M) / (2000M − 23M) = 5
        let (raw, _) = c
            .score(&ImageLocality, &image_pod(&["gcr.io/40", "gcr.io/250"]))
            .unwrap();
        assert_eq!(raw, vec![0, 5]);
        // machine1: (40M + 300M) / 2 = 170M → 100 × 147M / 1977M = 7
        let (raw, _) = c
            .score(&ImageLocality, &image_pod(&["gcr.io/40", "gcr.io/300"]))
            .unwrap();
        assert_eq!(raw, vec![7, 0]);
        // machine1: 2000M / 2 = 1000M → 100 × 977M / 1977M = 49
        let (raw, _) = c
            .score(&ImageLocality, &image_pod(&["gcr.io/10", "gcr.io/2000"]))
            .unwrap();
        assert_eq!(raw, vec![49, 0]);
        // three nodes: 2000M / 3 = 666.67M → 100 × 643.67M / 1977M = 32
        let c3 = Cluster::new(vec![n1(), n2(), image_node("machine3", &[])]);
        let (raw, _) = c3
            .score(&ImageLocality, &image_pod(&["gcr.io/10", "gcr.io/2000"]))
            .unwrap();
        assert_eq!(raw, vec![32, 0, 0]);
    }

    #[test]
    fn short_names_match_fully_qualified_node_images() {
        let c = Cluster::new(vec![
            image_node("a", &[(&["docker.io/library/nginx:latest"], 500)]),
            image_node("b", &[]),
        ]);
        // 500M × 1/2 = 250M, one container: 100 × (250 − 23) / (1000 − 23) = 23
        let (raw, _) = c.score(&ImageLocality, &image_pod(&["nginx"])).unwrap();
        assert_eq!(raw, vec![23, 0]);
        // a node listing two spellings of one image counts once
        let c = Cluster::new(vec![
            image_node(
                "a",
                &[(&["nginx:latest", "docker.io/library/nginx:latest"], 500)],
            ),
            image_node("b", &[]),
        ]);
        let (raw, _) = c.score(&ImageLocality, &image_pod(&["nginx"])).unwrap();
        assert_eq!(raw, vec![23, 0]);
    }
}
