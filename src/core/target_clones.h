// INFERD_TARGET_CLONES(...): GCC/clang function multiversioning, e.g.
// INFERD_TARGET_CLONES("avx512f", "avx2", "default") void f(); the loader picks the clone for
// the CPU it runs on (an ifunc). Expands to nothing off x86-64 and under ThreadSanitizer:
// the ifunc resolver runs during relocation, before the TSan runtime is up, and crashes
// the program at load.
#pragma once

#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define INFERD_UNDER_TSAN 1
#endif
#endif
#if defined(__SANITIZE_THREAD__)
#define INFERD_UNDER_TSAN 1
#endif

#if defined(__x86_64__) && defined(__GNUC__) && !defined(INFERD_UNDER_TSAN)
#define INFERD_TARGET_CLONES(...) __attribute__((target_clones(__VA_ARGS__)))
#else
#define INFERD_TARGET_CLONES(...)
#endif
