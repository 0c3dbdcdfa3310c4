//! The cloud-controller-manager's service controller: a LoadBalancer Service
//! gets an external address from the (simulated) cloud after the provisioning
//! latency (`cluster.cloud.loadBalancerDelay`), with upstream's events
//! `EnsuringLoadBalancer` and `EnsuredLoadBalancer`. Addresses come from
//! 203.0.113.0/24 (TEST-NET-3), in order.

use crate::api::meta::object_ref;
use crate::api::service::ServiceType;
use crate::api::{Change, Kind, ObjKey, Op, Service};
use crate::metrics::EventType;
use crate::sim::time::SimDuration;
use crate::sim::{Ctx, Event};
use std::collections::BTreeSet;

pub const COMPONENT: &str = "service-controller";

pub struct CloudController {
    delay: SimDuration,
    pending: BTreeSet<ObjKey>,
    next: u32,
}

impl CloudController {
    pub fn new(delay: SimDuration) -> Self {
        CloudController {
            delay,
            pending: BTreeSet::new(),
            next: 1,
        }
    }

    pub fn on_watch(&mut self, ctx: &mut Ctx, change: &Change) {
        if change.kind != Kind::Service || change.op == Op::Deleted {
            return;
        }
        let Some(s) = ctx.api.get::<Service>(&change.key) else {
            return;
        };
        if s.service_type != ServiceType::LoadBalancer
            || s.status.load_balancer_ip.is_some()
            || !self.pending.insert(change.key.clone())
        {
            return;
        }
        ctx.event(
            COMPONENT,
            EventType::Normal,
            "EnsuringLoadBalancer",
            object_ref(Kind::Service, &change.key),
            "Ensuring load balancer".into(),
        );
        ctx.after(self.delay, Event::Cloud(change.key.clone()));
    }

    /// The cloud has provisioned the load balancer of `key`.
    pub fn provisioned(&mut self, ctx: &mut Ctx, key: &ObjKey) {
        self.pending.remove(key);
        let ip = format!("203.0.113.{}", self.next % 254 + 1);
        let still = ctx
            .api
            .get::<Service>(key)
            .is_some_and(|s| s.service_type == ServiceType::LoadBalancer);
        if !still {
            return;
        }
        self.next += 1;
        let _ = ctx
            .api
            .update_status::<Service>(key, |s| s.status.load_balancer_ip = Some(ip.clone()));
        ctx.event(
            COMPONENT,
            EventType::Normal,
            "EnsuredLoadBalancer",
            object_ref(Kind::Service, key),
            format!("Ensured load balancer ({ip})"),
        );
    }
}
