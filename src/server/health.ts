import type { KubegatePlugin } from './http.ts';

export interface HealthCheck {
  name: string;
  /** Returns undefined when healthy, else a reason (never shown to clients: "reason withheld"). */
  check(): string | undefined;
}

/**
 * `/healthz`, `/livez`, `/readyz` as the apiserver serves them (docs/kubernetes-wire.md, "Health"): `ok`,
 * `?verbose`, `?exclude=`, `/<endpoint>/<check>`, and 500 with the verbose listing on failure.
 */
export const healthRoutes: KubegatePlugin<{ livez: HealthCheck[]; readyz: HealthCheck[] }> = (app, checks) => {
  const endpoints: Record<string, HealthCheck[]> = {
    healthz: checks.readyz,
    livez: checks.livez,
    readyz: checks.readyz,
  };
  for (const [endpoint, list] of Object.entries(endpoints)) {
    const all = [{ name: 'ping', check: () => undefined }, ...list];
    const handler = (only: string | undefined, query: Record<string, unknown>) => {
      const exclude = new Set([query.exclude ?? []].flat().map(String));
      const selected = only ? all.filter((c) => c.name === only) : all.filter((c) => !exclude.has(c.name));
      if (only && selected.length === 0) return { code: 404, body: `404 page not found\n` };
      const results = selected.map((c) => ({ name: c.name, failure: c.check() }));
      const failed = results.some((r) => r.failure !== undefined);
      const lines = results.map((r) =>
        r.failure === undefined ? `[+]${r.name} ok` : `[-]${r.name} failed: reason withheld`,
      );
      const verbose = query.verbose !== undefined || failed;
      if (!verbose) return { code: 200, body: 'ok' };
      const summary = only ? '' : `${endpoint} check ${failed ? 'failed' : 'passed'}\n`;
      return { code: failed ? 500 : 200, body: `${lines.join('\n')}\n${summary}` };
    };
    app.get(`/${endpoint}`, (req, reply) => {
      const r = handler(undefined, req.query as Record<string, unknown>);
      return reply
        .code(r.code)
        .type('text/plain; charset=utf-8')
        .header('x-content-type-options', 'nosniff')
        .send(r.body);
    });
    app.get<{ Params: { check: string } }>(`/${endpoint}/:check`, (req, reply) => {
      const r = handler(req.params.check, req.query as Record<string, unknown>);
      return reply.code(r.code).type('text/plain; charset=utf-8').send(r.body);
    });
  }
  return Promise.resolve();
};
