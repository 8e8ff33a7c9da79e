-- pn_family_mutation_mutation (migration 2026-11-27-000015) indexes insuree_FamilyMutation by
-- mutation_id for mutationLogs. openIMIS's own databases already hold such an index (Django's
-- index of the foreign key), so there every link row written — by createFamily, updateFamily,
-- deleteFamilies or openIMIS itself — paid for two identical indexes. Ours is dropped where
-- another valid, complete index of the table starts with mutation_id; it stays where it is the
-- only one (our own schema). Nothing reads it by name.
DO $$
DECLARE
    col smallint;
BEGIN
    IF to_regclass('"pn_family_mutation_mutation"') IS NULL THEN
        RETURN;
    END IF;
    SELECT attnum INTO col FROM pg_attribute
     WHERE attrelid = '"insuree_FamilyMutation"'::regclass AND attname = 'mutation_id' AND NOT attisdropped;
    IF EXISTS (
        SELECT 1 FROM pg_index i
         WHERE i.indrelid = '"insuree_FamilyMutation"'::regclass
           AND i.indexrelid <> '"pn_family_mutation_mutation"'::regclass
           AND i.indisvalid AND i.indisready AND i.indpred IS NULL
           AND i.indkey[0] = col
    ) THEN
        DROP INDEX "pn_family_mutation_mutation";
    END IF;
END
$$;
