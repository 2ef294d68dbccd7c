// page_bitmap.h — one bit per 4 KiB guest page, and runs of consecutive pages.
//
// The word layout is KVM's dirty bitmap on x86-64 (page p is bit p % 64 of 64-bit word p / 64), so
// KVM_GET_DIRTY_LOG writes straight into words(). A leaf: no KVM, no I/O.
#ifndef FN_VMM_PAGE_BITMAP_H
#define FN_VMM_PAGE_BITMAP_H

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <vector>

namespace fnvmm {

constexpr uint64_t kPageSize = 4096;
constexpr unsigned kPageShift = 12;

struct PageRun {
  uint64_t first;  // page number (guest-physical address / 4096)
  uint64_t count;  // > 0
  friend bool operator==(const PageRun& a, const PageRun& b) { return a.first == b.first && a.count == b.count; }
};

class PageBitmap {
 public:
  PageBitmap() = default;
  explicit PageBitmap(uint64_t pages) : pages_(pages), words_((pages + 63) / 64, 0) {}

  uint64_t pages() const { return pages_; }
  bool test(uint64_t p) const { return p < pages_ && ((words_[p >> 6] >> (p & 63)) & 1); }
  void set(uint64_t p) {
    if (p < pages_) words_[p >> 6] |= uint64_t{1} << (p & 63);
  }
  // Pages past the end are ignored (callers validate ranges; this never writes out of bounds).
  void set_range(uint64_t first, uint64_t count) {
    for (uint64_t p = first; p < first + count && p < pages_; ++p) set(p);
  }
  void set_runs(const std::vector<PageRun>& runs) {
    for (const PageRun& r : runs) set_range(r.first, r.count);
  }
  void set_all() {
    for (uint64_t p = 0; p < pages_; ++p) set(p);
  }
  void clear() {
    for (uint64_t& w : words_) w = 0;
  }
  PageBitmap& operator|=(const PageBitmap& o) {
    if (o.pages_ != pages_) throw std::invalid_argument("PageBitmap |= with a different page count");
    for (size_t i = 0; i < words_.size(); ++i) words_[i] |= o.words_[i];
    return *this;
  }
  // Clears every bit set in `o` (same page count).
  PageBitmap& subtract(const PageBitmap& o) {
    if (o.pages_ != pages_) throw std::invalid_argument("PageBitmap subtract with a different page count");
    for (size_t i = 0; i < words_.size(); ++i) words_[i] &= ~o.words_[i];
    return *this;
  }
  // Keeps only the bits also set in `o` (same page count).
  PageBitmap& intersect(const PageBitmap& o) {
    if (o.pages_ != pages_) throw std::invalid_argument("PageBitmap intersect with a different page count");
    for (size_t i = 0; i < words_.size(); ++i) words_[i] &= o.words_[i];
    return *this;
  }
  uint64_t count() const {
    uint64_t n = 0;
    for (uint64_t w : words_) n += static_cast<uint64_t>(__builtin_popcountll(w));
    return n;
  }
  bool any() const {
    for (uint64_t w : words_) if (w) return true;
    return false;
  }
  friend bool operator==(const PageBitmap& a, const PageBitmap& b) { return a.pages_ == b.pages_ && a.words_ == b.words_; }

  // For KVM_GET_DIRTY_LOG: KVM writes (pages + 63) / 64 words. Bits past pages() must stay 0.
  uint64_t* words() { return words_.data(); }
  size_t word_count() const { return words_.size(); }
  // Clears any bit past pages() (a defensive step after KVM wrote the words).
  void trim() {
    if (pages_ % 64 != 0 && !words_.empty()) words_.back() &= (uint64_t{1} << (pages_ % 64)) - 1;
  }

  // Calls f(page) for every set bit, ascending.
  template <typename F>
  void for_each(F f) const {
    for (size_t i = 0; i < words_.size(); ++i) {
      uint64_t w = words_[i];
      while (w) {
        unsigned b = static_cast<unsigned>(__builtin_ctzll(w));
        f(static_cast<uint64_t>(i) * 64 + b);
        w &= w - 1;
      }
    }
  }
  // The maximal runs of set bits, ascending.
  std::vector<PageRun> runs() const {
    std::vector<PageRun> out;
    for_each([&](uint64_t p) {
      if (!out.empty() && out.back().first + out.back().count == p)
        ++out.back().count;
      else
        out.push_back({p, 1});
    });
    return out;
  }

 private:
  uint64_t pages_ = 0;
  std::vector<uint64_t> words_;
};

inline uint64_t run_pages(const std::vector<PageRun>& runs) {
  uint64_t n = 0;
  for (const PageRun& r : runs) n += r.count;
  return n;
}

// True if the 4 KiB page at p is all zeros.
inline bool is_zero_page(const uint8_t* p) {
  const uint64_t* w = reinterpret_cast<const uint64_t*>(p);
  for (size_t i = 0; i < kPageSize / 8; i += 8) {
    if (w[i] | w[i + 1] | w[i + 2] | w[i + 3] | w[i + 4] | w[i + 5] | w[i + 6] | w[i + 7]) return false;
  }
  return true;
}

}  // namespace fnvmm

#endif
