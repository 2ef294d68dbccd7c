export { bundleFunction, BundleError, type Bundle } from './bundle.js';
export { readFunctionDir, FunctionConfigSchema, FunctionConfigError, type FunctionConfig, type FunctionDir } from './function-config.js';
