export const KAFKA_CONFIG = Symbol('KAFKA_CONFIG');
export const KAFKA_CLIENT = Symbol('KAFKA_CLIENT');
