//! The lookups of the family screens through HTTP with the frontends' own documents
//! (`tests/fixtures/frontend/head_*`): locations and their district scope, userDistricts,
//! familyMembers, the reference lists of the family form, and `GET
//! /api/core/users/current_user/`. Every ground's reference tables hold different rows, so the
//! answers are compared with what the database holds, read with SQL.
mod support;

use reqwest::StatusCode;
use serde_json::Value;
use support::app::TestApp;
use support::fixtures::{self, Locations};
use support::{TestDb, frontend_doc as doc};

const UNAUTHORIZED: &str = "User not authorized for this operation";

struct Env {
    db: TestDb,
    app: TestApp,
    admin: String,
    officer: String,
    clerk: String,
    mine: Locations,
    other: Locations,
}

async fn env() -> Env {
    let db = TestDb::new().await;
    // Our own schema ships no genders; openIMIS's databases have these.
    db.exec(
        "INSERT INTO \"tblGender\" (\"Code\", \"Gender\", \"SortOrder\") \
         VALUES ('M', 'Male', 1), ('F', 'Female', 2) ON CONFLICT DO NOTHING",
    )
    .await;
    let mine = fixtures::locations(&db, "lkA").await;
    let other = fixtures::locations(&db, "lkB").await;
    fixtures::user(&db, "lk-admin", "pw", &[101001, 101101], &[], true).await;
    fixtures::user(
        &db,
        "lk-officer",
        "pw",
        &[101001, 101002, 101003, 101101],
        &[mine.district],
        false,
    )
    .await;
    fixtures::user(&db, "lk-clerk", "pw", &[101001], &[mine.district], false).await;
    let app = TestApp::spawn(&db).await;
    let admin = app.login("lk-admin", "pw").await;
    let officer = app.login("lk-officer", "pw").await;
    let clerk = app.login("lk-clerk", "pw").await;
    Env {
        db,
        app,
        admin,
        officer,
        clerk,
        mine,
        other,
    }
}

impl Env {
    async fn q(&self, token: &str, query: &str) -> Value {
        let (status, body) = self.app.gql_as(token, query).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body
    }

    async fn uuid(&self, id: i32) -> String {
        self.db
            .scalar(&format!(
                "SELECT \"LocationUUID\" FROM \"tblLocations\" WHERE \"LocationId\" = {id}"
            ))
            .await
            .unwrap()
    }

    async fn code(&self, id: i32) -> String {
        self.db
            .scalar(&format!(
                "SELECT \"LocationCode\" FROM \"tblLocations\" WHERE \"LocationId\" = {id}"
            ))
            .await
            .unwrap()
    }
}

fn nodes(body: &Value, field: &str) -> Vec<Value> {
    body["data"][field]["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("no edges: {body}"))
        .iter()
        .map(|e| e["node"].clone())
        .collect()
}

fn strings(values: &[Value], key: &str) -> Vec<String> {
    values
        .iter()
        .map(|v| match &v[key] {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })
        .collect()
}

/// A comma-joined column of an ordered query, as a list.
async fn column(db: &TestDb, sql: &str) -> Vec<String> {
    db.scalar(&format!(
        "SELECT string_agg(v, ',' ORDER BY n) FROM ({sql}) x"
    ))
    .await
    .map(|s| s.split(',').map(str::to_string).collect())
    .unwrap_or_default()
}

fn refused(body: &Value) {
    assert!(
        body["data"]
            .as_object()
            .is_none_or(|d| d.values().all(Value::is_null)),
        "{body}"
    );
    assert_eq!(body["errors"][0]["message"], UNAUTHORIZED, "{body}");
}

#[tokio::test]
async fn the_location_pickers_documents_answer_within_the_users_districts() {
    let e = env().await;
    let region = e.uuid(e.mine.region).await;
    let district = e.uuid(e.mine.district).await;

    // fetchLocations: the districts of a region, ordered by code.
    let body = e
        .q(
            &e.admin,
            &doc("head_locations", &[("TYPE", "D"), ("PARENT_UUID", &region)]),
        )
        .await;
    let got = nodes(&body, "locations");
    assert_eq!(strings(&got, "uuid"), vec![district.clone()], "{body}");
    let node = &got[0];
    assert_eq!(node["type"], "D");
    assert_eq!(node["code"], "lkAD");
    assert_eq!(node["name"], "lkA D");
    assert!(node["clientMutationId"].is_null() && node["families"].is_null());
    // The id is the relay global id, and reads back through the `id` filter.
    let id = node["id"].as_str().unwrap();
    assert_eq!(
        String::from_utf8(base64_decode(id)).unwrap(),
        format!("LocationGQLType:{}", e.mine.district)
    );
    let body = e
        .q(
            &e.admin,
            &format!("{{ locations(id: \"{id}\") {{ totalCount edges {{ node {{ uuid }} }} }} }}"),
        )
        .await;
    assert_eq!(body["data"]["locations"]["totalCount"], 1, "{body}");
    assert_eq!(
        strings(&nodes(&body, "locations"), "uuid"),
        vec![district.clone()]
    );

    // fetchLocationsStr: the villages under a district whose code or name holds the text,
    // with their chain of parents.
    let body = e
        .q(
            &e.officer,
            &doc(
                "head_locations_str",
                &[("STR", "lka v"), ("DISTRICT_UUID", &district)],
            ),
        )
        .await;
    let got = nodes(&body, "locationsStr");
    assert_eq!(strings(&got, "code"), vec!["lkAV"], "{body}");
    let p = &got[0]["parent"];
    assert_eq!(p["code"], "lkAW");
    assert_eq!(p["parent"]["code"], "lkAD");
    assert_eq!(p["parent"]["parent"]["code"], "lkAR");
    assert_eq!(p["parent"]["parent"]["parent"], Value::Null);

    // An administrator sees every current location of a type.
    let q = |ty: &str| {
        format!(
            "{{ locations(type: \"{ty}\", first: 100) {{ totalCount edges {{ node {{ uuid }} }} }} }}"
        )
    };
    for ty in ["R", "D", "W", "V"] {
        let body = e.q(&e.admin, &q(ty)).await;
        let expected = e
            .db
            .count(&format!(
                "SELECT count(*) FROM \"tblLocations\" WHERE \"LocationType\" = '{ty}' AND \"ValidityTo\" IS NULL"
            ))
            .await;
        assert_eq!(
            body["data"]["locations"]["totalCount"], expected,
            "{ty}: {body}"
        );
    }

    // The officer: their district, what lies below it, and its region (every district of it is
    // theirs); nothing of the other chain.
    for (ty, id) in [
        ("R", e.mine.region),
        ("D", e.mine.district),
        ("W", e.mine.ward),
        ("V", e.mine.village),
    ] {
        let body = e.q(&e.officer, &q(ty)).await;
        assert_eq!(
            strings(&nodes(&body, "locations"), "uuid"),
            vec![e.uuid(id).await],
            "{ty}: {body}"
        );
        assert_eq!(body["data"]["locations"]["totalCount"], 1, "{body}");
    }
    let other = e.uuid(e.other.village).await;
    let body = e
        .q(
            &e.officer,
            &format!("{{ locations(uuid: \"{other}\") {{ totalCount }} }}"),
        )
        .await;
    assert_eq!(body["data"]["locations"]["totalCount"], 0, "{body}");
    // A second district in the region the officer does not hold hides the region.
    e.db.exec(&format!(
        "INSERT INTO \"tblLocations\" (\"LocationUUID\", \"LocationCode\", \"LocationName\", \
           \"LocationType\", \"ParentLocationId\", \"ValidityFrom\") \
         VALUES ('{}', 'lkAD2', 'lkA D2', 'D', {}, now())",
        uuid::Uuid::new_v4(),
        e.mine.region
    ))
    .await;
    let body = e.q(&e.officer, &q("R")).await;
    assert_eq!(body["data"]["locations"]["totalCount"], 0, "{body}");

    // Filters by code, name, and ancestors two and three levels up.
    let region_b = e.uuid(e.other.region).await;
    let body = e
        .q(
            &e.admin,
            &format!(
                "{{ a: locations(code_Istartswith: \"LKB\", orderBy: [\"-code\"]) {{ edges {{ node {{ code }} }} }} \
                   b: locations(parent_Parent_Parent_Uuid: \"{region_b}\") {{ edges {{ node {{ code }} }} }} \
                   c: locations(name_Icontains: \"kb w\", parent_Id: {}) {{ edges {{ node {{ code }} }} }} }}",
                e.other.district
            ),
        )
        .await;
    assert_eq!(
        strings(&nodes(&body, "a"), "code"),
        vec!["lkBW", "lkBV", "lkBR", "lkBD"]
    );
    assert_eq!(strings(&nodes(&body, "b"), "code"), vec!["lkBV"]);
    assert_eq!(strings(&nodes(&body, "c"), "code"), vec!["lkBW"]);
    let body = e
        .q(
            &e.admin,
            "{ locations(orderBy: [\"population\"]) { totalCount } }",
        )
        .await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
        "{body}"
    );
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .starts_with("orderBy:"),
        "{body}"
    );
}

fn base64_decode(s: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.decode(s).unwrap()
}

#[tokio::test]
async fn user_districts_are_the_users_own_or_every_district_for_an_administrator() {
    let e = env().await;
    let body = e.q(&e.officer, &doc("head_user_districts", &[])).await;
    let list = body["data"]["userDistricts"].as_array().unwrap();
    assert_eq!(list.len(), 1, "{body}");
    assert_eq!(list[0]["uuid"], e.uuid(e.mine.district).await);
    assert_eq!(list[0]["code"], e.code(e.mine.district).await);
    assert_eq!(list[0]["parent"]["uuid"], e.uuid(e.mine.region).await);
    assert_eq!(list[0]["parent"]["name"], "lkA R");
    let id = list[0]["parent"]["id"].as_str().unwrap();
    assert_eq!(
        String::from_utf8(base64_decode(id)).unwrap(),
        format!("LocationGQLType:{}", e.mine.region)
    );

    let body = e.q(&e.admin, &doc("head_user_districts", &[])).await;
    let got: Vec<String> = body["data"]["userDistricts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["uuid"].as_str().unwrap().to_string())
        .collect();
    let expected = column(
        &e.db,
        "SELECT \"LocationUUID\"::text AS v, row_number() OVER (ORDER BY \"LocationCode\", \"LocationId\") AS n \
         FROM \"tblLocations\" WHERE \"LocationType\" = 'D' AND \"ValidityTo\" IS NULL",
    )
    .await;
    assert_eq!(got, expected);

    // Anonymous callers are refused, as every lookup.
    for q in [
        doc("head_user_districts", &[]),
        doc("head_locations", &[("TYPE", "R"), ("PARENT_UUID", "x")]),
        doc(
            "head_locations_str",
            &[("STR", "a"), ("DISTRICT_UUID", "x")],
        ),
        doc("head_family_members", &[("FAMILY_UUID", "x")]),
        doc("head_relations", &[]),
        doc("head_insuree_genders", &[]),
    ] {
        let (status, body) = e.app.gql(&q).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        refused(&body);
    }
}

#[tokio::test]
async fn family_members_lists_the_current_members_of_a_visible_family_head_first() {
    let e = env().await;
    // A family in the officer's village, created with the frontend's document.
    let village = e.mine.village.to_string();
    let body = e
        .q(
            &e.officer,
            &doc(
                "head_create_family",
                &[
                    ("CLIENT_ID", "lk-1"),
                    ("CHF", "770001"),
                    ("VILLAGE_ID", &village),
                ],
            ),
        )
        .await;
    assert!(body["errors"].is_null(), "{body}");
    let log =
        e.db.scalar("SELECT error FROM \"core_Mutation_Log\" WHERE client_mutation_id = 'lk-1'")
            .await;
    assert_eq!(log, None, "the family is created");
    let family: String = e
        .db
        .scalar(
            "SELECT f.\"FamilyUUID\" FROM \"tblFamilies\" f JOIN \"tblInsuree\" i ON i.\"InsureeID\" = f.\"InsureeID\" \
             WHERE i.\"CHFID\" = '770001' AND f.\"ValidityTo\" IS NULL",
        )
        .await
        .unwrap_or_else(|| panic!("family not created: {body}"));
    // Two more members (an older and a younger one) and an end-dated one, copied from the head.
    for (chf, dob, to) in [
        ("770002", "1960-01-01", "NULL"),
        ("770003", "2010-01-01", "NULL"),
        ("770004", "1950-01-01", "now()"),
    ] {
        e.db.exec(&format!(
            "INSERT INTO \"tblInsuree\" (\"InsureeUUID\", \"FamilyID\", \"CHFID\", \"LastName\", \
               \"OtherNames\", \"DOB\", \"Gender\", \"IsHead\", \"CardIssued\", \"ValidityFrom\", \
               \"ValidityTo\", \"AuditUserID\") \
             SELECT '{}', \"FamilyID\", '{chf}', \"LastName\", 'Member', '{dob}', 'M', false, false, now(), {to}, 0 \
             FROM \"tblInsuree\" WHERE \"CHFID\" = '770001' AND \"ValidityTo\" IS NULL",
            uuid::Uuid::new_v4()
        ))
        .await;
    }
    let body = e
        .q(
            &e.officer,
            &doc("head_family_members", &[("FAMILY_UUID", &family)]),
        )
        .await;
    let got = nodes(&body, "familyMembers");
    assert_eq!(body["data"]["familyMembers"]["totalCount"], 3, "{body}");
    assert_eq!(strings(&got, "chfId"), vec!["770001", "770002", "770003"]);
    assert_eq!(got[0]["head"], true);
    assert_eq!(got[0]["gender"]["code"], "F");
    assert_eq!(got[0]["dob"], "1990-02-03");
    assert_eq!(got[1]["head"], false);
    // The table's sorters.
    let body = e
        .q(
            &e.officer,
            &format!(
                "{{ familyMembers(familyUuid: \"{}\", orderBy: \"-dob\") {{ edges {{ node {{ chfId }} }} }} }}",
                family.to_uppercase()
            ),
        )
        .await;
    assert_eq!(
        strings(&nodes(&body, "familyMembers"), "chfId"),
        vec!["770003", "770001", "770002"]
    );

    // Outside the user's districts the family has no members to show; without right 101101
    // the query is refused.
    fixtures::user(
        &e.db,
        "lk-far",
        "pw",
        &[101001, 101101],
        &[e.other.district],
        false,
    )
    .await;
    let far = e.app.login("lk-far", "pw").await;
    let body = e
        .q(
            &far,
            &doc("head_family_members", &[("FAMILY_UUID", &family)]),
        )
        .await;
    assert_eq!(body["data"]["familyMembers"]["totalCount"], 0, "{body}");
    let body = e
        .q(
            &e.clerk,
            &doc("head_family_members", &[("FAMILY_UUID", &family)]),
        )
        .await;
    refused(&body);
}

#[tokio::test]
async fn the_family_forms_reference_lists_answer_what_the_database_holds() {
    let e = env().await;
    // One entry of our own in each list, without a sort order (so it comes last).
    e.db.exec(
        "INSERT INTO \"tblGender\" (\"Code\", \"Gender\") VALUES ('Z', 'Test gender') ON CONFLICT DO NOTHING;
         INSERT INTO \"tblFamilyTypes\" (\"FamilyTypeCode\", \"FamilyType\") VALUES ('ZZ', 'Test type') ON CONFLICT DO NOTHING;
         INSERT INTO \"tblConfirmationTypes\" (\"ConfirmationTypeCode\", \"ConfirmationType\") VALUES ('ZZZ', 'Test') ON CONFLICT DO NOTHING;
         INSERT INTO \"tblRelations\" (\"RelationId\", \"Relation\") VALUES (901, 'Test relation') ON CONFLICT DO NOTHING;
         INSERT INTO \"tblProfessions\" (\"ProfessionId\", \"Profession\") VALUES (901, 'Test profession') ON CONFLICT DO NOTHING;
         INSERT INTO \"tblEducations\" (\"EducationId\", \"Education\") VALUES (901, 'Test education') ON CONFLICT DO NOTHING;
         INSERT INTO \"tblIdentificationTypes\" (\"IdentificationCode\", \"IdentificationTypes\") VALUES ('Z', 'Test id') ON CONFLICT DO NOTHING;",
    )
    .await;
    let lists = [
        (
            "head_insuree_genders",
            "insureeGenders",
            "code",
            "tblGender",
            "Code",
        ),
        (
            "head_family_types",
            "familyTypes",
            "code",
            "tblFamilyTypes",
            "FamilyTypeCode",
        ),
        (
            "head_confirmation_types",
            "confirmationTypes",
            "code",
            "tblConfirmationTypes",
            "ConfirmationTypeCode",
        ),
        (
            "head_relations",
            "relations",
            "id",
            "tblRelations",
            "RelationId",
        ),
        (
            "head_professions",
            "professions",
            "id",
            "tblProfessions",
            "ProfessionId",
        ),
        (
            "head_educations",
            "educations",
            "id",
            "tblEducations",
            "EducationId",
        ),
        (
            "head_identification_types",
            "identificationTypes",
            "code",
            "tblIdentificationTypes",
            "IdentificationCode",
        ),
    ];
    for (document, field, key, table, column_name) in lists {
        let body = e.q(&e.officer, &doc(document, &[])).await;
        let got = strings(
            body["data"][field]
                .as_array()
                .unwrap_or_else(|| panic!("{body}")),
            key,
        );
        let expected = column(
            &e.db,
            &format!(
                "SELECT \"{column_name}\"::text AS v, \
                 row_number() OVER (ORDER BY \"SortOrder\" NULLS LAST, \"{column_name}\") AS n FROM \"{table}\""
            ),
        )
        .await;
        assert_eq!(got, expected, "{field}");
        assert!(
            got.iter()
                .any(|k| ["Z", "ZZ", "ZZZ", "901"].contains(&k.as_str())),
            "{field}: our entry is listed"
        );
    }
    let body = e.q(&e.officer, &doc("head_confirmation_types", &[])).await;
    assert_eq!(
        body["data"]["confirmationTypes"][0]["isConfirmationNumberRequired"],
        false
    );
    // The names come with the entries, and an insuree's relation reads the same list.
    let body = e
        .q(
            &e.officer,
            "{ relations { id relation sortOrder altLanguage } identificationTypes { code identificationType } }",
        )
        .await;
    let last = body["data"]["relations"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["id"], 901);
    assert_eq!(last["relation"], "Test relation");
    assert!(last["sortOrder"].is_null());
    let last = body["data"]["identificationTypes"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["identificationType"], "Test id");

    // The rights openIMIS asks: 101101 for the genders, 101001 for the others.
    let body = e.q(&e.clerk, &doc("head_insuree_genders", &[])).await;
    refused(&body);
    let body = e.q(&e.clerk, &doc("head_relations", &[])).await;
    assert!(body["data"]["relations"].is_array(), "{body}");
    fixtures::user(&e.db, "lk-none", "pw", &[101101], &[e.mine.district], false).await;
    let none = e.app.login("lk-none", "pw").await;
    let body = e.q(&none, &doc("head_family_types", &[])).await;
    refused(&body);
}

#[tokio::test]
async fn an_insurees_relation_profession_and_education_carry_their_names() {
    let e = env().await;
    let village = e.mine.village.to_string();
    let body = e
        .q(
            &e.officer,
            &doc(
                "head_create_family",
                &[
                    ("CLIENT_ID", "lk-2"),
                    ("CHF", "770101"),
                    ("VILLAGE_ID", &village),
                ],
            ),
        )
        .await;
    assert!(body["errors"].is_null(), "{body}");
    e.db.exec(
        "INSERT INTO \"tblRelations\" (\"RelationId\", \"Relation\") VALUES (902, 'Cousin') ON CONFLICT DO NOTHING;
         INSERT INTO \"tblProfessions\" (\"ProfessionId\", \"Profession\") VALUES (902, 'Farmer') ON CONFLICT DO NOTHING;
         INSERT INTO \"tblEducations\" (\"EducationId\", \"Education\") VALUES (902, 'Primary') ON CONFLICT DO NOTHING;
         INSERT INTO \"tblIdentificationTypes\" (\"IdentificationCode\", \"IdentificationTypes\") VALUES ('Y', 'Card') ON CONFLICT DO NOTHING;
         UPDATE \"tblInsuree\" SET \"Relationship\" = 902, \"Profession\" = 902, \"Education\" = 902, \"TypeOfId\" = 'Y' WHERE \"CHFID\" = '770101';",
    )
    .await;
    let body = e
        .q(
            &e.officer,
            "{ families(headInsuree_ChfId: \"770101\") { edges { node { headInsuree { \
               relationship { id relation } profession { id profession } education { id education } \
               typeOfId { code identificationType } } } } } }",
        )
        .await;
    let head = &body["data"]["families"]["edges"][0]["node"]["headInsuree"];
    assert_eq!(head["relationship"]["id"], 902, "{body}");
    assert_eq!(head["relationship"]["relation"], "Cousin");
    assert_eq!(head["profession"]["profession"], "Farmer");
    assert_eq!(head["education"]["education"], "Primary");
    assert_eq!(head["typeOfId"]["code"], "Y");
    assert_eq!(head["typeOfId"]["identificationType"], "Card");
}

#[tokio::test]
async fn current_user_tells_the_frontend_who_is_logged_in_and_their_rights() {
    let e = env().await;
    let get = |token: Option<String>| {
        let mut req = e.app.client.get(e.app.url("/api/core/users/current_user/"));
        if let Some(t) = token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        req.send()
    };
    let resp = get(Some(e.officer.clone())).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["username"], "lk-officer", "{body}");
    let core_id =
        e.db.scalar("SELECT id FROM \"core_User\" WHERE username = 'lk-officer'")
            .await
            .unwrap();
    assert_eq!(body["id"], core_id);
    let user = &body["i_user"];
    let user_id =
        e.db.count("SELECT \"UserID\" FROM \"tblUsers\" WHERE \"LoginName\" = 'lk-officer'")
            .await;
    assert_eq!(user["id"], user_id);
    assert_eq!(
        user["rights"],
        serde_json::json!([101001, 101002, 101003, 101101])
    );
    assert_eq!(user["language"], "en");
    assert_eq!(user["last_name"], "lk-officer");
    assert_eq!(user["other_names"], "Test");
    assert_eq!(user["has_password"], true);
    assert!(user["health_facility_id"].is_null());
    assert!(body["t_user"].is_null());

    // The JWT cookie works as well; no token or a bad one is 401.
    let resp = e
        .app
        .client
        .get(e.app.url("/api/core/users/current_user/"))
        .header("cookie", format!("JWT={}", e.admin))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["username"], "lk-admin");
    assert_eq!(get(None).await.unwrap().status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        get(Some("not-a-token".into())).await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
}
