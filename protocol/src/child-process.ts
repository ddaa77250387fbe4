/**
 * @module child-process
 * What every program the fleet server starts on its own behalf (trainers, the gate's evaluator)
 * gets: the server's environment without its secrets, and one way to end it with everything it
 * started (they run as leaders of their own process groups).
 */

/**
 * The environment without EDGELOOP_* settings (admin token, database URL with its password,
 * broker password) or anything named like a credential: the child is another program and gets
 * what it needs to run (PATH, HOME, locale, Python and thread settings).
 */
export function secretFreeEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(
    Object.entries(env).filter(
      ([name]) => !/^EDGELOOP_/i.test(name) && !/(TOKEN|SECRET|PASSWORD|PASSWD|PRIVATE|CREDENTIAL)/i.test(name),
    ),
  );
}

/** Signals a whole process group (led by `pid`); a group that is gone already is not an error. */
export function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // The group is gone already.
  }
}
