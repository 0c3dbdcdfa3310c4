//! `networking.k8s.io/v1` Ingress and IngressClass → kubesim objects, with the
//! API server's validation (upstream `pkg/apis/networking/validation`).

use super::convert::{conv_meta, done, Errors};
use crate::api::ingress::{
    Ingress, IngressBackend, IngressClass, IngressPath, IngressRule, IngressTls, PathType,
};
use crate::api::AnyObject;
use crate::diag::Loc;
use k8s_openapi::api::networking::v1 as net;

fn backend(b: net::IngressBackend, path: &str, loc: &Loc, errors: &mut Errors) -> IngressBackend {
    let Some(svc) = b.service else {
        errors.push(loc.at(
            path,
            if b.resource.is_some() {
                "resource backends are not simulated: kubesim routes only to Services (backend.service)"
            } else {
                "Required value: backend.service must be specified"
            },
        ));
        return IngressBackend {
            service: String::new(),
            port: String::new(),
        };
    };
    let port = match svc.port {
        Some(net::ServiceBackendPort {
            number: Some(n),
            name: None,
        }) if (1..=65535).contains(&n) => n.to_string(),
        Some(net::ServiceBackendPort {
            number: None,
            name: Some(n),
        }) if !n.is_empty() => n,
        Some(net::ServiceBackendPort {
            number: Some(_),
            name: Some(_),
        }) => {
            errors.push(loc.at(
                &format!("{path}.service.port"),
                "Invalid value: cannot set both port name & port number",
            ));
            String::new()
        }
        _ => {
            errors.push(loc.at(
                &format!("{path}.service.port"),
                "Required value: port name or number (1-65535) must be specified",
            ));
            String::new()
        }
    };
    IngressBackend {
        service: svc.name,
        port,
    }
}

pub fn conv_ingress(o: net::Ingress, loc: &Loc) -> Result<AnyObject, Errors> {
    let mut errors = Vec::new();
    let meta = conv_meta(o.metadata, true, loc, &mut errors);
    let spec = o.spec.unwrap_or_default();
    let default_backend = spec
        .default_backend
        .map(|b| backend(b, "spec.defaultBackend", loc, &mut errors));
    let mut rules = Vec::new();
    for (i, r) in spec.rules.unwrap_or_default().into_iter().enumerate() {
        let at = format!("spec.rules[{i}]");
        if let Some(h) = &r.host {
            if h.contains(':') || h.parse::<std::net::IpAddr>().is_ok() {
                errors.push(loc.at_value(
                    &format!("{at}.host"),
                    format!("Invalid value: {h:?}: must be a DNS name, not an IP address"),
                ));
            }
            if h.starts_with('*') && !h.starts_with("*.") {
                errors.push(loc.at_value(
                    &format!("{at}.host"),
                    format!("Invalid value: {h:?}: a wildcard must be the whole first label, as in *.example.com"),
                ));
            }
        }
        let mut paths = Vec::new();
        for (j, p) in r
            .http
            .map(|h| h.paths)
            .unwrap_or_default()
            .into_iter()
            .enumerate()
        {
            let pat = format!("{at}.http.paths[{j}]");
            let path_type = match p.path_type.as_str() {
                "Exact" => PathType::Exact,
                // ImplementationSpecific: as the common controllers do, a prefix
                "Prefix" | "ImplementationSpecific" => PathType::Prefix,
                "" => {
                    errors.push(loc.at(
                        &format!("{pat}.pathType"),
                        "Required value: pathType must be specified",
                    ));
                    PathType::Prefix
                }
                other => {
                    errors.push(loc.at_value(
                        &format!("{pat}.pathType"),
                        format!("Unsupported value: {other:?}: supported values: \"Exact\", \"ImplementationSpecific\", \"Prefix\""),
                    ));
                    PathType::Prefix
                }
            };
            let path = p.path.unwrap_or_else(|| "/".to_string());
            if !path.starts_with('/') {
                errors.push(loc.at_value(
                    &format!("{pat}.path"),
                    format!("Invalid value: {path:?}: must be an absolute path"),
                ));
            }
            paths.push(IngressPath {
                path,
                path_type,
                backend: backend(p.backend, &format!("{pat}.backend"), loc, &mut errors),
            });
        }
        rules.push(IngressRule {
            host: r.host,
            paths,
        });
    }
    if default_backend.is_none() && rules.is_empty() {
        errors.push(loc.at(
            "spec",
            "Invalid value: either `defaultBackend` or `rules` must be specified",
        ));
    }
    let tls = spec
        .tls
        .unwrap_or_default()
        .into_iter()
        .map(|t| IngressTls {
            hosts: t.hosts.unwrap_or_default(),
            secret_name: t.secret_name,
        })
        .collect();
    done(
        AnyObject::Ingress(Ingress {
            meta,
            class_name: spec.ingress_class_name,
            default_backend,
            rules,
            tls,
        }),
        errors,
    )
}

pub fn conv_ingress_class(o: net::IngressClass, loc: &Loc) -> Result<AnyObject, Errors> {
    let mut errors = Vec::new();
    let meta = conv_meta(o.metadata, false, loc, &mut errors);
    let controller = o.spec.and_then(|s| s.controller).unwrap_or_default();
    if controller.is_empty() {
        errors.push(loc.at(
            "spec.controller",
            "Required value: the controller is required",
        ));
    }
    done(
        AnyObject::IngressClass(IngressClass { meta, controller }),
        errors,
    )
}
