DROP FUNCTION IF EXISTS pn_chfid_free(text, integer);
