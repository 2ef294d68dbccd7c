export { startPlatform, type PlatformOptions, type RunningPlatform } from './start-platform.js';
export { PlatformStartError } from './errors.js';
export { checkBuild, checkDataDir, buildFilesFor } from './preflight.js';
export { startRole, ROLES, type Role, type RoleOptions, type RunningRole } from './start-role.js';
export { natsConnectionOptions, type NatsSecurity } from './nats-options.js';
export { NoBuilderError } from './remote-builds.js';
