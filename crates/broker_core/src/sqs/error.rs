//! SQS's errors as boto3 shows them: the modeled exception class (`sqs.exceptions.QueueDoesNotExist`)
//! where the API models one, the error code (`response['Error']['Code']`, the query-compatible code that
//! SQS's JSON protocol still reports) and the message.
//!
//! Texts follow the SQS API Reference's error tables and the messages SQS returns; where an emulator
//! words one differently, AWS's wording is kept (see `docs/sqs-programs.md`).

use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SqsError {
    /// The modeled exception's class name; `None` for errors boto3 raises as a plain `ClientError`.
    pub exception: Option<String>,
    pub code: String,
    pub message: String,
}

impl SqsError {
    fn modeled(exception: &str, code: &str, message: impl Into<String>) -> Self {
        SqsError { exception: Some(exception.into()), code: code.into(), message: message.into() }
    }

    fn plain(code: &str, message: impl Into<String>) -> Self {
        SqsError { exception: None, code: code.into(), message: message.into() }
    }

    /// The code a batch reply's failed entry carries (`BatchResultErrorEntry.Code`).
    pub fn entry_code(&self) -> String {
        self.code.strip_prefix("AWS.SimpleQueueService.").unwrap_or(&self.code).to_string()
    }

    pub fn queue_does_not_exist() -> Self {
        Self::modeled(
            "QueueDoesNotExist",
            "AWS.SimpleQueueService.NonExistentQueue",
            "The specified queue does not exist.",
        )
    }

    pub fn queue_deleted_recently() -> Self {
        Self::modeled(
            "QueueDeletedRecently",
            "AWS.SimpleQueueService.QueueDeletedRecently",
            "You must wait 60 seconds after deleting a queue before you can create another with the same name.",
        )
    }

    pub fn queue_name_exists(attribute: &str) -> Self {
        Self::modeled(
            "QueueNameExists",
            "QueueAlreadyExists",
            format!(
                "A queue already exists with the same name and a different value for attribute {attribute}"
            ),
        )
    }

    pub fn invalid_attribute_name(name: &str) -> Self {
        Self::modeled("InvalidAttributeName", "InvalidAttributeName", format!("Unknown Attribute {name}."))
    }

    pub fn invalid_attribute_value(name: &str) -> Self {
        Self::modeled(
            "InvalidAttributeValue",
            "InvalidAttributeValue",
            format!("Invalid value for the parameter {name}."),
        )
    }

    pub fn invalid_parameter(message: impl Into<String>) -> Self {
        Self::plain("InvalidParameterValue", message)
    }

    /// `Value V for parameter P is invalid. Reason: R.`, SQS's shape for a parameter out of bounds.
    pub fn invalid_value(value: impl fmt::Display, parameter: &str, reason: &str) -> Self {
        Self::invalid_parameter(format!(
            "Value {value} for parameter {parameter} is invalid. Reason: {reason}."
        ))
    }

    pub fn missing_parameter(parameter: &str) -> Self {
        Self::plain("MissingParameter", format!("The request must contain the parameter {parameter}."))
    }

    pub fn invalid_message_contents() -> Self {
        Self::modeled(
            "InvalidMessageContents",
            "InvalidMessageContents",
            "Invalid characters found. Valid unicode characters are #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF",
        )
    }

    pub fn receipt_handle_is_invalid(handle: &str) -> Self {
        Self::modeled(
            "ReceiptHandleIsInvalid",
            "ReceiptHandleIsInvalid",
            // As AWS's knowledge-center article "sqs-receipt-handle-error" quotes it.
            format!("The input receipt handle '{handle}' is not a valid receipt handle."),
        )
    }

    /// A FIFO queue's receipt handle used after its visibility timeout ("sqs-receipt-handle-error").
    pub fn receipt_handle_expired(handle: &str) -> Self {
        Self::invalid_value(format!("'{handle}'"), "ReceiptHandle", "The receipt handle has expired")
    }

    pub fn message_not_inflight() -> Self {
        Self::modeled(
            "MessageNotInflight",
            "AWS.SimpleQueueService.MessageNotInflight",
            "Message does not exist or is not available for visibility timeout change.",
        )
    }

    pub fn purge_queue_in_progress(name: &str) -> Self {
        Self::modeled(
            "PurgeQueueInProgress",
            "AWS.SimpleQueueService.PurgeQueueInProgress",
            format!("Only one PurgeQueue operation on {name} is allowed every 60 seconds."),
        )
    }

    pub fn over_limit(message: impl Into<String>) -> Self {
        Self::modeled("OverLimit", "OverLimit", message)
    }

    pub fn empty_batch(entry_type: &str) -> Self {
        Self::modeled(
            "EmptyBatchRequest",
            "AWS.SimpleQueueService.EmptyBatchRequest",
            format!("There should be at least one {entry_type} in the request."),
        )
    }

    pub fn too_many_entries(sent: usize) -> Self {
        Self::modeled(
            "TooManyEntriesInBatchRequest",
            "AWS.SimpleQueueService.TooManyEntriesInBatchRequest",
            format!("Maximum number of entries per request are 10. You have sent {sent}."),
        )
    }

    pub fn batch_ids_not_distinct(id: &str) -> Self {
        Self::modeled(
            "BatchEntryIdsNotDistinct",
            "AWS.SimpleQueueService.BatchEntryIdsNotDistinct",
            format!("Id {id} repeated."),
        )
    }

    pub fn invalid_batch_entry_id() -> Self {
        Self::modeled(
            "InvalidBatchEntryId",
            "AWS.SimpleQueueService.InvalidBatchEntryId",
            "A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long.",
        )
    }

    pub fn batch_request_too_long(total: usize, max: usize) -> Self {
        Self::modeled(
            "BatchRequestTooLong",
            "AWS.SimpleQueueService.BatchRequestTooLong",
            format!("Batch requested message too long: {total} bytes. The maximum is {max} bytes."),
        )
    }
}

impl SqsError {
    /// A message move task's source, destination or task that does not exist: the text is the
    /// description of `ResourceNotFoundException` on the API Reference's `StartMessageMoveTask`,
    /// `ListMessageMoveTasks` and `CancelMessageMoveTask` pages (botocore models the exception with its
    /// own name as the code).
    pub fn resource_not_found() -> Self {
        Self::modeled(
            "ResourceNotFoundException",
            "ResourceNotFoundException",
            "One or more specified resources don't exist.",
        )
    }
}

impl SqsError {
    /// What `str(e)` of boto3's `ClientError` says for this error raised by `operation` (`DeleteMessage`):
    /// `An error occurred (CODE) when calling the OPERATION operation: MESSAGE`.
    pub fn client_error(&self, operation: &str) -> String {
        format!("An error occurred ({}) when calling the {operation} operation: {}", self.code, self.message)
    }
}

impl fmt::Display for SqsError {
    /// As `str(e)` of boto3's `ClientError` (without the operation, which the caller adds).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "({}) {}", self.code, self.message)
    }
}
