import { Type, defineAdapter, defineResource, type Static } from '../../src/sdk/index.ts';

const Config = Type.Object({ baseUrl: Type.String(), apiKey: Type.String() });
type Config = Static<typeof Config>;

interface Document {
  id: string;
  size: number;
}

/**
 * A pass-through `documents` resource over the recorder upstream (recorder.ts): `GET /v1/documents`,
 * `GET /v1/documents/<id>`, and a proxy subresource that allows sub-paths (`/contents`, anything under
 * `/versions/`), GET and PUT, and the `limit` query parameter — the shape path escapes are tried against.
 */
export default defineAdapter({
  name: 'documents',
  group: 'docs.kubegate.dev',
  version: 'v1',
  config: Config,
  resources: [
    defineResource<Config>({
      kind: 'Document',
      plural: 'documents',
      scope: 'Cluster',
      mode: 'passthrough',
      cacheTtl: '1h',
      schema: { status: Type.Object({ size: Type.Integer() }) },
      async listPage(ctx) {
        const res = await ctx.fetch(`${ctx.config.baseUrl}/v1/documents`, {
          headers: { authorization: `Bearer ${ctx.config.apiKey}` },
          signal: ctx.signal,
        });
        const docs = (await res.json()) as Document[];
        return { items: docs.map((d) => ({ name: d.id, status: { size: d.size } })) };
      },
      async get(ctx, { name }) {
        const res = await ctx.fetch(`${ctx.config.baseUrl}/v1/documents/${encodeURIComponent(name)}`, {
          headers: { authorization: `Bearer ${ctx.config.apiKey}` },
          signal: ctx.signal,
        });
        if (res.status === 404) return undefined;
        const d = (await res.json()) as Document;
        return { name: d.id, status: { size: d.size } };
      },
      proxy: {
        baseUrl: (config) => config.baseUrl,
        target: (object) => `/v1/documents/${encodeURIComponent(object.metadata.name)}`,
        headers: (config) => ({ authorization: `Bearer ${config.apiKey}` }),
        allow: { methods: ['GET', 'PUT'], paths: ['', '/contents', '/versions/'] },
        query: ['limit'],
      },
    }),
  ],
});
