-- The report right (131224) for the roles openIMIS's own module grants it to when it is installed
-- (its migration 0005): the current Enrolment Officer (IsSystem 1) and Accountant (IsSystem 4)
-- roles, unless they hold it already. The IMIS administrator role does not get it there either;
-- an operator adds it to whichever role should see the report (docs/report.md).
INSERT INTO "tblRoleRight" ("RoleID", "RightID", "ValidityFrom")
SELECT r."RoleID", 131224, now()
FROM "tblRole" r
WHERE r."IsSystem" IN (1, 4) AND r."ValidityTo" IS NULL
  AND NOT EXISTS (SELECT 1 FROM "tblRoleRight" rr
                  WHERE rr."RoleID" = r."RoleID" AND rr."RightID" = 131224 AND rr."ValidityTo" IS NULL);
