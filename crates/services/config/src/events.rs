//! The payload of `config.changed.v1` and the gRPC document: one conversion from a stored
//! [`Version`], used by the service (the event) and the gRPC adapter (`GetConfig`).

use proto::config::v1 as pb;

use crate::domain::Version;

/// A version as the proto document.
pub(crate) fn document(v: &Version) -> pb::ConfigDocument {
    pb::ConfigDocument {
        service: v.scope.service().to_owned(),
        environment: v.scope.environment().to_owned(),
        version: v.version,
        values_json: serde_json::to_string(&v.document.values).unwrap_or_else(|_| "{}".to_owned()),
        flags: v
            .document
            .flags
            .iter()
            .map(|(k, f)| {
                (
                    k.clone(),
                    pb::Flag {
                        enabled: f.enabled,
                        rollout_percent: f.rollout_percent.map(u32::from),
                    },
                )
            })
            .collect(),
        changed_by: v.author.clone(),
        changed_at: Some(common::bus::proto_time(v.created_at)),
        comment: v.comment.clone(),
        rolled_back_from: v.rolled_back_from,
    }
}

/// The event of a new version.
pub(crate) fn changed(v: &Version) -> pb::ConfigChanged {
    pb::ConfigChanged {
        document: Some(document(v)),
    }
}
