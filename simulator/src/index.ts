/**
 * @module @edgeloop/simulator
 * The fleet simulator's entry point.
 */
export {};
