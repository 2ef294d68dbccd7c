// microvm_persist.cc — a MicroVm to and from snapshot files: restore (every file checked before
// KVM is touched, then a VM built over the snapshot's memory and vCPU state) and snapshot (the
// state written to files, and the VM rebased onto them) (Firecracker's persist).
#include "microvm.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "host_clock.h"
#include "kvm.h"
#include "memory_image.h"
#include "memory_snapshot.h"
#include "snapshot_files.h"
#include "vm.h"
#include "window.h"
#include "microvm_parts.h"

namespace fnvmm {

using namespace microvm_parts;

std::unique_ptr<MicroVm> MicroVm::restore(const RestoreOptions& o) {
  validate_memory_bytes(o.memory_bytes);
  if (o.dir.empty()) throw ConfigError("restore: dir must be a non-empty path");
  const uint64_t mem = o.memory_bytes;
  const bool layered = !o.base_memory_path.empty();
  RestoreStats st;
  const Clock::time_point t0 = Clock::now();

  // 1. Every file, checked before anything else happens.
  const std::string cpu_path = join_path(o.dir, kCpuFileName);
  const std::string pages_path = join_path(o.dir, kPagesFileName);
  const std::string memory_path = join_path(o.dir, kMemoryFileName);
  std::vector<uint8_t> cpu_bytes = read_small_file(cpu_path, kMaxCpuFileBytes, "the CPU state file");
  CpuFileInfo info;
  CpuState cpu = decode_cpu_file(cpu_bytes.data(), cpu_bytes.size(), mem, cpu_path, &info);
  std::vector<uint8_t> pages_bytes =
      read_small_file(pages_path, kPagesHeaderBytes + 4 + (mem / kPageSize) * 8, "the page list");
  PagesFile pf = decode_pages_file(pages_bytes.data(), pages_bytes.size(), mem, pages_path);
  if (pf.id != info.id)
    throw SnapshotError("SnapshotError", "mismatch", o.dir,
                        format("%s and %s belong to different snapshots (ids %s and %s): a copy mixed the files of two "
                               "snapshots; take or fetch the snapshot again",
                               cpu_path.c_str(), pages_path.c_str(), info.id.hex().c_str(), pf.id.hex().c_str()));
  if (!pf.layered && layered)
    throw layout_error(o.dir, o.dir + " holds a full snapshot, not a diff: restore it without baseMemoryPath");
  if (pf.layered && !layered)
    throw layout_error(o.dir, o.dir + " holds only the pages that differ from a base snapshot: pass that base's "
                                      "memory.img as baseMemoryPath");
  if (pf.layered && !pf.base_id.is_zero()) {
    SnapshotId actual;
    if (sibling_snapshot_id(o.base_memory_path, &actual) && actual != pf.base_id)
      throw SnapshotError("SnapshotError", "base", o.base_memory_path,
                          format("%s was taken over a different base than %s (the pages.bin beside it names snapshot "
                                 "%s, the diff expects %s): a diff restored over the wrong base would be garbage",
                                 o.dir.c_str(), o.base_memory_path.c_str(), actual.hex().c_str(),
                                 pf.base_id.hex().c_str()));
  }
  std::shared_ptr<const MemoryImage> image = layered ? MemoryImage::open(mem, o.base_memory_path, memory_path, pf.runs)
                                                     : MemoryImage::open(mem, memory_path, "", {});
  MmapRegion ram = image->map_private();

  const int signo = kick_signal();
  Kvm kvm = Kvm::open();
  std::vector<kvm_cpuid_entry2> cpuid = kvm.supported_cpuid();
  const std::string missing = missing_cpu_features(cpu.features, cpuid);
  if (!missing.empty())
    throw SnapshotError("SnapshotError", "cpu_features", cpu_path,
                        cpu_path + " was taken on a CPU with features this host's KVM does not offer (" + missing +
                            "): the guest may rely on them. Restore it on a host with the same CPU, or take the "
                            "snapshot again here");
  st.files_us = us_since(t0);

  std::unique_ptr<MicroVm> m(new MicroVm());
  m->memory_bytes_ = mem;
  m->memory_.add_region(GuestAddress(0), std::move(ram));
  m->memory_.add_region(GuestAddress(FN_WINDOW_ADDR), FN_WINDOW_SIZE);

  // 2. KVM. Dirty logging from the start: reset needs to know every page written from now on.
  Clock::time_point t = Clock::now();
  m->vm_.reset(new Vm(kvm.create_vm()));
  st.create_vm_us = us_since(t);
  t = Clock::now();
  {
    const GuestRegion& r = m->memory_.region(kRamRegion);
    const GuestRegion& w = m->memory_.region(kWindowRegion);
    m->vm_->set_user_memory_region(kRamSlot, r.base, r.size(), r.mapping.host(), KVM_MEM_LOG_DIRTY_PAGES);
    m->vm_->set_user_memory_region(kWindowSlot, w.base, w.size(), w.mapping.host());
    m->dirty_logging_ = true;
  }
  st.memory_us = us_since(t);
  t = Clock::now();
  m->create_vcpu(std::move(cpuid));
  st.vcpu_us = us_since(t);
  t = Clock::now();
  // The snapshot was taken with the doorbell's I/O completed, so nothing is pending: the first
  // KVM_RUN continues right after the `out`.
  ApplyReport applied = apply_cpu_state(*m->vcpu_, m->fpu_, cpu);
  st.state_us = us_since(t);

  m->finish_setup(signo);
  m->image_ = std::move(image);
  m->snap_cpu_.reset(new CpuState(std::move(cpu)));
  m->boot_submitted_ = true;  // the next exchange hands in a command, as after any DONE
  m->at_doorbell_ = true;
  m->has_snapshot_ = true;
  m->restored_ = true;
  st.total_us = us_since(t0);
  st.data_pages = pf.data_pages;
  st.diff_pages = run_pages(pf.runs);
  st.msrs_refused = applied.msrs_refused;
  m->restore_stats_ = st;
  return m;
}

MicroVm::JobSubmit MicroVm::snapshot(const SnapshotRequest& req, std::function<void(SnapshotOutcome&&)> done) {
  if (req.dir.empty()) throw BadRequest("snapshot: dir must be a non-empty path");
  JobSubmit why;
  if (not_idle(worker_.get(), &why)) return why;
  if (!at_doorbell_) return JobSubmit::NotAtDoorbell;
  return to_job_submit(worker_->submit_job([this, req, done](const std::function<bool()>& stop_requested) {
    SnapshotOutcome out;
    bool usable = true;
    if (stop_requested())
      out.error = closed_error();
    else
      out = do_snapshot(req, stop_requested, &usable);
    return job_done<SnapshotOutcome>(usable, std::move(out), done);
  }));
}

SnapshotOutcome MicroVm::do_snapshot(const SnapshotRequest& req, const std::function<bool()>& stop_requested,
                                     bool* usable) {
  SnapshotOutcome out;
  const Clock::time_point t0 = Clock::now();
  const uint64_t mem = memory_bytes_;
  uint8_t* const r = ram();

  // 1. The vCPU, at the doorbell with its I/O completed (the same point a restore resumes from).
  CpuState cpu;
  try {
    complete_pending_io(0);
    cpu = capture_cpu_state(*vcpu_, fpu_, tsc_khz_, cpuid_);
    if (dirty_logging_) divergent_ |= fetch_dirty_log();
  } catch (const KvmError& e) {
    *usable = false;
    out.error = kvm_vm_error(e);
    return out;
  }

  // 2. The files. Any failure here leaves the VM as it was (usable) and no file behind. The work
  //    is bounded by guest RAM (milliseconds to seconds for GiBs of data), so close() is honoured
  //    between the steps instead of waiting for all of it.
  const SnapshotError closing("SnapshotError", "closed", req.dir, "the microVM was closed while the snapshot was taken");
  SnapshotResult res;
  std::shared_ptr<const MemoryImage> next;
  try {
    std::shared_ptr<const MemoryImage> base;
    SnapshotId base_id;
    const std::string out_memory = join_path(req.dir, kMemoryFileName);
    if (!req.base_memory_path.empty()) {
      struct stat a, b;
      if (::stat(out_memory.c_str(), &a) == 0 && ::stat(req.base_memory_path.c_str(), &b) == 0 &&
          a.st_dev == b.st_dev && a.st_ino == b.st_ino)
        throw layout_error(req.base_memory_path, "baseMemoryPath " + req.base_memory_path +
                                                     " is the memory.img this snapshot would replace: write the diff "
                                                     "into another directory");
      // The base must be a full snapshot: a diff's memory.img has holes where its base has data.
      const std::string base_pages = sibling_path(req.base_memory_path, kPagesFileName);
      struct stat ps;
      if (::stat(base_pages.c_str(), &ps) == 0) {
        std::vector<uint8_t> bytes = read_small_file(base_pages, kPagesHeaderBytes + 4 + (mem / kPageSize) * 8, "the base's page list");
        PagesFile bp = decode_pages_file(bytes.data(), bytes.size(), mem, base_pages);
        if (bp.layered)
          throw layout_error(req.base_memory_path, req.base_memory_path +
                                                       " is a diff, not a full snapshot: a diff can only be taken "
                                                       "over a full snapshot's memory.img");
        base_id = bp.id;
      }
      base = MemoryImage::open(mem, req.base_memory_path, "", {});
    }

    // Candidates: RAM is the snapshot it runs from plus the pages written since (the dirty log);
    // a fresh VM's RAM is anonymous: every page it ever touched. With a base, also every page the
    // base has data in (it may have to be listed as changed to zeros).
    PageBitmap candidates = image_ ? image_->data() : touched_pages(r, mem);
    if (image_) candidates |= divergent_;
    if (base) candidates |= base->data();
    SnapshotPages sel = select_snapshot_pages(r, mem, candidates, base ? base->view() : nullptr);
    if (stop_requested()) throw closing;

    ensure_directory(req.dir);
    StagedFile memf(req.dir, kMemoryFileName);
    uint64_t bytes = write_memory_image(memf, r, mem, sel.write);
    memf.sync();
    PagesFile pf;
    pf.layered = base != nullptr;
    pf.mem_size = mem;
    pf.id = SnapshotId::random();
    pf.base_id = base_id;
    pf.data_pages = sel.data_pages;
    pf.runs = sel.diff;
    const std::vector<uint8_t> pages_bytes = encode_pages_file(pf);
    StagedFile pagesf(req.dir, kPagesFileName);
    pagesf.write_at(pages_bytes.data(), pages_bytes.size(), 0);
    pagesf.sync();
    const std::vector<uint8_t> cpu_bytes = encode_cpu_file(cpu, CpuFileInfo{pf.id, mem});
    StagedFile cpuf(req.dir, kCpuFileName);
    cpuf.write_at(cpu_bytes.data(), cpu_bytes.size(), 0);
    cpuf.sync();
    if (stop_requested()) throw closing;
    // cpu.bin last: once it is in place the ids of all three files agree (a reader that finds
    // them disagreeing refuses the directory).
    memf.publish();
    pagesf.publish();
    cpuf.publish();
    sync_directory(req.dir);
    res.write_ms = us_since(t0) / 1000.0;

    next = base ? MemoryImage::open(mem, req.base_memory_path, memf.final_path(), pf.runs)
                : MemoryImage::open(mem, memf.final_path(), "", {});
    res.pages = sel.data_pages;
    res.layered = base != nullptr;
    res.diff_pages = run_pages(sel.diff);
    res.runs = sel.diff.size();
    res.bytes = bytes + pages_bytes.size() + cpu_bytes.size();
  } catch (const SnapshotError& e) {
    out.error = e.reason() == "closed" ? closed_error() : snapshot_vm_error(e);
    return out;
  } catch (const std::exception& e) {
    out.error = snapshot_vm_error(SnapshotError("SnapshotError", "io", req.dir, std::string("snapshot failed: ") + e.what()));
    return out;
  }

  // 3. From now on the VM runs from the files it just wrote, like a VM restored from them: its RAM
  //    is remapped from them MAP_PRIVATE (KVM follows through its MMU notifier; the next run
  //    faults pages back in), with dirty logging on, and reset returns to them.
  const Clock::time_point t1 = Clock::now();
  try {
    next->map_private_at(r);
    if (!dirty_logging_) {
      vm_->set_user_memory_region(kRamSlot, GuestAddress(0), mem, r, KVM_MEM_LOG_DIRTY_PAGES);
      dirty_logging_ = true;
    }
    fetch_dirty_log();  // nothing the guest did before now matters any more
    divergent_.clear();
    image_ = next;
    snap_cpu_.reset(new CpuState(std::move(cpu)));
    has_snapshot_ = true;
    scrub_window(window_host(), FN_WINDOW_SIZE, window_extent_);
    window_->init();
    window_extent_ = 0;
  } catch (const std::exception& e) {
    *usable = false;
    out.error = lost_error(std::string("the snapshot was written to ") + req.dir +
                           ", but this VM could not be switched over to it (" + e.what() +
                           "): this VM is lost; restore a new one from the snapshot");
    return out;
  }
  res.rebase_ms = us_since(t1) / 1000.0;
  res.ms = us_since(t0) / 1000.0;
  {
    std::lock_guard<std::mutex> lk(stats_mu_);
    ++snapshots_;
  }
  out.ok = true;
  out.result = res;
  return out;
}

}  // namespace fnvmm
