/**
 * One error class per way the registry refuses a request. The gateway maps these to HTTP status
 * codes (NotFound 404, Conflict 409, Forbidden 403, Validation 400); nothing else in the registry
 * knows about HTTP. Every message says what to do next, and none ever contains a secret's value.
 */

export class RegistryError extends Error {
  override name = 'RegistryError';
}

/** The tenant, key, function, version, alias or log asked for does not exist for this caller. */
export class NotFoundError extends RegistryError {
  override name = 'NotFoundError';
}

/** The request is well-formed but clashes with what is stored (duplicate name, last admin key…). */
export class ConflictError extends RegistryError {
  override name = 'ConflictError';
}

/**
 * The caller may not do this: a tenant key used for an admin-only method, or a tenant reaching
 * for an object (a key, another tenant) that belongs to someone else.
 */
export class ForbiddenError extends RegistryError {
  override name = 'ForbiddenError';
}

/** An input failed validation; `issues` lists each bad field as "path: problem". */
export class ValidationError extends RegistryError {
  override name = 'ValidationError';
  constructor(
    message: string,
    readonly issues: string[] = [],
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** fn.db was written by a newer build (a schema version this build has no migration for). */
export class RegistryVersionError extends RegistryError {
  override name = 'RegistryVersionError';
  constructor(
    message: string,
    readonly found: number,
    readonly supported: number,
  ) {
    super(message);
  }
}
