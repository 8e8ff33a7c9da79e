//! The bulk of the demo data, loaded one chunk of families at a time, set-based on the server:
//! families, members, notification preferences, policies with their members and premiums,
//! notification markers and history rows. Reads the session tables `pn_v`, `pn_o` and `pn_prod`.
//!
//! Every family has a *scenario* that decides its policies, dated relative to the as-of date D:
//!
//! | # | scenario | policies |
//! |---|---|---|
//! | 0 | no policy | — |
//! | 1 | active mid-term | status 2, started D−330…D−30 |
//! | 2 | activation | status 2 stage N, activated (ValidityFrom) D−4…D−1 |
//! | 3 | start | status 2, EffectiveDate = D |
//! | 4 | before expiry | ExpiryDate = D+5 (renewed in 30 %: idle stage-R policy from D+6) |
//! | 5 | on expiry | ExpiryDate = D (renewed in 30 %: active stage-R policy from D+1) |
//! | 6 | after expiry | status 8, ExpiryDate = D−5 (renewed in 30 %: active stage-R policy from D−4) |
//! | 7 | renewal | status 2 stage R, activated D−4…D−1, after an expired policy |
//! | 8 | idle | status 1, starts D…D+29 |
//! | 9 | suspended | status 4 |
//! | 10 | expired | status 8, expired D−299…D−30, not renewed |
//! | 11 | ready | status 16 |
//! | 12 | renewed long ago | status 2 stage R started D−299…D−30, after an expired policy |
//!
//! The first [`SHOWCASE`] families have fixed scenarios, phones and preferences, so that every
//! event and every notification mode has candidates whatever the seed; the others are drawn
//! from the seed.

use super::names::{FEMALE_NAMES, LAST_NAMES, MALE_NAMES};
use super::reference::village_count;
use super::sql::{Gen, big, phone1, sc, sp, su, uuid2};

/// Number of families with fixed, hand-picked scenarios.
pub const SHOWCASE: u64 = 32;

/// (n, scenario, phone kind, preference kind, language, renewed, product index).
/// Phone kind: 0 head has a phone, 1 only a non-head member has one, 2 none (head `''`),
/// 3 none (head NULL). Preference kind: 0 no `tblFamilySMS` row, 1 approved, 2 not approved.
const SHOWCASE_ROWS: &str = "
    (1, 2, 0, 1, 'en', false, 1), (2, 2, 0, 1, 'fr', false, 2), (3, 3, 0, 1, 'en', false, 3),
    (4, 3, 0, 1, 'fr', false, 1), (5, 4, 0, 1, 'en', false, 2), (6, 4, 0, 1, 'fr', false, 3),
    (7, 4, 0, 1, 'en', true, 2), (8, 5, 0, 1, 'en', false, 1), (9, 5, 0, 1, 'fr', false, 3),
    (10, 5, 0, 1, 'en', true, 0), (11, 6, 0, 1, 'en', false, 2), (12, 6, 0, 1, 'fr', false, 1),
    (13, 6, 0, 1, 'en', true, 3), (14, 7, 0, 1, 'en', false, 2), (15, 7, 0, 1, 'fr', false, 3),
    (16, 7, 0, 1, 'en', false, 0), (17, 8, 0, 1, 'en', false, 1), (18, 9, 0, 1, 'fr', false, 2),
    (19, 10, 0, 1, 'en', false, 3), (20, 11, 0, 1, 'fr', false, 1), (21, 1, 0, 1, 'en', false, 2),
    (22, 12, 0, 1, 'fr', false, 0), (23, 0, 0, 1, 'en', false, 1), (24, 1, 3, 1, 'en', false, 1),
    (25, 1, 2, 1, 'fr', false, 2), (26, 1, 0, 2, 'en', false, 3), (27, 1, 0, 0, 'en', false, 1),
    (28, 1, 2, 2, 'fr', false, 2), (29, 1, 3, 0, 'en', false, 3), (30, 1, 1, 1, 'en', false, 1),
    (31, 4, 1, 1, 'fr', false, 2), (32, 5, 0, 2, 'en', false, 3)";

/// The SQL that loads families `a..=b` (1-based family numbers); `premium_created`: whether
/// `tblPremium` has the `CreatedDate` column of later eras.
pub(crate) fn chunk_sql(g: &Gen, a: u64, b: u64, audit: i64, premium_created: bool) -> String {
    let mut sql = String::new();
    sql.push_str(&families_table(g, a, b));
    sql.push_str(&insurees(g, audit));
    sql.push_str(&families(audit));
    sql.push_str(&policies_table(g));
    sql.push_str(&policy_rows(g, audit, premium_created));
    sql.push_str(&history(g, audit));
    sql
}

/// `pn_f`: one row per family with its draws. The hash columns h0…h11 are kept for the later
/// statements (h3: policy anchors, h4–h7: history, h8–h11: UUIDs).
fn families_table(g: &Gen, a: u64, b: u64) -> String {
    let d = g.d();
    let nv = village_count();
    let (h0, h1) = ("x.h0", "x.h1");
    format!(
        r#"
DROP TABLE IF EXISTS pn_f;
CREATE TEMP TABLE pn_f AS
WITH s AS (
    SELECT g.n, sc.n IS NOT NULL AS showcase, x.*,
        COALESCE(sc.scenario, CASE WHEN x.v < 40 THEN 0 WHEN x.v < 470 THEN 1 WHEN x.v < 495 THEN 2
            WHEN x.v < 510 THEN 3 WHEN x.v < 530 THEN 4 WHEN x.v < 545 THEN 5 WHEN x.v < 565 THEN 6
            WHEN x.v < 590 THEN 7 WHEN x.v < 650 THEN 8 WHEN x.v < 680 THEN 9 WHEN x.v < 780 THEN 10
            WHEN x.v < 800 THEN 11 ELSE 12 END) AS scenario,
        COALESCE(sc.phone_kind, CASE WHEN {u_pk} < 0.68 THEN 0 WHEN {u_pk} < 0.78 THEN 1
            WHEN {u_pk} < 0.89 THEN 2 ELSE 3 END) AS phone_kind,
        COALESCE(sc.sms_kind, CASE WHEN {u_sk} < 0.08 THEN 0 WHEN {u_sk} < 0.66 THEN 1 ELSE 2 END) AS sms_kind,
        COALESCE(sc.lang, CASE WHEN {u_la} < 0.7 THEN 'en' ELSE 'fr' END) AS lang,
        COALESCE(sc.renewed, {u_rn} < 0.3) AS renewed,
        COALESCE(sc.prod, CASE WHEN {p_pr} < 35 THEN 0 WHEN {p_pr} < 60 THEN 1 WHEN {p_pr} < 85 THEN 2 ELSE 3 END) AS prod_idx,
        sc.n IS NULL AND {u_nt} < 0.25 AS notified
    FROM generate_series({a}::bigint, {b}::bigint) g(n)
    LEFT JOIN (VALUES {showcase}) sc(n, scenario, phone_kind, sms_kind, lang, renewed, prod) ON sc.n = g.n
    CROSS JOIN LATERAL (SELECT y.*, {p_sc} AS v FROM (SELECT 1) one {hashes} OFFSET 0) x
), t AS (
    SELECT s.*,
        CASE WHEN s.showcase THEN 3 WHEN s.phone_kind = 1 THEN 2 + {p_m4} ELSE 1 + {p_m5} END AS members,
        CASE WHEN s.showcase THEN ((s.n - 1) % {nv})::int ELSE {p_v} END AS village_idx,
        {p_ok} AS officer_k
    FROM s
)
SELECT (SELECT COALESCE(max("FamilyID"), 0) FROM "tblFamilies") + (t.n - {a} + 1) AS fid,
    (SELECT COALESCE(max("InsureeID"), 0) FROM "tblInsuree") + sum(t.members) OVER (ORDER BY t.n) - t.members + 1 AS head_id,
    t.n, t.showcase, t.scenario, t.phone_kind, t.sms_kind, t.lang, t.renewed, t.notified, t.members,
    t.h3, t.h4, t.h5, t.h6, t.h7, t.h8, t.h9, t.h10, t.h11,
    v.location_id AS village_id, o.officer_id,
    p.prod_id, p.conv_prod_id, p.per_member, p.lump, p.adult,
    {last} AS last_name,
    CASE WHEN {u_hg} < 0.6 THEN 'M' ELSE 'F' END AS head_gender,
    ({d} - (700 + {p_fv}))::timestamp + make_interval(secs => 28800 + {p_fs}) AS fam_vf,
    {u_po} < 0.2 AS poverty,
    CASE WHEN {u_ft} < 0.85 THEN 'H' ELSE {ftype} END AS ftype,
    CASE WHEN {u_ct} < 0.6 THEN NULL ELSE {ctype} END AS conf_type,
    CASE WHEN {u_ct} < 0.6 THEN NULL ELSE lpad({p_cn}::text, 9, '0') END AS conf_no,
    'Plot ' || (1 + {p_ad}) || ', ' || v.name AS address
FROM t
JOIN pn_v v ON v.idx = t.village_idx
JOIN pn_o o ON o.district_idx = v.district_idx AND o.k = t.officer_k
JOIN pn_prod p ON p.idx = t.prod_idx;
ANALYZE pn_f;
"#,
        showcase = SHOWCASE_ROWS,
        hashes = g.hashes("y", "fam", "g.n", 12),
        p_sc = sp("y.h0", 0, 1000),
        u_pk = su(h0, 1),
        u_sk = su(h0, 2),
        u_la = su(h0, 3),
        u_rn = su(h0, 4),
        p_pr = sp(h0, 5, 100),
        u_nt = su(h1, 0),
        p_m4 = sp("s.h1", 1, 4),
        p_m5 = sp("s.h1", 1, 5),
        p_v = sp("s.h1", 2, nv),
        p_ok = sp("s.h1", 3, super::reference::OFFICERS_PER_DISTRICT),
        u_ct = su("t.h1", 4),
        last = sc("t.h1", 5, LAST_NAMES),
        u_hg = su("t.h2", 0),
        p_fv = sp("t.h2", 1, 800),
        u_po = su("t.h2", 2),
        u_ft = su("t.h2", 3),
        ftype = sc("t.h2", 4, &["C", "G", "P", "S", "T", "O"]),
        ctype = sc("t.h2", 5, &["A", "B", "C", "D"]),
        p_ad = sp("t.h3", 0, 300),
        p_fs = big("t.h5", 36000),
        p_cn = big("t.h6", 1_000_000_000),
    )
}

fn insurees(g: &Gen, audit: i64) -> String {
    let d = g.d();
    let (m0, m1, m2) = ("m.h0", "m.h1", "m.h2");
    format!(
        r#"
INSERT INTO "tblInsuree" ("InsureeID", "InsureeUUID", "FamilyID", "CHFID", "LastName", "OtherNames", "DOB",
    "Gender", "Marital", "IsHead", "passport", "Phone", "Email", "CurrentAddress", "CurrentVillage",
    "CardIssued", "Relationship", "Profession", "Education", "TypeOfId", "Vulnerability", "isOffline",
    "ValidityFrom", "AuditUserID")
SELECT f.head_id + j, {uuid}, f.fid, (100000000 + f.head_id + j)::text, f.last_name,
    CASE WHEN p.gender = 'F' THEN {female} ELSE {male} END,
    ({d} - (p.age * 365 + {p_dd}))::date, p.gender,
    CASE WHEN r.rel = 8 THEN 'M' WHEN r.rel IS NULL THEN CASE WHEN {u_ma} < 0.7 THEN 'M' ELSE {marital} END
         WHEN r.rel = 4 THEN 'S' ELSE NULL END,
    j = 0,
    CASE WHEN p.age >= 18 AND {u_id} < 0.6 THEN lpad({p_id}::text, 10, '0') END,
    CASE
        WHEN j = 0 THEN CASE f.phone_kind WHEN 0 THEN {phone} WHEN 3 THEN NULL ELSE '' END
        WHEN j = 1 AND f.phone_kind = 1 THEN {phone}
        WHEN f.phone_kind = 0 AND p.age >= 18 AND {u_mp} < 0.2 THEN {phone}
        WHEN {u_me} < 0.3 THEN ''
        ELSE NULL END,
    CASE WHEN j = 0 AND f.phone_kind = 0 AND {u_em} < 0.15
         THEN lower(f.last_name) || '.' || f.n || '@mail.example.org' END,
    NULL, NULL,
    {u_ci} < 0.7,
    r.rel,
    CASE WHEN p.age >= 18 THEN (1 + {p_pf})::smallint END,
    CASE WHEN p.age >= 6 THEN (1 + {p_ed})::smallint END,
    CASE WHEN p.age >= 18 AND {u_id} < 0.6 THEN 'N' END,
    {u_vu} < 0.05, false,
    f.fam_vf + j * interval '1 minute', {audit}
FROM pn_f f
CROSS JOIN LATERAL generate_series(0, f.members - 1) j
{hashes}
CROSS JOIN LATERAL (SELECT CASE WHEN j = 0 THEN NULL WHEN j = 1 AND {u_sp} < 0.75 THEN 8
    WHEN {u_rl} < 0.06 THEN 7 WHEN {u_rl} < 0.11 THEN 2 ELSE 4 END::smallint AS rel) r
CROSS JOIN LATERAL (SELECT
    CASE WHEN r.rel IS NULL THEN f.head_gender
         WHEN r.rel = 8 THEN CASE f.head_gender WHEN 'M' THEN 'F' ELSE 'M' END
         WHEN {u_g} < 0.49 THEN 'M' WHEN {u_g} < 0.99 THEN 'F' ELSE 'O' END AS gender,
    CASE WHEN r.rel IS NULL OR r.rel = 8 THEN 20 + {p_a50} WHEN r.rel = 2 THEN 60 + {p_a25}
         WHEN r.rel = 7 THEN 15 + {p_a50} ELSE {p_a18} END AS age) p;
"#,
        hashes = g.hashes("m", "ins", "f.n::text || ':' || j", 7),
        uuid = uuid2("m.h5", "m.h6"),
        u_sp = su(m0, 0),
        u_rl = su(m0, 1),
        u_g = su(m0, 2),
        p_a50 = sp(m0, 3, 50),
        p_a25 = sp(m0, 3, 25),
        p_a18 = sp(m0, 3, 18),
        p_dd = sp(m0, 4, 365),
        u_ma = su(m0, 5),
        marital = sc(m1, 0, &["S", "W", "D"]),
        u_id = su(m1, 1),
        u_mp = su(m1, 2),
        u_me = su(m1, 3),
        u_em = su(m1, 4),
        u_ci = su(m1, 5),
        p_pf = sp(m2, 0, 5),
        p_ed = sp(m2, 1, 7),
        u_vu = su(m2, 2),
        female = sc(m2, 3, FEMALE_NAMES),
        male = sc(m2, 4, MALE_NAMES),
        p_id = big("m.h3", 2_000_000_000),
        phone = phone1("m.h4"),
    )
}

fn families(audit: i64) -> String {
    format!(
        r#"
INSERT INTO "tblFamilies" ("FamilyID", "FamilyUUID", "InsureeID", "LocationId", "Poverty", "FamilyType",
    "FamilyAddress", "isOffline", "ConfirmationNo", "ConfirmationType", "ValidityFrom", "AuditUserID")
SELECT f.fid, {uuid}, f.head_id, f.village_id, f.poverty, f.ftype, f.address, false, f.conf_no, f.conf_type,
    f.fam_vf, {audit}
FROM pn_f f ORDER BY f.fid;
INSERT INTO "tblFamilySMS" ("FamilyID", "ApprovalOfSMS", "LanguageOfSMS", "ValidityFrom")
SELECT f.fid, f.sms_kind = 1, f.lang, f.fam_vf + interval '10 minutes'
FROM pn_f f WHERE f.sms_kind > 0 ORDER BY f.fid;
"#,
        uuid = uuid2("f.h8", "f.h9"),
    )
}

/// `pn_p`: one row per policy (h0–h1 draws, h2–h5 policy UUIDs, h6–h9 premium UUIDs).
fn policies_table(g: &Gen) -> String {
    let d = g.d();
    let h3 = "f.h3";
    let q = "d1.h0";
    format!(
        r#"
DROP TABLE IF EXISTS pn_p;
CREATE TEMP TABLE pn_p AS
WITH f AS (
    SELECT f.*,
        ({d} - (1 + {p_va}))::timestamp + make_interval(hours => 7 + {p_vh}, mins => {p_vm}) AS m_vfa,
        CASE f.scenario WHEN 4 THEN {d} + 5 WHEN 5 THEN {d} WHEN 6 THEN {d} - 5
            WHEN 10 THEN {d} - (30 + {p_se}) END AS fixed_exp,
        {p_st} AS st_draw
    FROM pn_f f WHERE f.scenario <> 0
), m AS (
    SELECT f.*,
        CASE WHEN f.fixed_exp IS NOT NULL THEN (f.fixed_exp - interval '1 year' + interval '1 day')::date
             WHEN f.scenario IN (1, 9) THEN {d} - (30 + f.st_draw)
             WHEN f.scenario IN (2, 7) THEN f.m_vfa::date
             WHEN f.scenario = 3 THEN {d}
             WHEN f.scenario = 8 THEN {d} + f.st_draw % 30
             WHEN f.scenario = 11 THEN {d} + f.st_draw % 20
             ELSE {d} - (30 + f.st_draw % 270) END AS m_st
    FROM f
), m2 AS (
    SELECT m.*, COALESCE(m.fixed_exp, (m.m_st + interval '1 year' - interval '1 day')::date) AS m_exp FROM m
), r AS (
    SELECT m2.n, m2.fid, m2.head_id, m2.members, m2.scenario, m2.showcase, m2.notified, m2.officer_id,
        m2.prod_id, m2.conv_prod_id, m2.per_member, m2.lump, m2.adult, m2.m_vfa, m2.m_st, m2.m_exp,
        k.k,
        CASE WHEN m2.scenario IN (7, 12) THEN CASE WHEN k.k = 0 THEN 'prev' ELSE 'main' END
             WHEN k.k = 1 THEN 'next' ELSE 'main' END AS kind,
        m2.n::text || ':' || k.k AS pk
    FROM m2 CROSS JOIN (VALUES (0), (1)) k(k)
    WHERE k.k = 0 OR m2.scenario IN (7, 12) OR (m2.scenario IN (4, 5, 6) AND m2.renewed)
), d1 AS (
    SELECT r.*, hh.*,
        CASE r.kind WHEN 'main' THEN r.m_st
                    WHEN 'prev' THEN ((r.m_st - 1) - interval '1 year' + interval '1 day')::date
                    ELSE r.m_exp + 1 END AS st,
        CASE r.kind WHEN 'main' THEN r.m_exp WHEN 'prev' THEN r.m_st - 1 END AS exp0,
        CASE r.kind WHEN 'prev' THEN 8
                    WHEN 'next' THEN CASE WHEN r.scenario = 4 THEN 1 ELSE 2 END
                    ELSE (ARRAY[2, 2, 2, 2, 2, 8, 2, 1, 4, 8, 16, 2])[r.scenario] END AS status
    FROM r {hashes}
), d2 AS (
    SELECT d1.*,
        COALESCE(d1.exp0, (d1.st + interval '1 year' - interval '1 day')::date) AS exp,
        CASE WHEN d1.kind = 'next' OR (d1.kind = 'main' AND d1.scenario IN (7, 12)) THEN 'R'
             WHEN d1.kind = 'main' AND NOT d1.showcase AND d1.scenario IN (1, 4, 5, 6, 9, 10) AND {u_stg} < 0.2 THEN 'R'
             ELSE 'N' END AS stage,
        CASE WHEN d1.kind = 'main' AND d1.scenario = 2 THEN d1.m_vfa::date - {p_en3}
             WHEN d1.kind = 'main' AND d1.scenario = 3 THEN {d} - (20 + {p_en30})
             WHEN d1.kind = 'main' AND d1.scenario IN (8, 11) THEN {d} - (1 + {p_en20})
             WHEN d1.kind = 'main' AND d1.scenario = 7 THEN d1.st - (1 + {p_en10})
             WHEN d1.kind = 'next' AND d1.scenario = 6 THEN d1.st - (1 + {p_en10})
             WHEN d1.kind = 'next' THEN {d} - (4 + {p_en6})
             ELSE d1.st - {p_en20} END AS enroll,
        make_interval(hours => 7 + {p_h}, mins => {p_mi}) AS tod
    FROM d1
), d3 AS (
    SELECT d2.*,
        CASE WHEN d2.kind = 'main' AND d2.scenario IN (2, 7) THEN d2.m_vfa
             WHEN d2.kind = 'main' AND d2.scenario = 3 THEN (d2.enroll + 2)::timestamp + d2.tod
             WHEN d2.kind = 'main' AND d2.scenario IN (8, 11) THEN d2.enroll::timestamp + d2.tod
             WHEN d2.status = 8 THEN (d2.exp + 1)::timestamp + d2.tod
             WHEN d2.kind = 'next' AND d2.scenario = 6 THEN d2.st::timestamp + d2.tod
             WHEN d2.kind = 'next' AND d2.scenario = 5 THEN ({d} - (1 + {p_nv}))::timestamp + d2.tod
             WHEN d2.kind = 'next' THEN d2.enroll::timestamp + d2.tod
             ELSE (d2.enroll + 1 + {p_vd})::timestamp + d2.tod END AS vf
    FROM d2
)
SELECT (SELECT COALESCE(max("PolicyID"), 0) FROM "tblPolicy") + row_number() OVER (ORDER BY d3.fid, d3.k) AS pid,
    d3.n, d3.k, d3.pk, d3.kind, d3.scenario, d3.showcase, d3.notified, d3.fid, d3.head_id, d3.members,
    d3.officer_id, d3.h1, d3.h2, d3.h3, d3.h4, d3.h5, d3.h6, d3.h7, d3.h8, d3.h9,
    CASE WHEN d3.kind = 'next' OR (d3.kind = 'main' AND d3.scenario IN (7, 12)) THEN d3.conv_prod_id
         ELSE d3.prod_id END AS prod_id,
    CASE WHEN d3.per_member THEN d3.adult * d3.members ELSE d3.lump END AS value,
    d3.enroll, d3.st, CASE WHEN d3.status IN (1, 16) THEN NULL ELSE d3.st END AS eff, d3.exp,
    d3.status, d3.stage, d3.vf
FROM d3;
ANALYZE pn_p;
"#,
        hashes = g.hashes("hh", "pol", "r.pk", 10),
        p_va = sp(h3, 1, 4),
        p_vh = sp(h3, 2, 10),
        p_vm = sp(h3, 3, 60),
        p_se = sp(h3, 4, 270),
        p_st = sp(h3, 5, 300),
        u_stg = su(q, 0),
        p_en3 = sp(q, 1, 3),
        p_en30 = sp(q, 1, 30),
        p_en20 = sp(q, 1, 20),
        p_en10 = sp(q, 1, 10),
        p_en6 = sp(q, 1, 6),
        p_h = sp(q, 2, 10),
        p_mi = sp(q, 3, 60),
        p_nv = sp("d2.h0", 4, 3),
        p_vd = sp("d2.h0", 5, 4),
    )
}

fn policy_rows(g: &Gen, audit: i64, premium_created: bool) -> String {
    let h1 = "p.h1";
    format!(
        r#"
INSERT INTO "tblPolicy" ("PolicyID", "PolicyUUID", "FamilyID", "EnrollDate", "StartDate", "EffectiveDate",
    "ExpiryDate", "PolicyStatus", "PolicyValue", "ProdID", "OfficerID", "PolicyStage", "isOffline",
    "ValidityFrom", "AuditUserID")
SELECT p.pid, {uuid}, p.fid, p.enroll, p.st, p.eff, p.exp, p.status, p.value, p.prod_id, p.officer_id,
    p.stage, false, p.vf, {audit}
FROM pn_p p ORDER BY p.pid;
INSERT INTO "tblInsureePolicy" ("InsureePolicyID", "InsureeID", "PolicyId", "EnrollmentDate", "StartDate",
    "EffectiveDate", "ExpiryDate", "isOffline", "ValidityFrom", "AuditUserID")
SELECT (SELECT COALESCE(max("InsureePolicyID"), 0) FROM "tblInsureePolicy") + row_number() OVER (ORDER BY p.pid, j),
    p.head_id + j, p.pid, p.enroll, p.st, p.eff, p.exp, false, p.vf, {audit}
FROM pn_p p CROSS JOIN LATERAL generate_series(0, p.members - 1) j;
INSERT INTO "tblPremium" ("PremiumId", "PremiumUUID", "PolicyID", "Amount", "Receipt", "PayDate", "PayType",
    "isPhotoFee", "isOffline", {created_column}"ValidityFrom", "AuditUserID")
SELECT (SELECT COALESCE(max("PremiumId"), 0) FROM "tblPremium") + row_number() OVER (ORDER BY x.pid, x.k2),
    CASE WHEN x.k2 = 0 THEN {puuid0} ELSE {puuid1} END,
    x.pid, x.amount, 'RC' || x.pid || CASE WHEN x.k2 = 1 THEN 'P' ELSE '' END, x.paid_on,
    x.paytype, x.k2 = 1, false, {created_value}x.paid_on::timestamp + interval '12 hours', {audit}
FROM (
    SELECT p.pid, p.h6, p.h7, p.h8, p.h9, kk.k2, {paytype} AS paytype,
        CASE WHEN kk.k2 = 1 THEN 500.00
             WHEN p.status = 1 OR (p.showcase AND p.n IN (5, 8)) OR (NOT p.showcase AND {u_pp} < 0.2)
                 THEN round(p.value * 0.5, 0)
             ELSE p.value END AS amount,
        CASE WHEN p.status IN (2, 4) THEN p.vf::date ELSE p.enroll END AS paid_on
    FROM pn_p p CROSS JOIN (VALUES (0), (1)) kk(k2)
    WHERE (kk.k2 = 0 AND (p.status <> 1 OR {u_pi} < 0.3)) OR (kk.k2 = 1 AND p.status <> 1 AND {u_pf} < 0.05)
) x;
INSERT INTO "tblIndicationOfPolicyNotifications" ("PolicyID", "ValidityFrom", "NotificationOnActivationSent",
    "NotificationOnRenewalSent")
SELECT p.pid, p.vf + interval '2 hours',
    CASE WHEN p.stage = 'N' THEN p.vf + interval '2 hours' END,
    CASE WHEN p.stage = 'R' THEN p.vf + interval '2 hours' END
FROM pn_p p WHERE p.notified AND p.status = 2 AND p.vf >= {d} - 5 ORDER BY p.pid;
"#,
        d = g.d(),
        created_column = if premium_created {
            "\"CreatedDate\", "
        } else {
            ""
        },
        created_value = if premium_created { "x.paid_on, " } else { "" },
        uuid = uuid2("p.h2", "p.h3"),
        puuid0 = uuid2("x.h6", "x.h7"),
        puuid1 = uuid2("x.h8", "x.h9"),
        paytype = sc(h1, 3, &["C", "B", "M"]),
        u_pp = su(h1, 0),
        u_pi = su(h1, 1),
        u_pf = su(h1, 2),
    )
}

fn history(g: &Gen, audit: i64) -> String {
    let d = g.d();
    let nv = village_count();
    let h4 = "f.h4";
    format!(
        r#"
INSERT INTO "tblPolicy" ("PolicyID", "PolicyUUID", "FamilyID", "EnrollDate", "StartDate", "EffectiveDate",
    "ExpiryDate", "PolicyStatus", "PolicyValue", "ProdID", "OfficerID", "PolicyStage", "isOffline",
    "ValidityFrom", "ValidityTo", "LegacyID", "AuditUserID")
SELECT (SELECT COALESCE(max("PolicyID"), 0) FROM "tblPolicy") + row_number() OVER (ORDER BY p.pid),
    {puuid}, p.fid, p.enroll, p.st, CASE WHEN p.status = 8 THEN p.st END, p.exp,
    CASE WHEN p.status = 8 THEN 2 ELSE 1 END, p.value, p.prod_id, p.officer_id, p.stage, false,
    p.enroll::timestamp + interval '6 hours', p.vf, p.pid, {audit}
FROM pn_p p WHERE p.status = 8 OR (p.status = 2 AND {u_ph} < 0.3);
INSERT INTO "tblInsuree" ("InsureeID", "InsureeUUID", "FamilyID", "CHFID", "LastName", "OtherNames", "DOB",
    "Gender", "Marital", "IsHead", "passport", "Phone", "Email", "CurrentAddress", "CurrentVillage",
    "CardIssued", "Relationship", "Profession", "Education", "TypeOfId", "Vulnerability", "isOffline",
    "ValidityFrom", "ValidityTo", "LegacyID", "AuditUserID")
SELECT (SELECT COALESCE(max("InsureeID"), 0) FROM "tblInsuree") + row_number() OVER (ORDER BY i."InsureeID"),
    {iuuid}, i."FamilyID", i."CHFID", i."LastName", i."OtherNames", i."DOB", i."Gender", i."Marital",
    i."IsHead", i."passport", {phone}, i."Email", i."CurrentAddress", i."CurrentVillage", i."CardIssued",
    i."Relationship", i."Profession", i."Education", i."TypeOfId", i."Vulnerability", i."isOffline",
    i."ValidityFrom", ({d} - (30 + {p_it}))::timestamp + interval '10 hours', i."InsureeID", {audit}
FROM pn_f f JOIN "tblInsuree" i ON i."InsureeID" = f.head_id
WHERE NOT f.showcase AND {u_ih} < 0.08
  AND i."InsureeID" BETWEEN (SELECT min(head_id) FROM pn_f) AND (SELECT max(head_id) FROM pn_f);
INSERT INTO "tblFamilies" ("FamilyID", "FamilyUUID", "InsureeID", "LocationId", "Poverty", "FamilyType",
    "FamilyAddress", "isOffline", "ConfirmationNo", "ConfirmationType", "ValidityFrom", "ValidityTo",
    "LegacyID", "AuditUserID")
SELECT (SELECT COALESCE(max("FamilyID"), 0) FROM "tblFamilies") + row_number() OVER (ORDER BY f.fid),
    {fuuid}, f.head_id, v.location_id, f.poverty, f.ftype, 'Plot ' || (1 + {p_fa}) || ', ' || v.name, false,
    f.conf_no, f.conf_type, f.fam_vf, ({d} - (100 + {p_ft}))::timestamp + interval '11 hours', f.fid, {audit}
FROM pn_f f JOIN pn_v v ON v.idx = {p_fv}
WHERE NOT f.showcase AND {u_fh} < 0.04;
"#,
        puuid = uuid2("p.h4", "p.h5"),
        u_ph = su("p.h1", 4),
        iuuid = uuid2("f.h10", "f.h5"),
        phone = phone1("f.h7"),
        p_it = sp(h4, 1, 300),
        u_ih = su(h4, 0),
        fuuid = uuid2("f.h11", "f.h6"),
        p_fa = sp(h4, 3, 300),
        p_ft = sp(h4, 4, 500),
        p_fv = sp(h4, 5, nv),
        u_fh = su(h4, 2),
    )
}
