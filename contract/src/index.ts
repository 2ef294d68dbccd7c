export { LIMITS, headerBytes } from './limits.js';
export {
  FAILURE_KINDS,
  isFailureKind,
  failureKind,
  InvocationError,
  FunctionError,
  InvocationTimeoutError,
  OutOfMemoryError,
  CrashedError,
  BadResponseError,
  OverloadedError,
  UnavailableError,
  TooLargeError,
  type FailureKind,
  type OverloadScope,
} from './errors.js';
export { reviveInvocationError, errorFields } from './revive.js';
export { checkRequestLimits, checkResponseLimits } from './limit-checks.js';
export type {
  HeaderPairs,
  FunctionRequest,
  VmRequest,
  InvocationLimits,
  InvocationRequest,
  FunctionResponse,
  LogLevel,
  LogLine,
  ThrownError,
  HopTimings,
  VmResult,
  InvocationResult,
} from './invocation.js';
export {
  HeaderPairsSchema,
  EnvSchema,
  InvocationIdSchema,
  FunctionRequestSchema,
  VmRequestSchema,
  InvocationLimitsSchema,
  InvocationRequestSchema,
  FunctionResponseSchema,
  LogLineSchema,
  ThrownErrorSchema,
  HopTimingsSchema,
  VmResultSchema,
  InvocationResultSchema,
  FailureKindSchema,
} from './schemas.js';
