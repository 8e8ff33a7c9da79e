//! `GET /api/core/users/current_user/`: who is logged in, in openIMIS's shape, which its
//! frontend reads right after login (`i_user.rights` decides which menus it shows,
//! `i_user.language` the interface language). The token comes as a Bearer header or the `JWT`
//! cookie; without one the answer is 401.

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::AppState;
use super::error::ApiError;
use super::extract::OptionalIdentity;
use crate::auth::identity::profile;
use crate::error::{ErrorCode, UserFacing};

/// The route path (openIMIS's).
pub const PATH: &str = "/api/core/users/current_user/";

/// The logged-in user: `core_User` id and name, and the interactive user with its rights.
pub async fn current_user(
    State(state): State<AppState>,
    OptionalIdentity(identity): OptionalIdentity,
) -> Response {
    let Some(identity) = identity else {
        return ApiError::new(
            ErrorCode::Unauthenticated,
            "Authentication credentials were not provided.",
        )
        .into_response();
    };
    let found = async {
        let mut conn = state
            .pool
            .get()
            .await
            .map_err(|e| crate::auth::AuthError::Db(e.into()))?;
        profile(&mut conn, identity.user_id).await
    }
    .await;
    let profile = match found {
        Ok(Some(p)) => p,
        // The user was end-dated after the token was checked.
        Ok(None) => {
            return ApiError::new(ErrorCode::Unauthenticated, "Invalid payload").into_response();
        }
        Err(e) => {
            tracing::error!(error = %e, "current user not read");
            return ApiError::new(e.code(), e.user_message()).into_response();
        }
    };
    let mut rights: Vec<i32> = identity.rights.iter().copied().collect();
    rights.sort_unstable();
    Json(json!({
        "id": identity.core_user_id,
        "username": identity.login,
        "i_user": {
            "id": identity.user_id,
            "language": identity.language,
            "last_name": profile.last_name,
            "other_names": profile.other_names,
            "health_facility_id": profile.health_facility_id,
            "rights": rights,
            "has_password": profile.has_password,
        },
        "t_user": null,
    }))
    .into_response()
}
