// Runs a trainer for the fleet server and makes sure it never outlives the server.
//
// The server starts this guard as the leader of a new process group (so a timeout or a cancel
// ends the trainer and everything it started), with an IPC channel. The channel closes when the
// server process dies, even by kill -9; the guard then kills its whole group. Without it, a
// trainer of a crashed server would train on to the end beside the restarted server's retry.
//
// Usage (by trainer-runner.ts only): node trainer-guard.mjs <command> [args...]
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { setTimeout } from 'node:timers';

const [command, ...args] = process.argv.slice(2);
const killGroup = () => {
  try {
    process.kill(-process.pid, 'SIGKILL');
  } catch {
    process.exit(137);
  }
};
process.on('disconnect', killGroup);
// The server signals the whole group: the trainer gets it too; wait for it to end and mirror it.
process.on('SIGTERM', () => undefined);
process.on('SIGINT', () => undefined);

const child = spawn(command, args, { stdio: ['ignore', 'inherit', 'inherit'] });
child.on('error', (err) => {
  process.send?.({ spawnError: err.message }, () => process.exit(127));
});
child.on('exit', (code, signal) => {
  process.off('disconnect', killGroup);
  process.disconnect?.();
  if (signal) {
    process.removeAllListeners(signal);
    process.kill(process.pid, signal);
    // A signal that does not end a process by default: exit as a shell would report it.
    setTimeout(() => process.exit(128 + (constants.signals[signal] ?? 0)), 100).unref();
    return;
  }
  process.exit(code ?? 1);
});
