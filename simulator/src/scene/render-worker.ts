/**
 * @module scene/render-worker
 * The body of a render thread: scene parameters in, raw RGB out (the pixel buffer's memory is
 * moved, not copied again). Pure JavaScript: the JPEG encoding stays with the caller, whose
 * sharp already runs it on libuv's pool.
 */
import { parentPort } from 'node:worker_threads';
import { renderRaw, type SceneParams } from './render.js';

parentPort!.on('message', (msg: { id: number; params: SceneParams }) => {
  try {
    const frame = renderRaw(msg.params);
    // A copy with an ArrayBuffer of its own (a Buffer may sit in a shared pool), moved to the caller.
    const bytes = new Uint8Array(frame.data);
    parentPort!.postMessage({ id: msg.id, width: frame.width, height: frame.height, bytes }, [bytes.buffer]);
  } catch (err) {
    parentPort!.postMessage({ id: msg.id, error: (err as Error).message });
  }
});
