export { createKafkaClient, brokerError } from './client';
export type { KafkaClient, KafkaSettings, LakegateProducer, OutgoingMessage, SendResult, ConsumerOptions, EachBatchPayload, KafkaMessage, IHeaders } from './client';
export type { Consumer } from 'kafkajs';
