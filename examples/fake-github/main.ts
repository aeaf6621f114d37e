/**
 * Runs the fake GitHub API standalone.
 *
 * @example
 * PORT=4020 CHANGE_EVERY=2000 node examples/fake-github/main.ts
 * curl -i -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:4020/orgs/kubegate/repos?per_page=5"
 */
import { startFakeGitHub } from './server.ts';

const num = (v: string | undefined): number | undefined => (v ? Number(v) : undefined);
const repos = num(process.env.REPOS);
const changeEvery = num(process.env.CHANGE_EVERY);
const fake = await startFakeGitHub({
  port: num(process.env.PORT) ?? 4020,
  ...(process.env.GITHUB_TOKEN ? { token: process.env.GITHUB_TOKEN } : {}),
  ...(repos !== undefined ? { repos } : {}),
  ...(changeEvery !== undefined ? { changeEvery } : {}),
});

// The token is printed on purpose: it is the fake's own token, needed to call it.
console.log(`fake GitHub API on ${fake.url} (organisation ${fake.org}, token ${fake.token})`);
console.log(`  curl -i -H "Authorization: Bearer ${fake.token}" "${fake.url}/orgs/${fake.org}/repos?per_page=5"`);

for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.once(signal, () => {
    void fake.close().then(() => process.exit(0));
  });
