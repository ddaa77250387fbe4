/**
 * @module demo/cli
 * `npm run demo`: the origin's evaluation end to end with the simulator and no human input
 * (docs/demo.md). Progress lines go to stderr every few seconds; the results table (or, with
 * --json, one JSON object per phase and a final summary) to stdout; the HTML report to --out.
 * Exit code 0 when every acceptance check passed, 1 when one failed, 2 on a usage error.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { parsePhaseList, type PhaseId } from './demo-plan.js';
import { renderReport } from './report-html.js';
import { DEMO_DEFAULTS, runDemo } from './run-demo.js';
import { phaseJson, summaryLines, tableHeader, tableRow } from './table.js';

const USAGE = `usage: npm run demo -- [--out DIR] [--devices N] [--phases 1,5] [--seed N] [--time-scale X] [--json]
  --out         where the HTML report and results.json go (default ./demo-report)
  --devices     simulated cars, each a real agent (default ${DEMO_DEFAULTS.devices})
  --phases      phases to play, e.g. 1,5 (phase 1, the initial model, always runs; default 1,2,3,4,5)
  --seed        seed of the frames and the trainer (default ${DEMO_DEFAULTS.seed})
  --time-scale  simulated seconds per wall second (default ${DEMO_DEFAULTS.timeScale})
  --strategy    the loop's rollout: canary (default) or direct
  --json        one JSON object per phase and a summary object on stdout instead of the table`;

function usage(message: string): never {
  console.error(`error: ${message}\n${USAGE}`);
  process.exit(2);
}

function integer(name: string, text: string, min: number, max: number): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min || n > max)
    usage(`--${name} must be a whole number from ${min} to ${max}, got "${text}"`);
  return n;
}

const { values } = (() => {
  try {
    return parseArgs({
      options: {
        out: { type: 'string', default: 'demo-report' },
        devices: { type: 'string', default: String(DEMO_DEFAULTS.devices) },
        phases: { type: 'string', default: '1,2,3,4,5' },
        seed: { type: 'string', default: String(DEMO_DEFAULTS.seed) },
        'time-scale': { type: 'string', default: String(DEMO_DEFAULTS.timeScale) },
        strategy: { type: 'string', default: 'canary' },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    usage((err as Error).message);
  }
})();
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}

let phases: PhaseId[];
try {
  phases = parsePhaseList(values.phases);
} catch (err) {
  usage((err as Error).message);
}
const devices = integer('devices', values.devices, 1, 50);
const seed = integer('seed', values.seed, 0, 2 ** 31 - 1);
const timeScale = Number(values['time-scale']);
if (!(timeScale >= 1 && timeScale <= 20))
  usage(`--time-scale must be a number from 1 to 20, got "${values['time-scale']}"`);
if (values.strategy !== 'canary' && values.strategy !== 'direct')
  usage(`--strategy must be canary or direct, got "${values.strategy}"`);
const out = resolve(values.out);
mkdirSync(out, { recursive: true });

const print = (text: string) => process.stdout.write(`${text}\n`);
if (!values.json) for (const l of tableHeader()) print(l);

try {
  const result = await runDemo({
    devices,
    phases,
    seed,
    timeScale,
    strategy: values.strategy,
    progress: (l) => process.stderr.write(`${l}\n`),
    onPhase: (r) => print(values.json ? phaseJson(r) : tableRow(r)),
  });
  const reportPath = join(out, 'report.html');
  result.summary.report = reportPath;
  writeFileSync(reportPath, renderReport(result));
  writeFileSync(join(out, 'results.json'), JSON.stringify(result, null, 2) + '\n');
  if (values.json) print(JSON.stringify(result.summary));
  else for (const l of summaryLines(result.summary)) print(l);
  process.stderr.write(`report written to ${reportPath} (data: ${join(out, 'results.json')})\n`);
  process.exitCode = result.summary.accepted ? 0 : 1;
} catch (err) {
  process.stderr.write(`demo failed: ${(err as Error).stack ?? err}\n`);
  process.exitCode = 1;
}
