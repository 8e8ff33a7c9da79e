//! Policy notifications: events, eligibility, templates, gateways and the sender loop.

pub mod commands;
pub mod eligibility;
pub mod events;
pub mod gateway;
pub mod recipient;
pub mod records;
pub mod scheduler;
pub mod sender;
pub mod templates;
