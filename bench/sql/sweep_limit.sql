-- Physical limit of a sweep (bench/run "sweep_*"): the rows the sweep must record for :due
-- messages sent, written as fast as PostgreSQL can: one statement inserting a decision row per
-- message into tblIndicationOfPolicyNotificationsDetails (Status 1, the provider) and one
-- statement setting the start marker of every due policy, one transaction. Timed by bench/run.
BEGIN;
INSERT INTO "tblIndicationOfPolicyNotificationsDetails" ("ValidityFrom", notification_type, "Status", details,
  "indicationID")
SELECT now(), 'starting_of_policy', 1, 'eGASMSGateway', 100000 + g FROM generate_series(1, :due) g;
UPDATE "tblIndicationOfPolicyNotifications" SET "NotificationOnEffectiveSent" = now()
WHERE "PolicyID" BETWEEN 100001 AND 100000 + :due;
COMMIT;
