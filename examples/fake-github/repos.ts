/** A repository as GitHub's REST API returns it in `GET /orgs/{org}/repos` (the fields kubegate's demo maps). */
export interface Repo {
  id: number;
  node_id: string;
  name: string;
  full_name: string;
  owner: { login: string; id: number; type: 'Organization' };
  private: boolean;
  visibility: 'public' | 'private' | 'internal';
  description: string | null;
  fork: boolean;
  html_url: string;
  url: string;
  homepage: string | null;
  language: string | null;
  stargazers_count: number;
  watchers_count: number;
  forks_count: number;
  open_issues_count: number;
  topics: string[];
  archived: boolean;
  disabled: boolean;
  default_branch: string;
  license: { key: string; name: string; spdx_id: string } | null;
  created_at: string;
  updated_at: string;
  pushed_at: string;
}

const LANGUAGES = ['TypeScript', 'Go', 'Python', 'Rust', 'Shell', null] as const;
const TOPICS = ['kubernetes', 'api', 'cli', 'operator', 'demo', 'docs', 'helm', 'observability'];
const WORDS = ['gate', 'mirror', 'feed', 'probe', 'relay', 'atlas', 'ledger', 'beacon', 'harbor', 'signal'];
const LICENSES = [
  { key: 'apache-2.0', name: 'Apache License 2.0', spdx_id: 'Apache-2.0' },
  { key: 'mit', name: 'MIT License', spdx_id: 'MIT' },
  null,
];

/** A small deterministic generator (mulberry32), so a seed always gives the same organisation. */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** Makes repositories for `org`: names, languages, topics and dates from `rnd`, ids from `nextId`. */
export function createRepoFactory(org: string, baseUrl: () => string, rnd: () => number) {
  let nextId = 100_000;
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
  const used = new Set<string>();
  return (over: Partial<Repo> = {}, now = Date.now()): Repo => {
    const id = nextId++;
    let name = over.name ?? `${pick(WORDS)}-${pick(WORDS)}`;
    if (over.name === undefined) {
      for (let n = 2; used.has(name); n++) name = `${name.replace(/-\d+$/, '')}-${n}`;
    }
    used.add(name);
    const created = now - Math.floor(rnd() * 3 * 365 * 86_400_000);
    const pushed = created + Math.floor(rnd() * (now - created));
    const priv = rnd() < 0.2;
    const topics = TOPICS.filter(() => rnd() < 0.25);
    const stars = Math.floor(rnd() ** 3 * 5000);
    return {
      id,
      node_id: `R_kgDO${id.toString(36).toUpperCase()}`,
      name,
      full_name: `${org}/${name}`,
      owner: { login: org, id: 4242, type: 'Organization' },
      private: priv,
      visibility: priv ? 'private' : 'public',
      description: rnd() < 0.8 ? `The ${name.replace('-', ' ')} service` : null,
      fork: rnd() < 0.1,
      html_url: `https://github.example/${org}/${name}`,
      url: `${baseUrl()}/repos/${org}/${name}`,
      homepage: null,
      language: pick(LANGUAGES),
      stargazers_count: stars,
      watchers_count: stars,
      forks_count: Math.floor(rnd() * 200),
      open_issues_count: Math.floor(rnd() * 40),
      topics,
      archived: rnd() < 0.1,
      disabled: false,
      default_branch: rnd() < 0.8 ? 'main' : 'master',
      license: pick(LICENSES),
      created_at: iso(created),
      updated_at: iso(pushed),
      pushed_at: iso(pushed),
      ...over,
    };
  };
}
