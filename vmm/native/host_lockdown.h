// host_lockdown.h — what a VMM host process (Node, holding KVM VMs through this addon) may still do
// once it is set up: the blast radius of a host that a guest took over (SECURITY.md).
#ifndef FNVMM_HOST_LOCKDOWN_H
#define FNVMM_HOST_LOCKDOWN_H

#include <cstdint>
#include <string>

namespace fnvmm {

struct HostLockdownOptions {
  // RLIMIT_DATA in bytes (private writable memory: the V8 heap and every guest's RAM mapping);
  // 0 leaves it as it is.
  uint64_t data_limit_bytes = 0;
  // The deploy host (worker/src/vmm-host/deploy-host.ts): it writes the snapshots it builds, so
  // files may be opened for writing, created, truncated, renamed and removed; everything else in
  // the deny list stays. Only safe under Landlock with one writable directory (fn-landlock-exec
  // --write), which the caller must check: this filter cannot tell paths apart.
  bool allow_file_writes = false;
};

struct HostLockdownReport {
  bool seccomp = false;
  uint64_t data_limit_bytes = 0;
};

// Holds /dev/kvm open, chdir("/"), sets RLIMIT_DATA and RLIMIT_CORE 0, PR_SET_NO_NEW_PRIVS, then
// installs a seccomp filter on every thread of the process (SECCOMP_FILTER_FLAG_TSYNC). Once only;
// throws KvmError / ConfigError when a step fails (the host must not run half locked).
HostLockdownReport lock_down_host(const HostLockdownOptions& options);

// For tests (the host's test-only probe): tries one thing a taken-over host would, returns the
// errno name it got ("done" if it worked): "execve", "open-read", "open-write", "socket", "fork".
std::string host_lockdown_probe(const std::string& what, const std::string& path);

}  // namespace fnvmm

#endif
