//! diesel table definitions under openIMIS's exact (quoted) table and column names.
//! Generated from the migrations by hand-checked rules; the Rust names are snake_case.
#![allow(missing_docs)]

diesel::table! {
    use diesel::sql_types::*;

    #[sql_name = "tblLanguages"]
    tbl_languages (language_code) {
        #[sql_name = "LanguageCode"]
        language_code -> Varchar,
        #[sql_name = "LanguageName"]
        language_name -> Varchar,
        #[sql_name = "SortOrder"]
        sort_order -> Nullable<Int4>,
        #[sql_name = "CountryCode"]
        country_code -> Nullable<Varchar>,
    }
}

diesel::table! {
    use diesel::sql_types::*;

    #[sql_name = "tblGender"]
    tbl_gender (code) {
        #[sql_name = "Code"]
        code -> Varchar,
        #[sql_name = "Gender"]
        gender -> Nullable<Varchar>,
        #[sql_name = "AltLanguage"]
        alt_language -> Nullable<Varchar>,
        #[sql_name = "SortOrder"]
        sort_order -> Nullable<Int4>,
    }
}

diesel::table! {
    use diesel::sql_types::*;

    #[sql_name = "tblFamilyTypes"]
    tbl_family_types (family_type_code) {
        #[sql_name = "FamilyTypeCode"]
        family_type_code -> Varchar,
        #[sql_name = "FamilyType"]
        family_type -> Varchar,
        #[sql_name = "SortOrder"]
        sort_order -> Nullable<Int4>,
        #[sql_name = "AltLanguage"]
        alt_language -> Nullable<Varchar>,
    }
}

diesel::table! {
    use diesel::sql_types::*;

    #[sql_name = "tblConfirmationTypes"]
    tbl_confirmation_types (confirmation_type_code) {
        #[sql_name = "ConfirmationTypeCode"]
        confirmation_type_code -> Varchar,
        #[sql_name = "ConfirmationType"]
        confirmation_type -> Varchar,
        #[sql_name = "SortOrder"]
        sort_order -> Nullable<Int4>,
        #[sql_name = "AltLanguage"]
        alt_language -> Nullable<Varchar>,
    }
}

diesel::table! {
    use diesel::sql_types::*;

    #[sql_name = "tblRelations"]
    tbl_relations (relation_id) {
        #[sql_name = "RelationId"]
        relation_id -> Int2,
        #[sql_name = "Relation"]
        relation -> Varchar,
        #[sql_name = "SortOrder"]
        sort_order -> Nullable<Int4>,
        #[sql_name = "AltLanguage"]
        alt_language -> Nullable<Varchar>,
    }
}

diesel::table! {
    use diesel::sql_types::*;

    #[sql_name = "tblProfessions"]
    tbl_professions (profession_id) {
        #[sql_name = "ProfessionId"]
        profession_id -> Int2,
        #[sql_name = "Profession"]
        profession -> Varchar,
        #[sql_name = "SortOrder"]
        sort_order -> Nullable<Int4>,
        #[sql_name = "AltLanguage"]
        alt_language -> Nullable<Varchar>,
    }
}

diesel::table! {
    use diesel::sql_types::*;

    #[sql_name = "tblEducations"]
    tbl_educations (education_id) {
        #[sql_name = "EducationId"]
        education_id -> Int2,
        #[sql_name = "Education"]
        education -> Varchar,
        #[sql_name = "SortOrder"]
        sort_order -> Nullable<Int4>,
        #[sql_name = "AltLanguage"]
        alt_language -> Nullable<Varchar>,
    }
}

diesel::table! {
    use diesel::sql_types::*;

    #[sql_name = "tblIdentificationTypes"]
    tbl_identification_types (identification_code) {
        #[sql_name = "IdentificationCode"]
        identification_code -> Varchar,
        #[sql_name = "IdentificationTypes"]
        identification_types -> Varchar,
        #[sql_name = "AltLanguage"]
        alt_language -> Nullable<Varchar>,
        #[sql_name = "SortOrder"]
        sort_order -> Nullable<Int4>,
    }
}

diesel::table! {
    use diesel::sql_types::*;

    #[sql_name = "tblLocations"]
    tbl_locations (location_id) {
        #[sql_name = "LocationId"]
        location_id -> Int4,
        #[sql_name = "LocationUUID"]
        location_uuid -> Varchar,
        #[sql_name = "LocationCode"]
        location_code -> Nullable<Varchar>,
        #[sql_name = "LocationName"]
        location_name -> Nullable<Varchar>,
        #[sql_name = "LocationType"]
        location_type -> Varchar,
        #[sql_name = "ParentLocationId"]
        parent_location_id -> Nullable<Int4>,
        #[sql_name = "MalePopulation"]
        male_population -> Nullable<Int4>,
        #[sql_name = "FemalePopulation"]
        female_population -> Nullable<Int4>,
        #[sql_name = "OtherPopulation"]
        other_population -> Nullable<Int4>,
        #[sql_name = "Families"]
        families -> Nullable<Int4>,
        #[sql_name = "ValidityFrom"]
        validity_from -> Timestamptz,
        #[sql_name = "ValidityTo"]
        validity_to -> Nullable<Timestamptz>,
        #[sql_name = "LegacyID"]
        legacy_id -> Nullable<Int4>,
        #[sql_name = "AuditUserId"]
        audit_user_id -> Nullable<Int4>,
        #[sql_name = "RowId"]
        row_id -> Nullable<Text>,
        #[sql_name = "JsonExt"]
        json_ext -> Nullable<Jsonb>,
    }
}

diesel::table! {
    use diesel::sql_types::*;

    #[sql_name = "tblUsers"]
    tbl_users (user_id) {
        #[sql_name = "UserID"]
        user_id -> Int4,
        #[sql_name = "UserUUID"]
        user_uuid -> Varchar,
        #[sql_name = "LoginName"]
        login_name -> Varchar,
        #[sql_name = "LastName"]
        last_name -> Varchar,
        #[sql_name = "OtherNames"]
        other_names -> Varchar,
        #[sql_name = "Phone"]
        phone -> Nullable<Varchar>,
        #[sql_name = "EmailId"]
        email_id -> Nullable<Varchar>,
        #[sql_name = "LanguageID"]
        language_id -> Varchar,
        #[sql_name = "HFID"]
        hf_id -> Nullable<Int4>,
        #[sql_name = "RoleID"]
        role_id -> Nullable<Int4>,
        #[sql_name = "IsAssociated"]
        is_associated -> Nullable<Bool>,
        #[sql_name = "StoredPassword"]
        stored_password -> Nullable<Varchar>,
        #[sql_name = "PrivateKey"]
        private_key -> Nullable<Varchar>,
        password -> Nullable<Bytea>,
        #[sql_name = "DummyPwd"]
        dummy_pwd -> Nullable<Varchar>,
        #[sql_name = "PasswordValidity"]
        password_validity -> Nullable<Timestamptz>,
        #[sql_name = "ValidityFrom"]
        validity_from -> Timestamptz,
        #[sql_name = "ValidityTo"]
        validity_to -> Nullable<Timestamptz>,
        #[sql_name = "LegacyID"]
        legacy_id -> Nullable<Int4>,
        #[sql_name = "AuditUserID"]
        audit_user_id -> Int4,
        #[sql_name = "LastLogin"]
        last_login -> Nullable<Timestamp>,
    }
}

diesel::table! {
    use diesel::sql_types::*;

    #[sql_name = "tblRole"]
    tbl_role (role_id) {
        #[sql_name = "RoleID"]
        role_id -> Int4,
        #[sql_name = "RoleUUID"]
        role_uuid -> Varchar,
        #[sql_name = "RoleName"]
        role_name -> Varchar,
        #[sql_name = "AltLanguage"]
        alt_language -> Nullable<Varchar>,
        #[sql_name = "IsSystem"]
        is_system -> Int4,
        #[sql_name = "IsBlocked"]
        is_blocked -> Bool,
        #[sql_name = "ValidityFrom"]
        validity_from -> Timestamptz,
        #[sql_name = "ValidityTo"]
        validity_to -> Nullable<Timestamptz>,
        #[sql_name = "LegacyID"]
        legacy_id -> Nullable<Int4>,
        #[sql_name = "AuditUserID"]
        audit_user_id -> Nullable<Int4>,
    }
}

diesel::table! {
    use diesel::sql_types::*;

    #[sql_name = "tblRoleRight"]
    tbl_role_right (role_right_id) {
        #[sql_name = "RoleRightID"]
        role_right_id -> Int4,
        #[sql_name = "RoleID"]
        role_id -> Int4,
        #[sql_name = "RightID"]
        right_id -> Int4,
        #[sql_name = "ValidityFrom"]
        validity_from -> Timestamptz,
        #[sql_name = "ValidityTo"]
        validity_to -> Nullable<Timestamptz>,
        #[sql_name = "LegacyID"]
        legacy_id -> Nullable<Int4>,
        #[sql_name = "AuditUserId"]
        audit_user_id -> Nullable<Int4>,
    }
}

diesel::table! {
    use diesel::sql_types::*;

    #[sql_name = "tblUserRole"]
    tbl_user_role (user_role_id) {
        #[sql_name = "UserRoleID"]
        user_role_id -> Int4,
        #[sql_name = "UserID"]
        user_id -> Int4,
        #[sql_name = "RoleID"]
        role_id -> Int4,
        #[sql_name = "Assign"]
        assign -> Nullable<Int4>,
        #[sql_name = "ValidityFrom"]
        validity_from -> Timestamptz,
        #[sql_name = "ValidityTo"]
        validity_to -> Nullable<Timestamptz>,
        #[sql_name = "LegacyID"]
        legacy_id -> Nullable<Int4>,
        #[sql_name = "AudituserID"]
        audit_user_id -> Nullable<Int4>,
    }
}

diesel::table! {
    use diesel::sql_types::*;

    #[sql_name = "tblUsersDistricts"]
    tbl_users_districts (user_district_id) {
        #[sql_name = "UserDistrictID"]
        user_district_id -> Int4,
        #[sql_name = "UserID"]
        user_id -> Int4,
        #[sql_name = "LocationId"]
        location_id -> Int4,
        #[sql_name = "ValidityFrom"]
        validity_from -> Timestamptz,
        #[sql_name = "ValidityTo"]
        validity_to -> Nullable<Timestamptz>,
        #[sql_name = "LegacyID"]
        legacy_id -> Nullable<Int4>,
        #[sql_name = "AuditUserID"]
        audit_user_id -> Int4,
    }
}

diesel::table! {
    use diesel::sql_types::*;

    #[sql_name = "tblOfficer"]
    tbl_officer (officer_id) {
        #[sql_name = "OfficerID"]
        officer_id -> Int4,
        #[sql_name = "OfficerUUID"]
        officer_uuid -> Varchar,
        #[sql_name = "Code"]
        code -> Varchar,
        #[sql_name = "LastName"]
        last_name -> Varchar,
        #[sql_name = "OtherNames"]
        other_names -> Varchar,
        #[sql_name = "DOB"]
        dob -> Nullable<Date>,
        #[sql_name = "Phone"]
        phone -> Nullable<Varchar>,
        #[sql_name = "EmailId"]
        email_id -> Nullable<Varchar>,
        #[sql_name = "LocationId"]
        location_id -> Nullable<Int4>,
        #[sql_name = "OfficerIDSubst"]
        officer_id_subst -> Nullable<Int4>,
        #[sql_name = "WorksTo"]
        works_to -> Nullable<Timestamptz>,
        #[sql_name = "HasLogin"]
        has_login -> Nullable<Bool>,
        #[sql_name = "PhoneCommunication"]
        phone_communication -> Nullable<Bool>,
        #[sql_name = "permanentaddress"]
        permanent_address -> Nullable<Varchar>,
        #[sql_name = "VEOCode"]
        veo_code -> Nullable<Varchar>,
        #[sql_name = "VEOLastName"]
        veo_last_name -> Nullable<Varchar>,
        #[sql_name = "VEOOtherNames"]
        veo_other_names -> Nullable<Varchar>,
        #[sql_name = "VEODOB"]
        veo_dob -> Nullable<Date>,
        #[sql_name = "VEOPhone"]
        veo_phone -> Nullable<Varchar>,
        #[sql_name = "ValidityFrom"]
        validity_from -> Timestamptz,
        #[sql_name = "ValidityTo"]
        validity_to -> Nullable<Timestamptz>,
        #[sql_name = "LegacyID"]
        legacy_id -> Nullable<Int4>,
        #[sql_name = "AuditUserID"]
        audit_user_id -> Int4,
        #[sql_name = "RowID"]
        row_id -> Nullable<Text>,
    }
}

diesel::table! {
    use diesel::sql_types::*;

    #[sql_name = "tblInsuree"]
    tbl_insuree (insuree_id) {
        #[sql_name = "InsureeID"]
        insuree_id -> Int4,
        #[sql_name = "InsureeUUID"]
        insuree_uuid -> Varchar,
        #[sql_name = "FamilyID"]
        family_id -> Nullable<Int4>,
        #[sql_name = "CHFID"]
        chf_id -> Nullable<Varchar>,
        #[sql_name = "LastName"]
        last_name -> Varchar,
        #[sql_name = "OtherNames"]
        other_names -> Varchar,
        #[sql_name = "DOB"]
        dob -> Nullable<Date>,
        #[sql_name = "Gender"]
        gender -> Nullable<Varchar>,
        #[sql_name = "Marital"]
        marital -> Nullable<Varchar>,
        #[sql_name = "IsHead"]
        is_head -> Bool,
        passport -> Nullable<Varchar>,
        #[sql_name = "Phone"]
        phone -> Nullable<Varchar>,
        #[sql_name = "Email"]
        email -> Nullable<Varchar>,
        #[sql_name = "CurrentAddress"]
        current_address -> Nullable<Varchar>,
        #[sql_name = "GeoLocation"]
        geo_location -> Nullable<Varchar>,
        #[sql_name = "CurrentVillage"]
        current_village -> Nullable<Int4>,
        #[sql_name = "PhotoID"]
        photo_id -> Nullable<Int4>,
        #[sql_name = "PhotoDate"]
        photo_date -> Nullable<Date>,
        #[sql_name = "CardIssued"]
        card_issued -> Bool,
        #[sql_name = "Relationship"]
        relationship -> Nullable<Int2>,
        #[sql_name = "Profession"]
        profession -> Nullable<Int2>,
        #[sql_name = "Education"]
        education -> Nullable<Int2>,
        #[sql_name = "TypeOfId"]
        type_of_id -> Nullable<Varchar>,
        #[sql_name = "HFID"]
        hf_id -> Nullable<Int4>,
        #[sql_name = "Vulnerability"]
        vulnerability -> Nullable<Bool>,
        #[sql_name = "isOffline"]
        is_offline -> Nullable<Bool>,
        #[sql_name = "ValidityFrom"]
        validity_from -> Timestamptz,
        #[sql_name = "ValidityTo"]
        validity_to -> Nullable<Timestamptz>,
        #[sql_name = "LegacyID"]
        legacy_id -> Nullable<Int4>,
        #[sql_name = "AuditUserID"]
        audit_user_id -> Int4,
        #[sql_name = "RowID"]
        row_id -> Nullable<Bytea>,
        #[sql_name = "Source"]
        source -> Nullable<Varchar>,
        #[sql_name = "SourceVersion"]
        source_version -> Nullable<Varchar>,
        #[sql_name = "JsonExt"]
        json_ext -> Nullable<Jsonb>,
        status -> Nullable<Varchar>,
        status_date -> Nullable<Date>,
    }
}

diesel::table! {
    use diesel::sql_types::*;

    #[sql_name = "tblFamilies"]
    tbl_families (family_id) {
        #[sql_name = "FamilyID"]
        family_id -> Int4,
        #[sql_name = "FamilyUUID"]
        family_uuid -> Varchar,
        #[sql_name = "InsureeID"]
        insuree_id -> Int4,
        #[sql_name = "LocationId"]
        location_id -> Nullable<Int4>,
        #[sql_name = "Poverty"]
        poverty -> Nullable<Bool>,
        #[sql_name = "FamilyType"]
        family_type -> Nullable<Varchar>,
        #[sql_name = "FamilyAddress"]
        family_address -> Nullable<Varchar>,
        #[sql_name = "isOffline"]
        is_offline -> Nullable<Bool>,
        #[sql_name = "Ethnicity"]
        ethnicity -> Nullable<Varchar>,
        #[sql_name = "ConfirmationNo"]
        confirmation_no -> Nullable<Varchar>,
        #[sql_name = "ConfirmationType"]
        confirmation_type -> Nullable<Varchar>,
        #[sql_name = "ValidityFrom"]
        validity_from -> Timestamptz,
        #[sql_name = "ValidityTo"]
        validity_to -> Nullable<Timestamptz>,
        #[sql_name = "LegacyID"]
        legacy_id -> Nullable<Int4>,
        #[sql_name = "AuditUserID"]
        audit_user_id -> Int4,
        #[sql_name = "RowID"]
        row_id -> Nullable<Text>,
        #[sql_name = "Source"]
        source -> Nullable<Varchar>,
        #[sql_name = "SourceVersion"]
        source_version -> Nullable<Varchar>,
        #[sql_name = "JsonExt"]
        json_ext -> Nullable<Jsonb>,
    }
}

diesel::table! {
    use diesel::sql_types::*;

    #[sql_name = "tblProduct"]
    tbl_product (prod_id) {
        #[sql_name = "ProdID"]
        prod_id -> Int4,
        #[sql_name = "ProdUUID"]
        prod_uuid -> Varchar,
        #[sql_name = "ProductCode"]
        product_code -> Varchar,
        #[sql_name = "ProductName"]
        product_name -> Varchar,
        #[sql_name = "LocationId"]
        location_id -> Nullable<Int4>,
        #[sql_name = "InsurancePeriod"]
        insurance_period -> Int2,
        #[sql_name = "DateFrom"]
        date_from -> Timestamptz,
        #[sql_name = "DateTo"]
        date_to -> Timestamptz,
        #[sql_name = "ConversionProdID"]
        conversion_prod_id -> Nullable<Int4>,
        #[sql_name = "LumpSum"]
        lump_sum -> Numeric,
        #[sql_name = "MemberCount"]
        member_count -> Int2,
        #[sql_name = "PremiumAdult"]
        premium_adult -> Nullable<Numeric>,
        #[sql_name = "PremiumChild"]
        premium_child -> Nullable<Numeric>,
        #[sql_name = "RegistrationLumpSum"]
        registration_lump_sum -> Nullable<Numeric>,
        #[sql_name = "RegistrationFee"]
        registration_fee -> Nullable<Numeric>,
        #[sql_name = "GeneralAssemblyLumpSum"]
        general_assembly_lump_sum -> Nullable<Numeric>,
        #[sql_name = "GeneralAssemblyFee"]
        general_assembly_fee -> Nullable<Numeric>,
        #[sql_name = "StartCycle1"]
        start_cycle1 -> Nullable<Varchar>,
        #[sql_name = "StartCycle2"]
        start_cycle2 -> Nullable<Varchar>,
        #[sql_name = "StartCycle3"]
        start_cycle3 -> Nullable<Varchar>,
        #[sql_name = "StartCycle4"]
        start_cycle4 -> Nullable<Varchar>,
        #[sql_name = "AdministrationPeriod"]
        administration_period -> Nullable<Int4>,
        #[sql_name = "GracePeriod"]
        grace_period -> Int4,
        #[sql_name = "GracePeriodRenewal"]
        grace_period_renewal -> Nullable<Int4>,
        #[sql_name = "WaitingPeriod"]
        waiting_period -> Nullable<Int4>,
        #[sql_name = "Threshold"]
        threshold -> Nullable<Int4>,
        #[sql_name = "EnrolmentDiscountPerc"]
        enrolment_discount_perc -> Nullable<Int4>,
        #[sql_name = "EnrolmentDiscountPeriod"]
        enrolment_discount_period -> Nullable<Int4>,
        #[sql_name = "RenewalDiscountPerc"]
        renewal_discount_perc -> Nullable<Int4>,
        #[sql_name = "RenewalDiscountPeriod"]
        renewal_discount_period -> Nullable<Int4>,
        #[sql_name = "ValidityFrom"]
        validity_from -> Timestamptz,
        #[sql_name = "ValidityTo"]
        validity_to -> Nullable<Timestamptz>,
        #[sql_name = "LegacyID"]
        legacy_id -> Nullable<Int4>,
        #[sql_name = "AuditUserID"]
        audit_user_id -> Int4,
        #[sql_name = "RowID"]
        row_id -> Nullable<Text>,
    }
}

diesel::table! {
    use diesel::sql_types::*;

    #[sql_name = "tblPolicy"]
    tbl_policy (policy_id) {
        #[sql_name = "PolicyID"]
        policy_id -> Int4,
        #[sql_name = "PolicyUUID"]
        policy_uuid -> Varchar,
        #[sql_name = "FamilyID"]
        family_id -> Int4,
        #[sql_name = "EnrollDate"]
        enroll_date -> Date,
        #[sql_name = "StartDate"]
        start_date -> Date,
        #[sql_name = "EffectiveDate"]
        effective_date -> Nullable<Date>,
        #[sql_name = "ExpiryDate"]
        expiry_date -> Nullable<Date>,
        #[sql_name = "PolicyStatus"]
        policy_status -> Nullable<Int2>,
        #[sql_name = "PolicyValue"]
        policy_value -> Nullable<Numeric>,
        #[sql_name = "ProdID"]
        prod_id -> Int4,
        #[sql_name = "OfficerID"]
        officer_id -> Nullable<Int4>,
        #[sql_name = "PolicyStage"]
        policy_stage -> Nullable<Varchar>,
        #[sql_name = "isOffline"]
        is_offline -> Nullable<Bool>,
        #[sql_name = "ValidityFrom"]
        validity_from -> Timestamptz,
        #[sql_name = "ValidityTo"]
        validity_to -> Nullable<Timestamptz>,
        #[sql_name = "LegacyID"]
        legacy_id -> Nullable<Int4>,
        #[sql_name = "AuditUserID"]
        audit_user_id -> Int4,
        #[sql_name = "RowID"]
        row_id -> Nullable<Bytea>,
        #[sql_name = "Source"]
        source -> Nullable<Varchar>,
        #[sql_name = "SourceVersion"]
        source_version -> Nullable<Varchar>,
    }
}

diesel::table! {
    use diesel::sql_types::*;

    #[sql_name = "tblInsureePolicy"]
    tbl_insuree_policy (insuree_policy_id) {
        #[sql_name = "InsureePolicyID"]
        insuree_policy_id -> Int4,
        #[sql_name = "InsureeID"]
        insuree_id -> Int4,
        #[sql_name = "PolicyId"]
        policy_id -> Int4,
        #[sql_name = "EnrollmentDate"]
        enrollment_date -> Nullable<Date>,
        #[sql_name = "StartDate"]
        start_date -> Nullable<Date>,
        #[sql_name = "EffectiveDate"]
        effective_date -> Nullable<Date>,
        #[sql_name = "ExpiryDate"]
        expiry_date -> Nullable<Date>,
        #[sql_name = "isOffline"]
        is_offline -> Nullable<Bool>,
        #[sql_name = "ValidityFrom"]
        validity_from -> Timestamptz,
        #[sql_name = "ValidityTo"]
        validity_to -> Nullable<Timestamptz>,
        #[sql_name = "LegacyID"]
        legacy_id -> Nullable<Int4>,
        #[sql_name = "AuditUserID"]
        audit_user_id -> Int4,
        #[sql_name = "RowID"]
        row_id -> Nullable<Bytea>,
    }
}

diesel::table! {
    use diesel::sql_types::*;

    #[sql_name = "tblPremium"]
    tbl_premium (premium_id) {
        #[sql_name = "PremiumId"]
        premium_id -> Int4,
        #[sql_name = "PremiumUUID"]
        premium_uuid -> Varchar,
        #[sql_name = "PolicyID"]
        policy_id -> Int4,
        #[sql_name = "PayerID"]
        payer_id -> Nullable<Int4>,
        #[sql_name = "Amount"]
        amount -> Numeric,
        #[sql_name = "Receipt"]
        receipt -> Varchar,
        #[sql_name = "PayDate"]
        pay_date -> Date,
        #[sql_name = "PayType"]
        pay_type -> Varchar,
        #[sql_name = "isPhotoFee"]
        is_photo_fee -> Nullable<Bool>,
        #[sql_name = "isOffline"]
        is_offline -> Nullable<Bool>,
        #[sql_name = "ReportingId"]
        reporting_id -> Nullable<Int4>,
        #[sql_name = "CreatedDate"]
        created_date -> Date,
        #[sql_name = "ValidityFrom"]
        validity_from -> Timestamptz,
        #[sql_name = "ValidityTo"]
        validity_to -> Nullable<Timestamptz>,
        #[sql_name = "LegacyID"]
        legacy_id -> Nullable<Int4>,
        #[sql_name = "AuditUserID"]
        audit_user_id -> Int4,
        #[sql_name = "RowID"]
        row_id -> Nullable<Text>,
        #[sql_name = "Source"]
        source -> Nullable<Varchar>,
        #[sql_name = "SourceVersion"]
        source_version -> Nullable<Varchar>,
    }
}

diesel::table! {
    use diesel::sql_types::*;

    #[sql_name = "tblFamilySMS"]
    tbl_family_sms (family_id) {
        #[sql_name = "FamilyID"]
        family_id -> Int4,
        #[sql_name = "ApprovalOfSMS"]
        approval_of_sms -> Bool,
        #[sql_name = "LanguageOfSMS"]
        language_of_sms -> Varchar,
        #[sql_name = "ValidityFrom"]
        validity_from -> Timestamptz,
        #[sql_name = "ValidityTo"]
        validity_to -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    use diesel::sql_types::*;

    #[sql_name = "tblIndicationOfPolicyNotifications"]
    tbl_indication_of_policy_notifications (policy_id) {
        #[sql_name = "PolicyID"]
        policy_id -> Int4,
        #[sql_name = "ValidityFrom"]
        validity_from -> Timestamptz,
        #[sql_name = "ValidityTo"]
        validity_to -> Nullable<Timestamptz>,
        #[sql_name = "NotificationOnActivationSent"]
        notification_on_activation_sent -> Nullable<Timestamptz>,
        #[sql_name = "NotificationOnEffectiveSent"]
        notification_on_effective_sent -> Nullable<Timestamptz>,
        #[sql_name = "NotificationBeforeExpirySent"]
        notification_before_expiry_sent -> Nullable<Timestamptz>,
        #[sql_name = "NotificationOnExpirationSent"]
        notification_on_expiration_sent -> Nullable<Timestamptz>,
        #[sql_name = "NotificationAfterExpirationSent"]
        notification_after_expiration_sent -> Nullable<Timestamptz>,
        #[sql_name = "NotificationOnRenewalSent"]
        notification_on_renewal_sent -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    use diesel::sql_types::*;

    #[sql_name = "tblIndicationOfPolicyNotificationsDetails"]
    tbl_indication_of_policy_notifications_details (id) {
        id -> Int4,
        #[sql_name = "ValidityFrom"]
        validity_from -> Timestamptz,
        #[sql_name = "ValidityTo"]
        validity_to -> Nullable<Timestamptz>,
        notification_type -> Varchar,
        #[sql_name = "Status"]
        status -> Int2,
        details -> Nullable<Text>,
        #[sql_name = "indicationID"]
        indication_id -> Int4,
    }
}

diesel::table! {
    use diesel::sql_types::*;

    #[sql_name = "core_ModuleConfiguration"]
    core_module_configuration (id) {
        id -> Uuid,
        module -> Varchar,
        layer -> Varchar,
        version -> Varchar,
        config -> Text,
        is_exposed -> Bool,
        is_disabled_until -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    use diesel::sql_types::*;

    #[sql_name = "core_User"]
    core_user (id) {
        id -> Uuid,
        username -> Varchar,
        i_user_id -> Nullable<Int4>,
        t_user_id -> Nullable<Uuid>,
        officer_id -> Nullable<Int4>,
        claim_admin_id -> Nullable<Int4>,
    }
}

diesel::table! {
    use diesel::sql_types::*;

    #[sql_name = "core_Mutation_Log"]
    core_mutation_log (id) {
        id -> Uuid,
        json_content -> Text,
        request_date_time -> Timestamptz,
        client_mutation_id -> Nullable<Varchar>,
        client_mutation_label -> Nullable<Varchar>,
        client_mutation_details -> Nullable<Text>,
        status -> Int4,
        error -> Nullable<Text>,
        user_id -> Nullable<Uuid>,
        #[sql_name = "JsonExt"]
        json_ext -> Nullable<Jsonb>,
        autogenerated_code -> Nullable<Text>,
    }
}

diesel::table! {
    use diesel::sql_types::*;

    #[sql_name = "insuree_FamilyMutation"]
    insuree_family_mutation (id) {
        id -> Uuid,
        family_id -> Int4,
        mutation_id -> Uuid,
    }
}

diesel::table! {
    use diesel::sql_types::*;

    #[sql_name = "pn_family_sms_archive"]
    pn_family_sms_archive (id) {
        id -> Int8,
        #[sql_name = "FamilyID"]
        family_id -> Int4,
        #[sql_name = "ApprovalOfSMS"]
        approval_of_sms -> Nullable<Bool>,
        #[sql_name = "LanguageOfSMS"]
        language_of_sms -> Nullable<Varchar>,
        #[sql_name = "ValidityFrom"]
        validity_from -> Timestamptz,
        #[sql_name = "ValidityTo"]
        validity_to -> Nullable<Timestamptz>,
        reason -> Text,
        archived_at -> Timestamptz,
    }
}

diesel::table! {
    use diesel::sql_types::*;

    #[sql_name = "pn_login_failure"]
    pn_login_failure (login_name) {
        login_name -> Varchar,
        failures -> Int4,
        last_failure -> Timestamptz,
        locked_until -> Nullable<Timestamptz>,
    }
}
diesel::joinable!(tbl_families -> tbl_locations (location_id));
diesel::joinable!(tbl_families -> tbl_family_types (family_type));
diesel::joinable!(tbl_families -> tbl_confirmation_types (confirmation_type));
diesel::joinable!(tbl_insuree -> tbl_gender (gender));
diesel::joinable!(tbl_policy -> tbl_families (family_id));
diesel::joinable!(tbl_policy -> tbl_product (prod_id));
diesel::joinable!(tbl_policy -> tbl_officer (officer_id));
diesel::joinable!(tbl_family_sms -> tbl_families (family_id));
diesel::joinable!(tbl_indication_of_policy_notifications -> tbl_policy (policy_id));
diesel::joinable!(tbl_indication_of_policy_notifications_details -> tbl_indication_of_policy_notifications (indication_id));
diesel::joinable!(tbl_role_right -> tbl_role (role_id));
diesel::joinable!(tbl_user_role -> tbl_role (role_id));
diesel::joinable!(tbl_user_role -> tbl_users (user_id));
diesel::joinable!(tbl_users_districts -> tbl_users (user_id));
diesel::joinable!(tbl_users_districts -> tbl_locations (location_id));
diesel::joinable!(core_mutation_log -> core_user (user_id));
diesel::joinable!(core_user -> tbl_users (i_user_id));
diesel::joinable!(insuree_family_mutation -> core_mutation_log (mutation_id));
diesel::joinable!(insuree_family_mutation -> tbl_families (family_id));
diesel::joinable!(tbl_premium -> tbl_policy (policy_id));
diesel::joinable!(tbl_users -> tbl_languages (language_id));

diesel::allow_tables_to_appear_in_same_query!(
    tbl_languages,
    tbl_gender,
    tbl_family_types,
    tbl_confirmation_types,
    tbl_relations,
    tbl_professions,
    tbl_educations,
    tbl_identification_types,
    tbl_locations,
    tbl_users,
    tbl_role,
    tbl_role_right,
    tbl_user_role,
    tbl_users_districts,
    tbl_officer,
    tbl_insuree,
    tbl_families,
    tbl_product,
    tbl_policy,
    tbl_insuree_policy,
    tbl_premium,
    tbl_family_sms,
    tbl_indication_of_policy_notifications,
    tbl_indication_of_policy_notifications_details,
    core_module_configuration,
    core_user,
    core_mutation_log,
    insuree_family_mutation,
    pn_family_sms_archive,
    pn_login_failure,
);
