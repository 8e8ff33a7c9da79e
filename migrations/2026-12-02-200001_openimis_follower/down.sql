DROP TABLE IF EXISTS "pn_follow_problem";
DROP TABLE IF EXISTS "pn_follow_seen";
DROP TABLE IF EXISTS "pn_follow_cursor";
