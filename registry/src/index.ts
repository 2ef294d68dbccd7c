export { Registry, type RegistryOptions } from './registry.js';
export { LogAppender } from './log-appender.js';
export { RegistryError, NotFoundError, ConflictError, ForbiddenError, ValidationError, RegistryVersionError } from './errors.js';
export { SecretUnreadableError } from './secret-box.js';
export { ADMIN, isAdmin, type Caller } from './caller.js';
export type { Tenant } from './tenants.js';
export type { KeyInfo, NewKey, Authenticated, StoredKey } from './keys.js';
export type { FunctionSummary, FunctionDescription } from './functions.js';
export type { VersionRecord, AliasRecord } from './function-rows.js';
export type { EnvChange } from './env.js';
export type { LogRecord, LogPage, RetentionPolicy, RetentionReport } from './logs.js';
export { MAX_LOG_BYTES_PER_INVOCATION } from './logs.js';
export { MIGRATIONS, type Migration } from './migrations.js';
export { DB_FILE } from './db.js';
export { SECRETS_KEY_FILE } from './secret-box.js';
export type {
  FunctionConfig,
  FunctionConfigInput,
  CreateVersionInput,
  AppendLogInput,
  LogQueryInput,
  LogLine,
  InvocationStatus,
  EnvVars,
  VersionSelectorInput,
} from './schemas.js';
export type { RegistryApi } from './registry-api.js';
export { SharedRegistry, SharedRegistryError, type SharedRegistryOptions } from './shared/shared-registry.js';
export { ChangeLogUnavailableError } from './shared/change-log.js';
