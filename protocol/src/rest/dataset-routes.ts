/**
 * @module rest/dataset-routes
 * The dataset snapshot routes of the route table (rest/routes.ts spreads them in), with their
 * schemas in rest/datasets.ts.
 */
import { route } from './route-spec.js';
import {
  datasetBlobPathSchema,
  datasetBlobResponseSchema,
  datasetBlobUploadSchema,
  datasetCreateRequestSchema,
  datasetDeleteResponseSchema,
  datasetDetailSchema,
  datasetFilePathSchema,
  datasetImportRequestSchema,
  datasetItemsQuerySchema,
  datasetItemsResponseSchema,
  datasetListResponseSchema,
  datasetOutcomeSchema,
  datasetPathSchema,
} from './datasets.js';

export const DATASET_ROUTES = {
  createDataset: route({
    method: 'POST',
    path: '/api/v1/datasets',
    tag: 'datasets',
    summary:
      'Snapshot the uploaded samples a selection matches, with their reference values (200: the same content existed)',
    auth: 'admin',
    body: datasetCreateRequestSchema,
    responses: { 201: datasetOutcomeSchema, 200: datasetOutcomeSchema },
    errors: [404],
  }),
  listDatasets: route({
    method: 'GET',
    path: '/api/v1/datasets',
    tag: 'datasets',
    summary: 'Dataset snapshots, newest first, with their manifests',
    auth: 'admin',
    responses: { 200: datasetListResponseSchema },
  }),
  getDataset: route({
    method: 'GET',
    path: '/api/v1/datasets/{id}',
    tag: 'datasets',
    summary: "A snapshot's manifest and the model versions whose lineage names it",
    auth: 'admin',
    params: datasetPathSchema,
    responses: { 200: datasetDetailSchema },
  }),
  listDatasetItems: route({
    method: 'GET',
    path: '/api/v1/datasets/{id}/items',
    tag: 'datasets',
    summary: "A page of a snapshot's items in file order",
    auth: 'admin',
    params: datasetPathSchema,
    query: datasetItemsQuerySchema,
    responses: { 200: datasetItemsResponseSchema },
  }),
  getDatasetFile: route({
    method: 'GET',
    path: '/api/v1/datasets/{id}/files/{sha256}',
    tag: 'datasets',
    summary: 'The bytes of one image of a snapshot',
    auth: 'admin',
    params: datasetFilePathSchema,
    responses: { 200: { raw: '*/*', description: 'the image, with its content type' } },
  }),
  uploadDatasetBlob: route({
    method: 'PUT',
    path: '/api/v1/datasets/blobs/{sha256}',
    tag: 'datasets',
    summary: 'Upload one image of a dataset to import (its bytes must hash to the sha256 in the path)',
    auth: 'admin',
    params: datasetBlobPathSchema,
    body: { multipart: datasetBlobUploadSchema },
    responses: { 200: datasetBlobResponseSchema },
    errors: [415],
  }),
  importDataset: route({
    method: 'POST',
    path: '/api/v1/datasets/import',
    tag: 'datasets',
    summary: 'Import items whose images were uploaded (200: the same content existed)',
    auth: 'admin',
    body: datasetImportRequestSchema,
    responses: { 201: datasetOutcomeSchema, 200: datasetOutcomeSchema },
  }),
  deleteDataset: route({
    method: 'DELETE',
    path: '/api/v1/datasets/{id}',
    tag: 'datasets',
    summary: 'Delete a snapshot (refused while a registered model version names it)',
    auth: 'admin',
    params: datasetPathSchema,
    responses: { 200: datasetDeleteResponseSchema },
    errors: [409],
  }),
} as const;
