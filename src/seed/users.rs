//! Roles, rights and the three demo logins, with passwords stored the openIMIS way:
//! `StoredPassword` = upper-case hex SHA-256 of (password + `PrivateKey`), where the private key
//! is 256 hex characters (openIMIS draws it at random; here it derives from the seed).

use super::sql::{Gen, lit};

/// A demo login.
#[derive(Debug, Clone, Copy)]
pub struct DemoUser {
    /// `tblUsers.LoginName`.
    pub login: &'static str,
    /// The password (printed in docs/demo-data.md).
    pub password: &'static str,
    /// `IsSystem` of the user's role.
    pub role_is_system: i32,
    /// Districts (location codes) listed in `tblUsersDistricts`.
    pub districts: &'static [&'static str],
    /// Given names and family name.
    pub names: (&'static str, &'static str),
}

/// The demo logins: an administrator, an enrolment officer limited to district R1D1 who holds
/// the report right, and a clerk without it in districts R1D1 and R1D2.
pub const DEMO_USERS: [DemoUser; 3] = [
    DemoUser {
        login: "Admin",
        password: "admin123",
        role_is_system: 64,
        districts: &[],
        names: ("System", "Administrator"),
    },
    DemoUser {
        login: "officer",
        password: "officer123",
        role_is_system: 1,
        districts: &["R1D1"],
        names: ("Baraka", "Mwakyusa"),
    },
    DemoUser {
        login: "clerk",
        password: "clerk123",
        role_is_system: 8,
        districts: &["R1D1", "R1D2"],
        names: ("Neema", "Kimaro"),
    },
];

/// Every right of the base openIMIS data plus the policy-notification report right.
const ADMIN_RIGHTS: &[i32] = &[
    101001, 101002, 101003, 101004, 101101, 101102, 101103, 101104, 101105, 101201, 101202, 101203,
    101204, 101205, 101301, 101302, 101303, 101304, 101401, 101402, 101403, 101404, 111001, 111002,
    111004, 111005, 111006, 111007, 111008, 111009, 111010, 111011, 111101, 111102, 111103, 121001,
    121002, 121003, 121004, 121005, 121101, 121102, 121103, 121104, 121201, 121202, 121203, 121204,
    121205, 121301, 121302, 121303, 121304, 121305, 121401, 121402, 121403, 121404, 121501, 121502,
    121503, 121504, 121601, 121602, 121603, 121604, 121701, 121702, 121703, 121704, 121801, 121802,
    121803, 121804, 121901, 121902, 121903, 121904, 121905, 122000, 122001, 122002, 122003, 122004,
    122005, 122101, 122102, 122103, 122104, 131001, 131002, 131003, 131004, 131005, 131006, 131101,
    131102, 131103, 131104, 131105, 131106, 131201, 131202, 131203, 131204, 131205, 131206, 131207,
    131208, 131209, 131210, 131211, 131212, 131213, 131214, 131215, 131216, 131217, 131218, 131219,
    131220, 131221, 131222, 131223, 131224, 131301, 131302, 131303, 131304, 131401,
];

/// The enrolment officer's rights: the family rights, insuree search (which the family screens'
/// `familyMembers` and `insureeGenders` ask for) and the report right.
const OFFICER_RIGHTS: &[i32] = &[101001, 101002, 101003, 101004, 101101, 131224];
/// The clerk's rights: the family rights and insuree search, no report.
const CLERK_RIGHTS: &[i32] = &[101001, 101002, 101003, 101004, 101101];

fn roles() -> [(i32, &'static str, &'static str, &'static [i32]); 3] {
    [
        (
            64,
            "IMIS Administrator",
            "Administrateur IMIS",
            ADMIN_RIGHTS,
        ),
        (1, "Enrolment Officer", "Agent d'enrôlement", OFFICER_RIGHTS),
        (8, "Clerk", "Employé", CLERK_RIGHTS),
    ]
}

/// Roles and their rights, each added only when absent (a role is found by `IsSystem`).
pub(crate) fn roles_sql(g: &Gen, since: &str) -> String {
    let mut sql = String::new();
    for (is_system, name, alt, rights) in roles() {
        let rights: Vec<String> = rights.iter().map(i32::to_string).collect();
        sql.push_str(&format!(
            r#"
INSERT INTO "tblRole" ("RoleID", "RoleUUID", "RoleName", "AltLanguage", "IsSystem", "IsBlocked", "ValidityFrom")
SELECT (SELECT COALESCE(max("RoleID"), 0) FROM "tblRole") + 1, {uuid}, {name}, {alt}, {is_system}, false, {since}
WHERE NOT EXISTS (SELECT 1 FROM "tblRole" WHERE "IsSystem" = {is_system} AND "ValidityTo" IS NULL);
INSERT INTO "tblRoleRight" ("RoleRightID", "RoleID", "RightID", "ValidityFrom")
SELECT (SELECT COALESCE(max("RoleRightID"), 0) FROM "tblRoleRight") + row_number() OVER (ORDER BY x.right_id),
       r.role_id, x.right_id, {since}
FROM (SELECT min("RoleID") AS role_id FROM "tblRole" WHERE "IsSystem" = {is_system} AND "ValidityTo" IS NULL) r
CROSS JOIN unnest(ARRAY[{rights}]) x(right_id)
WHERE NOT EXISTS (SELECT 1 FROM "tblRoleRight" rr WHERE rr."RoleID" = r.role_id AND rr."RightID" = x.right_id
                  AND rr."ValidityTo" IS NULL);
"#,
            uuid = g.uuid("role", &is_system.to_string()),
            name = lit(name),
            alt = lit(alt),
            rights = rights.join(","),
        ));
    }
    sql
}

/// The demo users (added when no current user has the login), their roles and `core_User` rows.
/// `with_assign`: whether `tblUserRole` has openIMIS's later `Assign` column (absent in the
/// 1.5.0 era's dump).
pub(crate) fn users_sql(g: &Gen, since: &str, with_assign: bool) -> String {
    let mut sql = String::new();
    for u in DEMO_USERS {
        let login = lit(u.login);
        let key = |i: u32| format!("'{}:pk:{}:{i}'", g.seed, u.login);
        let private_key = (0..4)
            .map(|i| format!("encode(sha256(convert_to({}, 'UTF8')), 'hex')", key(i)))
            .collect::<Vec<_>>()
            .join(" || ");
        sql.push_str(&format!(
            r#"
INSERT INTO "tblUsers" ("UserID", "UserUUID", "LoginName", "LastName", "OtherNames", "Phone", "EmailId",
    "LanguageID", "HFID", "RoleID", "IsAssociated", "StoredPassword", "PrivateKey", "ValidityFrom", "AuditUserID")
SELECT (SELECT COALESCE(max("UserID"), 0) FROM "tblUsers") + 1, {uuid}, {login}, {last}, {other}, NULL,
       lower({login}) || '@demo.openimis.example', 'en', NULL, {mask}, false,
       upper(encode(sha256(convert_to({password} || k.pk, 'UTF8')), 'hex')), k.pk, {since}, -1
FROM (SELECT {private_key} AS pk) k
WHERE NOT EXISTS (SELECT 1 FROM "tblUsers" WHERE "LoginName" = {login} AND "ValidityTo" IS NULL);
INSERT INTO "tblUserRole" ("UserRoleID", "UserID", "RoleID", {assign_column}"ValidityFrom", "AudituserID")
SELECT (SELECT COALESCE(max("UserRoleID"), 0) FROM "tblUserRole") + 1, u.id, r.id, {assign_value}{since}, -1
FROM (SELECT min("UserID") AS id FROM "tblUsers" WHERE "LoginName" = {login} AND "ValidityTo" IS NULL) u,
     (SELECT min("RoleID") AS id FROM "tblRole" WHERE "IsSystem" = {mask} AND "ValidityTo" IS NULL) r
WHERE NOT EXISTS (SELECT 1 FROM "tblUserRole" ur WHERE ur."UserID" = u.id AND ur."RoleID" = r.id AND ur."ValidityTo" IS NULL);
INSERT INTO "core_User" ("id", "username", "i_user_id")
SELECT ({core_uuid})::uuid, {login}, u.id
FROM (SELECT min("UserID") AS id FROM "tblUsers" WHERE "LoginName" = {login} AND "ValidityTo" IS NULL) u
ON CONFLICT DO NOTHING;
"#,
            uuid = g.uuid("user", &login),
            assign_column = if with_assign { "\"Assign\", " } else { "" },
            assign_value = if with_assign { "3, " } else { "" },
            core_uuid = g.uuid("core_user", &login),
            last = lit(u.names.1),
            other = lit(u.names.0),
            mask = u.role_is_system,
            password = lit(u.password),
        ));
    }
    sql
}

/// The users' district restrictions (after the location tree exists; reads `pn_loc`).
pub(crate) fn user_districts_sql(since: &str, audit: i64) -> String {
    let mut sql = String::new();
    for u in DEMO_USERS {
        for code in u.districts {
            sql.push_str(&format!(
                r#"
INSERT INTO "tblUsersDistricts" ("UserDistrictID", "UserID", "LocationId", "ValidityFrom", "AuditUserID")
SELECT (SELECT COALESCE(max("UserDistrictID"), 0) FROM "tblUsersDistricts") + 1, u.id, l.location_id, {since}, {audit}
FROM (SELECT min("UserID") AS id FROM "tblUsers" WHERE "LoginName" = {login} AND "ValidityTo" IS NULL) u
JOIN pn_loc l ON l.code = {code}
WHERE NOT EXISTS (SELECT 1 FROM "tblUsersDistricts" d WHERE d."UserID" = u.id AND d."LocationId" = l.location_id
                  AND d."ValidityTo" IS NULL);
"#,
                login = lit(u.login),
                code = lit(code),
            ));
        }
    }
    sql
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rights_match_the_brief() {
        assert!(ADMIN_RIGHTS.contains(&131224));
        assert!(OFFICER_RIGHTS.contains(&131224));
        assert!(!CLERK_RIGHTS.contains(&131224));
    }
}
