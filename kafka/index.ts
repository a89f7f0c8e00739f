export { createKafkaClient, brokerError, positionCheck, withDeadline } from './client';
export type { KafkaClient, KafkaSettings, LakegateProducer, MessagePosition, OutgoingMessage, SendResult, ConsumerOptions, EachBatchPayload, KafkaMessage, IHeaders } from './client';
export type { Consumer } from 'kafkajs';
export { openTopicStream } from './stream';
export type { TopicStream, StreamOptions } from './stream';
