/**
 * An OCI bundle for the container peers, built from host directories read-only (no image to pull):
 * an empty rootfs with mount points, /usr and /etc bound read-only (node and its libraries; /bin,
 * /lib and /lib64 are symlinks into /usr on Debian), the handler's directory at /app, and its own
 * pid, ipc, uts, mount and network namespaces. The process runs `node /app/handler.js ...args`.
 */
import { copyFileSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export function writeBundle(dir: string, handlerFile: string, args: string[]): string {
  const rootfs = join(dir, 'rootfs');
  const appDir = join(dir, 'app');
  mkdirSync(appDir, { recursive: true });
  copyFileSync(handlerFile, join(appDir, 'handler.js'));
  writeFileSync(join(appDir, 'package.json'), '{"type":"module"}\n');
  for (const d of ['usr', 'etc', 'proc', 'dev', 'tmp', 'app']) mkdirSync(join(rootfs, d), { recursive: true });
  for (const [link, target] of [
    ['bin', 'usr/bin'],
    ['lib', 'usr/lib'],
    ['lib64', 'usr/lib64'],
    ['sbin', 'usr/sbin'],
  ] as const)
    symlinkSync(target, join(rootfs, link));
  const bind = (destination: string, source: string) => ({ destination, type: 'bind', source, options: ['rbind', 'ro', 'nosuid', 'nodev'] });
  const config = {
    ociVersion: '1.0.2',
    process: {
      terminal: false,
      user: { uid: 0, gid: 0 },
      args: ['/usr/bin/node', '/app/handler.js', ...args],
      env: ['PATH=/usr/bin:/bin', 'HOME=/tmp'],
      cwd: '/',
      noNewPrivileges: true,
    },
    root: { path: 'rootfs', readonly: true },
    hostname: 'peer',
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'mode=755'] },
      { destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev'] },
      bind('/usr', '/usr'),
      bind('/etc', '/etc'),
      bind('/app', appDir),
    ],
    linux: { namespaces: [{ type: 'pid' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }, { type: 'network' }] },
  };
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config, null, 2));
  return dir;
}
