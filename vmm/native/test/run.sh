#!/usr/bin/env bash
# Native tests for vmm/: builds and runs the C++ unit tests (no /dev/kvm needed), then, if the addon
# has been built (npx node-gyp rebuild), its smoke test, which also runs the KVM scenarios when
# /dev/kvm is usable. Exits non-zero on any failure. Extra arguments filter unit tests by name.
set -euo pipefail
cd "$(dirname "$0")/../.."   # vmm/
BUILD="$PWD/build/native-test"
make -s -C native/test BUILD="$BUILD" -j"$(nproc 2>/dev/null || echo 2)"
FN_PROBE_GUEST_ELF="$BUILD/probe_guest.elf" "$BUILD/unit_tests" "$@"
if [ -f build/Release/fn_vmm.node ]; then
  FN_PROBE_GUEST_ELF="$BUILD/probe_guest.elf" node native/test/addon_smoke.cjs
else
  echo "addon smoke test skipped: build/Release/fn_vmm.node is not built (run: npx node-gyp rebuild)"
fi
