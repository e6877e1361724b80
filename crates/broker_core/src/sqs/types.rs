//! SQS's request and reply shapes, as plain serde data named after the API's fields.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// One message attribute: its data type (`String`, `Number`, `Binary`, each with an optional custom
/// `.suffix`) and its value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttributeValue {
    pub data_type: String,
    pub value: AttributeData,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AttributeData {
    String(String),
    Binary(Vec<u8>),
}

/// `SendMessage`'s parameters (and one `SendMessageBatch` entry's, without its `Id`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendMessage {
    pub body: String,
    pub delay_seconds: Option<i64>,
    pub attributes: BTreeMap<String, AttributeValue>,
    pub group_id: Option<String>,
    pub deduplication_id: Option<String>,
}

/// `SendMessage`'s reply.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sent {
    pub message_id: String,
    pub md5_of_body: String,
    pub md5_of_attributes: Option<String>,
    pub sequence_number: Option<String>,
}

/// `ReceiveMessage`'s parameters.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceiveMessage {
    pub max_number_of_messages: Option<i64>,
    pub visibility_timeout: Option<i64>,
    pub wait_time_seconds: Option<i64>,
    /// System attributes to return (`AttributeNames` / `MessageSystemAttributeNames`), `All` for all.
    pub system_attribute_names: Vec<String>,
    /// Message attributes to return: names, `prefix.*`, or `All` / `.*`.
    pub message_attribute_names: Vec<String>,
    /// FIFO only: a retry with the same id within 5 minutes returns the same messages and handles.
    #[serde(default)]
    pub receive_request_attempt_id: Option<String>,
}

/// One received message as `ReceiveMessage` returns it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Received {
    pub message_id: String,
    pub receipt_handle: String,
    pub md5_of_body: String,
    pub body: String,
    /// The system attributes asked for, by name, as SQS's strings.
    pub attributes: BTreeMap<String, String>,
    pub md5_of_attributes: Option<String>,
    pub message_attributes: BTreeMap<String, AttributeValue>,
}

/// One failed batch entry (`BatchResultErrorEntry`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchFailure {
    pub id: String,
    pub sender_fault: bool,
    pub code: String,
    pub message: String,
}

/// A batch reply: successful entries (in request order) and failed ones.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchResult<T> {
    pub successful: Vec<(String, T)>,
    pub failed: Vec<BatchFailure>,
}
