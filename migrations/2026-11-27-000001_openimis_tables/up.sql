-- The openIMIS tables this service reads and writes, under openIMIS's own names and types.
-- Each is created only when absent, so this runs unchanged on an empty database and on a live
-- openIMIS one (DECISIONS 26). Columns that later openIMIS releases added are added only when
-- absent. Nothing here drops or rewrites existing data.

CREATE TABLE IF NOT EXISTS "tblLanguages" (
    "LanguageCode" varchar(5) PRIMARY KEY,
    "LanguageName" varchar(50) NOT NULL,
    "SortOrder" integer,
    "CountryCode" varchar(10)
);

CREATE TABLE IF NOT EXISTS "tblGender" (
    "Code" varchar(1) PRIMARY KEY,
    "Gender" varchar(50),
    "AltLanguage" varchar(50),
    "SortOrder" integer
);

CREATE TABLE IF NOT EXISTS "tblFamilyTypes" (
    "FamilyTypeCode" varchar(2) PRIMARY KEY,
    "FamilyType" varchar(50) NOT NULL,
    "SortOrder" integer,
    "AltLanguage" varchar(50)
);

CREATE TABLE IF NOT EXISTS "tblConfirmationTypes" (
    "ConfirmationTypeCode" varchar(3) PRIMARY KEY,
    "ConfirmationType" varchar(50) NOT NULL,
    "SortOrder" integer,
    "AltLanguage" varchar(50)
);

CREATE TABLE IF NOT EXISTS "tblRelations" (
    "RelationId" smallint PRIMARY KEY,
    "Relation" varchar(50) NOT NULL,
    "SortOrder" integer,
    "AltLanguage" varchar(50)
);

CREATE TABLE IF NOT EXISTS "tblProfessions" (
    "ProfessionId" smallint PRIMARY KEY,
    "Profession" varchar(50) NOT NULL,
    "SortOrder" integer,
    "AltLanguage" varchar(50)
);

CREATE TABLE IF NOT EXISTS "tblEducations" (
    "EducationId" smallint PRIMARY KEY,
    "Education" varchar(50) NOT NULL,
    "SortOrder" integer,
    "AltLanguage" varchar(50)
);

CREATE TABLE IF NOT EXISTS "tblIdentificationTypes" (
    "IdentificationCode" varchar(1) PRIMARY KEY,
    "IdentificationTypes" varchar(50) NOT NULL,
    "AltLanguage" varchar(50),
    "SortOrder" integer
);

CREATE TABLE IF NOT EXISTS "tblLocations" (
    "LocationId" serial PRIMARY KEY,
    "LocationUUID" varchar(36) NOT NULL UNIQUE,
    "LocationCode" varchar(8),
    "LocationName" varchar(50),
    "LocationType" varchar(1) NOT NULL,
    "ParentLocationId" integer REFERENCES "tblLocations" ("LocationId") DEFERRABLE INITIALLY DEFERRED,
    "MalePopulation" integer,
    "FemalePopulation" integer,
    "OtherPopulation" integer,
    "Families" integer,
    "ValidityFrom" timestamptz NOT NULL,
    "ValidityTo" timestamptz,
    "LegacyID" integer,
    "AuditUserId" integer,
    "RowId" text
);

CREATE TABLE IF NOT EXISTS "tblUsers" (
    "UserID" serial PRIMARY KEY,
    "UserUUID" varchar(36) NOT NULL UNIQUE,
    "LoginName" varchar(25) NOT NULL,
    "LastName" varchar(100) NOT NULL,
    "OtherNames" varchar(100) NOT NULL,
    "Phone" varchar(50),
    "EmailId" varchar(200),
    "LanguageID" varchar(5) NOT NULL REFERENCES "tblLanguages" ("LanguageCode") DEFERRABLE INITIALLY DEFERRED,
    "HFID" integer,
    "RoleID" integer,
    "IsAssociated" boolean,
    "StoredPassword" varchar(256),
    "PrivateKey" varchar(256),
    "password" bytea,
    "DummyPwd" varchar(25),
    "PasswordValidity" timestamptz,
    "ValidityFrom" timestamptz NOT NULL,
    "ValidityTo" timestamptz,
    "LegacyID" integer,
    "AuditUserID" integer NOT NULL,
    "LastLogin" timestamp
);

CREATE TABLE IF NOT EXISTS "tblRole" (
    "RoleID" serial PRIMARY KEY,
    "RoleUUID" varchar(36) NOT NULL,
    "RoleName" varchar(50) NOT NULL,
    "AltLanguage" varchar(50),
    "IsSystem" integer NOT NULL,
    "IsBlocked" boolean NOT NULL,
    "ValidityFrom" timestamptz NOT NULL,
    "ValidityTo" timestamptz,
    "LegacyID" integer,
    "AuditUserID" integer
);

CREATE TABLE IF NOT EXISTS "tblRoleRight" (
    "RoleRightID" serial PRIMARY KEY,
    "RoleID" integer NOT NULL REFERENCES "tblRole" ("RoleID") DEFERRABLE INITIALLY DEFERRED,
    "RightID" integer NOT NULL,
    "ValidityFrom" timestamptz NOT NULL,
    "ValidityTo" timestamptz,
    "LegacyID" integer,
    "AuditUserId" integer
);

CREATE TABLE IF NOT EXISTS "tblUserRole" (
    "UserRoleID" serial PRIMARY KEY,
    "UserID" integer NOT NULL REFERENCES "tblUsers" ("UserID") DEFERRABLE INITIALLY DEFERRED,
    "RoleID" integer NOT NULL REFERENCES "tblRole" ("RoleID") DEFERRABLE INITIALLY DEFERRED,
    "Assign" integer,
    "ValidityFrom" timestamptz NOT NULL,
    "ValidityTo" timestamptz,
    "LegacyID" integer,
    "AudituserID" integer
);

CREATE TABLE IF NOT EXISTS "tblUsersDistricts" (
    "UserDistrictID" serial PRIMARY KEY,
    "UserID" integer NOT NULL REFERENCES "tblUsers" ("UserID") DEFERRABLE INITIALLY DEFERRED,
    "LocationId" integer NOT NULL REFERENCES "tblLocations" ("LocationId") DEFERRABLE INITIALLY DEFERRED,
    "ValidityFrom" timestamptz NOT NULL,
    "ValidityTo" timestamptz,
    "LegacyID" integer,
    "AuditUserID" integer NOT NULL
);

CREATE TABLE IF NOT EXISTS "tblOfficer" (
    "OfficerID" serial PRIMARY KEY,
    "OfficerUUID" varchar(36) NOT NULL UNIQUE,
    "Code" varchar(8) NOT NULL,
    "LastName" varchar(100) NOT NULL,
    "OtherNames" varchar(100) NOT NULL,
    "DOB" date,
    "Phone" varchar(50),
    "EmailId" varchar(200),
    "LocationId" integer REFERENCES "tblLocations" ("LocationId") DEFERRABLE INITIALLY DEFERRED,
    "OfficerIDSubst" integer REFERENCES "tblOfficer" ("OfficerID") DEFERRABLE INITIALLY DEFERRED,
    "WorksTo" timestamptz,
    "HasLogin" boolean,
    "PhoneCommunication" boolean,
    "permanentaddress" varchar(100),
    "VEOCode" varchar(8),
    "VEOLastName" varchar(100),
    "VEOOtherNames" varchar(100),
    "VEODOB" date,
    "VEOPhone" varchar(25),
    "ValidityFrom" timestamptz NOT NULL,
    "ValidityTo" timestamptz,
    "LegacyID" integer,
    "AuditUserID" integer NOT NULL,
    "RowID" text
);

-- Health facilities, insuree photos and premium payers: the service only refers to them (a
-- head insuree's health facility and photo, a premium's payer), with the keys openIMIS has.
CREATE TABLE IF NOT EXISTS "tblHF" (
    "HfID" serial PRIMARY KEY,
    "HfUUID" varchar(36) NOT NULL UNIQUE,
    "HFCode" varchar(8) NOT NULL,
    "HFName" varchar(100) NOT NULL,
    "AccCode" varchar(25),
    "HFLevel" varchar(1) NOT NULL,
    "HFAddress" varchar(100),
    "Phone" varchar(50),
    "Fax" varchar(50),
    "eMail" varchar(50),
    "HFCareType" varchar(1) NOT NULL,
    "OffLine" boolean NOT NULL,
    "LegalForm" varchar(1) NOT NULL,
    "LocationId" integer NOT NULL REFERENCES "tblLocations" ("LocationId") DEFERRABLE INITIALLY DEFERRED,
    "HFSublevel" varchar(1),
    "ValidityFrom" timestamptz NOT NULL,
    "ValidityTo" timestamptz,
    "LegacyID" integer,
    "AuditUserID" integer NOT NULL,
    "RowID" bytea
);

CREATE TABLE IF NOT EXISTS "tblPhotos" (
    "PhotoID" serial PRIMARY KEY,
    "PhotoUUID" varchar(36) NOT NULL UNIQUE,
    "InsureeID" integer,
    "CHFID" varchar(12),
    "PhotoFolder" varchar(255),
    "PhotoFileName" varchar(255),
    "OfficerID" integer NOT NULL,
    "PhotoDate" date NOT NULL,
    "ValidityFrom" timestamptz NOT NULL,
    "ValidityTo" timestamptz,
    "AuditUserID" integer,
    "RowID" text,
    "LegacyID" integer
);

CREATE TABLE IF NOT EXISTS "tblPayer" (
    "PayerID" serial PRIMARY KEY,
    "PayerUUID" varchar(36) NOT NULL UNIQUE,
    "LegacyID" integer,
    "PayerType" varchar(1) NOT NULL,
    "PayerName" varchar(100) NOT NULL,
    "PayerAddress" varchar(100),
    "Phone" varchar(50),
    "Fax" varchar(50),
    "eMail" varchar(50),
    "ValidityFrom" timestamptz NOT NULL,
    "ValidityTo" timestamptz,
    "AuditUserID" integer NOT NULL,
    "LocationId" integer REFERENCES "tblLocations" ("LocationId") DEFERRABLE INITIALLY DEFERRED,
    "RowID" text
);

-- The insuree as a running openIMIS 1.5.0 has it (after its own migrations): "FamilyID"
-- nullable, "CHFID" varchar(12), "DOB" NOT NULL, every key deferred.
CREATE TABLE IF NOT EXISTS "tblInsuree" (
    "InsureeID" serial PRIMARY KEY,
    "InsureeUUID" varchar(36) NOT NULL UNIQUE,
    "FamilyID" integer,
    "CHFID" varchar(12),
    "LastName" varchar(100) NOT NULL,
    "OtherNames" varchar(100) NOT NULL,
    "DOB" date NOT NULL,
    "Gender" varchar(1) REFERENCES "tblGender" ("Code") DEFERRABLE INITIALLY DEFERRED,
    "Marital" varchar(1),
    "IsHead" boolean NOT NULL,
    "passport" varchar(25),
    "Phone" varchar(50),
    "Email" varchar(100),
    "CurrentAddress" varchar(200),
    "GeoLocation" varchar(250),
    "CurrentVillage" integer REFERENCES "tblLocations" ("LocationId") DEFERRABLE INITIALLY DEFERRED,
    "PhotoID" integer REFERENCES "tblPhotos" ("PhotoID") DEFERRABLE INITIALLY DEFERRED,
    "PhotoDate" date,
    "CardIssued" boolean NOT NULL,
    "Relationship" smallint REFERENCES "tblRelations" ("RelationId") DEFERRABLE INITIALLY DEFERRED,
    "Profession" smallint REFERENCES "tblProfessions" ("ProfessionId") DEFERRABLE INITIALLY DEFERRED,
    "Education" smallint REFERENCES "tblEducations" ("EducationId") DEFERRABLE INITIALLY DEFERRED,
    "TypeOfId" varchar(1),
    "HFID" integer REFERENCES "tblHF" ("HfID") DEFERRABLE INITIALLY DEFERRED,
    "Vulnerability" boolean,
    "isOffline" boolean,
    "ValidityFrom" timestamptz NOT NULL,
    "ValidityTo" timestamptz,
    "LegacyID" integer,
    "AuditUserID" integer NOT NULL,
    "RowID" bytea,
    "Source" varchar(50),
    "SourceVersion" varchar(15)
);

CREATE TABLE IF NOT EXISTS "tblFamilies" (
    "FamilyID" serial PRIMARY KEY,
    "FamilyUUID" varchar(36) NOT NULL UNIQUE,
    "InsureeID" integer NOT NULL REFERENCES "tblInsuree" ("InsureeID") DEFERRABLE INITIALLY DEFERRED,
    "LocationId" integer REFERENCES "tblLocations" ("LocationId") DEFERRABLE INITIALLY DEFERRED,
    "Poverty" boolean,
    "FamilyType" varchar(2) REFERENCES "tblFamilyTypes" ("FamilyTypeCode") DEFERRABLE INITIALLY DEFERRED,
    "FamilyAddress" varchar(200),
    "isOffline" boolean,
    "Ethnicity" varchar(1),
    "ConfirmationNo" varchar(12),
    "ConfirmationType" varchar(3) REFERENCES "tblConfirmationTypes" ("ConfirmationTypeCode") DEFERRABLE INITIALLY DEFERRED,
    "ValidityFrom" timestamptz NOT NULL,
    "ValidityTo" timestamptz,
    "LegacyID" integer,
    "AuditUserID" integer NOT NULL,
    "RowID" text,
    "Source" varchar(50),
    "SourceVersion" varchar(15)
);

DO $$
BEGIN
    IF NOT EXISTS (
        SELECT 1 FROM pg_constraint
        WHERE conrelid = '"tblInsuree"'::regclass AND contype = 'f'
          AND conkey = ARRAY[(SELECT attnum FROM pg_attribute
                              WHERE attrelid = '"tblInsuree"'::regclass AND attname = 'FamilyID')]::smallint[]
    ) THEN
        ALTER TABLE "tblInsuree" ADD CONSTRAINT "tblInsuree_FamilyID_fkey"
            FOREIGN KEY ("FamilyID") REFERENCES "tblFamilies" ("FamilyID") DEFERRABLE INITIALLY DEFERRED;
    END IF;
END $$;

CREATE TABLE IF NOT EXISTS "tblProduct" (
    "ProdID" serial PRIMARY KEY,
    "ProdUUID" varchar(36) NOT NULL UNIQUE,
    "ProductCode" varchar(8) NOT NULL,
    "ProductName" varchar(100) NOT NULL,
    "LocationId" integer REFERENCES "tblLocations" ("LocationId") DEFERRABLE INITIALLY DEFERRED,
    "InsurancePeriod" smallint NOT NULL,
    "DateFrom" timestamptz NOT NULL,
    "DateTo" timestamptz NOT NULL,
    "ConversionProdID" integer REFERENCES "tblProduct" ("ProdID") DEFERRABLE INITIALLY DEFERRED,
    "LumpSum" numeric(18, 2) NOT NULL,
    "MemberCount" smallint NOT NULL,
    "PremiumAdult" numeric(18, 2),
    "PremiumChild" numeric(18, 2),
    "RegistrationLumpSum" numeric(18, 2),
    "RegistrationFee" numeric(18, 2),
    "GeneralAssemblyLumpSum" numeric(18, 2),
    "GeneralAssemblyFee" numeric(18, 2),
    "StartCycle1" varchar(5),
    "StartCycle2" varchar(5),
    "StartCycle3" varchar(5),
    "StartCycle4" varchar(5),
    "AdministrationPeriod" integer,
    "GracePeriod" integer NOT NULL,
    "GracePeriodRenewal" integer,
    "WaitingPeriod" integer,
    "Threshold" integer,
    "EnrolmentDiscountPerc" integer,
    "EnrolmentDiscountPeriod" integer,
    "RenewalDiscountPerc" integer,
    "RenewalDiscountPeriod" integer,
    "ValidityFrom" timestamptz NOT NULL,
    "ValidityTo" timestamptz,
    "LegacyID" integer,
    "AuditUserID" integer NOT NULL,
    "RowID" text
);

CREATE TABLE IF NOT EXISTS "tblPolicy" (
    "PolicyID" serial PRIMARY KEY,
    "PolicyUUID" varchar(36) NOT NULL UNIQUE,
    "FamilyID" integer NOT NULL REFERENCES "tblFamilies" ("FamilyID") DEFERRABLE INITIALLY DEFERRED,
    "EnrollDate" date NOT NULL,
    "StartDate" date NOT NULL,
    "EffectiveDate" date,
    "ExpiryDate" date,
    "PolicyStatus" smallint,
    "PolicyValue" numeric(18, 2),
    "ProdID" integer NOT NULL REFERENCES "tblProduct" ("ProdID") DEFERRABLE INITIALLY DEFERRED,
    "OfficerID" integer REFERENCES "tblOfficer" ("OfficerID") DEFERRABLE INITIALLY DEFERRED,
    "PolicyStage" varchar(1),
    "isOffline" boolean,
    "ValidityFrom" timestamptz NOT NULL,
    "ValidityTo" timestamptz,
    "LegacyID" integer,
    "AuditUserID" integer NOT NULL,
    "RowID" bytea,
    "Source" varchar(50),
    "SourceVersion" varchar(15)
);

CREATE TABLE IF NOT EXISTS "tblInsureePolicy" (
    "InsureePolicyID" serial PRIMARY KEY,
    "InsureeID" integer NOT NULL REFERENCES "tblInsuree" ("InsureeID") DEFERRABLE INITIALLY DEFERRED,
    "PolicyId" integer NOT NULL REFERENCES "tblPolicy" ("PolicyID") DEFERRABLE INITIALLY DEFERRED,
    "EnrollmentDate" date,
    "StartDate" date,
    "EffectiveDate" date,
    "ExpiryDate" date,
    "isOffline" boolean,
    "ValidityFrom" timestamptz NOT NULL,
    "ValidityTo" timestamptz,
    "LegacyID" integer,
    "AuditUserID" integer NOT NULL,
    "RowID" bytea
);

CREATE TABLE IF NOT EXISTS "tblPremium" (
    "PremiumId" serial PRIMARY KEY,
    "PremiumUUID" varchar(36) NOT NULL UNIQUE,
    "PolicyID" integer NOT NULL REFERENCES "tblPolicy" ("PolicyID") DEFERRABLE INITIALLY DEFERRED,
    "PayerID" integer REFERENCES "tblPayer" ("PayerID") DEFERRABLE INITIALLY DEFERRED,
    "Amount" numeric(18, 2) NOT NULL,
    "Receipt" varchar(50) NOT NULL,
    "PayDate" date NOT NULL,
    "PayType" varchar(1) NOT NULL,
    "isPhotoFee" boolean,
    "isOffline" boolean,
    "ReportingId" integer,
    "CreatedDate" date NOT NULL DEFAULT CURRENT_DATE,
    "ValidityFrom" timestamptz NOT NULL,
    "ValidityTo" timestamptz,
    "LegacyID" integer,
    "AuditUserID" integer NOT NULL,
    "RowID" text,
    "Source" varchar(50),
    "SourceVersion" varchar(15)
);

-- Family notification preferences, in the layout openIMIS's Django model expects (one row per
-- family, primary key FamilyID). A lower-case table from the PostgreSQL dump is converted by the
-- next migration.
CREATE TABLE IF NOT EXISTS "tblFamilySMS" (
    "FamilyID" integer NOT NULL,
    "ApprovalOfSMS" boolean NOT NULL,
    "LanguageOfSMS" varchar(5) NOT NULL,
    "ValidityFrom" timestamptz NOT NULL,
    "ValidityTo" timestamptz,
    CONSTRAINT "tblFamilySMS_pkey" PRIMARY KEY ("FamilyID"),
    CONSTRAINT "tblFamilySMS_FamilyID_e9356429_fk_tblFamilies_FamilyID"
        FOREIGN KEY ("FamilyID") REFERENCES "tblFamilies" ("FamilyID") DEFERRABLE INITIALLY DEFERRED
);

CREATE TABLE IF NOT EXISTS "tblIndicationOfPolicyNotifications" (
    "PolicyID" integer NOT NULL,
    "ValidityFrom" timestamptz NOT NULL,
    "ValidityTo" timestamptz,
    "NotificationOnActivationSent" timestamptz,
    "NotificationOnEffectiveSent" timestamptz,
    "NotificationBeforeExpirySent" timestamptz,
    "NotificationOnExpirationSent" timestamptz,
    "NotificationAfterExpirationSent" timestamptz,
    "NotificationOnRenewalSent" timestamptz,
    CONSTRAINT "tblIndicationOfPolicyNotifications_pkey" PRIMARY KEY ("PolicyID"),
    CONSTRAINT "tblIndicationOfPolic_PolicyID_c0959c7a_fk_tblPolicy"
        FOREIGN KEY ("PolicyID") REFERENCES "tblPolicy" ("PolicyID") DEFERRABLE INITIALLY DEFERRED
);

CREATE TABLE IF NOT EXISTS "tblIndicationOfPolicyNotificationsDetails" (
    "id" integer GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    "ValidityFrom" timestamptz NOT NULL,
    "ValidityTo" timestamptz,
    "notification_type" varchar(255) NOT NULL,
    "Status" smallint NOT NULL,
    "details" text,
    "indicationID" integer NOT NULL REFERENCES "tblIndicationOfPolicyNotifications" ("PolicyID") DEFERRABLE INITIALLY DEFERRED
);

CREATE TABLE IF NOT EXISTS "core_ModuleConfiguration" (
    "id" uuid PRIMARY KEY,
    "module" varchar(80) NOT NULL,
    "layer" varchar(2) NOT NULL,
    "version" varchar(10) NOT NULL,
    "config" text NOT NULL,
    "is_exposed" boolean NOT NULL,
    "is_disabled_until" timestamptz
);

CREATE TABLE IF NOT EXISTS "core_User" (
    "id" uuid PRIMARY KEY,
    "username" varchar(50) NOT NULL UNIQUE,
    "i_user_id" integer REFERENCES "tblUsers" ("UserID") DEFERRABLE INITIALLY DEFERRED,
    "t_user_id" uuid,
    "officer_id" integer REFERENCES "tblOfficer" ("OfficerID") DEFERRABLE INITIALLY DEFERRED,
    "claim_admin_id" integer
);

CREATE TABLE IF NOT EXISTS "core_Mutation_Log" (
    "id" uuid PRIMARY KEY,
    "json_content" text NOT NULL,
    "request_date_time" timestamptz NOT NULL,
    "client_mutation_id" varchar(255),
    "client_mutation_label" varchar(255),
    "client_mutation_details" text,
    "status" integer NOT NULL,
    "error" text,
    "user_id" uuid REFERENCES "core_User" ("id") DEFERRABLE INITIALLY DEFERRED
);

CREATE TABLE IF NOT EXISTS "insuree_FamilyMutation" (
    "id" uuid PRIMARY KEY,
    "family_id" integer NOT NULL REFERENCES "tblFamilies" ("FamilyID") DEFERRABLE INITIALLY DEFERRED,
    "mutation_id" uuid NOT NULL REFERENCES "core_Mutation_Log" ("id") DEFERRABLE INITIALLY DEFERRED
);

-- Columns later openIMIS releases added to legacy tables; added here only when absent.
ALTER TABLE "tblFamilies" ADD COLUMN IF NOT EXISTS "JsonExt" jsonb;
ALTER TABLE "tblInsuree" ADD COLUMN IF NOT EXISTS "JsonExt" jsonb;
ALTER TABLE "tblInsuree" ADD COLUMN IF NOT EXISTS "status" varchar(2);
ALTER TABLE "tblInsuree" ADD COLUMN IF NOT EXISTS "status_date" date;
ALTER TABLE "tblLocations" ADD COLUMN IF NOT EXISTS "JsonExt" jsonb;
ALTER TABLE "core_Mutation_Log" ADD COLUMN IF NOT EXISTS "JsonExt" jsonb;
ALTER TABLE "core_Mutation_Log" ADD COLUMN IF NOT EXISTS "autogenerated_code" text;

-- Our own tables.

-- Rows of a lower-case tblFamilySMS that the conversion could not keep in place (history rows),
-- and the original values of rows whose NULLs it replaced (DECISIONS 25).
CREATE TABLE IF NOT EXISTS "pn_family_sms_archive" (
    "id" bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    "FamilyID" integer NOT NULL,
    "ApprovalOfSMS" boolean,
    "LanguageOfSMS" varchar(5),
    "ValidityFrom" timestamptz NOT NULL,
    "ValidityTo" timestamptz,
    "reason" text NOT NULL,
    "archived_at" timestamptz NOT NULL DEFAULT now()
);

-- Failed logins per user name, to slow down guessing (DECISIONS 32).
CREATE TABLE IF NOT EXISTS "pn_login_failure" (
    "login_name" varchar(50) PRIMARY KEY,
    "failures" integer NOT NULL,
    "last_failure" timestamptz NOT NULL,
    "locked_until" timestamptz
);
