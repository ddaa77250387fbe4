/** @module console/client/try-model */
export {};
