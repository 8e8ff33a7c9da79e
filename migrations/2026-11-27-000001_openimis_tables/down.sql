-- The openIMIS tables are never dropped: they may hold a live openIMIS database's data.
DROP TABLE IF EXISTS "pn_login_failure";
DROP TABLE IF EXISTS "pn_family_sms_archive";
