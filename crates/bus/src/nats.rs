//! The bus on NATS JetStream: one stream, one subject per partition
//! (`<prefix>.<n>`); a record's offset is its stream sequence. Appends are
//! acknowledged by the server once stored (file storage); the `Nats-Msg-Id`
//! header makes a retried append within the stream's duplicate window a
//! no-op that answers the first position. A partition is read with a
//! short-lived pull consumer filtered on its subject, from the offset the
//! caller keeps.
//!
//! Written for nats-server 2.9 and later (Debian's is 2.9.10): no stream
//! metadata, so the partition count is kept in the stream's description
//! and checked at connect.

use crate::{Bus, BusError, Message, Position, Record, partition_of};
use async_nats::jetstream::{self, consumer, stream};
use async_trait::async_trait;
use futures_util::StreamExt as _;
use std::time::Duration;

/// How long a retried append is recognised by its id.
pub const DUPLICATE_WINDOW: Duration = Duration::from_secs(120);

/// Where and how the log lives on NATS.
#[derive(Debug, Clone)]
pub struct NatsOptions {
    pub url: String,
    /// The stream's name (`BEACON_EVENTS`).
    pub stream: String,
    /// Subjects are `<prefix>.<partition>`.
    pub subject_prefix: String,
    /// Used when the stream is created; an existing stream must have as many.
    pub partitions: u32,
}

pub struct NatsBus {
    js: jetstream::Context,
    stream: stream::Stream,
    prefix: String,
    partitions: u32,
}

fn unavailable(e: impl std::fmt::Display) -> BusError {
    BusError::Unavailable(e.to_string())
}

fn description(partitions: u32) -> String {
    format!("Beacon event log; partitions={partitions}")
}

impl NatsBus {
    /// Connects, creating the stream if it does not exist.
    pub async fn connect(opts: &NatsOptions) -> Result<NatsBus, BusError> {
        if opts.partitions == 0 || opts.partitions > 1024 {
            return Err(BusError::Mismatch("partitions must be 1 to 1024".into()));
        }
        let client = async_nats::connect(&opts.url).await.map_err(unavailable)?;
        let js = jetstream::new(client);
        let config = stream::Config {
            name: opts.stream.clone(),
            subjects: vec![format!("{}.*", opts.subject_prefix)],
            storage: stream::StorageType::File,
            duplicate_window: DUPLICATE_WINDOW,
            description: Some(description(opts.partitions)),
            ..Default::default()
        };
        // the server may fail to create a stream's storage while another
        // stream of the account is being deleted (nats-server 2.9 removes
        // the account's stream directory with its last stream): try again
        let mut attempt = 0;
        let mut stream = loop {
            match js.get_or_create_stream(config.clone()).await {
                Ok(stream) => break stream,
                Err(e) if attempt < 4 => {
                    attempt += 1;
                    tracing::debug!("creating the stream failed, again: {e}");
                    tokio::time::sleep(std::time::Duration::from_millis(100 * attempt)).await;
                }
                Err(e) => return Err(unavailable(e)),
            }
        };
        let info = stream.info().await.map_err(unavailable)?;
        let have = info.config.description.clone().unwrap_or_default();
        if have != description(opts.partitions) {
            return Err(BusError::Mismatch(format!(
                "stream {} is {have:?}, not {} partitions: the partition count cannot change once events are in it",
                opts.stream, opts.partitions
            )));
        }
        Ok(NatsBus { js, stream, prefix: opts.subject_prefix.clone(), partitions: opts.partitions })
    }

    /// Deletes the stream and every record in it (tests and tools).
    pub async fn destroy(self) -> Result<(), BusError> {
        let name = self.stream.cached_info().config.name.clone();
        self.js.delete_stream(&name).await.map(drop).map_err(unavailable)
    }

    fn subject(&self, partition: u32) -> String {
        format!("{}.{partition}", self.prefix)
    }
}

#[async_trait]
impl Bus for NatsBus {
    fn partitions(&self) -> u32 {
        self.partitions
    }

    async fn append(&self, messages: &[Message]) -> Result<Vec<Position>, BusError> {
        // publish all, then wait for every acknowledgement: one round trip's latency for the lot
        let mut acks = Vec::with_capacity(messages.len());
        for m in messages {
            let partition = partition_of(&m.key, self.partitions);
            let mut headers = async_nats::HeaderMap::new();
            headers.insert(async_nats::header::NATS_MESSAGE_ID, m.id.as_str());
            let ack = self
                .js
                .publish_with_headers(self.subject(partition), headers, m.payload.clone().into())
                .await
                .map_err(unavailable)?;
            acks.push((partition, ack));
        }
        let mut out = Vec::with_capacity(acks.len());
        for (partition, ack) in acks {
            let ack = ack.await.map_err(unavailable)?;
            out.push(Position { partition, offset: ack.sequence });
        }
        Ok(out)
    }

    async fn read(&self, partition: u32, after: u64, limit: usize) -> Result<Vec<Record>, BusError> {
        if partition >= self.partitions {
            return Err(BusError::Mismatch(format!("no partition {partition} of {}", self.partitions)));
        }
        let consumer = self
            .stream
            .create_consumer(consumer::pull::Config {
                filter_subject: self.subject(partition),
                deliver_policy: consumer::DeliverPolicy::ByStartSequence { start_sequence: after + 1 },
                ack_policy: consumer::AckPolicy::None,
                inactive_threshold: Duration::from_secs(30),
                ..Default::default()
            })
            .await
            .map_err(unavailable)?;
        let mut batch = consumer.fetch().max_messages(limit.max(1)).messages().await.map_err(unavailable)?;
        let mut out = Vec::new();
        while let Some(m) = batch.next().await {
            let m = m.map_err(unavailable)?;
            let offset = m.info().map_err(|e| BusError::Backend(e.to_string()))?.stream_sequence;
            let id = m
                .headers
                .as_ref()
                .and_then(|h| h.get(async_nats::header::NATS_MESSAGE_ID))
                .map(|v| v.as_str().to_string())
                .unwrap_or_default();
            out.push(Record { position: Position { partition, offset }, id, payload: m.payload.to_vec() });
        }
        let name = consumer.cached_info().name.clone();
        if let Err(e) = self.stream.delete_consumer(&name).await {
            tracing::debug!("deleting read consumer {name}: {e}");
        }
        Ok(out)
    }

    async fn head(&self, partition: u32) -> Result<u64, BusError> {
        match self.stream.get_last_raw_message_by_subject(&self.subject(partition)).await {
            Ok(m) => Ok(m.sequence),
            Err(e) if e.kind() == stream::LastRawMessageErrorKind::NoMessageFound => Ok(0),
            Err(e) => Err(unavailable(e)),
        }
    }
}
