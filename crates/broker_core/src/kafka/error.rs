//! Kafka's error codes as the protocol defines them: code, name, the Java client's exception and the
//! default message, exactly as Apache Kafka 4.1.1's `org.apache.kafka.common.protocol.Errors` enumerates
//! them (the table was read from the kafka-clients 4.1.1 jar at run time; see `scripts/kafka-node.sh`).
//!
//! Invariant: [`ErrorCode::ALL`] is ordered by code and every code appears once; [`KafkaError`] carries the
//! code and the message the broker (or the client) gives for this occurrence, which is often more specific
//! than the default (`InvalidTopicException: Topic name is invalid: …`).

use serde::{Deserialize, Serialize};
use std::fmt;

/// One of Kafka's protocol error codes (`Errors` in the Java client), named as Kafka names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[allow(missing_docs)]
pub enum ErrorCode {
    UnknownServerError,
    OffsetOutOfRange,
    CorruptMessage,
    UnknownTopicOrPartition,
    InvalidFetchSize,
    LeaderNotAvailable,
    NotLeaderOrFollower,
    RequestTimedOut,
    BrokerNotAvailable,
    ReplicaNotAvailable,
    MessageTooLarge,
    StaleControllerEpoch,
    OffsetMetadataTooLarge,
    NetworkException,
    CoordinatorLoadInProgress,
    CoordinatorNotAvailable,
    NotCoordinator,
    InvalidTopicException,
    RecordListTooLarge,
    NotEnoughReplicas,
    NotEnoughReplicasAfterAppend,
    InvalidRequiredAcks,
    IllegalGeneration,
    InconsistentGroupProtocol,
    InvalidGroupId,
    UnknownMemberId,
    InvalidSessionTimeout,
    RebalanceInProgress,
    InvalidCommitOffsetSize,
    TopicAuthorizationFailed,
    GroupAuthorizationFailed,
    ClusterAuthorizationFailed,
    InvalidTimestamp,
    UnsupportedSaslMechanism,
    IllegalSaslState,
    UnsupportedVersion,
    TopicAlreadyExists,
    InvalidPartitions,
    InvalidReplicationFactor,
    InvalidReplicaAssignment,
    InvalidConfig,
    NotController,
    InvalidRequest,
    UnsupportedForMessageFormat,
    PolicyViolation,
    OutOfOrderSequenceNumber,
    DuplicateSequenceNumber,
    InvalidProducerEpoch,
    InvalidTxnState,
    InvalidProducerIdMapping,
    InvalidTransactionTimeout,
    ConcurrentTransactions,
    TransactionCoordinatorFenced,
    TransactionalIdAuthorizationFailed,
    SecurityDisabled,
    OperationNotAttempted,
    KafkaStorageError,
    LogDirNotFound,
    SaslAuthenticationFailed,
    UnknownProducerId,
    ReassignmentInProgress,
    DelegationTokenAuthDisabled,
    DelegationTokenNotFound,
    DelegationTokenOwnerMismatch,
    DelegationTokenRequestNotAllowed,
    DelegationTokenAuthorizationFailed,
    DelegationTokenExpired,
    InvalidPrincipalType,
    NonEmptyGroup,
    GroupIdNotFound,
    FetchSessionIdNotFound,
    InvalidFetchSessionEpoch,
    ListenerNotFound,
    TopicDeletionDisabled,
    FencedLeaderEpoch,
    UnknownLeaderEpoch,
    UnsupportedCompressionType,
    StaleBrokerEpoch,
    OffsetNotAvailable,
    MemberIdRequired,
    PreferredLeaderNotAvailable,
    GroupMaxSizeReached,
    FencedInstanceId,
    EligibleLeadersNotAvailable,
    ElectionNotNeeded,
    NoReassignmentInProgress,
    GroupSubscribedToTopic,
    InvalidRecord,
    UnstableOffsetCommit,
    ThrottlingQuotaExceeded,
    ProducerFenced,
    ResourceNotFound,
    DuplicateResource,
    UnacceptableCredential,
    InconsistentVoterSet,
    InvalidUpdateVersion,
    FeatureUpdateFailed,
    PrincipalDeserializationFailure,
    SnapshotNotFound,
    PositionOutOfRange,
    UnknownTopicId,
    DuplicateBrokerRegistration,
    BrokerIdNotRegistered,
    InconsistentTopicId,
    InconsistentClusterId,
    TransactionalIdNotFound,
    FetchSessionTopicIdError,
    IneligibleReplica,
    NewLeaderElected,
    OffsetMovedToTieredStorage,
    FencedMemberEpoch,
    UnreleasedInstanceId,
    UnsupportedAssignor,
    StaleMemberEpoch,
    MismatchedEndpointType,
    UnsupportedEndpointType,
    UnknownControllerId,
    UnknownSubscriptionId,
    TelemetryTooLarge,
    InvalidRegistration,
    TransactionAbortable,
    InvalidRecordState,
    ShareSessionNotFound,
    InvalidShareSessionEpoch,
    FencedStateEpoch,
    InvalidVoterKey,
    DuplicateVoter,
    VoterNotFound,
    InvalidRegularExpression,
    RebootstrapRequired,
    StreamsInvalidTopology,
    StreamsInvalidTopologyEpoch,
    StreamsTopologyFenced,
    ShareSessionLimitReached,
}

/// `(code, ErrorCode, NAME, exception class, default message)` for every error, ordered by code.
const TABLE: &[(i16, ErrorCode, &str, &str, &str)] = &[
    (-1, ErrorCode::UnknownServerError, "UNKNOWN_SERVER_ERROR", "UnknownServerException", "The server experienced an unexpected error when processing the request."),
    (1, ErrorCode::OffsetOutOfRange, "OFFSET_OUT_OF_RANGE", "OffsetOutOfRangeException", "The requested offset is not within the range of offsets maintained by the server."),
    (2, ErrorCode::CorruptMessage, "CORRUPT_MESSAGE", "CorruptRecordException", "This message has failed its CRC checksum, exceeds the valid size, has a null key for a compacted topic, or is otherwise corrupt."),
    (3, ErrorCode::UnknownTopicOrPartition, "UNKNOWN_TOPIC_OR_PARTITION", "UnknownTopicOrPartitionException", "This server does not host this topic-partition."),
    (4, ErrorCode::InvalidFetchSize, "INVALID_FETCH_SIZE", "InvalidFetchSizeException", "The requested fetch size is invalid."),
    (5, ErrorCode::LeaderNotAvailable, "LEADER_NOT_AVAILABLE", "LeaderNotAvailableException", "There is no leader for this topic-partition as we are in the middle of a leadership election."),
    (6, ErrorCode::NotLeaderOrFollower, "NOT_LEADER_OR_FOLLOWER", "NotLeaderOrFollowerException", "For requests intended only for the leader, this error indicates that the broker is not the current leader. For requests intended for any replica, this error indicates that the broker is not a replica of the topic partition."),
    (7, ErrorCode::RequestTimedOut, "REQUEST_TIMED_OUT", "TimeoutException", "The request timed out."),
    (8, ErrorCode::BrokerNotAvailable, "BROKER_NOT_AVAILABLE", "BrokerNotAvailableException", "The broker is not available."),
    (9, ErrorCode::ReplicaNotAvailable, "REPLICA_NOT_AVAILABLE", "ReplicaNotAvailableException", "The replica is not available for the requested topic-partition. Produce/Fetch requests and other requests intended only for the leader or follower return NOT_LEADER_OR_FOLLOWER if the broker is not a replica of the topic-partition."),
    (10, ErrorCode::MessageTooLarge, "MESSAGE_TOO_LARGE", "RecordTooLargeException", "The request included a message larger than the max message size the server will accept."),
    (11, ErrorCode::StaleControllerEpoch, "STALE_CONTROLLER_EPOCH", "ControllerMovedException", "The controller moved to another broker."),
    (12, ErrorCode::OffsetMetadataTooLarge, "OFFSET_METADATA_TOO_LARGE", "OffsetMetadataTooLarge", "The metadata field of the offset request was too large."),
    (13, ErrorCode::NetworkException, "NETWORK_EXCEPTION", "NetworkException", "The server disconnected before a response was received."),
    (14, ErrorCode::CoordinatorLoadInProgress, "COORDINATOR_LOAD_IN_PROGRESS", "CoordinatorLoadInProgressException", "The coordinator is loading and hence can't process requests."),
    (15, ErrorCode::CoordinatorNotAvailable, "COORDINATOR_NOT_AVAILABLE", "CoordinatorNotAvailableException", "The coordinator is not available."),
    (16, ErrorCode::NotCoordinator, "NOT_COORDINATOR", "NotCoordinatorException", "This is not the correct coordinator."),
    (17, ErrorCode::InvalidTopicException, "INVALID_TOPIC_EXCEPTION", "InvalidTopicException", "The request attempted to perform an operation on an invalid topic."),
    (18, ErrorCode::RecordListTooLarge, "RECORD_LIST_TOO_LARGE", "RecordBatchTooLargeException", "The request included message batch larger than the configured segment size on the server."),
    (19, ErrorCode::NotEnoughReplicas, "NOT_ENOUGH_REPLICAS", "NotEnoughReplicasException", "Messages are rejected since there are fewer in-sync replicas than required."),
    (20, ErrorCode::NotEnoughReplicasAfterAppend, "NOT_ENOUGH_REPLICAS_AFTER_APPEND", "NotEnoughReplicasAfterAppendException", "Messages are written to the log, but to fewer in-sync replicas than required."),
    (21, ErrorCode::InvalidRequiredAcks, "INVALID_REQUIRED_ACKS", "InvalidRequiredAcksException", "Produce request specified an invalid value for required acks."),
    (22, ErrorCode::IllegalGeneration, "ILLEGAL_GENERATION", "IllegalGenerationException", "Specified group generation id is not valid."),
    (23, ErrorCode::InconsistentGroupProtocol, "INCONSISTENT_GROUP_PROTOCOL", "InconsistentGroupProtocolException", "The group member's supported protocols are incompatible with those of existing members or first group member tried to join with empty protocol type or empty protocol list."),
    (24, ErrorCode::InvalidGroupId, "INVALID_GROUP_ID", "InvalidGroupIdException", "The group id is invalid."),
    (25, ErrorCode::UnknownMemberId, "UNKNOWN_MEMBER_ID", "UnknownMemberIdException", "The coordinator is not aware of this member."),
    (26, ErrorCode::InvalidSessionTimeout, "INVALID_SESSION_TIMEOUT", "InvalidSessionTimeoutException", "The session timeout is not within the range allowed by the broker (as configured by group.min.session.timeout.ms and group.max.session.timeout.ms)."),
    (27, ErrorCode::RebalanceInProgress, "REBALANCE_IN_PROGRESS", "RebalanceInProgressException", "The group is rebalancing, so a rejoin is needed."),
    (28, ErrorCode::InvalidCommitOffsetSize, "INVALID_COMMIT_OFFSET_SIZE", "InvalidCommitOffsetSizeException", "The committing offset data size is not valid."),
    (29, ErrorCode::TopicAuthorizationFailed, "TOPIC_AUTHORIZATION_FAILED", "TopicAuthorizationException", "Topic authorization failed."),
    (30, ErrorCode::GroupAuthorizationFailed, "GROUP_AUTHORIZATION_FAILED", "GroupAuthorizationException", "Group authorization failed."),
    (31, ErrorCode::ClusterAuthorizationFailed, "CLUSTER_AUTHORIZATION_FAILED", "ClusterAuthorizationException", "Cluster authorization failed."),
    (32, ErrorCode::InvalidTimestamp, "INVALID_TIMESTAMP", "InvalidTimestampException", "The timestamp of the message is out of acceptable range."),
    (33, ErrorCode::UnsupportedSaslMechanism, "UNSUPPORTED_SASL_MECHANISM", "UnsupportedSaslMechanismException", "The broker does not support the requested SASL mechanism."),
    (34, ErrorCode::IllegalSaslState, "ILLEGAL_SASL_STATE", "IllegalSaslStateException", "Request is not valid given the current SASL state."),
    (35, ErrorCode::UnsupportedVersion, "UNSUPPORTED_VERSION", "UnsupportedVersionException", "The version of API is not supported."),
    (36, ErrorCode::TopicAlreadyExists, "TOPIC_ALREADY_EXISTS", "TopicExistsException", "Topic with this name already exists."),
    (37, ErrorCode::InvalidPartitions, "INVALID_PARTITIONS", "InvalidPartitionsException", "Number of partitions is below 1."),
    (38, ErrorCode::InvalidReplicationFactor, "INVALID_REPLICATION_FACTOR", "InvalidReplicationFactorException", "Replication factor is below 1 or larger than the number of available brokers."),
    (39, ErrorCode::InvalidReplicaAssignment, "INVALID_REPLICA_ASSIGNMENT", "InvalidReplicaAssignmentException", "Replica assignment is invalid."),
    (40, ErrorCode::InvalidConfig, "INVALID_CONFIG", "InvalidConfigurationException", "Configuration is invalid."),
    (41, ErrorCode::NotController, "NOT_CONTROLLER", "NotControllerException", "This is not the correct controller for this cluster."),
    (42, ErrorCode::InvalidRequest, "INVALID_REQUEST", "InvalidRequestException", "This most likely occurs because of a request being malformed by the client library or the message was sent to an incompatible broker. See the broker logs for more details."),
    (43, ErrorCode::UnsupportedForMessageFormat, "UNSUPPORTED_FOR_MESSAGE_FORMAT", "UnsupportedForMessageFormatException", "The message format version on the broker does not support the request."),
    (44, ErrorCode::PolicyViolation, "POLICY_VIOLATION", "PolicyViolationException", "Request parameters do not satisfy the configured policy."),
    (45, ErrorCode::OutOfOrderSequenceNumber, "OUT_OF_ORDER_SEQUENCE_NUMBER", "OutOfOrderSequenceException", "The broker received an out of order sequence number."),
    (46, ErrorCode::DuplicateSequenceNumber, "DUPLICATE_SEQUENCE_NUMBER", "DuplicateSequenceException", "The broker received a duplicate sequence number."),
    (47, ErrorCode::InvalidProducerEpoch, "INVALID_PRODUCER_EPOCH", "InvalidProducerEpochException", "Producer attempted to produce with an old epoch."),
    (48, ErrorCode::InvalidTxnState, "INVALID_TXN_STATE", "InvalidTxnStateException", "The producer attempted a transactional operation in an invalid state."),
    (49, ErrorCode::InvalidProducerIdMapping, "INVALID_PRODUCER_ID_MAPPING", "InvalidPidMappingException", "The producer attempted to use a producer id which is not currently assigned to its transactional id."),
    (50, ErrorCode::InvalidTransactionTimeout, "INVALID_TRANSACTION_TIMEOUT", "InvalidTxnTimeoutException", "The transaction timeout is larger than the maximum value allowed by the broker (as configured by transaction.max.timeout.ms)."),
    (51, ErrorCode::ConcurrentTransactions, "CONCURRENT_TRANSACTIONS", "ConcurrentTransactionsException", "The producer attempted to update a transaction while another concurrent operation on the same transaction was ongoing."),
    (52, ErrorCode::TransactionCoordinatorFenced, "TRANSACTION_COORDINATOR_FENCED", "TransactionCoordinatorFencedException", "Indicates that the transaction coordinator sending a WriteTxnMarker is no longer the current coordinator for a given producer."),
    (53, ErrorCode::TransactionalIdAuthorizationFailed, "TRANSACTIONAL_ID_AUTHORIZATION_FAILED", "TransactionalIdAuthorizationException", "Transactional Id authorization failed."),
    (54, ErrorCode::SecurityDisabled, "SECURITY_DISABLED", "SecurityDisabledException", "Security features are disabled."),
    (55, ErrorCode::OperationNotAttempted, "OPERATION_NOT_ATTEMPTED", "OperationNotAttemptedException", "The broker did not attempt to execute this operation. This may happen for batched RPCs where some operations in the batch failed, causing the broker to respond without trying the rest."),
    (56, ErrorCode::KafkaStorageError, "KAFKA_STORAGE_ERROR", "KafkaStorageException", "Disk error when trying to access log file on the disk."),
    (57, ErrorCode::LogDirNotFound, "LOG_DIR_NOT_FOUND", "LogDirNotFoundException", "The user-specified log directory is not found in the broker config."),
    (58, ErrorCode::SaslAuthenticationFailed, "SASL_AUTHENTICATION_FAILED", "SaslAuthenticationException", "SASL Authentication failed."),
    (59, ErrorCode::UnknownProducerId, "UNKNOWN_PRODUCER_ID", "UnknownProducerIdException", "This exception is raised by the broker if it could not locate the producer metadata associated with the producerId in question. This could happen if, for instance, the producer's records were deleted because their retention time had elapsed. Once the last records of the producerId are removed, the producer's metadata is removed from the broker, and future appends by the producer will return this exception."),
    (60, ErrorCode::ReassignmentInProgress, "REASSIGNMENT_IN_PROGRESS", "ReassignmentInProgressException", "A partition reassignment is in progress."),
    (61, ErrorCode::DelegationTokenAuthDisabled, "DELEGATION_TOKEN_AUTH_DISABLED", "DelegationTokenDisabledException", "Delegation Token feature is not enabled."),
    (62, ErrorCode::DelegationTokenNotFound, "DELEGATION_TOKEN_NOT_FOUND", "DelegationTokenNotFoundException", "Delegation Token is not found on server."),
    (63, ErrorCode::DelegationTokenOwnerMismatch, "DELEGATION_TOKEN_OWNER_MISMATCH", "DelegationTokenOwnerMismatchException", "Specified Principal is not valid Owner/Renewer."),
    (64, ErrorCode::DelegationTokenRequestNotAllowed, "DELEGATION_TOKEN_REQUEST_NOT_ALLOWED", "UnsupportedByAuthenticationException", "Delegation Token requests are not allowed on PLAINTEXT/1-way SSL channels and on delegation token authenticated channels."),
    (65, ErrorCode::DelegationTokenAuthorizationFailed, "DELEGATION_TOKEN_AUTHORIZATION_FAILED", "DelegationTokenAuthorizationException", "Delegation Token authorization failed."),
    (66, ErrorCode::DelegationTokenExpired, "DELEGATION_TOKEN_EXPIRED", "DelegationTokenExpiredException", "Delegation Token is expired."),
    (67, ErrorCode::InvalidPrincipalType, "INVALID_PRINCIPAL_TYPE", "InvalidPrincipalTypeException", "Supplied principalType is not supported."),
    (68, ErrorCode::NonEmptyGroup, "NON_EMPTY_GROUP", "GroupNotEmptyException", "The group is not empty."),
    (69, ErrorCode::GroupIdNotFound, "GROUP_ID_NOT_FOUND", "GroupIdNotFoundException", "The group id does not exist."),
    (70, ErrorCode::FetchSessionIdNotFound, "FETCH_SESSION_ID_NOT_FOUND", "FetchSessionIdNotFoundException", "The fetch session ID was not found."),
    (71, ErrorCode::InvalidFetchSessionEpoch, "INVALID_FETCH_SESSION_EPOCH", "InvalidFetchSessionEpochException", "The fetch session epoch is invalid."),
    (72, ErrorCode::ListenerNotFound, "LISTENER_NOT_FOUND", "ListenerNotFoundException", "There is no listener on the leader broker that matches the listener on which metadata request was processed."),
    (73, ErrorCode::TopicDeletionDisabled, "TOPIC_DELETION_DISABLED", "TopicDeletionDisabledException", "Topic deletion is disabled."),
    (74, ErrorCode::FencedLeaderEpoch, "FENCED_LEADER_EPOCH", "FencedLeaderEpochException", "The leader epoch in the request is older than the epoch on the broker."),
    (75, ErrorCode::UnknownLeaderEpoch, "UNKNOWN_LEADER_EPOCH", "UnknownLeaderEpochException", "The leader epoch in the request is newer than the epoch on the broker."),
    (76, ErrorCode::UnsupportedCompressionType, "UNSUPPORTED_COMPRESSION_TYPE", "UnsupportedCompressionTypeException", "The requesting client does not support the compression type of given partition."),
    (77, ErrorCode::StaleBrokerEpoch, "STALE_BROKER_EPOCH", "StaleBrokerEpochException", "Broker epoch has changed."),
    (78, ErrorCode::OffsetNotAvailable, "OFFSET_NOT_AVAILABLE", "OffsetNotAvailableException", "The leader high watermark has not caught up from a recent leader election so the offsets cannot be guaranteed to be monotonically increasing."),
    (79, ErrorCode::MemberIdRequired, "MEMBER_ID_REQUIRED", "MemberIdRequiredException", "The group member needs to have a valid member id before actually entering a consumer group."),
    (80, ErrorCode::PreferredLeaderNotAvailable, "PREFERRED_LEADER_NOT_AVAILABLE", "PreferredLeaderNotAvailableException", "The preferred leader was not available."),
    (81, ErrorCode::GroupMaxSizeReached, "GROUP_MAX_SIZE_REACHED", "GroupMaxSizeReachedException", "The group has reached its maximum size."),
    (82, ErrorCode::FencedInstanceId, "FENCED_INSTANCE_ID", "FencedInstanceIdException", "The broker rejected this static consumer since another consumer with the same group.instance.id has registered with a different member.id."),
    (83, ErrorCode::EligibleLeadersNotAvailable, "ELIGIBLE_LEADERS_NOT_AVAILABLE", "EligibleLeadersNotAvailableException", "Eligible topic partition leaders are not available."),
    (84, ErrorCode::ElectionNotNeeded, "ELECTION_NOT_NEEDED", "ElectionNotNeededException", "Leader election not needed for topic partition."),
    (85, ErrorCode::NoReassignmentInProgress, "NO_REASSIGNMENT_IN_PROGRESS", "NoReassignmentInProgressException", "No partition reassignment is in progress."),
    (86, ErrorCode::GroupSubscribedToTopic, "GROUP_SUBSCRIBED_TO_TOPIC", "GroupSubscribedToTopicException", "Deleting offsets of a topic is forbidden while the consumer group is actively subscribed to it."),
    (87, ErrorCode::InvalidRecord, "INVALID_RECORD", "InvalidRecordException", "This record has failed the validation on broker and hence will be rejected."),
    (88, ErrorCode::UnstableOffsetCommit, "UNSTABLE_OFFSET_COMMIT", "UnstableOffsetCommitException", "There are unstable offsets that need to be cleared."),
    (89, ErrorCode::ThrottlingQuotaExceeded, "THROTTLING_QUOTA_EXCEEDED", "ThrottlingQuotaExceededException", "The throttling quota has been exceeded."),
    (90, ErrorCode::ProducerFenced, "PRODUCER_FENCED", "ProducerFencedException", "There is a newer producer with the same transactionalId which fences the current one."),
    (91, ErrorCode::ResourceNotFound, "RESOURCE_NOT_FOUND", "ResourceNotFoundException", "A request illegally referred to a resource that does not exist."),
    (92, ErrorCode::DuplicateResource, "DUPLICATE_RESOURCE", "DuplicateResourceException", "A request illegally referred to the same resource twice."),
    (93, ErrorCode::UnacceptableCredential, "UNACCEPTABLE_CREDENTIAL", "UnacceptableCredentialException", "Requested credential would not meet criteria for acceptability."),
    (94, ErrorCode::InconsistentVoterSet, "INCONSISTENT_VOTER_SET", "InconsistentVoterSetException", "Indicates that the either the sender or recipient of a voter-only request is not one of the expected voters."),
    (95, ErrorCode::InvalidUpdateVersion, "INVALID_UPDATE_VERSION", "InvalidUpdateVersionException", "The given update version was invalid."),
    (96, ErrorCode::FeatureUpdateFailed, "FEATURE_UPDATE_FAILED", "FeatureUpdateFailedException", "Unable to update finalized features due to an unexpected server error."),
    (97, ErrorCode::PrincipalDeserializationFailure, "PRINCIPAL_DESERIALIZATION_FAILURE", "PrincipalDeserializationException", "Request principal deserialization failed during forwarding. This indicates an internal error on the broker cluster security setup."),
    (98, ErrorCode::SnapshotNotFound, "SNAPSHOT_NOT_FOUND", "SnapshotNotFoundException", "Requested snapshot was not found."),
    (99, ErrorCode::PositionOutOfRange, "POSITION_OUT_OF_RANGE", "PositionOutOfRangeException", "Requested position is not greater than or equal to zero, and less than the size of the snapshot."),
    (100, ErrorCode::UnknownTopicId, "UNKNOWN_TOPIC_ID", "UnknownTopicIdException", "This server does not host this topic ID."),
    (101, ErrorCode::DuplicateBrokerRegistration, "DUPLICATE_BROKER_REGISTRATION", "DuplicateBrokerRegistrationException", "This broker ID is already in use."),
    (102, ErrorCode::BrokerIdNotRegistered, "BROKER_ID_NOT_REGISTERED", "BrokerIdNotRegisteredException", "The given broker ID was not registered."),
    (103, ErrorCode::InconsistentTopicId, "INCONSISTENT_TOPIC_ID", "InconsistentTopicIdException", "The log's topic ID did not match the topic ID in the request."),
    (104, ErrorCode::InconsistentClusterId, "INCONSISTENT_CLUSTER_ID", "InconsistentClusterIdException", "The clusterId in the request does not match that found on the server."),
    (105, ErrorCode::TransactionalIdNotFound, "TRANSACTIONAL_ID_NOT_FOUND", "TransactionalIdNotFoundException", "The transactionalId could not be found."),
    (106, ErrorCode::FetchSessionTopicIdError, "FETCH_SESSION_TOPIC_ID_ERROR", "FetchSessionTopicIdException", "The fetch session encountered inconsistent topic ID usage."),
    (107, ErrorCode::IneligibleReplica, "INELIGIBLE_REPLICA", "IneligibleReplicaException", "The new ISR contains at least one ineligible replica."),
    (108, ErrorCode::NewLeaderElected, "NEW_LEADER_ELECTED", "NewLeaderElectedException", "The AlterPartition request successfully updated the partition state but the leader has changed."),
    (109, ErrorCode::OffsetMovedToTieredStorage, "OFFSET_MOVED_TO_TIERED_STORAGE", "OffsetMovedToTieredStorageException", "The requested offset is moved to tiered storage."),
    (110, ErrorCode::FencedMemberEpoch, "FENCED_MEMBER_EPOCH", "FencedMemberEpochException", "The member epoch is fenced by the group coordinator. The member must abandon all its partitions and rejoin."),
    (111, ErrorCode::UnreleasedInstanceId, "UNRELEASED_INSTANCE_ID", "UnreleasedInstanceIdException", "The instance ID is still used by another member in the consumer group. That member must leave first."),
    (112, ErrorCode::UnsupportedAssignor, "UNSUPPORTED_ASSIGNOR", "UnsupportedAssignorException", "The assignor or its version range is not supported by the consumer group."),
    (113, ErrorCode::StaleMemberEpoch, "STALE_MEMBER_EPOCH", "StaleMemberEpochException", "The member epoch is stale. The member must retry after receiving its updated member epoch via the ConsumerGroupHeartbeat API."),
    (114, ErrorCode::MismatchedEndpointType, "MISMATCHED_ENDPOINT_TYPE", "MismatchedEndpointTypeException", "The request was sent to an endpoint of the wrong type."),
    (115, ErrorCode::UnsupportedEndpointType, "UNSUPPORTED_ENDPOINT_TYPE", "UnsupportedEndpointTypeException", "This endpoint type is not supported yet."),
    (116, ErrorCode::UnknownControllerId, "UNKNOWN_CONTROLLER_ID", "UnknownControllerIdException", "This controller ID is not known."),
    (117, ErrorCode::UnknownSubscriptionId, "UNKNOWN_SUBSCRIPTION_ID", "UnknownSubscriptionIdException", "Client sent a push telemetry request with an invalid or outdated subscription ID."),
    (118, ErrorCode::TelemetryTooLarge, "TELEMETRY_TOO_LARGE", "TelemetryTooLargeException", "Client sent a push telemetry request larger than the maximum size the broker will accept."),
    (119, ErrorCode::InvalidRegistration, "INVALID_REGISTRATION", "InvalidRegistrationException", "The controller has considered the broker registration to be invalid."),
    (120, ErrorCode::TransactionAbortable, "TRANSACTION_ABORTABLE", "TransactionAbortableException", "The server encountered an error with the transaction. The client can abort the transaction to continue using this transactional ID."),
    (121, ErrorCode::InvalidRecordState, "INVALID_RECORD_STATE", "InvalidRecordStateException", "The record state is invalid. The acknowledgement of delivery could not be completed."),
    (122, ErrorCode::ShareSessionNotFound, "SHARE_SESSION_NOT_FOUND", "ShareSessionNotFoundException", "The share session was not found."),
    (123, ErrorCode::InvalidShareSessionEpoch, "INVALID_SHARE_SESSION_EPOCH", "InvalidShareSessionEpochException", "The share session epoch is invalid."),
    (124, ErrorCode::FencedStateEpoch, "FENCED_STATE_EPOCH", "FencedStateEpochException", "The share coordinator rejected the request because the share-group state epoch did not match."),
    (125, ErrorCode::InvalidVoterKey, "INVALID_VOTER_KEY", "InvalidVoterKeyException", "The voter key doesn't match the receiving replica's key."),
    (126, ErrorCode::DuplicateVoter, "DUPLICATE_VOTER", "DuplicateVoterException", "The voter is already part of the set of voters."),
    (127, ErrorCode::VoterNotFound, "VOTER_NOT_FOUND", "VoterNotFoundException", "The voter is not part of the set of voters."),
    (128, ErrorCode::InvalidRegularExpression, "INVALID_REGULAR_EXPRESSION", "InvalidRegularExpression", "The regular expression is not valid."),
    (129, ErrorCode::RebootstrapRequired, "REBOOTSTRAP_REQUIRED", "RebootstrapRequiredException", "Client metadata is stale. The client should rebootstrap to obtain new metadata."),
    (130, ErrorCode::StreamsInvalidTopology, "STREAMS_INVALID_TOPOLOGY", "StreamsInvalidTopologyException", "The supplied topology is invalid."),
    (131, ErrorCode::StreamsInvalidTopologyEpoch, "STREAMS_INVALID_TOPOLOGY_EPOCH", "StreamsInvalidTopologyEpochException", "The supplied topology epoch is invalid."),
    (132, ErrorCode::StreamsTopologyFenced, "STREAMS_TOPOLOGY_FENCED", "StreamsTopologyFencedException", "The supplied topology epoch is outdated."),
    (133, ErrorCode::ShareSessionLimitReached, "SHARE_SESSION_LIMIT_REACHED", "ShareSessionLimitReachedException", "The limit of share sessions has been reached."),
];
impl ErrorCode {
    /// Every error code, ordered by its protocol code.
    pub fn all() -> impl Iterator<Item = ErrorCode> {
        TABLE.iter().map(|row| row.1)
    }

    fn row(self) -> &'static (i16, ErrorCode, &'static str, &'static str, &'static str) {
        // The table is ordered by code and the enum by declaration, which follows the table.
        &TABLE[self as usize]
    }

    /// The protocol's numeric code (`OFFSET_OUT_OF_RANGE` is 1).
    pub fn code(self) -> i16 {
        self.row().0
    }

    /// The protocol name, e.g. `NOT_ENOUGH_REPLICAS`.
    pub fn name(self) -> &'static str {
        self.row().2
    }

    /// The Java client's exception class for this code, e.g. `NotEnoughReplicasException`.
    pub fn exception(self) -> &'static str {
        self.row().3
    }

    /// The message Kafka gives when it has nothing more specific to say.
    pub fn default_message(self) -> &'static str {
        self.row().4
    }

    /// The error with this numeric code, if Kafka 4.1 defines one.
    pub fn from_code(code: i16) -> Option<ErrorCode> {
        TABLE.iter().find(|row| row.0 == code).map(|row| row.1)
    }

    /// The error with this protocol name (`UNKNOWN_TOPIC_OR_PARTITION`), if Kafka 4.1 defines one.
    pub fn from_name(name: &str) -> Option<ErrorCode> {
        TABLE.iter().find(|row| row.2 == name).map(|row| row.1)
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An error as a Kafka client sees it: the protocol code and this occurrence's message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KafkaError {
    /// The protocol error code.
    pub code: ErrorCode,
    /// The message the broker or client gave (the code's default message when it gave none).
    pub message: String,
}

impl KafkaError {
    /// The error with its default message.
    pub fn new(code: ErrorCode) -> Self {
        KafkaError { code, message: code.default_message().to_string() }
    }

    /// The error with a specific message, as the broker words it for this occurrence.
    pub fn with_message(code: ErrorCode, message: impl Into<String>) -> Self {
        KafkaError { code, message: message.into() }
    }
}

/// As the Java client prints an exception: `org.apache.kafka.common.errors.X: message` is shortened to the
/// class's simple name, `NotEnoughReplicasException: Messages are rejected …`.
impl fmt::Display for KafkaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code.exception(), self.message)
    }
}

impl std::error::Error for KafkaError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_indexed_by_declaration_order() {
        for (index, row) in TABLE.iter().enumerate() {
            assert_eq!(row.1 as usize, index, "{} is out of place", row.2);
        }
        assert!(TABLE.windows(2).all(|w| w[0].0 < w[1].0), "codes ascend");
    }

    #[test]
    fn codes_names_and_exceptions_are_kafkas() {
        // Values from Kafka's protocol documentation (kafka.apache.org/protocol#protocol_error_codes).
        assert_eq!(ErrorCode::OffsetOutOfRange.code(), 1);
        assert_eq!(ErrorCode::NotEnoughReplicasAfterAppend.code(), 20);
        assert_eq!(ErrorCode::InvalidReplicationFactor.code(), 38);
        assert_eq!(ErrorCode::TopicAlreadyExists.name(), "TOPIC_ALREADY_EXISTS");
        assert_eq!(ErrorCode::from_code(36), Some(ErrorCode::TopicAlreadyExists));
        assert_eq!(ErrorCode::MessageTooLarge.exception(), "RecordTooLargeException");
        assert_eq!(ErrorCode::UnknownServerError.code(), -1);
        let e = KafkaError::new(ErrorCode::NotEnoughReplicas);
        assert_eq!(
            e.to_string(),
            "NotEnoughReplicasException: Messages are rejected since there are fewer in-sync replicas than required."
        );
    }
}
