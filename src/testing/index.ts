/**
 * kubegate's test kit for adapters: run an adapter once the way kubegate would, check its config with
 * kubegate's formats, and start a real gateway with it for kubectl or an informer.
 *
 * @example
 * import { listOnce, startTestGateway } from 'kubegate/testing';
 * import adapter from '../src/index.ts';
 *
 * const { objects, skipped } = await listOnce({ adapter, config: { baseUrl: fake.url } });
 * await using gw = await startTestGateway({ adapters: [{ adapter, config: { baseUrl: fake.url } }] });
 */
export { listOnce, listPageOnce, getOnce, type AdapterUnderTest, type PageQuery, type RunResult } from './run.ts';
export { fixtureFetch, type Fixture } from './fixtures.ts';
export { validateConfig, validateConfigFile, ConfigError } from './config.ts';
export { startTestGateway, type TestGateway, type TestGatewayOptions, type TestAdapterEntry } from './gateway.ts';
export type { KubeObject } from '../k8s/types.ts';
