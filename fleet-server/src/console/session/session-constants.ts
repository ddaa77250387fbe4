/**
 * @module console/session/session-constants
 * The session and role names the console uses, as the API defines them (protocol/rest).
 */
export {
  CSRF_FIELD,
  CSRF_HEADER,
  SESSION_COOKIE,
  roleAllows,
  type AdminRole as ConsoleRole,
} from '@edgeloop/protocol/rest';
