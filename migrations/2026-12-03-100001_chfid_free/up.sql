-- createFamily writes everything in one statement (docs/decisions.md 50). The one check that
-- cannot live in that statement's own snapshot is the insurance number's: two creates with the
-- same new number must not both see it free. This function takes the number's advisory lock
-- (held until the transaction ends) and only then looks, in a query of its own: a VOLATILE
-- function's queries take a fresh snapshot under READ COMMITTED, so the look sees every earlier
-- holder of the lock, which committed before releasing it. `own`: the insuree to leave out (NULL
-- for a new one). A NULL or empty number is free (the caller refuses a missing one itself).
CREATE OR REPLACE FUNCTION pn_chfid_free(chf text, own integer) RETURNS boolean
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    taken boolean;
BEGIN
    IF chf IS NULL OR chf = '' THEN
        RETURN true;
    END IF;
    PERFORM pg_advisory_xact_lock(hashtext('pn-chfid:' || chf));
    SELECT EXISTS (SELECT 1 FROM "tblInsuree"
                   WHERE "CHFID" = chf AND "ValidityTo" IS NULL
                     AND "InsureeID" IS DISTINCT FROM own)
      INTO taken;
    RETURN NOT taken;
END
$$;
