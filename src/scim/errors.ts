/** SCIM error responses (RFC 7644 §3.12): every failure on /scim/v2 is answered in this shape. */
import type { FastifyError } from 'fastify';
import mongoose from 'mongoose';
import { AppError } from '../errors';

const SCIM_ERROR_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:Error';

export type ScimType = 'invalidFilter' | 'tooMany' | 'uniqueness' | 'mutability' | 'invalidSyntax' | 'invalidPath' | 'noTarget' | 'invalidValue' | 'invalidVers' | 'sensitive';

export class ScimError extends Error {
  constructor(
    readonly status: number,
    readonly detail: string,
    readonly scimType?: ScimType,
  ) {
    super(detail);
    this.name = 'ScimError';
    Object.setPrototypeOf(this, new.target.prototype);
  }
}

export interface ScimErrorBody {
  schemas: [typeof SCIM_ERROR_SCHEMA];
  status: string;
  scimType?: ScimType;
  detail: string;
}

export function scimErrorBody(status: number, detail: string, scimType?: ScimType): ScimErrorBody {
  return scimType ? { schemas: [SCIM_ERROR_SCHEMA], status: String(status), scimType, detail } : { schemas: [SCIM_ERROR_SCHEMA], status: String(status), detail };
}

const FASTIFY_BODY_ERRORS: Record<string, { status: number; detail: string; scimType?: ScimType }> = {
  FST_ERR_CTP_INVALID_JSON_BODY: { status: 400, detail: 'The request body is not valid JSON.', scimType: 'invalidSyntax' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { status: 400, detail: 'The request body is empty.', scimType: 'invalidSyntax' },
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413, detail: 'The request body is larger than this server accepts.' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { status: 415, detail: 'Send application/scim+json (or application/json).' },
};

/**
 * A value the user store refuses (a mongoose validation or cast error) is the client's input:
 * a 400 naming the attributes, never a 500 (and never mongoose's own wording).
 */
function storeRefusal(err: unknown): ScimError | undefined {
  if (err instanceof mongoose.Error.ValidationError) {
    const paths = Object.keys(err.errors).slice(0, 10).join(', ');
    return new ScimError(400, `The user cannot be stored with these values (${paths || 'unknown attribute'}).`, 'invalidValue');
  }
  if (err instanceof mongoose.Error.CastError || err instanceof mongoose.Error.ValidatorError) {
    return new ScimError(400, `The value of ${err.path} is not valid.`, 'invalidValue');
  }
  return undefined;
}

/** Maps any error to a SCIM status and body; 5xx details stay in the log. */
export function toScimError(err: unknown): { status: number; body: ScimErrorBody; internal: boolean } {
  err = storeRefusal(err) ?? err;
  if (err instanceof ScimError) return { status: err.status, body: scimErrorBody(err.status, err.detail, err.scimType), internal: false };
  if (err instanceof AppError) {
    const status = err.status === 422 ? 400 : err.status;
    const scimType: ScimType | undefined =
      err.status === 409 && (err.code === 'email_taken' || err.code === 'uniqueness') ? 'uniqueness' : status === 400 ? (err.code === 'invalid_filter' ? 'invalidFilter' : 'invalidValue') : undefined;
    if (status >= 500) return { status, body: scimErrorBody(status, err.message), internal: false };
    return { status, body: scimErrorBody(status, err.message, scimType), internal: false };
  }
  const fastifyErr = err as FastifyError;
  const mapped = fastifyErr?.code ? FASTIFY_BODY_ERRORS[fastifyErr.code] : undefined;
  if (mapped) return { status: mapped.status, body: scimErrorBody(mapped.status, mapped.detail, mapped.scimType), internal: false };
  if (fastifyErr?.statusCode && fastifyErr.statusCode >= 400 && fastifyErr.statusCode < 500) {
    return { status: fastifyErr.statusCode, body: scimErrorBody(fastifyErr.statusCode, fastifyErr.message), internal: false };
  }
  return { status: 500, body: scimErrorBody(500, 'Something went wrong on our side; the error has been logged.'), internal: true };
}
