//! Generated protobuf and gRPC code for every package under `proto/`.
//!
//! One module per package, named as the package: `proto::oms::v1` is `qts.oms.v1`.
//! Never edit generated code; change the `.proto` and rebuild. Field numbers are never reused.
#![allow(unreachable_pub, missing_docs, clippy::all)]

/// `qts.common.v1`: types shared by all services and the event envelope.
pub mod common {
    /// Version 1.
    pub mod v1 {
        tonic::include_proto!("qts.common.v1");
    }
}

/// `qts.events.v1`: payloads of the events on the bus.
pub mod events {
    /// Version 1.
    pub mod v1 {
        tonic::include_proto!("qts.events.v1");
    }
}

/// `qts.market.v1`: market data on the bus (trades, quotes, bars, ...).
pub mod market {
    /// Version 1.
    pub mod v1 {
        tonic::include_proto!("qts.market.v1");
    }
}

/// `qts.ingestion.v1`: the ingestion service's gRPC API.
pub mod ingestion {
    /// Version 1.
    pub mod v1 {
        tonic::include_proto!("qts.ingestion.v1");
    }
}

/// `qts.historical.v1`: the historical service's gRPC API.
pub mod historical {
    /// Version 1.
    pub mod v1 {
        tonic::include_proto!("qts.historical.v1");
    }
}

/// `qts.ta.v1`: the ta service's gRPC API.
pub mod ta {
    /// Version 1.
    pub mod v1 {
        tonic::include_proto!("qts.ta.v1");
    }
}

/// `qts.prediction.v1`: the prediction service's gRPC API.
pub mod prediction {
    /// Version 1.
    pub mod v1 {
        tonic::include_proto!("qts.prediction.v1");
    }
}

/// `qts.decision.v1`: the decision service's gRPC API.
pub mod decision {
    /// Version 1.
    pub mod v1 {
        tonic::include_proto!("qts.decision.v1");
    }
}

/// `qts.risk.v1`: the risk service's gRPC API.
pub mod risk {
    /// Version 1.
    pub mod v1 {
        tonic::include_proto!("qts.risk.v1");
    }
}

/// `qts.oms.v1`: the oms service's gRPC API.
pub mod oms {
    /// Version 1.
    pub mod v1 {
        tonic::include_proto!("qts.oms.v1");
    }
}

/// `qts.master_data.v1`: the master-data service's gRPC API.
pub mod master_data {
    /// Version 1.
    pub mod v1 {
        tonic::include_proto!("qts.master_data.v1");
    }
}

/// `qts.rule.v1`: the rule service's gRPC API.
pub mod rule {
    /// Version 1.
    pub mod v1 {
        tonic::include_proto!("qts.rule.v1");
    }
}

/// `qts.config.v1`: the config service's gRPC API.
pub mod config {
    /// Version 1.
    pub mod v1 {
        tonic::include_proto!("qts.config.v1");
    }
}

/// `qts.sso.v1`: the sso service's gRPC API.
pub mod sso {
    /// Version 1.
    pub mod v1 {
        tonic::include_proto!("qts.sso.v1");
    }
}

/// `qts.sso_ui.v1`: the sso-ui service's gRPC API.
pub mod sso_ui {
    /// Version 1.
    pub mod v1 {
        tonic::include_proto!("qts.sso_ui.v1");
    }
}

/// `qts.notification.v1`: the notification service's gRPC API.
pub mod notification {
    /// Version 1.
    pub mod v1 {
        tonic::include_proto!("qts.notification.v1");
    }
}

/// `qts.llm.v1`: the llm service's gRPC API.
pub mod llm {
    /// Version 1.
    pub mod v1 {
        tonic::include_proto!("qts.llm.v1");
    }
}

/// `qts.emotion.v1`: the emotion service's gRPC API.
pub mod emotion {
    /// Version 1.
    pub mod v1 {
        tonic::include_proto!("qts.emotion.v1");
    }
}

/// `qts.portal.v1`: the portal service's gRPC API.
pub mod portal {
    /// Version 1.
    pub mod v1 {
        tonic::include_proto!("qts.portal.v1");
    }
}

/// `qts.monitoring.v1`: the monitoring service's gRPC API.
pub mod monitoring {
    /// Version 1.
    pub mod v1 {
        tonic::include_proto!("qts.monitoring.v1");
    }
}

pub use prost;
pub use prost_types;
