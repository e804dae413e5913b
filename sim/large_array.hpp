#pragma once
// Storage for the per-user arrays of the event loops (issue 29). At 10^7 users and more,
// nearly every event's state lies in DRAM at a random place, and with 4 KiB pages nearly
// every access also misses the TLB and walks the page table. LargeArrayAllocator maps arrays
// of 2 MiB and more on 2 MiB boundaries and asks the kernel for transparent huge pages
// (madvise(MADV_HUGEPAGE); Linux, Documentation/admin-guide/mm/transhuge.rst), which it
// grants when /sys/kernel/mm/transparent_hugepage/enabled is "always" or "madvise": 512
// times fewer pages, so the TLB covers gigabytes. Elsewhere, or for smaller arrays, it is
// std::allocator. The 2 MiB alignment also puts every 64-byte record (the users model's row
// at K = 16) in one cache line. Internal to sim/.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <vector>

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace timely::sim {

template <class T>
struct LargeArrayAllocator {
  using value_type = T;
  static constexpr std::size_t huge_page = std::size_t{2} << 20;

  LargeArrayAllocator() = default;
  template <class U>
  LargeArrayAllocator(const LargeArrayAllocator<U>&) {}

  T* allocate(std::size_t count) {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    const std::size_t bytes = count * sizeof(T);
    if (count <= max_size() && bytes >= huge_page) {
      const std::size_t size = rounded(bytes);
      // Map one huge page more than needed and trim both ends to a 2 MiB boundary (mmap
      // only promises 4 KiB alignment).
      void* raw = mmap(nullptr, size + huge_page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (raw == MAP_FAILED) throw std::bad_alloc();
      auto* base = static_cast<char*>(raw);
      const std::size_t head = (huge_page - reinterpret_cast<std::uintptr_t>(base) % huge_page) % huge_page;
      if (head > 0) munmap(base, head);
      munmap(base + head + size, huge_page - head);
      madvise(base + head, size, MADV_HUGEPAGE);  // advice: a refusal leaves 4 KiB pages
      return reinterpret_cast<T*>(base + head);
    }
#endif
    return std::allocator<T>().allocate(count);
  }

  void deallocate(T* p, std::size_t count) noexcept {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    const std::size_t bytes = count * sizeof(T);
    if (bytes >= huge_page) {
      munmap(p, rounded(bytes));
      return;
    }
#endif
    std::allocator<T>().deallocate(p, count);
  }

  static constexpr std::size_t max_size() { return ~std::size_t{0} / sizeof(T) / 2; }

  template <class U>
  bool operator==(const LargeArrayAllocator<U>&) const {
    return true;
  }

 private:
  static std::size_t rounded(std::size_t bytes) { return (bytes + huge_page - 1) / huge_page * huge_page; }
};

// A std::vector in such storage.
template <class T>
using LargeVector = std::vector<T, LargeArrayAllocator<T>>;

// Prefetches the bytes [p, p + bytes) for writing, one cache line at a time.
[[gnu::always_inline]] inline void prefetch_for_write(const void* p, std::size_t bytes) {
  const char* c = static_cast<const char*>(p);
  const char* end = c + bytes;
  for (const char* line = reinterpret_cast<const char*>(reinterpret_cast<std::uintptr_t>(c) & ~std::uintptr_t{63});
       line < end; line += 64)
    __builtin_prefetch(line, 1, 3);
}

}  // namespace timely::sim
