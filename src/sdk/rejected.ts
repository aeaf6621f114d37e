import { KubegateError } from '../errors.ts';
import type { FieldError } from './types.ts';

/** Status reasons a write function may answer with, and their HTTP codes (as the Kubernetes apiserver uses them). */
export const REJECTION_CODES = {
  BadRequest: 400,
  Forbidden: 403,
  NotFound: 404,
  MethodNotAllowed: 405,
  AlreadyExists: 409,
  Conflict: 409,
  Invalid: 422,
} as const;

export type RejectionReason = keyof typeof REJECTION_CODES;

/**
 * Thrown by a write function to refuse a write with a Kubernetes answer: `AlreadyExists` or `Conflict` (409),
 * `Invalid` (422, with field `causes`), `BadRequest`, `Forbidden`, `NotFound`, `MethodNotAllowed`. The message
 * is shown to the client as it is (mask nothing in it: never put upstream text or secrets there). For
 * `Invalid`, kubegate writes the message itself from the causes, as the apiserver does.
 *
 * @example
 * throw new RequestRejected('Conflict', 'only a pending refund can be canceled; this one has succeeded');
 * throw new RequestRejected('Invalid', '', [{ field: 'spec.amount', type: 'Invalid', value: 9000,
 *   detail: 'must not exceed the charge amount (5000)' }]);
 */
export class RequestRejected extends KubegateError {
  override name = 'RequestRejected';
  override readonly code: string = 'KUBEGATE_REQUEST_REJECTED';
  readonly reason: RejectionReason;
  readonly causes: FieldError[];
  constructor(reason: RejectionReason, message: string, causes: FieldError[] = []) {
    super(message);
    this.reason = reason;
    this.causes = causes;
  }
}
