/**
 * @module support/browser/accessibility
 * axe-core run inside a test page. The console's Content-Security-Policy forbids inline scripts,
 * so axe is not added as a <script> element: its source is evaluated through the DevTools
 * protocol (page.evaluate), which the page's CSP does not govern. Only violations of impact
 * "serious" or "critical" are returned, each with the selectors of the offending elements, so a
 * failing assertion says what to fix and where.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Page } from 'playwright-core';

let axeSource: string | undefined;
function source(): string {
  axeSource ??= readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
  return axeSource;
}

export type Impact = 'minor' | 'moderate' | 'serious' | 'critical';

export interface AccessibilityViolation {
  id: string;
  impact: Impact;
  help: string;
  helpUrl: string;
  /** CSS selectors of every element that violates the rule. */
  targets: string[];
}

export interface AccessibilityReport {
  violations: AccessibilityViolation[];
  /** One line per violation, for assertion messages; "" when there are none. */
  summary: string;
}

export interface AccessibilityOptions {
  /** Impacts that count (default serious and critical). */
  impacts?: readonly Impact[];
  /** CSS selector of the part of the page to check (default the whole document). */
  include?: string;
  /** axe rule ids to leave out, each with a reason in the calling test. */
  disableRules?: readonly string[];
}

interface AxeViolation {
  id: string;
  impact: Impact | null;
  help: string;
  helpUrl: string;
  nodes: { target: unknown[] }[];
}

/** Runs axe-core on the page as it is now and returns the violations that count. */
export async function checkAccessibility(page: Page, options: AccessibilityOptions = {}): Promise<AccessibilityReport> {
  const impacts = new Set<Impact>(options.impacts ?? ['serious', 'critical']);
  // Loaded once per document; a navigation brings a fresh one.
  const loaded = await page.evaluate('typeof window.axe === "object"');
  if (!loaded) await page.evaluate(`${source()}\n;undefined`);
  const rules = Object.fromEntries((options.disableRules ?? []).map((id) => [id, { enabled: false }]));
  const raw = (await page.evaluate(
    `axe.run(${JSON.stringify(options.include ?? 'html')}, ${JSON.stringify({ resultTypes: ['violations'], rules })})
      .then((r) => r.violations)`,
  )) as AxeViolation[];
  const violations = raw
    .filter((v): v is AxeViolation & { impact: Impact } => v.impact !== null && impacts.has(v.impact))
    .map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      helpUrl: v.helpUrl,
      targets: v.nodes.map((n) => n.target.map(String).join(' ')),
    }));
  return { violations, summary: summarise(violations) };
}

export function summarise(violations: readonly AccessibilityViolation[]): string {
  return violations.map((v) => `${v.impact} ${v.id}: ${v.help} (${v.helpUrl}) at ${v.targets.join(', ')}`).join('\n');
}
