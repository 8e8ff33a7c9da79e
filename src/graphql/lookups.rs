//! The lookups of the family screens, answered in openIMIS's shapes: `locations` and
//! `locationsStr` (the location pickers), `userDistricts`, `familyMembers`, and the reference
//! lists of the family form (`insureeGenders`, `familyTypes`, `confirmationTypes`, `relations`,
//! `professions`, `educations`, `identificationTypes`), each with the right openIMIS asks for.

use async_graphql::{Context, Error, ErrorExtensions, ID, Object, SimpleObject};

use super::context::{require_right, require_user, user_error};
use super::family_types::{
    ConfirmationTypeGql, EducationGql, FamilyTypeGql, GenderGql, IdentificationTypeGql, InsureeGql,
    LocationGql, ProfessionGql, RefEntry, RelationGql, locations_by_ids, request_loaders,
};
use super::relay::{ExtendedConnection, Pagination, decode_id_of, global_id, total_count_selected};
use crate::error::ErrorCode;
use crate::families::Scope;
use crate::families::locations::{self, LocationFilter, TextLookup, UserDistrict};
use crate::families::query::{self as fq, CodeList, CodeRow, RIGHT_QUERY};
use crate::paging::Window;

/// Right to view insurees, which openIMIS asks for `insureeGenders` and `familyMembers`.
pub const RIGHT_INSUREES: i32 = 101101;

/// Reads a connection's rows: the count first when the window depends on it (a macro, as in
/// `graphql/families.rs`, so that the resolvers' futures stay `Send`).
macro_rules! read_page {
    ($ctx:expr, $p:expr, $run:expr) => {{
        let p: Pagination = $p;
        let want_total = total_count_selected($ctx) || p.needs_total();
        let total = if p.needs_total() {
            $run(Window {
                offset: 0,
                limit: 0,
                with_total: true,
            })
            .await?
            .total
        } else {
            None
        };
        let w = p.window(total);
        let page = $run(Window {
            offset: w.offset,
            limit: w.fetch,
            with_total: want_total && total.is_none(),
        })
        .await?;
        (w, page.rows, total.or(page.total))
    }};
}

fn bad_input(message: String) -> Error {
    super::context::coded_error(ErrorCode::BadUserInput, message)
}

/// A `LocationId` from an `ID` argument (a `LocationGQLType` global id or plain digits).
fn location_pk(arg: &str, id: &ID) -> Result<i32, Error> {
    let pk = decode_id_of(&id.0, "LocationGQLType")
        .map_err(|_| bad_input(format!("{arg}: `{}` is not a location id", id.0)))?;
    pk.parse()
        .map_err(|_| bad_input(format!("{arg}: `{}` is not a location id", id.0)))
}

/// The filter arguments shared by `locations` and `locationsStr`.
#[derive(Default)]
struct LocationArgs {
    id: Option<ID>,
    uuid: Option<String>,
    code: [Option<String>; 5],
    name: [Option<String>; 5],
    location_type: Option<String>,
    parent_uuid: [(Option<String>, Option<Vec<String>>); 3],
    parent_id: Option<ID>,
    parent_id_in: Option<Vec<ID>>,
    search: Option<String>,
    order_by: Option<Vec<Option<String>>>,
}

const TEXT_LOOKUPS: [TextLookup; 5] = [
    TextLookup::Exact,
    TextLookup::Iexact,
    TextLookup::Istartswith,
    TextLookup::Icontains,
    TextLookup::Ne,
];

impl LocationArgs {
    fn filter(self) -> Result<LocationFilter, Error> {
        let lookups = |values: [Option<String>; 5]| -> Vec<(TextLookup, String)> {
            TEXT_LOOKUPS
                .into_iter()
                .zip(values)
                .filter_map(|(l, v)| v.map(|v| (l, v)))
                .collect()
        };
        let mut ancestor_uuids = Vec::new();
        for (level, (one, many)) in (1u8..).zip(self.parent_uuid) {
            if let Some(u) = one {
                ancestor_uuids.push((level, vec![u]));
            }
            if let Some(us) = many {
                ancestor_uuids.push((level, us));
            }
        }
        let mut parent_ids: Option<Vec<i32>> = None;
        if let Some(id) = &self.parent_id {
            parent_ids = Some(vec![location_pk("parent_Id", id)?]);
        }
        if let Some(ids) = &self.parent_id_in {
            let ids = ids
                .iter()
                .map(|id| location_pk("parent_Id_In", id))
                .collect::<Result<Vec<_>, _>>()?;
            // Both given: a parent in both lists.
            parent_ids = Some(match parent_ids {
                Some(one) => one.into_iter().filter(|p| ids.contains(p)).collect(),
                None => ids,
            });
        }
        Ok(LocationFilter {
            id: self
                .id
                .as_ref()
                .map(|id| location_pk("id", id))
                .transpose()?,
            uuid: self.uuid,
            code: lookups(self.code),
            name: lookups(self.name),
            location_type: self.location_type,
            ancestor_uuids,
            parent_ids,
            search: self.search,
            order_by: self
                .order_by
                .unwrap_or_default()
                .into_iter()
                .flatten()
                .collect(),
        })
    }
}

/// One of the user's districts (`userDistricts`), with its region.
#[derive(SimpleObject)]
#[graphql(name = "UserDistrictGQLType")]
pub struct UserDistrictGql {
    /// The district's relay global id (base64 of `LocationGQLType:<LocationId>`).
    id: Option<String>,
    uuid: Option<String>,
    code: Option<String>,
    name: Option<String>,
    parent: Option<UserRegionGql>,
}

/// The region of one of the user's districts.
#[derive(SimpleObject)]
#[graphql(name = "UserRegionGQLType")]
pub struct UserRegionGql {
    /// The region's relay global id (base64 of `LocationGQLType:<LocationId>`).
    id: Option<String>,
    uuid: Option<String>,
    code: Option<String>,
    name: Option<String>,
}

impl From<UserDistrict> for UserDistrictGql {
    fn from(d: UserDistrict) -> Self {
        let parent = d.region_id.map(|id| UserRegionGql {
            id: Some(global_id("LocationGQLType", id)),
            uuid: d.region_uuid,
            code: d.region_code,
            name: d.region_name,
        });
        UserDistrictGql {
            id: Some(global_id("LocationGQLType", d.id)),
            uuid: Some(d.uuid),
            code: d.code,
            name: d.name,
            parent,
        }
    }
}

async fn location_page(
    ctx: &Context<'_>,
    p: Pagination,
    args: LocationArgs,
) -> Result<Option<ExtendedConnection<LocationGql>>, Error> {
    let id = require_user(ctx)?;
    let filter = args.filter()?;
    let scope = Scope::of(id);
    let mut conn = super::context::conn(ctx).await?;
    let mut run = async |w: Window| {
        locations::locations(&mut conn, &scope, &filter, w)
            .await
            .map_err(|e| user_error(&e))
    };
    let (w, ids, total) = read_page!(ctx, p, run);
    drop(conn);
    let loaders = request_loaders(ctx)?;
    let nodes = locations_by_ids(&loaders, &ids).await?;
    Ok(Some(p.connection(w, nodes, total)))
}

async fn code_list(ctx: &Context<'_>, list: CodeList) -> Result<Vec<CodeRow>, Error> {
    let mut conn = super::context::conn(ctx).await?;
    fq::code_list(&mut conn, list)
        .await
        .map_err(|e| user_error(&crate::families::query::QueryError::Db(e)))
}

/// A reference list of the family form keyed by code or id (right 101001), each entry wrapped
/// in its GraphQL type.
async fn ref_list<T>(
    ctx: &Context<'_>,
    list: CodeList,
    wrap: impl Fn(RefEntry) -> T,
) -> Result<Option<Vec<Option<T>>>, Error> {
    require_right(ctx, RIGHT_QUERY)?;
    let rows = code_list(ctx, list).await?;
    Ok(Some(
        rows.into_iter()
            .map(|r| Some(wrap(RefEntry::read(list, r))))
            .collect(),
    ))
}

/// The lookups of the family screens.
#[derive(Default)]
pub struct LookupQuery;

#[Object]
impl LookupQuery {
    /// The current locations the user may see (any logged-in user; administrators every one,
    /// others their districts, what lies below them, and the regions whose every district is
    /// theirs), ordered by `orderBy`, then `LocationId`.
    #[allow(clippy::too_many_arguments)]
    async fn locations(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        last: Option<i32>,
        before: Option<String>,
        after: Option<String>,
        offset: Option<i32>,
        order_by: Option<Vec<Option<String>>>,
        #[graphql(desc = "A `LocationGQLType` global id, or the plain `LocationId`.")] id: Option<
            ID,
        >,
        uuid: Option<String>,
        code: Option<String>,
        #[graphql(name = "code_Iexact")] code_iexact: Option<String>,
        #[graphql(name = "code_Istartswith")] code_istartswith: Option<String>,
        #[graphql(name = "code_Icontains")] code_icontains: Option<String>,
        #[graphql(name = "code_Ne")] code_ne: Option<String>,
        name: Option<String>,
        #[graphql(name = "name_Iexact")] name_iexact: Option<String>,
        #[graphql(name = "name_Istartswith")] name_istartswith: Option<String>,
        #[graphql(name = "name_Icontains")] name_icontains: Option<String>,
        #[graphql(name = "name_Ne")] name_ne: Option<String>,
        #[graphql(
            name = "type",
            desc = "`R` (region), `D` (district), `W` (ward) or `V` (village)."
        )]
        location_type: Option<String>,
        #[graphql(name = "parent_Uuid")] parent_uuid: Option<String>,
        #[graphql(name = "parent_Uuid_In")] parent_uuid_in: Option<Vec<String>>,
        #[graphql(name = "parent_Parent_Uuid")] parent_parent_uuid: Option<String>,
        #[graphql(name = "parent_Parent_Uuid_In")] parent_parent_uuid_in: Option<Vec<String>>,
        #[graphql(name = "parent_Parent_Parent_Uuid")] parent_parent_parent_uuid: Option<String>,
        #[graphql(name = "parent_Parent_Parent_Uuid_In")] parent_parent_parent_uuid_in: Option<
            Vec<String>,
        >,
        #[graphql(name = "parent_Id")] parent_id: Option<ID>,
        #[graphql(name = "parent_Id_In")] parent_id_in: Option<Vec<ID>>,
    ) -> Result<Option<ExtendedConnection<LocationGql>>, Error> {
        let p = Pagination::from_ctx(
            ctx,
            first,
            last,
            after.as_deref(),
            before.as_deref(),
            offset,
        )
        .map_err(|e| e.extend())?;
        let args = LocationArgs {
            id,
            uuid,
            code: [code, code_iexact, code_istartswith, code_icontains, code_ne],
            name: [name, name_iexact, name_istartswith, name_icontains, name_ne],
            location_type,
            parent_uuid: [
                (parent_uuid, parent_uuid_in),
                (parent_parent_uuid, parent_parent_uuid_in),
                (parent_parent_parent_uuid, parent_parent_parent_uuid_in),
            ],
            parent_id,
            parent_id_in,
            search: None,
            order_by,
        };
        location_page(ctx, p, args).await
    }

    /// `locations` searched by text (`str`: the code or the name contains it, ignoring case),
    /// as the frontend's location pickers ask.
    #[allow(clippy::too_many_arguments)]
    async fn locations_str(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        last: Option<i32>,
        before: Option<String>,
        after: Option<String>,
        offset: Option<i32>,
        #[graphql(name = "str")] search: Option<String>,
        id: Option<ID>,
        uuid: Option<String>,
        code: Option<String>,
        name: Option<String>,
        #[graphql(name = "type")] location_type: Option<String>,
        #[graphql(name = "parent_Uuid")] parent_uuid: Option<String>,
        #[graphql(name = "parent_Uuid_In")] parent_uuid_in: Option<Vec<String>>,
        #[graphql(name = "parent_Parent_Uuid")] parent_parent_uuid: Option<String>,
        #[graphql(name = "parent_Parent_Uuid_In")] parent_parent_uuid_in: Option<Vec<String>>,
        #[graphql(name = "parent_Parent_Parent_Uuid")] parent_parent_parent_uuid: Option<String>,
        #[graphql(name = "parent_Parent_Parent_Uuid_In")] parent_parent_parent_uuid_in: Option<
            Vec<String>,
        >,
        #[graphql(name = "parent_Id")] parent_id: Option<ID>,
    ) -> Result<Option<ExtendedConnection<LocationGql>>, Error> {
        let p = Pagination::from_ctx(
            ctx,
            first,
            last,
            after.as_deref(),
            before.as_deref(),
            offset,
        )
        .map_err(|e| e.extend())?;
        let args = LocationArgs {
            id,
            uuid,
            code: [code, None, None, None, None],
            name: [name, None, None, None, None],
            location_type,
            parent_uuid: [
                (parent_uuid, parent_uuid_in),
                (parent_parent_uuid, parent_parent_uuid_in),
                (parent_parent_parent_uuid, parent_parent_parent_uuid_in),
            ],
            parent_id,
            search: search.filter(|s| !s.is_empty()),
            ..Default::default()
        };
        location_page(ctx, p, args).await
    }

    /// The districts the user works in, with their regions (any logged-in user; an
    /// administrator gets every district).
    async fn user_districts(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Option<Vec<Option<UserDistrictGql>>>, Error> {
        let id = require_user(ctx)?;
        let scope = Scope::of(id);
        let mut conn = super::context::conn(ctx).await?;
        let rows = locations::user_districts(&mut conn, &scope)
            .await
            .map_err(|e| user_error(&crate::families::query::QueryError::Db(e)))?;
        Ok(Some(rows.into_iter().map(|d| Some(d.into())).collect()))
    }

    /// The current members of a family the user may see (right 101101), the head first, then
    /// by date of birth (after `orderBy` when given); a family outside the user's districts
    /// has none.
    #[allow(clippy::too_many_arguments)]
    async fn family_members(
        &self,
        ctx: &Context<'_>,
        family_uuid: String,
        first: Option<i32>,
        last: Option<i32>,
        before: Option<String>,
        after: Option<String>,
        offset: Option<i32>,
        order_by: Option<Vec<Option<String>>>,
    ) -> Result<Option<ExtendedConnection<InsureeGql>>, Error> {
        let id = require_right(ctx, RIGHT_INSUREES)?;
        let p = Pagination::from_ctx(
            ctx,
            first,
            last,
            after.as_deref(),
            before.as_deref(),
            offset,
        )
        .map_err(|e| e.extend())?;
        let order: Vec<String> = order_by.unwrap_or_default().into_iter().flatten().collect();
        let scope = Scope::of(id);
        let mut conn = super::context::conn(ctx).await?;
        let mut run = async |w: Window| {
            fq::family_members(&mut conn, &scope, &family_uuid, &order, w)
                .await
                .map_err(|e| user_error(&e))
        };
        let (w, rows, total) = read_page!(ctx, p, run);
        drop(conn);
        let loaders = request_loaders(ctx)?;
        let nodes = rows
            .into_iter()
            .map(|row| InsureeGql::new(row, loaders.clone()))
            .collect();
        Ok(Some(p.connection(w, nodes, total)))
    }

    /// The genders (`tblGender`) by sort order (right 101101).
    async fn insuree_genders(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Option<Vec<Option<GenderGql>>>, Error> {
        require_right(ctx, RIGHT_INSUREES)?;
        let rows = code_list(ctx, CodeList::Gender).await?;
        Ok(Some(rows.into_iter().map(|r| Some(GenderGql(r))).collect()))
    }

    /// The family types (`tblFamilyTypes`) by sort order (right 101001).
    async fn family_types(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Option<Vec<Option<FamilyTypeGql>>>, Error> {
        require_right(ctx, RIGHT_QUERY)?;
        let rows = code_list(ctx, CodeList::FamilyType).await?;
        Ok(Some(
            rows.into_iter().map(|r| Some(FamilyTypeGql(r))).collect(),
        ))
    }

    /// The confirmation types (`tblConfirmationTypes`) by sort order (right 101001).
    async fn confirmation_types(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Option<Vec<Option<ConfirmationTypeGql>>>, Error> {
        require_right(ctx, RIGHT_QUERY)?;
        let rows = code_list(ctx, CodeList::ConfirmationType).await?;
        Ok(Some(
            rows.into_iter()
                .map(|r| Some(ConfirmationTypeGql(r)))
                .collect(),
        ))
    }

    /// The relations to the head (`tblRelations`) by sort order (right 101001).
    async fn relations(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Option<Vec<Option<RelationGql>>>, Error> {
        ref_list(ctx, CodeList::Relation, RelationGql).await
    }

    /// The professions (`tblProfessions`) by sort order (right 101001).
    async fn professions(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Option<Vec<Option<ProfessionGql>>>, Error> {
        ref_list(ctx, CodeList::Profession, ProfessionGql).await
    }

    /// The levels of education (`tblEducations`) by sort order (right 101001).
    async fn educations(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Option<Vec<Option<EducationGql>>>, Error> {
        ref_list(ctx, CodeList::Education, EducationGql).await
    }

    /// The identification types (`tblIdentificationTypes`) by sort order (right 101001).
    async fn identification_types(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Option<Vec<Option<IdentificationTypeGql>>>, Error> {
        ref_list(ctx, CodeList::IdentificationType, IdentificationTypeGql).await
    }
}
