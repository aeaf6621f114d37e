/** An error answer of the fake payments API: the HTTP status and the `error` object of its JSON body. */
export class ApiError extends Error {
  readonly status: number;
  readonly body: { type: string; message: string; code?: string; param?: string };
  constructor(status: number, body: ApiError['body']) {
    super(body.message);
    this.status = status;
    this.body = body;
  }
}

/** 400 invalid_request_error, as the payments API answers a bad parameter. */
export const invalid = (message: string, param?: string, code?: string) =>
  new ApiError(400, { type: 'invalid_request_error', message, ...(code ? { code } : {}), ...(param ? { param } : {}) });

/** Thrown by a route that processed the request but whose answer is to be lost (the connection is dropped). */
export class DropAnswer extends Error {
  override name = 'DropAnswer';
}
