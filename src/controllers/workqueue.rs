//! A controller work queue: deduplicated by key, the earliest due time wins.

use super::ControllerId;
use crate::api::ObjKey;
use crate::sim::time::{SimDuration, SimTime};
use crate::sim::{Ctx, Event};
use std::collections::BTreeMap;

#[derive(Debug)]
pub struct WorkQueue {
    id: ControllerId,
    /// Delay between a notification and the sync it triggers.
    delay: SimDuration,
    due: BTreeMap<ObjKey, SimTime>,
}

impl WorkQueue {
    pub fn new(id: ControllerId, delay: SimDuration) -> Self {
        WorkQueue {
            id,
            delay,
            due: BTreeMap::new(),
        }
    }

    /// Queue a sync of `key` after the usual delay.
    pub fn add(&mut self, ctx: &mut Ctx, key: ObjKey) {
        self.add_after(ctx, key, self.delay);
    }

    /// Queue the controller of a changed dependent: `change`'s owner, when that
    /// owner is a `kind` (a Job's pods, a CronJob's Jobs, …).
    pub fn add_owner(
        &mut self,
        ctx: &mut Ctx,
        change: &crate::api::Change,
        kind: crate::api::Kind,
    ) {
        if let Some((k, owner)) = &change.owner {
            if *k == kind {
                self.add(
                    ctx,
                    ObjKey::new(change.key.namespace.clone(), owner.clone()),
                );
            }
        }
    }

    /// Queue a sync of `key` after `d`, unless one is already due sooner.
    pub fn add_after(&mut self, ctx: &mut Ctx, key: ObjKey, d: SimDuration) {
        let at = ctx.now + d;
        match self.due.get(&key) {
            Some(t) if *t <= at => {}
            _ => {
                self.due.insert(key.clone(), at);
                ctx.at(at, Event::Sync(self.id, key));
            }
        }
    }

    /// A sync event fired: true if it is the live one for this key (not
    /// superseded). A sync delivered late — held while the controller manager
    /// or the API server was down — is still the live one.
    pub fn take(&mut self, key: &ObjKey, now: SimTime) -> bool {
        if self.due.get(key).is_some_and(|t| *t <= now) {
            self.due.remove(key);
            true
        } else {
            false
        }
    }
}
