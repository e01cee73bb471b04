export * from './common.js';
export * from './envelope.js';
export * from './session.js';
export * from './job.js';
export * from './events.js';
export * from './messages.js';
