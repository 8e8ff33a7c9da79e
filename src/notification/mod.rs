//! Policy notifications: the families' notification preferences (`tblFamilySMS`), maintained by
//! the family hooks.

pub mod preferences;

pub use preferences::PreferenceHooks;
