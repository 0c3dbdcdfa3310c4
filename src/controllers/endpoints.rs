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
use crate::api::{Change, Kind, ObjKey, Pod, Service};
use crate::sim::time::SimDuration;
use crate::sim::Ctx;
use std::collections::{BTreeMap, BTreeSet};

pub const COMPONENT: &str = "endpointslice-controller";

pub struct EndpointsController {
    queue: WorkQueue,
    /// The Services each pod was an endpoint of at their last sync, so a deleted
    /// or relabelled pod still wakes them.
    member_of: BTreeMap<ObjKey, BTreeSet<ObjKey>>,
}

impl EndpointsController {
    pub fn new(sync_delay: SimDuration) -> Self {
        EndpointsController {
            queue: WorkQueue::new(ControllerId::Endpoints, sync_delay),
            member_of: BTreeMap::new(),
        }
    }

    pub fn on_watch(&mut self, ctx: &mut Ctx, change: &Change) {
        match change.kind {
            Kind::Service => self.queue.add(ctx, change.key.clone()),
            Kind::Pod => {
                let mut wake: BTreeSet<ObjKey> =
                    self.member_of.get(&change.key).cloned().unwrap_or_default();
                if let Some(p) = ctx.api.get::<Pod>(&change.key) {
                    wake.extend(
                        ctx.api
                            .list::<Service>()
                            .filter(|s| {
                                s.meta.namespace == p.meta.namespace
                                    && !s.selector.is_empty()
                                    && matches_map(&s.selector, &p.meta.labels)
                            })
                            .map(|s| s.meta.key()),
                    );
                }
                for k in wake {
                    self.queue.add(ctx, k);
                }
            }
            _ => {}
        }
    }

    pub fn on_sync(&mut self, ctx: &mut Ctx, key: &ObjKey) {
        if self.queue.take(key, ctx.now) {
            self.sync(ctx, key);
        }
    }

    fn sync(&mut self, ctx: &mut Ctx, key: &ObjKey) {
        let Some(svc) = ctx.api.get::<Service>(key) else {
            self.member_of.retain(|_, s| {
                s.remove(key);
                !s.is_empty()
            });
            return;
        };
        if svc.selector.is_empty() {
            return; // endpoints of a selector-less Service are managed by hand
        }
        let publish = svc.publish_not_ready;
        let eps: Vec<Endpoint> = ctx
            .api
            .list::<Pod>()
            .filter(|p| {
                p.meta.namespace == key.namespace
                    && !p.status.phase.is_terminal()
                    && matches_map(&svc.selector, &p.meta.labels)
            })
            .filter_map(|p| {
                let node = p.node_name.clone()?;
                let terminating = p.is_terminating();
                Some(Endpoint {
                    pod: p.meta.key(),
                    node,
                    ready: publish || (p.status.ready && !terminating),
                    terminating,
                })
            })
            .collect();
        self.member_of.retain(|_, s| {
            s.remove(key);
            !s.is_empty()
        });
        for e in &eps {
            self.member_of
                .entry(e.pod.clone())
                .or_default()
                .insert(key.clone());
        }
        if svc.status.endpoints != eps {
            let _ = ctx
                .api
                .update_status::<Service>(key, |s| s.status.endpoints = eps);
        }
    }
}
