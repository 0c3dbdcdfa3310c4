//! Ingress and IngressClass, as `networking.k8s.io/v1`: HTTP routing by host
//! and path to a Service port, done by an ingress controller.
//!
//! Matching follows the Ingress spec: a rule's `host` is exact or a one-label
//! wildcard (`*.example.com`); a rule without a host takes every host. Paths:
//! `Exact` matches the whole path, `Prefix` matches whole `/`-separated
//! elements (`/foo` takes `/foo` and `/foo/bar`, not `/foobar`);
//! `ImplementationSpecific` is treated as `Prefix`. The longest matching path
//! wins, `Exact` before `Prefix` at equal length; with no match the default
//! backend answers, and without one the controller answers 404.

use super::meta::ObjectMeta;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathType {
    Exact,
    Prefix,
}

/// `backend.service`: a Service and its port (a number or a port name).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IngressBackend {
    pub service: String,
    pub port: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IngressPath {
    pub path: String,
    pub path_type: PathType,
    pub backend: IngressBackend,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IngressRule {
    pub host: Option<String>,
    pub paths: Vec<IngressPath>,
}

/// `spec.tls[]`: TLS is terminated at the ingress controller for these hosts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IngressTls {
    pub hosts: Vec<String>,
    pub secret_name: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Ingress {
    pub meta: ObjectMeta,
    pub class_name: Option<String>,
    pub default_backend: Option<IngressBackend>,
    pub rules: Vec<IngressRule>,
    pub tls: Vec<IngressTls>,
}

/// `networking.k8s.io/v1` IngressClass: names the controller.
#[derive(Debug, Clone, PartialEq)]
pub struct IngressClass {
    pub meta: ObjectMeta,
    pub controller: String,
}

fn host_matches(rule: &str, host: &str) -> bool {
    match rule.strip_prefix("*.") {
        // one label only: `*.foo.com` takes `bar.foo.com`, not `foo.com` or `a.b.foo.com`
        Some(rest) => host
            .split_once('.')
            .is_some_and(|(first, tail)| !first.is_empty() && tail == rest),
        None => rule == host,
    }
}

fn prefix_matches(prefix: &str, path: &str) -> bool {
    let want: Vec<&str> = prefix.split('/').filter(|s| !s.is_empty()).collect();
    let got: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    got.len() >= want.len() && want.iter().zip(&got).all(|(a, b)| a == b)
}

impl Ingress {
    /// The backend a request for `host` and `path` goes to, or `None` (404).
    pub fn route(&self, host: &str, path: &str) -> Option<&IngressBackend> {
        // rank: (host specificity, path length, exact)
        let mut best: Option<((u8, usize, bool), &IngressBackend)> = None;
        for r in &self.rules {
            let host_rank = match &r.host {
                None => 0,
                Some(h) if h.starts_with("*.") && host_matches(h, host) => 1,
                Some(h) if h == host => 2,
                Some(_) => continue,
            };
            for p in &r.paths {
                let hit = match p.path_type {
                    PathType::Exact => p.path == path,
                    PathType::Prefix => prefix_matches(&p.path, path),
                };
                if !hit {
                    continue;
                }
                let rank = (host_rank, p.path.len(), p.path_type == PathType::Exact);
                if best.as_ref().is_none_or(|(b, _)| rank > *b) {
                    best = Some((rank, &p.backend));
                }
            }
        }
        best.map(|(_, b)| b).or(self.default_backend.as_ref())
    }

    /// Whether TLS is terminated at the ingress for `host`.
    pub fn terminates_tls(&self, host: &str) -> bool {
        self.tls
            .iter()
            .any(|t| t.hosts.iter().any(|h| host_matches(h, host)) || t.hosts.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn backend(s: &str) -> IngressBackend {
        IngressBackend {
            service: s.into(),
            port: "80".into(),
        }
    }

    fn ing() -> Ingress {
        let p = |path: &str, t, s| IngressPath {
            path: path.into(),
            path_type: t,
            backend: backend(s),
        };
        Ingress {
            meta: ObjectMeta::new("default", "shop"),
            class_name: Some("nginx".into()),
            default_backend: None,
            rules: vec![
                IngressRule {
                    host: Some("shop.example.com".into()),
                    paths: vec![
                        p("/", PathType::Prefix, "web"),
                        p("/cart", PathType::Prefix, "cart"),
                        p("/cart/checkout", PathType::Exact, "checkout"),
                    ],
                },
                IngressRule {
                    host: Some("*.example.com".into()),
                    paths: vec![p("/", PathType::Prefix, "wild")],
                },
            ],
            tls: vec![IngressTls {
                hosts: vec!["shop.example.com".into()],
                secret_name: Some("shop-tls".into()),
            }],
        }
    }

    #[test]
    fn longest_path_wins_and_prefix_matches_whole_elements() {
        let i = ing();
        let r = |h, p| i.route(h, p).map(|b| b.service.as_str());
        assert_eq!(r("shop.example.com", "/cart/items"), Some("cart"));
        assert_eq!(r("shop.example.com", "/cart"), Some("cart"));
        assert_eq!(r("shop.example.com", "/cartoon"), Some("web"));
        assert_eq!(r("shop.example.com", "/cart/checkout"), Some("checkout"));
        assert_eq!(r("shop.example.com", "/cart/checkout/x"), Some("cart"));
    }

    #[test]
    fn wildcard_hosts_take_one_label_and_unknown_hosts_get_404() {
        let mut i = ing();
        let r = |i: &Ingress, h, p| i.route(h, p).map(|b| b.service.clone());
        assert_eq!(r(&i, "api.example.com", "/"), Some("wild".into()));
        assert_eq!(r(&i, "a.b.example.com", "/"), None);
        assert_eq!(r(&i, "other.org", "/"), None);
        i.default_backend = Some(backend("fallback"));
        assert_eq!(r(&i, "other.org", "/x"), Some("fallback".into()));
        assert!(i.terminates_tls("shop.example.com"));
        assert!(!i.terminates_tls("api.example.com"));
    }
}
