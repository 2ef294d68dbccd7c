#include "memory_snapshot.h"

#include <sys/mman.h>

#include <cstring>

#include "errors.h"

namespace fnvmm {

SnapshotPages select_snapshot_pages(const uint8_t* ram, uint64_t mem_size, const PageBitmap& candidates,
                                    const uint8_t* base) {
  SnapshotPages out;
  out.write = PageBitmap(mem_size / kPageSize);
  candidates.for_each([&](uint64_t p) {
    if (p >= out.write.pages()) return;
    const uint8_t* page = ram + p * kPageSize;
    const bool zero = is_zero_page(page);
    out.data_pages += !zero;
    if (base == nullptr) {
      if (!zero) out.write.set(p);
      return;
    }
    if (std::memcmp(page, base + p * kPageSize, kPageSize) == 0) return;
    if (!out.diff.empty() && out.diff.back().first + out.diff.back().count == p)
      ++out.diff.back().count;
    else
      out.diff.push_back({p, 1});
    if (!zero) out.write.set(p);
  });
  return out;
}

uint64_t write_memory_image(StagedFile& file, const uint8_t* ram, uint64_t mem_size, const PageBitmap& write) {
  file.truncate(mem_size);
  uint64_t bytes = 0;
  for (const PageRun& r : write.runs()) {
    file.write_at(ram + r.first * kPageSize, r.count * kPageSize, r.first * kPageSize);
    bytes += r.count * kPageSize;
  }
  return bytes;
}

namespace {
// Drops [first, first + count) pages of a MAP_PRIVATE mapping; zeroes them if madvise refuses.
void drop_run(uint8_t* base, uint64_t first, uint64_t count) {
  uint8_t* p = base + first * kPageSize;
  if (::madvise(p, count * kPageSize, MADV_DONTNEED) != 0) std::memset(p, 0, count * kPageSize);
}
}  // namespace

ResetPagesResult reset_pages(uint8_t* ram, const MemoryImage& image, const PageBitmap& dirty, uint64_t drop_threshold) {
  ResetPagesResult r;
  const uint8_t* view = image.view();
  // First-touched pages: zeroed in place unless there are many (see the header).
  PageBitmap fresh(image.pages());
  uint64_t fresh_count = 0;
  dirty.for_each([&](uint64_t p) {
    if (p >= image.pages()) return;
    ++r.dirty;
    uint8_t* page = ram + p * kPageSize;
    if (image.data().test(p)) {
      const uint8_t* want = view + p * kPageSize;
      if (std::memcmp(page, want, kPageSize) != 0) {
        std::memcpy(page, want, kPageSize);
        ++r.copied;
      }
      return;
    }
    fresh.set(p);
    ++fresh_count;
  });
  if (fresh_count >= drop_threshold) {
    for (const PageRun& run : fresh.runs()) drop_run(ram, run.first, run.count);
    r.dropped = fresh_count;
  } else {
    fresh.for_each([&](uint64_t p) {
      uint8_t* page = ram + p * kPageSize;
      if (!is_zero_page(page)) {
        std::memset(page, 0, kPageSize);
        ++r.zeroed;
      }
    });
  }
  return r;
}

uint64_t scrub_window(uint8_t* window, uint64_t size, uint64_t extent) {
  const uint64_t pages = size / kPageSize;
  uint64_t known = (extent + kPageSize - 1) / kPageSize;
  if (known > pages) known = pages;
  uint64_t cleaned = 0;
  for (uint64_t p = 0; p < known; ++p) {
    uint8_t* page = window + p * kPageSize;
    if (!is_zero_page(page)) {
      std::memset(page, 0, kPageSize);
      ++cleaned;
    }
  }
  // Anything else the guest touched: it reported nothing there, so nothing the host needs is in
  // it; drop it rather than read it (the window is anonymous memory: it reads back as zeros).
  PageBitmap touched = touched_pages(window, size);
  uint64_t first = 0, count = 0;
  auto flush = [&] {
    if (count == 0) return;
    uint8_t* p = window + first * kPageSize;
    if (::madvise(p, count * kPageSize, MADV_DONTNEED) != 0) std::memset(p, 0, count * kPageSize);
    cleaned += count;
    count = 0;
  };
  touched.for_each([&](uint64_t p) {
    if (p < known) return;
    if (count != 0 && first + count == p) {
      ++count;
      return;
    }
    flush();
    first = p;
    count = 1;
  });
  flush();
  return cleaned;
}

}  // namespace fnvmm
