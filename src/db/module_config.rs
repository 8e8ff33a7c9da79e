//! openIMIS's `core_ModuleConfiguration` row for this module.

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::DbError;
use super::schema::core_module_configuration as mc;
use crate::config::MODULE_NAME;

/// The JSON text of the active backend configuration row of `policy_notification`, if any (the
/// first row not disabled, as openIMIS takes it).
pub async fn load(conn: &mut AsyncPgConnection) -> Result<Option<String>, DbError> {
    let row = mc::table
        .filter(mc::module.eq(MODULE_NAME))
        .filter(mc::layer.eq("be"))
        .filter(
            mc::is_disabled_until
                .is_null()
                .or(mc::is_disabled_until.lt(diesel::dsl::now)),
        )
        .select(mc::config)
        .order(mc::id)
        .first::<String>(conn)
        .await
        .optional()?;
    Ok(row)
}
