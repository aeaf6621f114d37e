import type { KubegateApp } from './http.ts';
import type { Http2ServerRequest } from 'node:http2';
import { endStreamAfterAnswer } from './edge.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * The route takes request bodies: the handler gets the body unread, as a stream (`req.body`), and bounds
     * it itself (size, time). Routes without it never read one.
     */
    acceptsBody?: boolean;
  }
}

/**
 * Request bodies are opt-in per route (`config: { acceptsBody: true }`), whatever their content type; nothing
 * is read before the handler has authorized the request. Other routes never read a body. Once answered, an
 * HTTP/2 stream still receiving a body is reset (NO_ERROR), so an unread body holds nothing; on HTTP/1.1 Node
 * discards the rest within `server.timeouts.request`.
 */
export function registerBodyPolicy(app: KubegateApp): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (req, payload, done) => {
    // Whatever the handler read of it, the exchange ends with the answer.
    const stream = (req.raw as unknown as Partial<Http2ServerRequest>).stream;
    if (stream) endStreamAfterAnswer(stream);
    done(null, req.routeOptions.config.acceptsBody ? payload : undefined);
  });
}
