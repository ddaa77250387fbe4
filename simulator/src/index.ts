/**
 * @module @edgeloop/simulator
 * The fleet simulator: rendered rear-camera frames, a simulated time-of-flight sensor, timed
 * drift scenarios, and dataset folders generated from them. The live fleet (real agents driven
 * by simulated cars) is `@edgeloop/simulator/fleet`, apart, so that rendering and dataset
 * generation do not load the agent and its runtime.
 */
export { mulberry32, hashInts, gaussian, type Rng } from './rng.js';
export {
  renderFrame,
  renderRaw,
  encodeJpeg,
  CAMERA_HEIGHT,
  CAMERA_SETBACK,
  DEFAULT_WIDTH,
  DEFAULT_HEIGHT,
  type SceneParams,
  type RawFrame,
  type Rgb,
} from './scene/render.js';
export { FLOOR_TEXTURES, type FloorTexture } from './scene/texture.js';
export {
  loadScenario,
  parseScenario,
  resolveScenario,
  builtinScenarios,
  ScenarioError,
  PHASE_DEFAULTS,
  SCENARIO_DIR,
  type Scenario,
  type Phase,
  type PhaseSettings,
} from './scenario/load.js';
export { COLOURS } from './scenario/schema.js';
export { phaseAt } from './scenario/timeline.js';
export { PhaseSchedule, type PhaseSwitch } from './scenario/schedule.js';
export { SceneSampler, sampleScene, type SceneSample } from './scenario/sample.js';
export { reading, tofSigma, tofOutlierRate } from './sensor/tof.js';
export { generateDataset, type GenerateOptions, type GeneratedDataset } from './dataset/generate.js';
