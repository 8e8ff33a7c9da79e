//! The family output types in openIMIS's shapes (`FamilyGQLType`, `InsureeGQLType`,
//! `LocationGQLType`, `FamilyNotificationGQLType`, `MutationLogGQLType`, code types), and the
//! per-request batch loaders behind their related fields, so a page costs a bounded number of
//! statements whatever its size.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::{DataLoader, HashMapCache, Loader};
use async_graphql::{Context, Error, ID, Lookahead, Object, SimpleObject};
use chrono::{Datelike, Utc};
use uuid::Uuid;

use super::context::user_error;
use super::relay::global_id;
use super::scalars::{Date, DateTime, JsonString};
use crate::db::{DbError, Pool};
use crate::families::query::{
    self as fq, CodeList, CodeRow, FamilyNotificationRow, FamilyRow, InsureeRow, LocationRow,
};
use crate::mutation_log::{self, LinkedFamily, MutationLogRow};

/// A loader failure, shared by every waiting field.
pub type LoadError = Arc<DbError>;

fn load_err(e: &LoadError) -> Error {
    user_error(e.as_ref())
}

async fn conn(pool: &Pool) -> Result<crate::db::Conn, LoadError> {
    pool.get().await.map_err(|e| Arc::new(DbError::from(e)))
}

fn db_err(e: diesel::result::Error) -> LoadError {
    Arc::new(DbError::Query(e))
}

/// Loads rows by key in one statement per batch.
pub struct Batch {
    pool: Pool,
}

impl Loader<i32> for Batch {
    type Value = Option<InsureeRow>;
    type Error = LoadError;

    async fn load(&self, keys: &[i32]) -> Result<HashMap<i32, Option<InsureeRow>>, LoadError> {
        let mut c = conn(&self.pool).await?;
        let rows = fq::insurees_by_ids(&mut c, keys).await.map_err(db_err)?;
        Ok(every_key(keys, rows.into_iter().map(|r| (r.insuree_id, r))))
    }
}

/// Key of a family row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FamilyKey(pub i32);

impl Loader<FamilyKey> for Batch {
    type Value = Option<FamilyRow>;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[FamilyKey],
    ) -> Result<HashMap<FamilyKey, Option<FamilyRow>>, LoadError> {
        let ids: Vec<i32> = keys.iter().map(|k| k.0).collect();
        let mut c = conn(&self.pool).await?;
        let rows = fq::families_by_ids(&mut c, &ids).await.map_err(db_err)?;
        Ok(every_key(
            keys,
            rows.into_iter().map(|r| (FamilyKey(r.family_id), r)),
        ))
    }
}

/// Key of a location, loaded with its ancestors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LocationKey(pub i32);

/// Locations by id: a location and its ancestors, loaded together.
pub type LocationMap = Arc<HashMap<i32, LocationRow>>;

impl Loader<LocationKey> for Batch {
    type Value = Option<LocationMap>;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[LocationKey],
    ) -> Result<HashMap<LocationKey, Option<LocationMap>>, LoadError> {
        let ids: Vec<i32> = keys.iter().map(|k| k.0).collect();
        let mut c = conn(&self.pool).await?;
        let rows = fq::locations_with_ancestors(&mut c, &ids)
            .await
            .map_err(db_err)?;
        let map: LocationMap = Arc::new(rows.into_iter().map(|r| (r.location_id, r)).collect());
        Ok(keys
            .iter()
            .map(|k| (*k, map.contains_key(&k.0).then(|| map.clone())))
            .collect())
    }
}

/// Key of a family's notification row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct NotificationKey(pub i32);

impl Loader<NotificationKey> for Batch {
    type Value = Option<FamilyNotificationRow>;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[NotificationKey],
    ) -> Result<HashMap<NotificationKey, Option<FamilyNotificationRow>>, LoadError> {
        let ids: Vec<i32> = keys.iter().map(|k| k.0).collect();
        let mut c = conn(&self.pool).await?;
        let rows = fq::notifications_by_family(&mut c, &ids)
            .await
            .map_err(db_err)?;
        Ok(every_key(
            keys,
            rows.into_iter().map(|r| (NotificationKey(r.family_id), r)),
        ))
    }
}

/// Key of a code list entry.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CodeKey(pub CodeList, pub String);

impl Loader<CodeKey> for Batch {
    type Value = Option<CodeRow>;
    type Error = LoadError;

    async fn load(&self, keys: &[CodeKey]) -> Result<HashMap<CodeKey, Option<CodeRow>>, LoadError> {
        let mut c = conn(&self.pool).await?;
        let mut out: HashMap<CodeKey, Option<CodeRow>> =
            keys.iter().map(|k| (k.clone(), None)).collect();
        for list in CodeList::ALL {
            let codes: Vec<String> = keys
                .iter()
                .filter(|k| k.0 == list)
                .map(|k| k.1.clone())
                .collect();
            if codes.is_empty() {
                continue;
            }
            for row in fq::codes(&mut c, list, &codes).await.map_err(db_err)? {
                out.insert(CodeKey(list, row.code.clone()), Some(row));
            }
        }
        Ok(out)
    }
}

/// Key of the families linked to a mutation log row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LinksKey(pub Uuid);

impl Loader<LinksKey> for Batch {
    type Value = Vec<LinkedFamily>;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[LinksKey],
    ) -> Result<HashMap<LinksKey, Vec<LinkedFamily>>, LoadError> {
        let ids: Vec<Uuid> = keys.iter().map(|k| k.0).collect();
        let mut c = conn(&self.pool).await?;
        let rows = mutation_log::linked_families(&mut c, &ids)
            .await
            .map_err(db_err)?;
        let mut out: HashMap<LinksKey, Vec<LinkedFamily>> =
            keys.iter().map(|k| (*k, Vec::new())).collect();
        for r in rows {
            out.entry(LinksKey(r.mutation_id)).or_default().push(r);
        }
        Ok(out)
    }
}

/// Key of a family's pending mutation client id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PendingKey(pub i32);

impl Loader<PendingKey> for Batch {
    type Value = Option<String>;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[PendingKey],
    ) -> Result<HashMap<PendingKey, Option<String>>, LoadError> {
        let ids: Vec<i32> = keys.iter().map(|k| k.0).collect();
        let mut c = conn(&self.pool).await?;
        let rows = mutation_log::pending_client_ids(&mut c, &ids)
            .await
            .map_err(db_err)?;
        Ok(every_key(
            keys,
            rows.into_iter().map(|(f, c)| (PendingKey(f), c)),
        ))
    }
}

/// The loaders of one request, shared by every field of it (one set per request, in the
/// request's data). They cache what they loaded (found or not), so fields primed by
/// [`prime_families`] cost no further statement.
pub type Loaders = Arc<DataLoader<Batch, HashMapCache>>;

/// New loaders for one request.
pub fn loaders(pool: &Pool) -> Loaders {
    Arc::new(DataLoader::with_cache(
        Batch { pool: pool.clone() },
        tokio::spawn,
        HashMapCache::default(),
    ))
}

/// A value for every key: the rows found, `None` for the others (so "absent" is cached too).
fn every_key<K, V>(keys: &[K], found: impl Iterator<Item = (K, V)>) -> HashMap<K, Option<V>>
where
    K: Clone + Eq + std::hash::Hash,
{
    let mut out: HashMap<K, Option<V>> = keys.iter().map(|k| (k.clone(), None)).collect();
    for (k, v) in found {
        out.insert(k, Some(v));
    }
    out
}

/// Loads, in one statement per kind and level, everything the selection below a connection's
/// `edges { node }` (or a node itself, with `path` empty) needs of these families: heads and
/// their genders and villages, locations with ancestors, code lists, notification rows,
/// pending mutations. The nodes' fields then find it in the loaders' cache.
pub async fn prime_families(
    loaders: &Loaders,
    node: &Lookahead<'_>,
    rows: &[FamilyRow],
) -> Result<(), Error> {
    let family_ids: Vec<i32> = rows.iter().map(|r| r.family_id).collect();
    let head = node.field("headInsuree");
    let mut locations: Vec<LocationKey> = Vec::new();
    if has(node, "location") {
        locations.extend(rows.iter().filter_map(|r| r.location_id).map(LocationKey));
    }
    let mut codes: Vec<CodeKey> = Vec::new();
    if has(node, "familyType") {
        codes.extend(
            rows.iter()
                .filter_map(|r| r.family_type.clone())
                .map(|c| CodeKey(CodeList::FamilyType, c)),
        );
    }
    if has(node, "confirmationType") {
        codes.extend(
            rows.iter()
                .filter_map(|r| r.confirmation_type.clone())
                .map(|c| CodeKey(CodeList::ConfirmationType, c)),
        );
    }
    if head.exists() {
        let ids: Vec<i32> = rows.iter().map(|r| r.insuree_id).collect();
        let heads = loaders.load_many(ids).await.map_err(|e| load_err(&e))?;
        let heads: Vec<&InsureeRow> = heads.values().flatten().collect();
        if has(&head, "gender") {
            codes.extend(
                heads
                    .iter()
                    .filter_map(|h| h.gender.clone())
                    .map(|c| CodeKey(CodeList::Gender, c)),
            );
        }
        if has(&head, "currentVillage") {
            locations.extend(
                heads
                    .iter()
                    .filter_map(|h| h.current_village)
                    .map(LocationKey),
            );
        }
    }
    if !locations.is_empty() {
        loaders
            .load_many(locations)
            .await
            .map_err(|e| load_err(&e))?;
    }
    if !codes.is_empty() {
        loaders.load_many(codes).await.map_err(|e| load_err(&e))?;
    }
    if has(node, "familyNotification") {
        loaders
            .load_many(family_ids.iter().copied().map(NotificationKey))
            .await
            .map_err(|e| load_err(&e))?;
    }
    if has(node, "clientMutationId") {
        loaders
            .load_many(family_ids.iter().copied().map(PendingKey))
            .await
            .map_err(|e| load_err(&e))?;
    }
    Ok(())
}

fn has(field: &Lookahead<'_>, name: &str) -> bool {
    field.field(name).exists()
}

/// Loads the families of mutation log rows (and the family rows) when `families` is selected.
pub async fn prime_logs(
    loaders: &Loaders,
    node: &Lookahead<'_>,
    ids: &[Uuid],
) -> Result<(), Error> {
    if !has(node, "families") {
        return Ok(());
    }
    let links = loaders
        .load_many(ids.iter().copied().map(LinksKey))
        .await
        .map_err(|e| load_err(&e))?;
    if node.field("families").field("family").exists() {
        let families: Vec<FamilyKey> = links
            .values()
            .flatten()
            .map(|l| FamilyKey(l.family_id))
            .collect();
        loaders
            .load_many(families)
            .await
            .map_err(|e| load_err(&e))?;
    }
    Ok(())
}

/// Loads the families of notification rows when `family` is selected.
pub async fn prime_notification_families(
    loaders: &Loaders,
    node: &Lookahead<'_>,
    family_ids: &[i32],
) -> Result<(), Error> {
    if has(node, "family") {
        loaders
            .load_many(family_ids.iter().copied().map(FamilyKey))
            .await
            .map_err(|e| load_err(&e))?;
    }
    Ok(())
}

/// `FamilyGQLType`.
pub struct FamilyGql {
    /// The row.
    pub row: FamilyRow,
    /// The request's loaders.
    pub loaders: Loaders,
}

/// A family.
#[Object(name = "FamilyGQLType")]
impl FamilyGql {
    /// The relay global id: base64 of `FamilyGQLType:` followed by the `FamilyID` (e.g.
    /// `RmFtaWx5R1FMVHlwZTox` for family 1).
    async fn id(&self) -> ID {
        ID(global_id("FamilyGQLType", self.row.family_id))
    }

    async fn uuid(&self) -> &str {
        &self.row.family_uuid
    }

    /// The head insuree.
    async fn head_insuree(&self) -> Result<Option<InsureeGql>, Error> {
        let row = self
            .loaders
            .load_one(self.row.insuree_id)
            .await
            .map_err(|e| load_err(&e))?
            .flatten();
        Ok(row.map(|row| InsureeGql {
            row,
            loaders: self.loaders.clone(),
        }))
    }

    /// The village.
    async fn location(&self) -> Result<Option<LocationGql>, Error> {
        location(&self.loaders, self.row.location_id).await
    }

    async fn poverty(&self) -> Option<bool> {
        self.row.poverty
    }

    async fn family_type(&self) -> Result<Option<FamilyTypeGql>, Error> {
        Ok(
            code(&self.loaders, CodeList::FamilyType, &self.row.family_type)
                .await?
                .map(FamilyTypeGql),
        )
    }

    async fn address(&self) -> Option<&str> {
        self.row.family_address.as_deref()
    }

    async fn is_offline(&self) -> Option<bool> {
        self.row.is_offline
    }

    async fn ethnicity(&self) -> Option<&str> {
        self.row.ethnicity.as_deref()
    }

    async fn confirmation_no(&self) -> Option<&str> {
        self.row.confirmation_no.as_deref()
    }

    async fn confirmation_type(&self) -> Result<Option<ConfirmationTypeGql>, Error> {
        Ok(code(
            &self.loaders,
            CodeList::ConfirmationType,
            &self.row.confirmation_type,
        )
        .await?
        .map(ConfirmationTypeGql))
    }

    async fn validity_from(&self) -> DateTime {
        DateTime::from_utc(self.row.validity_from)
    }

    async fn validity_to(&self) -> Option<DateTime> {
        self.row.validity_to.map(DateTime::from_utc)
    }

    async fn legacy_id(&self) -> Option<i32> {
        self.row.legacy_id
    }

    async fn audit_user_id(&self) -> i32 {
        self.row.audit_user_id
    }

    async fn json_ext(&self) -> Option<JsonString> {
        self.row.json_ext.clone().map(JsonString)
    }

    /// Client id of a pending mutation touching this family.
    async fn client_mutation_id(&self) -> Result<Option<String>, Error> {
        Ok(self
            .loaders
            .load_one(PendingKey(self.row.family_id))
            .await
            .map_err(|e| load_err(&e))?
            .flatten())
    }

    /// The family's notification settings; null without a row.
    async fn family_notification(&self) -> Result<Option<FamilyNotificationGql>, Error> {
        let row = self
            .loaders
            .load_one(NotificationKey(self.row.family_id))
            .await
            .map_err(|e| load_err(&e))?
            .flatten();
        Ok(row.map(|row| FamilyNotificationGql {
            row,
            loaders: self.loaders.clone(),
        }))
    }
}

async fn location(loaders: &Loaders, id: Option<i32>) -> Result<Option<LocationGql>, Error> {
    let Some(id) = id else {
        return Ok(None);
    };
    let map = loaders
        .load_one(LocationKey(id))
        .await
        .map_err(|e| load_err(&e))?
        .flatten();
    Ok(map.map(|map| LocationGql { id, map }))
}

/// The locations `ids` (in this order, missing ones skipped) with their ancestors, loaded
/// through the request's loaders in one statement.
pub async fn locations_by_ids(loaders: &Loaders, ids: &[i32]) -> Result<Vec<LocationGql>, Error> {
    let found = loaders
        .load_many(ids.iter().map(|id| LocationKey(*id)))
        .await
        .map_err(|e| load_err(&e))?;
    Ok(ids
        .iter()
        .filter_map(|id| {
            let map = found.get(&LocationKey(*id))?.clone()?;
            Some(LocationGql { id: *id, map })
        })
        .collect())
}

async fn code(
    loaders: &Loaders,
    list: CodeList,
    value: &Option<String>,
) -> Result<Option<CodeRow>, Error> {
    let Some(v) = value else {
        return Ok(None);
    };
    Ok(loaders
        .load_one(CodeKey(list, v.clone()))
        .await
        .map_err(|e| load_err(&e))?
        .flatten())
}

/// `LocationGQLType`: a location, with its ancestors at hand.
pub struct LocationGql {
    id: i32,
    map: LocationMap,
}

impl LocationGql {
    fn row(&self) -> Option<&LocationRow> {
        self.map.get(&self.id)
    }
}

/// A location (region, district, ward, village).
#[Object(name = "LocationGQLType")]
impl LocationGql {
    /// The relay global id: base64 of `LocationGQLType:` followed by the `LocationId` (e.g.
    /// `TG9jYXRpb25HUUxUeXBlOjE=` for location 1); write the plain `LocationId` where a
    /// numeric id is asked for (`locationId`, `currentVillageId`).
    async fn id(&self) -> ID {
        ID(global_id("LocationGQLType", self.id))
    }

    async fn uuid(&self) -> Option<&str> {
        self.row().map(|r| r.location_uuid.as_str())
    }

    async fn code(&self) -> Option<&str> {
        self.row().and_then(|r| r.location_code.as_deref())
    }

    async fn name(&self) -> Option<&str> {
        self.row().and_then(|r| r.location_name.as_deref())
    }

    /// `R`, `D`, `W` or `V`.
    #[graphql(name = "type")]
    async fn location_type(&self) -> Option<&str> {
        self.row().map(|r| r.location_type.as_str())
    }

    async fn parent(&self) -> Option<LocationGql> {
        let parent = self.row()?.parent_location_id?;
        self.map.contains_key(&parent).then(|| LocationGql {
            id: parent,
            map: self.map.clone(),
        })
    }

    async fn validity_from(&self) -> Option<DateTime> {
        self.row().map(|r| DateTime::from_utc(r.validity_from))
    }

    async fn validity_to(&self) -> Option<DateTime> {
        self.row()
            .and_then(|r| r.validity_to)
            .map(DateTime::from_utc)
    }

    async fn legacy_id(&self) -> Option<i32> {
        self.row().and_then(|r| r.legacy_id)
    }

    async fn male_population(&self) -> Option<i32> {
        self.row().and_then(|r| r.male_population)
    }

    async fn female_population(&self) -> Option<i32> {
        self.row().and_then(|r| r.female_population)
    }

    async fn other_population(&self) -> Option<i32> {
        self.row().and_then(|r| r.other_population)
    }

    /// The number of families recorded on the location row (`tblLocations.Families`).
    async fn families(&self) -> Option<i32> {
        self.row().and_then(|r| r.families)
    }

    async fn audit_user_id(&self) -> Option<i32> {
        self.row().and_then(|r| r.audit_user_id)
    }

    /// Locations are not changed through this service: always null.
    async fn client_mutation_id(&self) -> Option<String> {
        None
    }
}

/// `InsureeGQLType`.
pub struct InsureeGql {
    row: InsureeRow,
    loaders: Loaders,
}

impl InsureeGql {
    /// An insuree row answered with the request's loaders.
    pub fn new(row: InsureeRow, loaders: Loaders) -> Self {
        InsureeGql { row, loaders }
    }
}

/// An insuree.
#[Object(name = "InsureeGQLType")]
impl InsureeGql {
    /// The relay global id: base64 of `InsureeGQLType:` followed by the `InsureeID` (e.g.
    /// `SW5zdXJlZUdRTFR5cGU6MQ==` for insuree 1).
    async fn id(&self) -> ID {
        ID(global_id("InsureeGQLType", self.row.insuree_id))
    }

    async fn uuid(&self) -> &str {
        &self.row.insuree_uuid
    }

    async fn chf_id(&self) -> Option<&str> {
        self.row.chf_id.as_deref()
    }

    async fn last_name(&self) -> &str {
        &self.row.last_name
    }

    async fn other_names(&self) -> &str {
        &self.row.other_names
    }

    async fn dob(&self) -> Option<Date> {
        self.row.dob.map(Date)
    }

    /// Age in whole years today.
    async fn age(&self) -> Option<i32> {
        let dob = self.row.dob?;
        let today = Utc::now().date_naive();
        let mut age = today.year() - dob.year();
        if (today.month(), today.day()) < (dob.month(), dob.day()) {
            age -= 1;
        }
        Some(age)
    }

    async fn gender(&self) -> Result<Option<GenderGql>, Error> {
        Ok(code(&self.loaders, CodeList::Gender, &self.row.gender)
            .await?
            .map(GenderGql))
    }

    async fn marital(&self) -> Option<&str> {
        self.row.marital.as_deref()
    }

    async fn head(&self) -> bool {
        self.row.is_head
    }

    async fn phone(&self) -> Option<&str> {
        self.row.phone.as_deref()
    }

    async fn email(&self) -> Option<&str> {
        self.row.email.as_deref()
    }

    async fn passport(&self) -> Option<&str> {
        self.row.passport.as_deref()
    }

    async fn card_issued(&self) -> bool {
        self.row.card_issued
    }

    async fn current_address(&self) -> Option<&str> {
        self.row.current_address.as_deref()
    }

    async fn geolocation(&self) -> Option<&str> {
        self.row.geo_location.as_deref()
    }

    async fn current_village(&self) -> Result<Option<LocationGql>, Error> {
        location(&self.loaders, self.row.current_village).await
    }

    async fn type_of_id(&self) -> Option<IdentificationTypeGql> {
        let code = self.row.type_of_id.clone()?;
        Some(IdentificationTypeGql(RefEntry::lazy(
            &self.loaders,
            CodeList::IdentificationType,
            code,
        )))
    }

    async fn relationship(&self) -> Option<RelationGql> {
        let id = self.row.relationship?;
        Some(RelationGql(RefEntry::lazy(
            &self.loaders,
            CodeList::Relation,
            id.to_string(),
        )))
    }

    async fn education(&self) -> Option<EducationGql> {
        let id = self.row.education?;
        Some(EducationGql(RefEntry::lazy(
            &self.loaders,
            CodeList::Education,
            id.to_string(),
        )))
    }

    async fn profession(&self) -> Option<ProfessionGql> {
        let id = self.row.profession?;
        Some(ProfessionGql(RefEntry::lazy(
            &self.loaders,
            CodeList::Profession,
            id.to_string(),
        )))
    }

    /// Photos are not kept by this service: always null.
    async fn photo(&self) -> Option<PhotoGql> {
        None
    }

    /// Health facilities are not kept by this service: always null.
    async fn health_facility(&self) -> Option<HealthFacilityGql> {
        None
    }

    async fn validity_from(&self) -> DateTime {
        DateTime::from_utc(self.row.validity_from)
    }

    async fn validity_to(&self) -> Option<DateTime> {
        self.row.validity_to.map(DateTime::from_utc)
    }

    async fn legacy_id(&self) -> Option<i32> {
        self.row.legacy_id
    }

    async fn json_ext(&self) -> Option<JsonString> {
        self.row.json_ext.clone().map(JsonString)
    }

    /// `AC`, `IN` or `DE`.
    async fn status(&self) -> Option<&str> {
        self.row.status.as_deref()
    }

    async fn status_date(&self) -> Option<Date> {
        self.row.status_date.map(Date)
    }

    /// Status reasons are accepted on input and not kept: always null.
    async fn status_reason(&self) -> Option<StatusReasonGql> {
        None
    }

    async fn family(&self) -> Result<Option<FamilyGql>, Error> {
        let Some(f) = self.row.family_id else {
            return Ok(None);
        };
        let row = self
            .loaders
            .load_one(FamilyKey(f))
            .await
            .map_err(|e| load_err(&e))?
            .flatten();
        Ok(row.map(|row| FamilyGql {
            row,
            loaders: self.loaders.clone(),
        }))
    }
}

/// A reference-list entry: its key, and its row when already read (a whole list) or the
/// loaders to read it when one of its other fields is asked (an insuree's `relationship`).
pub struct RefEntry {
    list: CodeList,
    key: String,
    row: Option<CodeRow>,
    loaders: Option<Loaders>,
}

impl RefEntry {
    /// An entry read with its list.
    pub fn read(list: CodeList, row: CodeRow) -> Self {
        RefEntry {
            list,
            key: row.code.clone(),
            row: Some(row),
            loaders: None,
        }
    }

    fn lazy(loaders: &Loaders, list: CodeList, key: String) -> Self {
        RefEntry {
            list,
            key,
            row: None,
            loaders: Some(loaders.clone()),
        }
    }

    /// The numeric key of an id-keyed list.
    fn id(&self) -> i32 {
        self.key.parse().unwrap_or_default()
    }

    async fn row(&self) -> Result<Option<CodeRow>, Error> {
        if let Some(r) = &self.row {
            return Ok(Some(r.clone()));
        }
        let Some(loaders) = &self.loaders else {
            return Ok(None);
        };
        Ok(loaders
            .load_one(CodeKey(self.list, self.key.clone()))
            .await
            .map_err(|e| load_err(&e))?
            .flatten())
    }

    async fn name(&self) -> Result<Option<String>, Error> {
        Ok(self.row().await?.and_then(|r| r.name))
    }

    async fn sort_order(&self) -> Result<Option<i32>, Error> {
        Ok(self.row().await?.and_then(|r| r.sort_order))
    }

    async fn alt_language(&self) -> Result<Option<String>, Error> {
        Ok(self.row().await?.and_then(|r| r.alt_language))
    }
}

/// `RelationGQLType`: a relation to the head of the family (`tblRelations`).
pub struct RelationGql(pub RefEntry);

/// A relation to the head of the family.
#[Object(name = "RelationGQLType")]
impl RelationGql {
    /// `RelationId`.
    async fn id(&self) -> i32 {
        self.0.id()
    }
    async fn relation(&self) -> Result<Option<String>, Error> {
        self.0.name().await
    }
    async fn sort_order(&self) -> Result<Option<i32>, Error> {
        self.0.sort_order().await
    }
    async fn alt_language(&self) -> Result<Option<String>, Error> {
        self.0.alt_language().await
    }
}

/// `ProfessionGQLType` (`tblProfessions`).
pub struct ProfessionGql(pub RefEntry);

/// A profession.
#[Object(name = "ProfessionGQLType")]
impl ProfessionGql {
    /// `ProfessionId`.
    async fn id(&self) -> i32 {
        self.0.id()
    }
    async fn profession(&self) -> Result<Option<String>, Error> {
        self.0.name().await
    }
    async fn sort_order(&self) -> Result<Option<i32>, Error> {
        self.0.sort_order().await
    }
    async fn alt_language(&self) -> Result<Option<String>, Error> {
        self.0.alt_language().await
    }
}

/// `EducationGQLType` (`tblEducations`).
pub struct EducationGql(pub RefEntry);

/// A level of education.
#[Object(name = "EducationGQLType")]
impl EducationGql {
    /// `EducationId`.
    async fn id(&self) -> i32 {
        self.0.id()
    }
    async fn education(&self) -> Result<Option<String>, Error> {
        self.0.name().await
    }
    async fn sort_order(&self) -> Result<Option<i32>, Error> {
        self.0.sort_order().await
    }
    async fn alt_language(&self) -> Result<Option<String>, Error> {
        self.0.alt_language().await
    }
}

/// `IdentificationTypeGQLType` (`tblIdentificationTypes`).
pub struct IdentificationTypeGql(pub RefEntry);

/// A kind of identity document.
#[Object(name = "IdentificationTypeGQLType")]
impl IdentificationTypeGql {
    /// `IdentificationCode`.
    async fn code(&self) -> &str {
        &self.0.key
    }
    async fn identification_type(&self) -> Result<Option<String>, Error> {
        self.0.name().await
    }
    async fn alt_language(&self) -> Result<Option<String>, Error> {
        self.0.alt_language().await
    }
    async fn sort_order(&self) -> Result<Option<i32>, Error> {
        self.0.sort_order().await
    }
}

/// `PhotoGQLType` (never resolved: photos are not kept).
#[derive(SimpleObject)]
#[graphql(name = "PhotoGQLType")]
pub struct PhotoGql {
    id: Option<ID>,
    uuid: Option<String>,
    date: Option<Date>,
    folder: Option<String>,
    filename: Option<String>,
    officer_id: Option<i32>,
    photo: Option<String>,
}

/// `HealthFacilityGQLType` (never resolved: health facilities are not kept).
#[derive(SimpleObject)]
#[graphql(name = "HealthFacilityGQLType")]
pub struct HealthFacilityGql {
    id: Option<ID>,
    uuid: Option<String>,
    code: Option<String>,
    name: Option<String>,
    level: Option<String>,
    services_pricelist: Option<PricelistGql>,
    items_pricelist: Option<PricelistGql>,
    contract_start_date: Option<Date>,
    contract_end_date: Option<Date>,
    location: Option<LocationGql>,
}

/// A price list reference.
#[derive(SimpleObject)]
#[graphql(name = "PricelistGQLType")]
pub struct PricelistGql {
    id: Option<ID>,
    uuid: Option<String>,
}

/// `InsureeStatusReasonGQLType` (never resolved: reasons are not kept).
#[derive(SimpleObject)]
#[graphql(name = "InsureeStatusReasonGQLType")]
pub struct StatusReasonGql {
    code: Option<String>,
    insuree_status_reason: Option<String>,
}

/// `GenderGQLType`.
pub struct GenderGql(pub CodeRow);

/// A gender.
#[Object(name = "GenderGQLType")]
impl GenderGql {
    async fn code(&self) -> &str {
        &self.0.code
    }
    async fn gender(&self) -> Option<&str> {
        self.0.name.as_deref()
    }
    async fn alt_language(&self) -> Option<&str> {
        self.0.alt_language.as_deref()
    }
    async fn sort_order(&self) -> Option<i32> {
        self.0.sort_order
    }
}

/// `FamilyTypeGQLType`.
pub struct FamilyTypeGql(pub CodeRow);

/// A family type.
#[Object(name = "FamilyTypeGQLType")]
impl FamilyTypeGql {
    async fn code(&self) -> &str {
        &self.0.code
    }
    #[graphql(name = "type")]
    async fn family_type(&self) -> Option<&str> {
        self.0.name.as_deref()
    }
    async fn sort_order(&self) -> Option<i32> {
        self.0.sort_order
    }
    async fn alt_language(&self) -> Option<&str> {
        self.0.alt_language.as_deref()
    }
}

/// `ConfirmationTypeGQLType`.
pub struct ConfirmationTypeGql(pub CodeRow);

/// A confirmation type.
#[Object(name = "ConfirmationTypeGQLType")]
impl ConfirmationTypeGql {
    async fn code(&self) -> &str {
        &self.0.code
    }
    async fn confirmationtype(&self) -> Option<&str> {
        self.0.name.as_deref()
    }
    async fn sort_order(&self) -> Option<i32> {
        self.0.sort_order
    }
    async fn alt_language(&self) -> Option<&str> {
        self.0.alt_language.as_deref()
    }
    /// Not kept by the legacy table: always false.
    async fn is_confirmation_number_required(&self) -> bool {
        false
    }
}

/// `FamilyNotificationGQLType`.
pub struct FamilyNotificationGql {
    /// The row.
    pub row: FamilyNotificationRow,
    /// The request's loaders.
    pub loaders: Loaders,
}

/// A family's notification settings (`tblFamilySMS`).
#[Object(name = "FamilyNotificationGQLType")]
impl FamilyNotificationGql {
    /// The relay global id: base64 of `FamilyNotificationGQLType:` followed by the family's
    /// `FamilyID`.
    async fn id(&self) -> ID {
        ID(global_id("FamilyNotificationGQLType", self.row.family_id))
    }

    async fn family(&self) -> Result<Option<FamilyGql>, Error> {
        let row = self
            .loaders
            .load_one(FamilyKey(self.row.family_id))
            .await
            .map_err(|e| load_err(&e))?
            .flatten();
        Ok(row.map(|row| FamilyGql {
            row,
            loaders: self.loaders.clone(),
        }))
    }

    async fn approval_of_notification(&self) -> bool {
        self.row.approval_of_sms
    }

    async fn language_of_notification(&self) -> &str {
        &self.row.language_of_sms
    }

    async fn validity_from(&self) -> DateTime {
        DateTime::from_utc(self.row.validity_from)
    }

    async fn validity_to(&self) -> Option<DateTime> {
        self.row.validity_to.map(DateTime::from_utc)
    }
}

/// `MutationLogGQLType`.
pub struct MutationLogGql {
    /// The row.
    pub row: MutationLogRow,
    /// The request's loaders.
    pub loaders: Loaders,
}

/// A mutation and its outcome.
#[Object(name = "MutationLogGQLType")]
impl MutationLogGql {
    /// The relay global id: base64 of `MutationLogGQLType:` followed by the log row's UUID.
    async fn id(&self) -> ID {
        ID(global_id("MutationLogGQLType", self.row.id))
    }

    async fn json_content(&self) -> &str {
        &self.row.json_content
    }

    async fn request_date_time(&self) -> DateTime {
        DateTime::from_utc(self.row.request_date_time)
    }

    async fn client_mutation_id(&self) -> Option<&str> {
        self.row.client_mutation_id.as_deref()
    }

    async fn client_mutation_label(&self) -> Option<&str> {
        self.row.client_mutation_label.as_deref()
    }

    async fn client_mutation_details(&self) -> Option<&str> {
        self.row.client_mutation_details.as_deref()
    }

    /// 0: Received, 1: Error, 2: Success.
    async fn status(&self) -> i32 {
        self.row.status
    }

    async fn error(&self) -> Option<&str> {
        self.row.error.as_deref()
    }

    /// Extension data; null when empty.
    async fn json_ext(&self) -> Option<JsonString> {
        self.row.json_ext.clone().map(JsonString)
    }

    /// Code generated by the mutation; null when empty.
    async fn autogenerated_code(&self) -> Option<&str> {
        self.row.autogenerated_code.as_deref()
    }

    /// The families the mutation touched.
    async fn families(&self) -> Result<Vec<FamilyMutationGql>, Error> {
        let links = self
            .loaders
            .load_one(LinksKey(self.row.id))
            .await
            .map_err(|e| load_err(&e))?
            .unwrap_or_default();
        Ok(links
            .into_iter()
            .map(|link| FamilyMutationGql {
                link,
                loaders: self.loaders.clone(),
            })
            .collect())
    }
}

/// `FamilyMutationGQLType`: a family touched by a mutation.
pub struct FamilyMutationGql {
    link: LinkedFamily,
    loaders: Loaders,
}

/// A family touched by a mutation.
#[Object(name = "FamilyMutationGQLType")]
impl FamilyMutationGql {
    async fn id(&self) -> ID {
        ID(self.link.link_id.to_string())
    }

    async fn family(&self) -> Result<Option<FamilyGql>, Error> {
        let row = self
            .loaders
            .load_one(FamilyKey(self.link.family_id))
            .await
            .map_err(|e| load_err(&e))?
            .flatten();
        Ok(row.map(|row| FamilyGql {
            row,
            loaders: self.loaders.clone(),
        }))
    }
}

/// The loaders of the current request: the one set the HTTP layer put into its data
/// ([`super::request_data`]), shared by every field of the request.
pub fn request_loaders(ctx: &Context<'_>) -> Result<Loaders, Error> {
    ctx.data::<Loaders>().cloned()
}
