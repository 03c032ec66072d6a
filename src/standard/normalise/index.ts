export * from './dates.js';
export * from './email.js';
export * from './error.js';
export * from './money.js';
export * from './names.js';
export * from './phone.js';
export * from './places.js';
