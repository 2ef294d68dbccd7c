{
  "targets": [
    {
      "target_name": "fn_vmm",
      "sources": [
        "native/addon.cc",
        "native/boot_info.cc",
        "native/cpu_state.cc",
        "native/elf_loader.cc",
        "native/errors.cc",
        "native/guest_memory.cc",
        "native/host_clock.cc",
        "native/host_lockdown.cc",
        "native/kvm.cc",
        "native/long_mode.cc",
        "native/memory_image.cc",
        "native/memory_snapshot.cc",
        "native/microvm.cc",
        "native/microvm_builder.cc",
        "native/microvm_persist.cc",
        "native/microvm_vstate.cc",
        "native/snapshot_files.cc",
        "native/snapshot_format.c",
        "native/vcpu.cc",
        "native/vcpu_runner.cc",
        "native/vm.cc",
        "native/vm_worker.cc",
        "native/watchdog.cc",
        "native/window.cc"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "../guest/include"
      ],
      "defines": [
        "NAPI_VERSION=8",
        "NAPI_CPP_EXCEPTIONS",
        "NODE_ADDON_API_DISABLE_DEPRECATED"
      ],
      "cflags!": ["-fno-exceptions", "-O3"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti", "-std=gnu++17", "-O3"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter", "-fvisibility=hidden"],
      "cflags_cc": ["-std=c++17", "-fexceptions", "-O2", "-Wall", "-Wextra", "-Wno-unused-parameter", "-fvisibility=hidden"],
      "conditions": [
        ["OS!='linux' or target_arch!='x64'", {
          "sources!": ["native/addon.cc"],
          "type": "none"
        }]
      ]
    }
  ]
}
