-- The grant is data openIMIS itself would have written; it is left in place.
SELECT 1;
