//! Policy notifications: the families' notification preferences (`tblFamilySMS`, maintained by
//! the family hooks), events, eligibility, templates, gateways and the sender loop.

pub mod commands;
pub mod dashboard;
pub mod eligibility;
pub mod events;
pub mod gateway;
pub mod preferences;
pub mod recipient;
pub mod records;
pub mod scheduler;
pub mod sender;
pub mod sweeps;
pub mod templates;

pub use preferences::PreferenceHooks;
