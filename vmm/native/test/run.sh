#!/usr/bin/env bash
# Native tests for vmm/, none of which needs /dev/kvm:
#   1. C++ unit tests (ASan + UBSan): ELF loader, page tables, GDT/TSS/I/O bitmap, registers, window
#      validation, the exit loop, the vCPU thread, the watchdog and its races.
#   2. If the addon is built (npx node-gyp rebuild): the N-API surface (addon_smoke.cjs), which also
#      runs real guests when /dev/kvm is usable (kvm_scenarios.cjs), and the whole addon against a
#      fake /dev/kvm loaded with LD_PRELOAD (fake_kvm_smoke.cjs). FN_SKIP_KVM_SCENARIOS=1 leaves the
#      real-KVM scenarios out (vitest runs them in vmm/src/kvm-scenarios.test.ts).
# Exits non-zero on any failure. Extra arguments filter the C++ unit tests by name.
set -euo pipefail
cd "$(dirname "$0")/../.."   # vmm/
BUILD="$PWD/build/native-test"
make -s -C native/test BUILD="$BUILD" -j"$(nproc 2>/dev/null || echo 2)"
export FN_PROBE_GUEST_ELF="$BUILD/probe_guest.elf"
"$BUILD/unit_tests" "$@"
if [ -f build/Release/fn_vmm.node ]; then
  node native/test/addon_smoke.cjs
  LD_PRELOAD="$BUILD/fake_kvm.so" node --expose-gc native/test/fake_kvm_smoke.cjs
else
  echo "addon tests skipped: build/Release/fn_vmm.node is not built (run: npx node-gyp rebuild)"
fi
