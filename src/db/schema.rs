//! diesel table definitions under openIMIS's exact (quoted) table and column names, the Rust
//! names in snake_case. Written and kept by hand, not generated: openIMIS's tables are wider and
//! differ per era, so this file holds only the tables and columns that diesel query-builder code
//! uses (everything else is raw SQL with bound values). A column that is used
//! in a new query is added here, with its `sql_name` and type as in openIMIS's schema; one that
//! no longer is, is removed (the compiler says which). The widest table stays within diesel's
//! `32-column-tables` (Cargo.toml).
#![allow(missing_docs)]

diesel::table! {
    use diesel::sql_types::*;

    #[sql_name = "tblLanguages"]
    tbl_languages (language_code) {
        #[sql_name = "LanguageCode"]
        language_code -> Varchar,
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
        #[sql_name = "Source"]
        source -> Nullable<Varchar>,
        #[sql_name = "JsonExt"]
        json_ext -> Nullable<Jsonb>,
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

diesel::joinable!(tbl_families -> tbl_family_types (family_type));
diesel::joinable!(tbl_families -> tbl_confirmation_types (confirmation_type));
diesel::joinable!(tbl_insuree -> tbl_gender (gender));
diesel::joinable!(tbl_family_sms -> tbl_families (family_id));
diesel::joinable!(insuree_family_mutation -> core_mutation_log (mutation_id));
diesel::joinable!(insuree_family_mutation -> tbl_families (family_id));

diesel::allow_tables_to_appear_in_same_query!(
    tbl_languages,
    tbl_gender,
    tbl_family_types,
    tbl_confirmation_types,
    tbl_insuree,
    tbl_families,
    tbl_insuree_policy,
    tbl_family_sms,
    core_module_configuration,
    core_mutation_log,
    insuree_family_mutation,
);
