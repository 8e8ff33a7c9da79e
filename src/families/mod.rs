//! Families: the family write model, the families query, and the family data rules shared by the
//! query, the report and the sender.

pub mod filter;
pub mod locations;
pub mod mutations;
pub mod query;
pub mod rules;
pub mod scope;
pub mod state;

pub use scope::Scope;
