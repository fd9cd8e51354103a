//! Conformance: our `fastconnect` client against the simulator on port 0.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod cash;
mod consumers;
mod data;
mod fidelity;
mod helpers;
mod hostile;
mod news;
mod restart;
mod sdk;
mod stylized;
mod trading;
mod v3;
mod v3_client;
