//! openIMIS policy notification service: family notification preferences over openIMIS's GraphQL
//! contract, the communication-by-notification report, and the policy notification sender.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod auth;
pub mod config;
pub mod db;
pub mod error;
pub mod families;
pub mod follower;
pub mod graphql;
pub mod hooks;
pub mod http;
pub mod languages;
pub mod limits;
pub mod mutation_log;
pub mod notification;
pub mod paging;
pub mod report;
pub mod runtime;
pub mod seed;
pub mod telemetry;
