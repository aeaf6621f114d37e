import type { Readable } from 'node:stream';
import { parse as parseYaml } from 'yaml';
import { KubeError, badRequest, unsupportedMediaType } from '../k8s/errors.ts';
import type { PatchType } from '../k8s/patch.ts';
import type { KubegateRequest } from './http.ts';

/** Largest write body read, as the kube-apiserver's default (3 MiB). */
export const DEFAULT_MAX_WRITE_BYTES = 3 << 20;

const OBJECT_TYPES = ['application/json', 'application/yaml'];
// Strategic merge patches are merge patches here: the served objects declare no patch strategies.
const PATCH_TYPES: Record<string, PatchType> = {
  'application/merge-patch+json': 'merge',
  'application/strategic-merge-patch+json': 'merge',
  'application/json-patch+json': 'json',
};

function mediaType(req: KubegateRequest): string {
  const ct = req.headers['content-type'];
  return (typeof ct === 'string' ? ct : '').split(';')[0]?.trim().toLowerCase() ?? '';
}

/**
 * Leaves the decoded body of a write (the object of a create or update, the patch, the DeleteOptions) where
 * the audit log's Request level reads it: `req.body`, which held the unread stream until now.
 */
function keep(req: KubegateRequest, decoded: unknown): void {
  req.body = decoded;
}

/** Reads the raw body, refusing more than `max` bytes (413) before reading it when its length says so. */
async function readRaw(req: KubegateRequest, max: number): Promise<Buffer> {
  const tooLarge = () =>
    new KubeError(413, 'RequestEntityTooLarge', `the request body is larger than the limit of ${max} bytes`);
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (declared > max) throw tooLarge();
  const stream = req.body as Readable | undefined;
  if (!stream || typeof (stream as Partial<Readable>)[Symbol.asyncIterator] !== 'function') return Buffer.alloc(0);
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    n += chunk.length;
    if (n > max) {
      stream.destroy();
      throw tooLarge();
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

const clip = (s: string) => (s.length > 200 ? `${s.slice(0, 200)}...` : s);

function parseJson(buf: Buffer, what: string): unknown {
  try {
    return JSON.parse(buf.toString('utf8'));
  } catch (err) {
    throw badRequest(`the ${what} is not valid JSON: ${clip(err instanceof Error ? err.message : String(err))}`);
  }
}

function parseYamlBody(buf: Buffer, what: string): unknown {
  try {
    // Aliases are bounded: a small document must not expand into a huge one.
    return parseYaml(buf.toString('utf8'), { maxAliasCount: 100, uniqueKeys: true });
  } catch (err) {
    throw badRequest(
      `the ${what} is not valid YAML: ${clip(err instanceof Error ? (err.message.split('\n')[0] ?? '') : String(err))}`,
    );
  }
}

/**
 * The object of a create or update: JSON (`application/json`, what kubectl sends) or YAML
 * (`application/yaml`); anything else is 415. An empty or malformed body is a 400 naming the problem. Read only
 * after the request was authorized, at most `max` bytes (413 beyond). The result is left on `req.body`.
 */
export async function readObjectBody(req: KubegateRequest, max = DEFAULT_MAX_WRITE_BYTES): Promise<unknown> {
  const type = mediaType(req) || 'application/json';
  if (!OBJECT_TYPES.includes(type))
    throw unsupportedMediaType(
      `the body of the request was in an unknown format (${clip(type)}) - accepted media types include: ${OBJECT_TYPES.join(', ')}`,
    );
  const buf = await readRaw(req, max);
  if (buf.length === 0) throw badRequest('the request body is empty: send the object as JSON or YAML');
  const obj = type === 'application/yaml' ? parseYamlBody(buf, 'request body') : parseJson(buf, 'request body');
  keep(req, obj);
  return obj;
}

/**
 * The body of a PATCH and how to apply it: a JSON merge patch (`application/merge-patch+json`, and
 * `application/strategic-merge-patch+json` read as one: the served objects declare no patch strategies) or a
 * JSON patch (`application/json-patch+json`). Server-side apply (`application/apply-patch+yaml`) is 415.
 */
export async function readPatchBody(
  req: KubegateRequest,
  max = DEFAULT_MAX_WRITE_BYTES,
): Promise<{ type: PatchType; patch: unknown }> {
  const media = mediaType(req);
  const type = PATCH_TYPES[media];
  if (!type)
    throw unsupportedMediaType(
      media === 'application/apply-patch+yaml'
        ? 'server-side apply is not supported by kubegate: use kubectl apply without --server-side, kubectl patch or kubectl edit'
        : `the body of the request was in an unknown format (${clip(media || 'none')}) - accepted media types include: ${Object.keys(PATCH_TYPES).join(', ')}`,
    );
  const buf = await readRaw(req, max);
  if (buf.length === 0) throw badRequest('the patch is empty');
  const patch = parseJson(buf, 'patch');
  keep(req, patch);
  return { type, patch };
}

/** The DeleteOptions of a DELETE, if it has a body (kubectl sends one); JSON or YAML. */
export async function readDeleteOptions(req: KubegateRequest, max = DEFAULT_MAX_WRITE_BYTES): Promise<unknown> {
  const buf = await readRaw(req, max);
  if (buf.length === 0) return undefined;
  const obj =
    mediaType(req) === 'application/yaml' ? parseYamlBody(buf, 'DeleteOptions') : parseJson(buf, 'DeleteOptions');
  keep(req, obj);
  return obj;
}
