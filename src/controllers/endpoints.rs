//! The EndpointSlice controller (`pkg/controller/endpointslice`): for every
//! Service with a selector, the pods it selects that have a node (an address),
//! each with the `ready` condition upstream gives it — `publishNotReadyAddresses`,
//! or the pod Ready and not terminating — and `terminating`. It follows pod
//! readiness through the API (what the kubelet and the node-lifecycle
//! controller wrote), never the kubelet's own state.
//!
//! Simplified (documented in the README): the endpoints are kept in the
//! Service's status instead of separate EndpointSlice objects of up to 100
//! endpoints each.

use super::workqueue::WorkQueue;
use super::ControllerId;
use crate::api::selector::matches_map;
use crate::api::service::Endpoint;
use crate::api::table::{lookup_map, LookupMap};
use crate::api::{Change, Kind, ObjKey, Pod, Service};
use crate::sim::time::SimDuration;
use crate::sim::Ctx;
use std::collections::{BTreeMap, BTreeSet};

pub const COMPONENT: &str = "endpointslice-controller";

/// A label pair in a namespace: `(namespace, key, value)`.
type LabelRef = (String, String, String);

pub struct EndpointsController {
    queue: WorkQueue,
    /// The Services each pod was an endpoint of at their last sync, so a deleted
    /// or relabelled pod still wakes them.
    member_of: LookupMap<ObjKey, BTreeSet<ObjKey>>,
    /// The reverse: each Service's endpoint pods at its last sync.
    members: BTreeMap<ObjKey, BTreeSet<ObjKey>>,
    /// An index, so a sync looks at the pods that can match rather than all
    /// of them: each Service is filed under one pair of its selector
    /// (`(namespace, key)` → value → Services), and the pods carrying an
    /// indexed pair are listed under it.
    services_by: BTreeMap<(String, String), BTreeMap<String, BTreeSet<ObjKey>>>,
    /// The pair each Service is filed under.
    filed_as: BTreeMap<ObjKey, LabelRef>,
    pods_by: BTreeMap<LabelRef, BTreeSet<ObjKey>>,
    /// The indexed pairs each pod is listed under.
    pod_entries: LookupMap<ObjKey, Vec<LabelRef>>,
}

impl EndpointsController {
    pub fn new(sync_delay: SimDuration) -> Self {
        EndpointsController {
            queue: WorkQueue::new(ControllerId::Endpoints, sync_delay),
            member_of: lookup_map(),
            members: BTreeMap::new(),
            services_by: BTreeMap::new(),
            filed_as: BTreeMap::new(),
            pods_by: BTreeMap::new(),
            pod_entries: lookup_map(),
        }
    }

    pub fn on_watch(&mut self, ctx: &mut Ctx, change: &Change) {
        match change.kind {
            Kind::Service => {
                self.file_service(ctx, &change.key);
                self.queue.add(ctx, change.key.clone());
            }
            Kind::Pod => {
                let mut wake: BTreeSet<ObjKey> =
                    self.member_of.get(&change.key).cloned().unwrap_or_default();
                // the indexed pairs the pod carries now (none once it is gone)
                let mut pairs: Vec<(&String, &String)> = Vec::new();
                if let Some(p) = ctx.api.get::<Pod>(&change.key) {
                    let ns = &p.meta.namespace;
                    let groups = self
                        .services_by
                        .range((ns.clone(), String::new())..)
                        .take_while(|((n, _), _)| n == ns);
                    for ((_, k), by_value) in groups {
                        let Some(v) = p.meta.labels.get(k) else {
                            continue;
                        };
                        let Some(svcs) = by_value.get(v) else {
                            continue;
                        };
                        pairs.push((k, v));
                        for s in svcs {
                            let selects = ctx
                                .api
                                .get::<Service>(s)
                                .is_some_and(|svc| matches_map(&svc.selector, &p.meta.labels));
                            if selects {
                                wake.insert(s.clone());
                            }
                        }
                    }
                }
                // most pod writes are status writes that leave the pairs as
                // they were: then the pod's place in the index stays too
                let old = self
                    .pod_entries
                    .get(&change.key)
                    .map_or(&[][..], |v| &v[..]);
                let same = old.len() == pairs.len()
                    && old
                        .iter()
                        .zip(&pairs)
                        .all(|((_, k, v), (k2, v2))| k == *k2 && v == *v2);
                if !same {
                    for e in self.pod_entries.remove(&change.key).unwrap_or_default() {
                        if let Some(set) = self.pods_by.get_mut(&e) {
                            set.remove(&change.key);
                        }
                    }
                    let ns = &change.key.namespace;
                    let entries: Vec<LabelRef> = pairs
                        .iter()
                        .map(|&(k, v)| (ns.clone(), k.clone(), v.clone()))
                        .collect();
                    for e in &entries {
                        self.pods_by
                            .entry(e.clone())
                            .or_default()
                            .insert(change.key.clone());
                    }
                    if !entries.is_empty() {
                        self.pod_entries.insert(change.key.clone(), entries);
                    }
                }
                for k in wake {
                    self.queue.add(ctx, k);
                }
            }
            _ => {}
        }
    }

    /// File a Service under the first pair of its selector; list the pods
    /// that carry it if no Service was filed under it before.
    fn file_service(&mut self, ctx: &Ctx, key: &ObjKey) {
        let want = ctx.api.get::<Service>(key).and_then(|s| {
            s.selector
                .iter()
                .next()
                .map(|(k, v)| (key.namespace.clone(), k.clone(), v.clone()))
        });
        if self.filed_as.get(key) == want.as_ref() {
            return;
        }
        if let Some((ns, k, v)) = self.filed_as.remove(key) {
            let group = (ns, k);
            if let Some(by_value) = self.services_by.get_mut(&group) {
                if let Some(set) = by_value.get_mut(&v) {
                    set.remove(key);
                }
            }
        }
        let Some(pair) = want else {
            return;
        };
        let (ns, k, v) = pair.clone();
        let by_value = self.services_by.entry((ns.clone(), k.clone())).or_default();
        let fresh = !by_value.contains_key(&v);
        by_value.entry(v.clone()).or_default().insert(key.clone());
        self.filed_as.insert(key.clone(), pair.clone());
        if fresh && !self.pods_by.contains_key(&pair) {
            let pods: BTreeSet<ObjKey> = ctx
                .api
                .store()
                .pods
                .range(ObjKey::new(&ns, "")..)
                .take_while(|(pk, _)| pk.namespace == ns)
                .filter(|(_, p)| p.meta.labels.get(&k) == Some(&v))
                .map(|(pk, _)| pk.clone())
                .collect();
            for pk in &pods {
                self.pod_entries
                    .entry(pk.clone())
                    .or_default()
                    .push(pair.clone());
            }
            self.pods_by.insert(pair, pods);
        }
    }

    pub fn on_sync(&mut self, ctx: &mut Ctx, key: &ObjKey) {
        if self.queue.take(key, ctx.now) {
            self.sync(ctx, key);
        }
    }

    /// Forget the endpoints `key` had.
    fn forget(&mut self, key: &ObjKey) {
        for pod in self.members.remove(key).unwrap_or_default() {
            if let Some(s) = self.member_of.get_mut(&pod) {
                s.remove(key);
                if s.is_empty() {
                    self.member_of.remove(&pod);
                }
            }
        }
    }

    fn sync(&mut self, ctx: &mut Ctx, key: &ObjKey) {
        self.file_service(ctx, key);
        let Some(svc) = ctx.api.get::<Service>(key) else {
            self.forget(key);
            return;
        };
        if svc.selector.is_empty() {
            return; // endpoints of a selector-less Service are managed by hand
        }
        let publish = svc.publish_not_ready;
        let candidates = self
            .filed_as
            .get(key)
            .and_then(|pair| self.pods_by.get(pair));
        // (pod key, node, ready, terminating) of each endpoint, borrowed
        let found = || {
            candidates
                .into_iter()
                .flatten()
                .filter_map(|k| Some((k, ctx.api.get::<Pod>(k)?)))
                .filter(|(_, p)| {
                    !p.status.phase.is_terminal() && matches_map(&svc.selector, &p.meta.labels)
                })
                .filter_map(|(k, p)| {
                    let node = p.node_name.as_deref()?;
                    let terminating = p.is_terminating();
                    Some((
                        k,
                        node,
                        publish || (p.status.ready && !terminating),
                        terminating,
                    ))
                })
        };
        // Most syncs find what the last one wrote (a pod of the Service
        // changed in a way its endpoint does not show): compared in place,
        // before anything is copied.
        let unchanged = {
            let mut written = svc.status.endpoints.iter();
            let mut members = self.members.get(key).map(|m| m.iter());
            found().all(|(k, node, ready, terminating)| {
                written.next().is_some_and(|e| {
                    e.pod == *k
                        && e.node == node
                        && e.ready == ready
                        && e.terminating == terminating
                }) && members.as_mut().and_then(|m| m.next()) == Some(k)
            }) && written.next().is_none()
                && members.is_some_and(|mut m| m.next().is_none())
        };
        if unchanged {
            return;
        }
        let eps: Vec<Endpoint> = found()
            .map(|(k, node, ready, terminating)| Endpoint {
                pod: k.clone(),
                node: node.to_string(),
                ready,
                terminating,
            })
            .collect();
        // Update the membership indexes by difference: a sync usually sees one
        // pod change among many (rebuilding them was 3% of a large run).
        let now: BTreeSet<ObjKey> = eps.iter().map(|e| e.pod.clone()).collect();
        let before = self.members.remove(key).unwrap_or_default();
        for pod in before.difference(&now) {
            if let Some(s) = self.member_of.get_mut(pod) {
                s.remove(key);
                if s.is_empty() {
                    self.member_of.remove(pod);
                }
            }
        }
        for pod in now.difference(&before) {
            self.member_of
                .entry(pod.clone())
                .or_default()
                .insert(key.clone());
        }
        self.members.insert(key.clone(), now);
        debug_assert!(
            self.member_of.len() > 2000
                || self
                    .member_of
                    .iter()
                    .all(|(pod, svcs)| svcs.contains(key) == self.members[key].contains(pod)),
            "the endpoint membership indexes disagree for {key}"
        );
        if svc.status.endpoints != eps {
            let _ = ctx
                .api
                .update_status::<Service>(key, |s| s.status.endpoints = eps);
        }
    }
}
