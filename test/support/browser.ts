/**
 * @module support/browser
 * The browser-test harness: Debian's Chromium through playwright-core (launch, or skip loudly
 * where it is missing), axe-core accessibility checks that work under a strict CSP, a recorder of
 * page problems (console errors, failed requests, CSP violations) and a static file server.
 */
export * from './browser/launch.js';
export * from './browser/accessibility.js';
export * from './browser/page-problems.js';
export * from './browser/static-server.js';
