//! DynamoDB tables as the controller expects them.

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
};

/// The key attribute of every table of the controller's (a string).
const KEY: &str = "pk";

/// Creates the table `name` as `deploy/controller.yaml` makes the controller's tables: keyed by
/// the string attribute `pk`, billed per request. A document source, the status store and the
/// leader lease all use a table of this shape.
///
/// # Panics
/// When the table cannot be created (e.g. it exists already); the message names it.
pub async fn create_table(dynamodb: &aws_sdk_dynamodb::Client, name: &str) {
    let attribute = AttributeDefinition::builder()
        .attribute_name(KEY)
        .attribute_type(ScalarAttributeType::S)
        .build()
        .unwrap_or_else(|e| panic!("table {name}: {e}"));
    let key = KeySchemaElement::builder()
        .attribute_name(KEY)
        .key_type(KeyType::Hash)
        .build()
        .unwrap_or_else(|e| panic!("table {name}: {e}"));
    dynamodb
        .create_table()
        .table_name(name)
        .attribute_definitions(attribute)
        .key_schema(key)
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await
        .unwrap_or_else(|e| panic!("dynamodb:CreateTable {name}: {e:?}"));
}
