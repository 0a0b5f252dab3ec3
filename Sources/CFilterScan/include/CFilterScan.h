#ifndef CFILTERSCAN_H
#define CFILTERSCAN_H

#include <stdint.h>

/// The validating JSON skipper FilterPolicy's body scanner calls for every value no policy names
/// (issue 12): it accepts exactly what the Swift skipper it replaces accepted, and so exactly what
/// HeraldCore's `JSONParser` accepts for one value (RFC 8259, strict UTF-8, bounded nesting, number
/// texts of at most 1000 bytes). Pure functions: no state, no allocation, callable from any thread.

/// The deepest nesting `cfs_skip_json_value` can track; larger `depth_limit`s are clamped to it.
#define CFS_MAX_DEPTH 256

/// Which scanning code runs: the portable scalar one, or the x86_64 ones that classify 64 bytes
/// at a time with AVX2 or AVX-512BW. `CFS_MODE_BEST` picks the fastest the CPU supports.
enum {
    CFS_MODE_BEST = -1,
    CFS_MODE_SCALAR = 0,
    CFS_MODE_AVX2 = 1,
    CFS_MODE_AVX512 = 2,
};

/// Skips one JSON value (object, array, string, number or literal) whose first byte is
/// `bytes[start]`, validating all of it. Returns the offset just past the value, or -1 when the
/// value is invalid or does not end within `count` bytes. `depth_limit` is how many containers may
/// still open (the value itself counts as one); at most 0 means none may. Whitespace after the
/// value is not consumed.
int64_t cfs_skip_json_value(const uint8_t *bytes, int64_t count, int64_t start, int32_t depth_limit);

/// The same with the scanning code chosen (tests compare the modes); a mode the CPU lacks falls
/// back to the best available one.
int64_t cfs_skip_json_value_mode(const uint8_t *bytes, int64_t count, int64_t start, int32_t depth_limit, int32_t mode);

/// The mode `CFS_MODE_BEST` resolves to on this CPU.
int32_t cfs_best_mode(void);

/// Asks for the cache line holding `address` to be loaded for reading: a hint that never faults
/// (and does nothing where the compiler has no prefetch). The matcher uses it to start the misses
/// of several candidate branches' records at once instead of one after another.
static inline void cfs_prefetch(const void *address) {
#if defined(__GNUC__) || defined(__clang__)
    __builtin_prefetch(address, 0, 3);
#else
    (void)address;
#endif
}

#endif
