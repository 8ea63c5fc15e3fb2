/**
 * Pure domain code: no I/O, clock or randomness, so Temporal workflows can import it
 * and replay it deterministically.
 */
export * from './result';
export * from './calendar';
export * from './check-digits';
export * from './identifier';
export * from './certificate-number';
export * from './canonical-json';
export * from './face-fields';
export * from './holder';
