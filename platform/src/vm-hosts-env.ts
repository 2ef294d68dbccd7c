/**
 * FN_VMM_HOSTS=processes|in-process: where a worker keeps its VMs when the caller did not say. The
 * ptrace stand-in keeps them in the worker's process by default; `processes` puts them in VMM host
 * processes as on KVM, so their logs and spans can be followed on a machine without /dev/kvm.
 */
export function vmHostsFromEnv(env: NodeJS.ProcessEnv = process.env): 'processes' | 'in-process' | undefined {
  const value = env.FN_VMM_HOSTS;
  return value === 'processes' || value === 'in-process' ? value : undefined;
}
