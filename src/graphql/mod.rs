//! The GraphQL API in openIMIS's shapes: schema assembly (each module adds its query and mutation
//! objects to the roots below), resolver helpers, relay conventions and scalars.

pub mod auth;
pub mod context;
pub mod core;
pub mod families;
pub mod family_types;
pub mod lookups;
pub mod notifications;
pub mod parse;
pub mod relay;
pub mod report;
pub mod scalars;

use std::sync::Arc;

use async_graphql::{EmptySubscription, MergedObject, Schema, SchemaBuilder};

use crate::auth::JwtKeys;
use crate::config::Settings;
use crate::db::Pool;

/// Every query root field; add a module's query object to the list.
#[derive(MergedObject, Default)]
#[graphql(name = "Query")]
pub struct QueryRoot(
    core::CoreQuery,
    families::FamilyQuery,
    lookups::LookupQuery,
    notifications::NotificationQuery,
    report::ReportQuery,
);

/// Every mutation root field; add a module's mutation object to the list.
#[derive(MergedObject, Default)]
#[graphql(name = "Mutation")]
pub struct MutationRoot(
    auth::AuthMutation,
    families::FamilyMutation,
    notifications::NotificationMutation,
);

/// The schema type.
pub type AppSchema = Schema<QueryRoot, MutationRoot, EmptySubscription>;

/// The schema without data or limits (for SDL export and as the base of [`build_schema`]).
pub fn schema_builder() -> SchemaBuilder<QueryRoot, MutationRoot, EmptySubscription> {
    Schema::build(
        QueryRoot::default(),
        MutationRoot::default(),
        EmptySubscription,
    )
}

/// The running schema: shared data (pool, settings, token keys, the family hooks registered at
/// start-up) and the depth and complexity limits from `service.graphql_max_depth` /
/// `graphql_max_complexity`.
pub fn build_schema(
    pool: Pool,
    settings: Arc<Settings>,
    jwt: Arc<JwtKeys>,
    hooks: crate::hooks::SharedHooks,
    catalog: crate::db::catalog::CatalogCell,
) -> AppSchema {
    let depth = settings.service.graphql_max_depth;
    let complexity = settings.service.graphql_max_complexity;
    schema_builder()
        .data(pool)
        .data(settings)
        .data(jwt)
        .data(hooks)
        .data(catalog)
        .limit_depth(depth)
        .limit_complexity(complexity)
        .limit_directives(crate::limits::MAX_DIRECTIVES_PER_FIELD)
        .finish()
}

/// What every request of the running schema carries besides its authentication: one set of
/// batch loaders ([`family_types::Loaders`]), shared by all its fields.
pub fn request_data(request: async_graphql::Request, pool: &Pool) -> async_graphql::Request {
    request.data(family_types::loaders(pool))
}

/// The schema in SDL (what `export-schema` prints and `schema.graphql` holds).
pub fn sdl() -> String {
    schema_builder().finish().sdl()
}
