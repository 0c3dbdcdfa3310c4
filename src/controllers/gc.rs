//! The garbage collector: when an owner is gone, delete the dependents that have
//! no other owner left (background cascading deletion).

use crate::api::meta::object_ref;
use crate::api::{ApiServer, Kind, ObjKey, Uid};
use crate::metrics::EventType;
use crate::sim::Ctx;

pub const COMPONENT: &str = "garbage-collector";

#[derive(Debug, Default)]
pub struct GarbageCollector {
    pub deleted: u64,
}

/// Whether every owner named by the dependent is gone.
fn orphaned(api: &ApiServer, kind: Kind, key: &ObjKey) -> Option<String> {
    let meta = api.meta_of(kind, key)?;
    if meta.deletion_timestamp.is_some() || meta.owner_references.is_empty() {
        return None;
    }
    let alive = meta.owner_references.iter().any(|o| {
        let okey = if o.kind.namespaced() {
            ObjKey::new(key.namespace.clone(), o.name.clone())
        } else {
            ObjKey::cluster(o.name.clone())
        };
        api.exists_uid(o.kind, &okey, o.uid)
    });
    if alive {
        None
    } else {
        let o = &meta.owner_references[0];
        Some(format!("{} {}", o.kind, o.name))
    }
}

impl GarbageCollector {
    /// An object with uid `owner` was deleted.
    pub fn on_owner_deleted(&mut self, ctx: &mut Ctx, owner: Uid) {
        for (kind, key) in ctx.api.all_dependents(owner) {
            if let Some(owner_desc) = orphaned(ctx.api, kind, &key) {
                if ctx.api.delete_kind(kind, &key).is_ok() {
                    self.deleted += 1;
                    ctx.event(
                        COMPONENT,
                        EventType::Normal,
                        "GarbageCollected",
                        object_ref(kind, &key),
                        format!("Deleting {kind} {key}: its owner {owner_desc} is gone (background propagation)"),
                    );
                }
            }
        }
    }
}
