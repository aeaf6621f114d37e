import { badRequest, pathNotFound } from '../k8s/errors.ts';
import type { Metrics } from '../observability/metrics.ts';
import { objectUid } from '../resources/identity.ts';
import type { Gate, NonResourceGate } from './gate.ts';
import type { KubegatePlugin } from './http.ts';

const JSON_TYPE = 'application/json';
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/**
 * What standalone clients read outside `/apis`: `/version`, `/api` (kubegate serves no core group; client-go
 * tolerates its 404) and single namespaces (docs/kubernetes-wire.md, "Core group").
 */
export const coreRoutes: KubegatePlugin<{ gate: Gate; nonResource: NonResourceGate; version: string }> = (app, o) => {
  const { gate, nonResource } = o;
  app.get('/version', async (req, reply) => {
    await nonResource(req);
    return reply.type(JSON_TYPE).send({
      major: '0',
      minor: '1',
      gitVersion: `v${o.version}`,
      gitCommit: '',
      gitTreeState: 'clean',
      buildDate: '',
      goVersion: `node${process.versions.node}`,
      compiler: 'kubegate',
      platform: `${process.platform}/${process.arch}`,
    });
  });

  app.get('/api', async (req) => {
    await nonResource(req);
    throw pathNotFound();
  });

  // kubectl checks that the namespace exists after a NotFound in it (to say "namespaces x not found"
  // instead). Behind the aggregator the kube-apiserver answers that; standalone, kubegate keeps no namespace
  // registry, so every well-formed namespace exists (Active), as for a client reading a cluster's.
  app.get<{ Params: { name: string } }>('/api/v1/namespaces/:name', async (req, reply) => {
    const { name } = req.params;
    await gate(req, { verb: 'get', group: '', version: 'v1', resource: 'namespaces', name });
    if (!DNS_LABEL.test(name)) throw badRequest(`namespace name "${name}" is not a valid DNS label`);
    return reply.type(JSON_TYPE).send({
      kind: 'Namespace',
      apiVersion: 'v1',
      metadata: {
        name,
        uid: objectUid('', 'Namespace', undefined, name),
        resourceVersion: '1',
        creationTimestamp: '1970-01-01T00:00:00Z',
      },
      spec: { finalizers: [] },
      status: { phase: 'Active' },
    });
  });
  return Promise.resolve();
};

/** `/metrics` in the Prometheus text format, for users allowed `get` on that path. */
export const metricsRoutes: KubegatePlugin<{ nonResource: NonResourceGate; metrics: Metrics }> = (app, o) => {
  const { registry } = o.metrics;
  app.get('/metrics', async (req, reply) => {
    await o.nonResource(req);
    return reply.type(registry.contentType).send(await registry.metrics());
  });
  return Promise.resolve();
};
