/**
 * @module load/cli
 * `npm run load -- --devices N --rate R --duration D [...]` (see USAGE in load/options.ts):
 * progress on stderr every few seconds, then a summary table, or the whole report as one JSON
 * object on stdout with --json. Exits 1 when the store does not hold exactly what devices made.
 */
import { parseLoadArgs, USAGE } from './options.js';
import { runLoad } from './orchestrator.js';
import { progressLine, summaryTable } from './report.js';

let options;
try {
  options = parseLoadArgs(process.argv.slice(2));
} catch (err) {
  console.error(`${(err as Error).message}\n${USAGE}`);
  process.exit(2);
}
if (options === null) {
  console.log(USAGE);
  process.exit(0);
}
const o = options;
const report = await runLoad(o, {
  log: (msg) => process.stderr.write(`[load] ${msg}\n`),
  progress: (p) => process.stderr.write(`${progressLine(p, o.devices)}\n`),
});
if (o.json) console.log(JSON.stringify(report));
else console.log(summaryTable(report));
process.exit(report.ok ? 0 : 1);
