import { fileURLToPath } from 'node:url';
import { dirname } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listOnce } from 'kubegate/testing';
import adapter from './index.ts';
import { startFakeGitHub, type FakeGitHub } from '../../examples/fake-github/server.ts';

// The demo's YAML-only Repository resource against the fake GitHub API.
const EXAMPLES = dirname(fileURLToPath(new URL('../../examples/fake-github/repositories.yaml', import.meta.url)));
let gh: FakeGitHub;

beforeAll(async () => {
  gh = await startFakeGitHub({ repos: 75 });
});
afterAll(() => gh.close());

const config = () => ({
  baseUrl: gh.url,
  vars: { org: gh.org },
  auth: { kind: 'bearer', token: gh.token },
  resourcesFile: `${EXAMPLES}/repositories.yaml`,
});

describe('repositories from YAML', () => {
  it('follows Link pagination across pages and maps every repository', async () => {
    const before = gh.calls.list;
    const { objects, skipped } = await listOnce({ adapter, config: config() });
    expect(skipped).toEqual([]);
    expect(objects).toHaveLength(75);
    // 75 repositories at per_page=20: four pages.
    expect(gh.calls.list - before).toBe(4);
    const first = gh.repos()[0];
    const o = objects.find((x) => x.metadata.name === first?.name);
    expect(o?.status).toMatchObject({ stars: first?.stargazers_count, archived: first?.archived });
    expect(o?.metadata.labels).toMatchObject({ visibility: first?.visibility });
    for (const t of first?.topics ?? []) expect(o?.metadata.labels?.[`topic.github.com/${t}`]).toBe('true');
    expect(o?.metadata.creationTimestamp).toBe(first?.created_at);
  });

  it('a wrong token fails the poll with 401, naming auth', async () => {
    await expect(
      listOnce({ adapter, config: { ...config(), auth: { kind: 'bearer', token: 'not-the-token' } } }),
    ).rejects.toThrow(/refused the credentials \(401\)/);
  });

  it('a used-up rate limit fails the poll with its reset time', async () => {
    gh.setRemaining(0);
    try {
      await expect(listOnce({ adapter, config: config() })).rejects.toThrow(
        /rate limit is used up \(403\); it resets at/,
      );
    } finally {
      gh.reset();
    }
  });
});
