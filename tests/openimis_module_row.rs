//! openIMIS's own stored module configuration never stops start-up (DECISIONS 21): the row that
//! openIMIS's `policy_notification` migration writes into `core_ModuleConfiguration` (eGA with
//! empty parameters, the text provider, every event off) is read, the eGA entry is skipped with a
//! warning, and the service starts on the text provider.
mod support;

use policy_notification::config::ConfigSources;
use policy_notification::notification::gateway::GatewayChain;
use support::TestDb;

/// The configuration text openIMIS 1.5.0's module migration stores, as found in a running
/// openIMIS 1.5.0's database.
const OPENIMIS_ROW: &str = r#"{
    "providers": {
        "eGASMSGateway": {
            "GateUrl": "http://127.0.0.1:8001",
            "SmsResource": "/api/policy_notification/test_sms/",
            "PrivateKey": "",
            "UserId": "",
            "SenderId": "",
            "ServiceId": "",
            "RequestType": "",
            "HeaderKeys": "X-Auth-Request-Hash,X-Auth-Request-Id,X-Auth-Request-Type",
            "HeaderValues": "PrivateKey,UserId,RequestType"
        },
        "TextNotificationProvider": {
            "DestinationFolder": "sent_notification"
        }
    },
    "eligibleNotificationTypes": {
        "activation_of_policy": false,
        "starting_of_policy": false,
        "need_for_renewal": false,
        "expiration_of_policy": false,
        "reminder_after_expiration": false,
        "renewal_of_policy": false
    }
}"#;

#[tokio::test]
async fn the_row_openimis_stores_is_read_and_its_empty_ega_is_skipped() {
    let db = TestDb::new().await;
    // A running openIMIS 1.5.0 already holds the row; elsewhere write exactly that row.
    if db
        .count("SELECT count(*) FROM \"core_ModuleConfiguration\" WHERE module = 'policy_notification'")
        .await
        == 0
    {
        db.exec(&format!(
            "INSERT INTO \"core_ModuleConfiguration\" (id, module, layer, version, config, is_exposed, is_disabled_until) \
             VALUES (gen_random_uuid(), 'policy_notification', 'be', '1.0.0', $${OPENIMIS_ROW}$$, false, NULL)"
        ))
        .await;
    }
    let pool = policy_notification::db::connect_pool(&db.url, 2).unwrap();
    // Every key of the stored row is one we know: nothing is reported as ignored.
    let row = policy_notification::db::module_config::load(&mut pool.get().await.unwrap())
        .await
        .unwrap();
    let (_, warnings) = ConfigSources::default()
        .resolve_with_row_and_warnings(row.as_deref())
        .unwrap();
    assert!(warnings.is_empty(), "{warnings:?}");
    let settings = policy_notification::runtime::resolve_settings(&ConfigSources::default(), &pool)
        .await
        .expect("openIMIS's stored configuration is accepted");
    let names: Vec<&str> = settings
        .module
        .providers
        .iter()
        .map(|p| p.name.as_str())
        .collect();
    assert_eq!(names, ["eGASMSGateway", "TextNotificationProvider"]);
    let chain = GatewayChain::from_settings(&settings).expect("a usable provider remains");
    assert_eq!(chain.names(), ["TextNotificationProvider"]);
    assert!(
        !settings
            .module
            .eligible_notification_types
            .activation_of_policy
    );

    // With only the unconfigured eGA there is nothing to send with: a clear start-up error.
    let mut only_ega = settings.clone();
    only_ega
        .module
        .providers
        .retain(|p| p.name == "eGASMSGateway");
    let err = GatewayChain::from_settings(&only_ega)
        .err()
        .expect("no usable provider");
    assert!(!err.to_string().is_empty());
}
