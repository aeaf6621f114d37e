/**
 * The adapter SDK: the only module adapters import from kubegate.
 *
 * @example
 * import { defineAdapter, defineResource, Type } from 'kubegate/sdk';
 * export default defineAdapter({
 *   name: 'weather', group: 'weather.example.com', version: 'v1alpha1',
 *   config: Type.Object({ baseUrl: Type.String() }),
 *   resources: [defineResource({ kind: 'Forecast', plural: 'forecasts', scope: 'Cluster', mode: 'mirror',
 *     schema: {}, async list(ctx) { return [] } })],
 * });
 */
export { Type } from '@sinclair/typebox';
export { Value, validate, registerFormats, formats, type SchemaError } from './formats.ts';
export { isLabelKey, isLabelValue, labelsFromTags, toLabelKey, toLabelValue } from './labels.ts';
export type { Tags, UnmappedTag } from './labels.ts';
export type { Static, TSchema, TObject } from '@sinclair/typebox';
export { AdapterConfigError, defineAdapter, defineResource } from './define.ts';
export type * from './types.ts';
export { UpstreamError } from '../resilience/fetch.ts';
export { AdapterError } from '../resilience/reason.ts';
export { Secret } from './secret.ts';
export { RequestRejected, type RejectionReason } from './rejected.ts';
