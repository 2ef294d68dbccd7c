// guest_address.h — a guest physical address as its own type, so it is never mixed up with a host
// pointer (host memory is always uint8_t*). Identity mapping makes guest virtual == guest physical.
#ifndef FN_VMM_GUEST_ADDRESS_H
#define FN_VMM_GUEST_ADDRESS_H

#include <cstdint>

namespace fnvmm {

class GuestAddress {
 public:
  constexpr GuestAddress() : v_(0) {}
  constexpr explicit GuestAddress(uint64_t v) : v_(v) {}
  constexpr uint64_t raw() const { return v_; }

  // this + off; false (and *out untouched) if it overflows 64 bits.
  bool checked_add(uint64_t off, GuestAddress* out) const {
    uint64_t r;
    if (__builtin_add_overflow(v_, off, &r)) return false;
    *out = GuestAddress(r);
    return true;
  }
  // For constants known not to overflow.
  constexpr GuestAddress plus(uint64_t off) const { return GuestAddress(v_ + off); }

  friend constexpr bool operator==(GuestAddress a, GuestAddress b) { return a.v_ == b.v_; }
  friend constexpr bool operator!=(GuestAddress a, GuestAddress b) { return a.v_ != b.v_; }
  friend constexpr bool operator<(GuestAddress a, GuestAddress b) { return a.v_ < b.v_; }
  friend constexpr bool operator<=(GuestAddress a, GuestAddress b) { return a.v_ <= b.v_; }
  friend constexpr bool operator>(GuestAddress a, GuestAddress b) { return a.v_ > b.v_; }
  friend constexpr bool operator>=(GuestAddress a, GuestAddress b) { return a.v_ >= b.v_; }

 private:
  uint64_t v_;
};

}  // namespace fnvmm

#endif
