/**
 * @module bench/predict-floor-server
 * The least any HTTP predict server with a durable record can do, for agent.predict_floor: plain
 * node:http, the body read into one buffer, the same sharp + onnxruntime-node calls as the bare
 * script, one INSERT committed with the agent's SQLite settings (WAL, synchronous=FULL, so one
 * fsync), a small JSON answer. No validation, no features, no metrics, no framework.
 *
 * It runs in its own process, as the agent does, and prints `{"port": N}` when it listens.
 * Usage: node --import tsx predict-floor-server.ts <model.onnx> <data dir>
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';

const [modelPath, dataDir] = process.argv.slice(2);
if (!modelPath || !dataDir) throw new Error('usage: predict-floor-server.ts <model.onnx> <data dir>');

const session = await ort.InferenceSession.create(readFileSync(modelPath), { intraOpNumThreads: 1 });
const db = new Database(join(dataDir, 'floor.db'));
db.pragma('journal_mode = WAL');
db.pragma('synchronous = FULL');
db.exec(
  'CREATE TABLE IF NOT EXISTS records (seq INTEGER PRIMARY KEY AUTOINCREMENT, ts INTEGER NOT NULL, output TEXT NOT NULL)',
);
const insert = db.prepare('INSERT INTO records (ts, output) VALUES (?, ?)');

async function predict(jpeg: Buffer): Promise<string> {
  const raw = await sharp(jpeg).removeAlpha().resize(64, 48, { fit: 'fill' }).raw().toBuffer();
  const plane = 48 * 64;
  const data = new Float32Array(3 * plane);
  for (let p = 0; p < plane; p++) for (let c = 0; c < 3; c++) data[c * plane + p] = raw[p * 3 + c]! / 255;
  const out = await session.run({ image: new ort.Tensor('float32', data, [1, 3, 48, 64]) });
  const output = JSON.stringify(Array.from(out[session.outputNames[0]!]!.data as Float32Array));
  const seq = insert.run(Date.now(), output).lastInsertRowid;
  return `{"output":${output},"seq":${seq}}`;
}

const server = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    predict(Buffer.concat(chunks)).then(
      (body) => res.writeHead(200, { 'content-type': 'application/json' }).end(body),
      (err: Error) => res.writeHead(500).end(err.message),
    );
  });
});
server.listen(0, '127.0.0.1', () => console.log(JSON.stringify({ port: (server.address() as { port: number }).port })));
