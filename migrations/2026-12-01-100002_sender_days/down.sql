DROP TABLE IF EXISTS "pn_event_enabled";
DROP TABLE IF EXISTS "pn_sender_day";
