/**
 * @module identity/device-labels
 * Device groups and tags as every boundary accepts them (enrollment tokens, device labels,
 * rollout targets): one rule, so what can be set can also be selected.
 */
import { z } from 'zod';
import { isValidId } from '@edgeloop/protocol';

const TAG_KEY = /^[A-Za-z0-9_.-]{1,64}$/;

export const tagKeySchema = z.string().regex(TAG_KEY, 'tag keys are 1-64 characters from A-Z a-z 0-9 _ . -');

export const tagsSchema = z
  .record(tagKeySchema, z.string().min(1).max(128))
  .refine((t) => Object.keys(t).length <= 32, 'at most 32 tags');

export const groupSchema = z.string().refine(isValidId, 'a group is 1-64 characters from A-Z a-z 0-9 _ . - starting with a letter or digit');
