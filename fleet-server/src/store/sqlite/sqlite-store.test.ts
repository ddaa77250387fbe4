import { mkdtempSync, rmSync } from 'node:fs';
import { after } from 'node:test';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runFleetStoreSuite } from '../store-suite.js';
import { openSqliteStore } from './open-sqlite-store.js';

const dir = mkdtempSync(join(tmpdir(), 'edgeloop-sqlite-store-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

runFleetStoreSuite('sqlite', () => openSqliteStore(join(dir, `fleet-${++n}.db`)));
