//! The small, fixed part of the demo data: languages, reference tables, the location tree,
//! officers and products. Rows that may already exist (on a forced seed into a live database)
//! are added only when absent.

use super::names::{
    LAST_NAMES, MALE_NAMES, MUNICIPALITIES_PER_DISTRICT, MUNICIPALITY_NAMES, REGIONS,
    VILLAGE_NAMES, VILLAGES_PER_MUNICIPALITY,
};
use super::sql::{Gen, lit};

/// Languages and the reference tables of the family screens.
pub(crate) fn reference_tables() -> String {
    r#"
INSERT INTO "tblLanguages" ("LanguageCode", "LanguageName", "SortOrder") VALUES
    ('en', 'English', 1), ('fr', 'Français', 2)
ON CONFLICT DO NOTHING;
INSERT INTO "tblGender" ("Code", "Gender", "AltLanguage", "SortOrder") VALUES
    ('M', 'Male', 'Masculin', 1), ('F', 'Female', 'Féminin', 2), ('O', 'Other', 'Autre', 3)
ON CONFLICT DO NOTHING;
INSERT INTO "tblFamilyTypes" ("FamilyTypeCode", "FamilyType", "SortOrder", "AltLanguage") VALUES
    ('H', 'Household', 1, 'Ménage'), ('C', 'Council', 2, 'Conseil'),
    ('G', 'Organization', 3, 'Organisation'), ('P', 'Priests', 4, 'Prêtres'),
    ('S', 'Students', 5, 'Étudiants'), ('T', 'Teachers', 6, 'Enseignants'),
    ('O', 'Other', 7, 'Autre')
ON CONFLICT DO NOTHING;
INSERT INTO "tblConfirmationTypes" ("ConfirmationTypeCode", "ConfirmationType", "SortOrder", "AltLanguage") VALUES
    ('A', 'Local council', 1, 'Conseil local'), ('B', 'Municipality', 2, 'Municipalité'),
    ('C', 'State', 3, 'État'), ('D', 'Other', 4, 'Autre')
ON CONFLICT DO NOTHING;
INSERT INTO "tblRelations" ("RelationId", "Relation", "SortOrder", "AltLanguage") VALUES
    (1, 'Brother/Sister', 1, 'Frère/Sœur'), (2, 'Father/Mother', 2, 'Père/Mère'),
    (3, 'Uncle/Aunt', 3, 'Oncle/Tante'), (4, 'Son/Daughter', 4, 'Fils/Fille'),
    (5, 'Grandparents', 5, 'Grands-parents'), (6, 'Employee', 6, 'Employé'),
    (7, 'Others', 7, 'Autres'), (8, 'Spouse', 8, 'Conjoint')
ON CONFLICT DO NOTHING;
INSERT INTO "tblProfessions" ("ProfessionId", "Profession", "SortOrder", "AltLanguage") VALUES
    (1, 'Housewife', 1, 'Femme au foyer'), (2, 'Employee', 2, 'Employé'),
    (3, 'Self-employed', 3, 'Indépendant'), (4, 'Farmer', 4, 'Agriculteur'),
    (5, 'Others', 5, 'Autres')
ON CONFLICT DO NOTHING;
INSERT INTO "tblEducations" ("EducationId", "Education", "SortOrder", "AltLanguage") VALUES
    (1, 'Nursery', 1, 'Maternelle'), (2, 'Primary school', 2, 'École primaire'),
    (3, 'Secondary school', 3, 'École secondaire'), (4, 'University', 4, 'Université'),
    (5, 'Postgraduate studies', 5, 'Études supérieures'), (6, 'PhD', 6, 'Doctorat'),
    (7, 'Other', 7, 'Autre')
ON CONFLICT DO NOTHING;
INSERT INTO "tblIdentificationTypes" ("IdentificationCode", "IdentificationTypes", "AltLanguage", "SortOrder") VALUES
    ('N', 'National ID', 'Carte d''identité', 1), ('P', 'Passport', 'Passeport', 2),
    ('D', 'Driver''s licence', 'Permis de conduire', 3), ('V', 'Voter card', 'Carte d''électeur', 4)
ON CONFLICT DO NOTHING;
"#
    .to_string()
}

/// One node of the location tree.
struct Node {
    code: String,
    name: String,
    kind: char,
    parent: Option<usize>,
}

fn tree() -> Vec<Node> {
    let mut nodes = Vec::new();
    let mut municipality = 0usize;
    let mut village = 0usize;
    for (r, (region, districts)) in REGIONS.iter().enumerate() {
        let r_code = format!("R{}", r + 1);
        nodes.push(Node {
            code: r_code.clone(),
            name: (*region).to_string(),
            kind: 'R',
            parent: None,
        });
        let r_idx = nodes.len() - 1;
        for (d, district) in districts.iter().enumerate() {
            let d_code = format!("{r_code}D{}", d + 1);
            nodes.push(Node {
                code: d_code.clone(),
                name: (*district).to_string(),
                kind: 'D',
                parent: Some(r_idx),
            });
            let d_idx = nodes.len() - 1;
            for m in 0..MUNICIPALITIES_PER_DISTRICT {
                let m_code = format!("{d_code}M{}", m + 1);
                nodes.push(Node {
                    code: m_code.clone(),
                    name: MUNICIPALITY_NAMES
                        .get(municipality)
                        .map_or_else(|| m_code.clone(), |s| (*s).to_string()),
                    kind: 'W',
                    parent: Some(d_idx),
                });
                municipality += 1;
                let m_idx = nodes.len() - 1;
                for v in 0..VILLAGES_PER_MUNICIPALITY {
                    let v_code = format!("{m_code}V{}", v + 1);
                    nodes.push(Node {
                        code: v_code.clone(),
                        name: VILLAGE_NAMES
                            .get(village)
                            .map_or_else(|| v_code.clone(), |s| (*s).to_string()),
                        kind: 'V',
                        parent: Some(m_idx),
                    });
                    village += 1;
                }
            }
        }
    }
    nodes
}

/// The location tree (regions → districts → municipalities → villages) with ids after
/// `base`, and the session tables `pn_loc` (code → id) and `pn_v` (village index → id,
/// district index, name) that the family load reads.
pub(crate) fn locations(g: &Gen, base: i64, audit: i64, since: &str) -> String {
    let nodes = tree();
    let mut rows = Vec::new();
    let mut villages = Vec::new();
    let mut district_idx = 0usize;
    let mut district_of: Vec<usize> = Vec::new();
    for (i, n) in nodes.iter().enumerate() {
        let id = base + i64::try_from(i).unwrap_or(0) + 1;
        let parent = n
            .parent
            .map_or_else(|| "NULL".to_string(), |p| (base + p as i64 + 1).to_string());
        let key = lit(&n.code);
        let (male, female, other, families) = if n.kind == 'V' {
            (
                format!("300 + {}", g.pick("lm", &key, 900)),
                format!("300 + {}", g.pick("lf", &key, 900)),
                g.pick("lo", &key, 20),
                format!("80 + {}", g.pick("lh", &key, 300)),
            )
        } else {
            ("NULL".into(), "NULL".into(), "NULL".into(), "NULL".into())
        };
        rows.push(format!(
            "({id}, {uuid}, {code}, {name}, '{kind}', {parent}, {male}, {female}, {other}, {families}, {since}, {audit})",
            uuid = g.uuid("loc", &key),
            code = lit(&n.code),
            name = lit(&n.name),
            kind = n.kind,
        ));
        if n.kind == 'D' {
            district_idx += 1;
        }
        district_of.push(district_idx);
        if n.kind == 'V' {
            villages.push(format!(
                "({}, {id}, {}, {})",
                villages.len(),
                district_of[i],
                lit(&n.name)
            ));
        }
    }
    let codes: Vec<String> = nodes
        .iter()
        .enumerate()
        .map(|(i, n)| format!("({}, {})", lit(&n.code), base + i as i64 + 1))
        .collect();
    format!(
        r#"
INSERT INTO "tblLocations" ("LocationId", "LocationUUID", "LocationCode", "LocationName", "LocationType",
    "ParentLocationId", "MalePopulation", "FemalePopulation", "OtherPopulation", "Families",
    "ValidityFrom", "AuditUserId")
VALUES {rows};
DROP TABLE IF EXISTS pn_loc;
CREATE TEMP TABLE pn_loc (code text PRIMARY KEY, location_id int NOT NULL);
INSERT INTO pn_loc VALUES {codes};
DROP TABLE IF EXISTS pn_v;
CREATE TEMP TABLE pn_v (idx int PRIMARY KEY, location_id int NOT NULL, district_idx int NOT NULL, name text NOT NULL);
INSERT INTO pn_v VALUES {villages};
"#,
        rows = rows.join(",\n    "),
        codes = codes.join(", "),
        villages = villages.join(", "),
    )
}

/// Number of villages in the tree.
pub(crate) fn village_count() -> u32 {
    let districts: usize = REGIONS.iter().map(|(_, d)| d.len()).sum();
    u32::try_from(districts * MUNICIPALITIES_PER_DISTRICT * VILLAGES_PER_MUNICIPALITY)
        .unwrap_or(u32::MAX)
}

/// Officers per district.
pub(crate) const OFFICERS_PER_DISTRICT: u32 = 2;

/// Two enrolment officers per district (`tblOfficer`), and the session table `pn_o`
/// (district index, k → officer id).
pub(crate) fn officers(g: &Gen, audit: i64, since: &str) -> String {
    let d = g.d();
    let key = "o.code";
    format!(
        r#"
DROP TABLE IF EXISTS pn_o;
CREATE TEMP TABLE pn_o AS
SELECT (SELECT COALESCE(max("OfficerID"), 0) FROM "tblOfficer") + row_number() OVER (ORDER BY x.district_idx, x.k) AS officer_id,
       x.district_idx, x.k, x.location_id,
       'E' || lpad(((x.district_idx - 1) * {per} + x.k + 1)::text, 5, '0') AS code
FROM (SELECT dd.district_idx, dd.location_id, k
      FROM (SELECT row_number() OVER (ORDER BY l.location_id)::int AS district_idx, l.location_id
            FROM pn_loc l JOIN "tblLocations" t ON t."LocationId" = l.location_id AND t."LocationType" = 'D') dd
      CROSS JOIN generate_series(0, {per} - 1) k) x;
INSERT INTO "tblOfficer" ("OfficerID", "OfficerUUID", "Code", "LastName", "OtherNames", "DOB", "Phone",
    "EmailId", "LocationId", "HasLogin", "PhoneCommunication", "permanentaddress", "ValidityFrom", "AuditUserID")
SELECT o.officer_id, {uuid}, o.code, {last}, {first},
       ({d} - ((28 + {age}) * 365 + {days}))::date, {phone},
       lower(o.code) || '@officers.example.org', o.location_id, false, true, NULL, {since}, {audit}
FROM pn_o o ORDER BY o.officer_id;
"#,
        per = OFFICERS_PER_DISTRICT,
        uuid = g.uuid("off", key),
        last = g.choose("ofl", key, LAST_NAMES),
        first = g.choose("off", key, MALE_NAMES),
        age = g.pick("ofa", key, 25),
        days = g.pick("ofd", key, 365),
        phone = g.phone("ofp", key),
    )
}

/// The products: a 2025 family cover converted into its 2026 successor, an individual
/// cover priced per member, and a community cover. Also the session table `pn_prod`.
pub(crate) fn products(g: &Gen, audit: i64, since: &str) -> String {
    let d = g.d();
    format!(
        r#"
DROP TABLE IF EXISTS pn_prod;
CREATE TEMP TABLE pn_prod AS
SELECT (SELECT COALESCE(max("ProdID"), 0) FROM "tblProduct") + p.idx + 1 AS prod_id, p.*
FROM (VALUES
    (0, 'FHC01', 'Family Health Cover 2025', 1, 12000.00, 6, NULL::numeric, false),
    (1, 'FHC02', 'Family Health Cover 2026', NULL, 13500.00, 6, NULL::numeric, false),
    (2, 'IHC01', 'Individual Health Cover', NULL, 0.00, 0, 4000.00, true),
    (3, 'CBC01', 'Community Basic Cover', NULL, 8000.00, 8, NULL::numeric, false)
) p(idx, code, name, conv_idx, lump, member_count, adult, per_member);
ALTER TABLE pn_prod ADD COLUMN conv_prod_id int;
UPDATE pn_prod p SET conv_prod_id = COALESCE((SELECT c.prod_id FROM pn_prod c WHERE c.idx = p.conv_idx), p.prod_id);
INSERT INTO "tblProduct" ("ProdID", "ProdUUID", "ProductCode", "ProductName", "LocationId", "InsurancePeriod",
    "DateFrom", "DateTo", "ConversionProdID", "LumpSum", "MemberCount", "PremiumAdult", "PremiumChild",
    "RegistrationLumpSum", "RegistrationFee", "GeneralAssemblyLumpSum", "GeneralAssemblyFee",
    "AdministrationPeriod", "GracePeriod", "GracePeriodRenewal", "WaitingPeriod", "Threshold",
    "EnrolmentDiscountPerc", "EnrolmentDiscountPeriod", "RenewalDiscountPerc", "RenewalDiscountPeriod",
    "ValidityFrom", "AuditUserID")
SELECT p.prod_id, {uuid}, p.code, p.name, NULL, 12,
       ({d} - interval '3 years')::timestamp, ({d} + interval '3 years')::timestamp,
       CASE WHEN p.conv_idx IS NULL THEN NULL ELSE p.conv_prod_id END,
       p.lump, p.member_count, COALESCE(p.adult, 0), CASE WHEN p.per_member THEN 2000.00 ELSE 0 END,
       0, 500.00, 0, 0, 0, 1, 1, 0, 0, 0, 0, 10, 1, {since}, {audit}
FROM pn_prod p ORDER BY p.prod_id;
"#,
        uuid = g.uuid("prod", "p.code"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tree_shape_and_codes() {
        let nodes = tree();
        assert_eq!(nodes.iter().filter(|n| n.kind == 'R').count(), 2);
        assert_eq!(nodes.iter().filter(|n| n.kind == 'D').count(), 5);
        assert_eq!(nodes.iter().filter(|n| n.kind == 'W').count(), 15);
        assert_eq!(
            nodes.iter().filter(|n| n.kind == 'V').count() as u32,
            village_count()
        );
        assert!(nodes.iter().any(|n| n.code == "R1D1M1V1"));
        assert!(
            nodes
                .iter()
                .all(|n| n.code.len() <= 8 && n.name.len() <= 50)
        );
        assert_eq!(VILLAGE_NAMES.len() as u32, village_count());
        assert_eq!(MUNICIPALITY_NAMES.len(), 15);
    }
}
