/*
 * snapshot_format.c — pages.bin and the cpu.bin envelope as bytes (snapshot_format.h). C so that
 * the ptrace VMM (C) and the KVM core (C++) compile the same file.
 */
#include "snapshot_format.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "fn_vmm_control.h"

#define AGAIN "take the snapshot again"

typedef unsigned long long ull;

static const char kPagesMagic[8] = {'F', 'N', 'P', 'A', 'G', 'E', 'S', '\0'};
static const char kCpuMagic[8] = {'F', 'N', 'C', 'P', 'U', 'S', 'T', '\0'};

static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }
static uint32_t get32(const uint8_t *p)
{
  uint32_t v;
  memcpy(&v, p, 4);
  return v;
}
static uint64_t get64(const uint8_t *p)
{
  uint64_t v;
  memcpy(&v, p, 8);
  return v;
}

static int refuse(struct fn_snapshot_refusal *why, const char *name, const char *reason, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int refuse(struct fn_snapshot_refusal *why, const char *name, const char *reason, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(why->message, sizeof why->message, fmt, ap);
  va_end(ap);
  why->name = name;
  why->reason = reason;
  return -1;
}

uint32_t fn_crc32(uint32_t crc, const void *data, size_t len)
{
  /* Built on first use; two threads racing here write the same values. */
  static uint32_t table[256];
  static int ready;
  if (!__atomic_load_n(&ready, __ATOMIC_ACQUIRE)) {
    for (uint32_t i = 0; i < 256; i++) {
      uint32_t c = i;
      for (int k = 0; k < 8; k++)
        c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      __atomic_store_n(&table[i], c, __ATOMIC_RELAXED);
    }
    __atomic_store_n(&ready, 1, __ATOMIC_RELEASE);
  }
  const uint8_t *p = (const uint8_t *)data;
  crc = ~crc;
  while (len--)
    crc = __atomic_load_n(&table[(crc ^ *p++) & 0xFF], __ATOMIC_RELAXED) ^ (crc >> 8);
  return ~crc;
}

/* ---- pages.bin ------------------------------------------------------------------------------ */

size_t fn_pages_file_size(size_t run_count) { return FN_PAGES_HEADER_BYTES + run_count * 8 + 4; }

void fn_pages_encode(const struct fn_pages_info *info, const struct fn_page_run *runs, size_t n, uint8_t *out)
{
  const size_t len = fn_pages_file_size(n);
  uint64_t diff = 0;
  memset(out, 0, len);
  memcpy(out, kPagesMagic, 8);
  put32(out + 8, FN_PAGES_VERSION);
  put32(out + 12, info->layered ? FN_PAGES_FLAG_LAYERED : 0);
  put64(out + 16, info->mem_size);
  put32(out + 24, FN_SNAPSHOT_PAGE_SIZE);
  put32(out + 28, (uint32_t)n);
  memcpy(out + 32, info->id, FN_SNAPSHOT_ID_BYTES);
  memcpy(out + 48, info->base_id, FN_SNAPSHOT_ID_BYTES);
  put64(out + 64, info->data_pages);
  for (size_t i = 0; i < n; i++) {
    put32(out + FN_PAGES_HEADER_BYTES + i * 8, (uint32_t)runs[i].first);
    put32(out + FN_PAGES_HEADER_BYTES + i * 8 + 4, (uint32_t)runs[i].count);
    diff += runs[i].count;
  }
  put64(out + 72, diff);
  put32(out + len - 4, fn_crc32(0, out, len - 4));
}

struct fn_page_run fn_pages_run(const uint8_t *data, uint32_t i)
{
  struct fn_page_run r = {get32(data + FN_PAGES_HEADER_BYTES + (size_t)i * 8),
                          get32(data + FN_PAGES_HEADER_BYTES + (size_t)i * 8 + 4)};
  return r;
}

int fn_pages_decode(const uint8_t *d, size_t n, uint64_t mem, struct fn_pages_info *info,
                    struct fn_snapshot_refusal *why)
{
  /* The magic first, on as many bytes as there are: a short file that starts right is truncated. */
  if (n == 0 || memcmp(d, kPagesMagic, n < 8 ? n : 8) != 0)
    return refuse(why, "SnapshotMagicError", "magic", "is not a pages.bin file (it does not start with \"FNPAGES\")");
  if (n < FN_PAGES_HEADER_BYTES + 4)
    return refuse(why, "SnapshotTruncatedError", "truncated",
                  "is cut short: %zu bytes, less than the %u-byte header; " AGAIN, n, FN_PAGES_HEADER_BYTES + 4);
  const uint64_t runs = get32(d + 28);
  const uint64_t want = FN_PAGES_HEADER_BYTES + runs * 8 + 4;
  if (n != want)
    return refuse(why, n < want ? "SnapshotTruncatedError" : "SnapshotCorruptError", n < want ? "truncated" : "corrupt",
                  "is %zu bytes, but its %llu runs make %llu: truncated or damaged; " AGAIN, n, (ull)runs, (ull)want);
  const uint32_t stored = get32(d + n - 4), actual = fn_crc32(0, d, n - 4);
  if (stored != actual)
    return refuse(why, "SnapshotCorruptError", "corrupt",
                  "fails its CRC check (stored 0x%08x, computed 0x%08x): the file is damaged; " AGAIN, stored, actual);
  if (get32(d + 8) != FN_PAGES_VERSION)
    return refuse(why, "SnapshotVersionError", "version",
                  "has format version %u; this VMM reads version %u: " AGAIN " with this build", get32(d + 8),
                  FN_PAGES_VERSION);
  const uint32_t flags = get32(d + 12);
  if (flags & ~FN_PAGES_FLAG_LAYERED)
    return refuse(why, "SnapshotVersionError", "version",
                  "has flags 0x%x this VMM does not know (it knows 0x%x): " AGAIN " with this build", flags,
                  FN_PAGES_FLAG_LAYERED);
  if (get64(d + 16) != mem) {
    why->found_mem_size = get64(d + 16);
    return refuse(why, "SnapshotError", "memory_size", "describes %llu bytes of guest RAM, not %llu",
                  (ull)get64(d + 16), (ull)mem);
  }
  if (get32(d + 24) != FN_SNAPSHOT_PAGE_SIZE)
    return refuse(why, "SnapshotCorruptError", "corrupt", "has page size %u, not 4096", get32(d + 24));

  struct fn_pages_info f;
  memset(&f, 0, sizeof f);
  f.layered = (flags & FN_PAGES_FLAG_LAYERED) != 0;
  f.mem_size = mem;
  memcpy(f.id, d + 32, FN_SNAPSHOT_ID_BYTES);
  memcpy(f.base_id, d + 48, FN_SNAPSHOT_ID_BYTES);
  f.data_pages = get64(d + 64);
  f.diff_pages = get64(d + 72);
  f.run_count = (uint32_t)runs;
  const uint64_t pages = mem / FN_SNAPSHOT_PAGE_SIZE;
  if (f.data_pages > pages)
    return refuse(why, "SnapshotCorruptError", "corrupt", "claims %llu data pages in %llu pages of RAM",
                  (ull)f.data_pages, (ull)pages);
  if (!f.layered && runs != 0)
    return refuse(why, "SnapshotCorruptError", "corrupt",
                  "lists page runs but is not layered (a full snapshot has none)");
  uint64_t next = 0, sum = 0;
  for (uint64_t i = 0; i < runs; i++) {
    const struct fn_page_run r = fn_pages_run(d, (uint32_t)i);
    if (r.count == 0 || r.first < next || r.first + r.count > pages)
      return refuse(why, "SnapshotCorruptError", "corrupt",
                    "has run %llu (page %llu, %llu pages) empty, out of order, overlapping or past the end of RAM "
                    "(%llu pages)",
                    (ull)i, (ull)r.first, (ull)r.count, (ull)pages);
    next = r.first + r.count;
    sum += r.count;
  }
  if (sum != f.diff_pages)
    return refuse(why, "SnapshotCorruptError", "corrupt", "says %llu diff pages but its runs hold %llu",
                  (ull)f.diff_pages, (ull)sum);
  *info = f;
  return 0;
}

int fn_pages_peek_id(const uint8_t *d, size_t n, uint8_t id[FN_SNAPSHOT_ID_BYTES])
{
  if (n < FN_PAGES_HEADER_BYTES + 4 || memcmp(d, kPagesMagic, 8) != 0 || fn_crc32(0, d, n - 4) != get32(d + n - 4))
    return -1;
  memcpy(id, d + 32, FN_SNAPSHOT_ID_BYTES);
  return 0;
}

/* ---- cpu.bin -------------------------------------------------------------------------------- */

size_t fn_cpu_file_size(size_t payload_len) { return FN_CPU_HEADER_BYTES + payload_len + 4; }

void fn_cpu_encode(const struct fn_cpu_header *h, const uint8_t *payload, size_t payload_len, uint8_t *out)
{
  const size_t len = fn_cpu_file_size(payload_len);
  memset(out, 0, FN_CPU_HEADER_BYTES);
  memcpy(out, kCpuMagic, 8);
  put32(out + 8, FN_CPU_FORMAT_VERSION);
  put32(out + 12, (uint32_t)len);
  memcpy(out + 16, h->platform, 8);
  memcpy(out + 24, h->id, FN_SNAPSHOT_ID_BYTES);
  put64(out + 40, h->mem_size);
  put32(out + 48, h->abi_version);
  put32(out + 52, 0);
  if (payload_len)
    memcpy(out + FN_CPU_HEADER_BYTES, payload, payload_len);
  put32(out + len - 4, fn_crc32(0, out, len - 4));
}

int fn_cpu_decode(const uint8_t *d, size_t n, const char *platform, uint64_t mem, uint32_t abi,
                  struct fn_cpu_header *h, const uint8_t **payload, size_t *payload_len,
                  struct fn_snapshot_refusal *why)
{
  if (n == 0 || memcmp(d, kCpuMagic, n < 8 ? n : 8) != 0)
    return refuse(why, "SnapshotMagicError", "magic", "is not a CPU state file (it does not start with \"FNCPUST\")");
  if (n < FN_CPU_HEADER_BYTES + 4)
    return refuse(why, "SnapshotTruncatedError", "truncated",
                  "is cut short: %zu bytes, less than the %u-byte header; " AGAIN, n, FN_CPU_HEADER_BYTES + 4);
  const uint32_t len = get32(d + 12);
  if (len != n)
    return refuse(why, n < len ? "SnapshotTruncatedError" : "SnapshotCorruptError", n < len ? "truncated" : "corrupt",
                  "is %zu bytes but its header says %u: truncated or damaged; " AGAIN, n, len);
  const uint32_t stored = get32(d + n - 4), actual = fn_crc32(0, d, n - 4);
  if (stored != actual)
    return refuse(why, "SnapshotCorruptError", "corrupt",
                  "fails its CRC check (stored 0x%08x, computed 0x%08x): the file is damaged; " AGAIN, stored, actual);
  if (get32(d + 8) != FN_CPU_FORMAT_VERSION)
    return refuse(why, "SnapshotVersionError", "version",
                  "has CPU state format version %u; this VMM reads version %u: " AGAIN " with this build",
                  get32(d + 8), FN_CPU_FORMAT_VERSION);
  char want[8] = {0};
  const size_t plen = strlen(platform);
  memcpy(want, platform, plen < sizeof want ? plen : sizeof want);
  if (memcmp(d + 16, want, 8) != 0) {
    char found[9] = {0};
    memcpy(found, d + 16, 8);
    for (int i = 0; i < 8; i++)
      if (found[i] != 0 && (found[i] < 0x20 || found[i] > 0x7e))
        found[i] = '?';
    return refuse(why, "SnapshotError", "platform",
                  "was written by the \"%s\" VMM platform, not %.8s: CPU state is private to the platform that took "
                  "the snapshot; " AGAIN " on %.8s",
                  found, want, want);
  }
  if (get64(d + 40) != mem) {
    why->found_mem_size = get64(d + 40);
    return refuse(why, "SnapshotError", "memory_size", "is for a guest with %llu bytes of RAM, not %llu",
                  (ull)get64(d + 40), (ull)mem);
  }
  if (get32(d + 48) != abi)
    return refuse(why, "SnapshotError", "abi",
                  "holds a guest of ABI version %u; this host speaks version %u: " AGAIN " with this build",
                  get32(d + 48), abi);
  memcpy(h->platform, d + 16, 8);
  memcpy(h->id, d + 24, FN_SNAPSHOT_ID_BYTES);
  h->mem_size = mem;
  h->abi_version = abi;
  *payload = d + FN_CPU_HEADER_BYTES;
  *payload_len = n - FN_CPU_HEADER_BYTES - 4;
  return 0;
}
