import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { OpenApiError, planFromOpenApi } from './openapi.ts';

const inventory = readFileSync(join(import.meta.dirname, '../../../examples/openapi/inventory.yaml'), 'utf8');

const doc = (paths: object, schemas: object = {}) =>
  JSON.stringify({ openapi: '3.0.3', paths, components: { schemas } });
const list = (schema: object) => ({ get: { responses: { '200': { content: { 'application/json': { schema } } } } } });

describe('planFromOpenApi', () => {
  it('plans a resource over the first list operation of the sample document', () => {
    const p = planFromOpenApi(inventory);
    expect(p).toMatchObject({ path: '/v1/parts', itemsProperty: 'data', idField: 'id', kind: 'Part', plural: 'parts' });
    expect(p.fields.map((f) => [f.from, f.to, f.typebox])).toEqual([
      ['name', 'name', 'Type.String()'],
      ['quantity', 'quantity', 'Type.Integer()'],
      ['unit_price', 'unitPrice', 'Type.Number()'],
      ['discontinued', 'discontinued', 'Type.Boolean()'],
      ['location', 'location', 'Type.Union([Type.String(), Type.Null()])'],
      ['category', 'category', 'Type.Optional(Type.String())'],
      ['tags', 'tags', 'Type.Optional(Type.Array(Type.String()))'],
      ['updated_at', 'updatedAt', "Type.String({ format: 'date-time' })"],
    ]);
    // The broken item of the generated test: a null where the schema wants a string.
    expect(p.brokenItem).toBe("{ ...sample(99), id: 'broken', name: null } as unknown as Item");
    expect(p.sampleBody).toBe('{ ...{ has_more: false }, data: items }');
  });

  it('takes a top-level array, inline item schemas, and plural names ending in -ies', () => {
    const p = planFromOpenApi(
      doc({
        '/things/{id}': list({ type: 'object' }),
        '/categories': list({
          type: 'array',
          items: {
            type: 'object',
            required: ['slug'],
            properties: { slug: { type: 'string' }, n: { type: 'integer' } },
          },
        }),
      }),
    );
    expect(p).toMatchObject({ path: '/categories', itemsProperty: undefined, idField: 'slug', kind: 'Category' });
    expect(p.sampleBody).toBe('items');
    expect(p.sampleItem).toBe('{ slug: `category-${i}` }');
  });

  it('names what is missing', () => {
    expect(() => planFromOpenApi('just: text')).toThrow(OpenApiError);
    expect(() => planFromOpenApi(doc({ '/x': list({ type: 'string' }) }))).toThrow(/no GET without path parameters/);
    expect(() =>
      planFromOpenApi(
        doc({ '/x': list({ type: 'array', items: { type: 'object', properties: { n: { type: 'integer' } } } }) }),
      ),
    ).toThrow(/GET \/x: the items have no required id/);
  });
});
