// The contracts every part of AeroGrid imports. Import a module by its own path
// (@aerogrid/protocol/names, ...) to take only what you use.
export * from './names.js';
export * from './client-messages.js';
export * from './grid-view.js';
export * from './kafka-names.js';
export * from './environment.js';
export * from './runtime-messages.js';
export * from './directory-messages.js';
export * from './excel-functions.js';
export * from './console-api.js';
