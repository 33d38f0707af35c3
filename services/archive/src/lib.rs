//! The dangan archive service: the dossier registry of a property-management
//! or heat-supply company's customer archive, served over gRPC.
//!
//! Layers, from the inside out: [`domain`] (house rules, no I/O), [`store`]
//! (sea-orm on SQLite or PostgreSQL behind the domain's storage trait),
//! [`grpc`] (adapters that convert at the wire and map errors), and
//! [`server`] (configuration, start-up and ordered shutdown).

pub mod config;
pub mod crypto;
pub mod domain;
pub mod grpc;
pub mod ingest;
pub mod server;
pub mod store;
