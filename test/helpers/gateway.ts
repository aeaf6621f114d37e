import { resolve } from 'node:path';
import { startTestGateway as start, type TestGateway, type TestGatewayOptions } from '../../src/testing/gateway.ts';

export type { TestGateway };

const ROOT = resolve(import.meta.dirname, '../..');

/** The test kit's gateway with module paths relative to the repository root. */
export function startTestGateway(o: TestGatewayOptions): Promise<TestGateway> {
  return start({ baseDir: ROOT, ...o });
}
