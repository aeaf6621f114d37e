import { negotiateDiscovery, type DiscoveryDocuments } from '../k8s/discovery.ts';
import { notAcceptable, pathNotFound } from '../k8s/errors.ts';
import type { OpenApiDocuments } from '../k8s/openapi.ts';
import type { NonResourceGate } from './gate.ts';
import type { KubegatePlugin, KubegateReply, KubegateRequest } from './http.ts';

const JSON_TYPE = 'application/json';

/** Sends a prebuilt document with its ETag; 304 when the client has it. */
function sendDocument(
  req: KubegateRequest,
  reply: KubegateReply,
  doc: { body: Buffer; etag: string; contentType: string },
): KubegateReply {
  reply.header('etag', doc.etag).header('vary', 'Accept').header('cache-control', 'public');
  if (req.headers['if-none-match'] === doc.etag) return reply.code(304).send();
  return reply.type(doc.contentType).send(doc.body);
}

/** `/apis` (legacy and aggregated discovery) and `/apis/<group>` (docs/kubernetes-wire.md, "Discovery"). */
export const discoveryRoutes: KubegatePlugin<{ gate: NonResourceGate; docs: DiscoveryDocuments }> = (app, o) => {
  const { gate, docs } = o;
  app.get('/apis', async (req, reply) => {
    await gate(req);
    const kind = negotiateDiscovery(req.headers.accept);
    if (!kind)
      throw notAcceptable(
        'only application/json and aggregated discovery (apidiscovery.k8s.io v2, v2beta1) are served',
      );
    return sendDocument(req, reply, kind === 'legacy' ? docs.groupList : kind === 'v2' ? docs.v2 : docs.v2beta1);
  });
  app.get<{ Params: { group: string } }>('/apis/:group', async (req, reply) => {
    await gate(req);
    const doc = docs.groups.get(req.params.group);
    if (!doc) throw pathNotFound();
    return sendDocument(req, reply, doc);
  });
  return Promise.resolve();
};

/** `/openapi/v2` and `/openapi/v3[/<group-version>]` (docs/kubernetes-wire.md, "OpenAPI"). */
export const openapiRoutes: KubegatePlugin<{ gate: NonResourceGate; docs: OpenApiDocuments }> = (app, o) => {
  const { gate, docs } = o;
  app.get('/openapi/v2', async (req, reply) => {
    await gate(req);
    return sendDocument(req, reply, { ...docs.v2, contentType: JSON_TYPE });
  });
  app.get('/openapi/v3', async (req, reply) => {
    await gate(req);
    return sendDocument(req, reply, { ...docs.v3Root, contentType: JSON_TYPE });
  });
  app.get<{ Params: { '*': string }; Querystring: { hash?: string } }>('/openapi/v3/*', async (req, reply) => {
    await gate(req);
    const doc = docs.v3.get(req.params['*'].replace(/\/$/, ''));
    if (!doc) throw pathNotFound();
    const hash = req.query.hash;
    const current = doc.etag.slice(1, -1).toUpperCase();
    // A matching ?hash= is immutable, as on the apiserver. A stale one is answered with the current document
    // rather than the apiserver's 301: the aggregator turns redirects from an extension server into 502s.
    if (hash !== undefined && hash.toUpperCase() === current) reply.header('cache-control', 'public, immutable');
    reply.header('etag', doc.etag);
    if (req.headers['if-none-match'] === doc.etag) return reply.code(304).send();
    return reply.type(JSON_TYPE).send(doc.body);
  });
  return Promise.resolve();
};
