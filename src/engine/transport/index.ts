export * from './transport.js';
export * from './websocket.js';
export * from './stdio.js';
export * from './memory.js';
