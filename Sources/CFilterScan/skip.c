// The validating JSON skipper (see CFilterScan.h). A scalar walk over the grammar, as the Swift
// skipper did, plus one fast path: inside arrays, runs of numbers, ',' '[' and ']' (coordinate
// arrays) are validated 64 bytes at a time from bit masks, in the style of simdjson's stage 1.
// Anything else in such a run (whitespace, strings, objects, 'E', '+', a number crossing the
// window) is left to the scalar walk, which stays the single source of the rules.

#include "CFilterScan.h"

#include <stddef.h>
#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#define CFS_INLINE static inline __attribute__((always_inline))

// MARK: Scalar pieces (the rules)

CFS_INLINE uint64_t load64(const uint8_t *p) {
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

CFS_INLINE const uint8_t *skip_ws(const uint8_t *p, const uint8_t *end) {
    while (p < end) {
        uint8_t c = *p;
        if (c != 0x20 && c != 0x0A && c != 0x0D && c != 0x09) break;
        p++;
    }
    return p;
}

/// The first byte at or after `p` that is not an ASCII digit, eight bytes at a time.
CFS_INLINE const uint8_t *skip_digits(const uint8_t *p, const uint8_t *end) {
    while (end - p >= 8) {
        // x < 10 exactly for digits; any byte with x >= 10 gets its high bit set (carries only
        // disturb bytes above the first non-digit).
        uint64_t x = load64(p) ^ 0x3030303030303030ULL;
        uint64_t non_digits = ((x + 0x7676767676767676ULL) | x) & 0x8080808080808080ULL;
        if (non_digits) return p + (__builtin_ctzll(non_digits) >> 3);
        p += 8;
    }
    while (p < end && (uint8_t)(*p - '0') < 10) p++;
    return p;
}

/// Validates one number (RFC 8259 grammar, at most 1000 bytes); returns the byte after it.
CFS_INLINE const uint8_t *skip_number(const uint8_t *start, const uint8_t *end) {
    const uint8_t *p = start;
    if (*p == '-') {
        p++;
        if (p >= end) return NULL;
    }
    uint8_t first = *p;
    if (first == '0') {
        p++;
    } else if ((uint8_t)(first - '1') < 9) {
        p = skip_digits(p + 1, end);
    } else {
        return NULL;
    }
    if (p < end && *p == '.') {
        const uint8_t *digits = p + 1;
        p = skip_digits(digits, end);
        if (p == digits) return NULL;
    }
    if (p < end && (*p | 0x20) == 'e') {
        p++;
        if (p < end && (*p == '+' || *p == '-')) p++;
        const uint8_t *digits = p;
        p = skip_digits(digits, end);
        if (p == digits) return NULL;
    }
    return p - start <= 1000 ? p : NULL;
}

/// Well-formed UTF-8: no overlongs, surrogates or values past U+10FFFF (HeraldCore's
/// `UTF8Validation`).
static int valid_utf8(const uint8_t *p, const uint8_t *end) {
    while (p < end) {
        uint8_t b = *p;
        if (b < 0x80) {
            p++;
            continue;
        }
        int length;
        uint8_t low = 0x80, high = 0xBF;
        if (b >= 0xC2 && b <= 0xDF) {
            length = 2;
        } else if (b == 0xE0) {
            length = 3;
            low = 0xA0;
        } else if ((b >= 0xE1 && b <= 0xEC) || b == 0xEE || b == 0xEF) {
            length = 3;
        } else if (b == 0xED) {
            length = 3;
            high = 0x9F;
        } else if (b == 0xF0) {
            length = 4;
            low = 0x90;
        } else if (b >= 0xF1 && b <= 0xF3) {
            length = 4;
        } else if (b == 0xF4) {
            length = 4;
            high = 0x8F;
        } else {
            return 0;
        }
        if (end - p < length) return 0;
        if (p[1] < low || p[1] > high) return 0;
        for (int k = 2; k < length; k++) {
            if (p[k] < 0x80 || p[k] > 0xBF) return 0;
        }
        p += length;
    }
    return 1;
}

CFS_INLINE int is_hex(uint8_t h) {
    return (uint8_t)(h - '0') < 10 || (uint8_t)((h | 0x20) - 'a') < 6;
}

/// The closing quote of a string whose body starts at `start`, validating the body (no raw control
/// characters, well-formed escapes and UTF-8); NULL when invalid or unterminated.
CFS_INLINE const uint8_t *scan_string(const uint8_t *start, const uint8_t *end) {
    const uint64_t ones = 0x0101010101010101ULL;
    const uint64_t highs = 0x8080808080808080ULL;
    const uint8_t *p = start;
    uint64_t high = 0;
    for (;;) {
        while (end - p >= 8) {
            uint64_t v = load64(p);
            uint64_t quote = v ^ (ones * 0x22);
            uint64_t backslash = v ^ (ones * 0x5C);
            uint64_t stops = (((quote - ones) & ~quote) | ((backslash - ones) & ~backslash) | ((v - ones * 0x20) & ~v)) & highs;
            if (stops) {
                int bit = __builtin_ctzll(stops);
                high |= v & highs & ((1ULL << (bit & ~7)) - 1);
                p += bit >> 3;
                break;
            }
            high |= v & highs;
            p += 8;
        }
        if (p >= end) return NULL;
        uint8_t c = *p;
        if (c == '"') {
            if (high && !valid_utf8(start, p)) return NULL;
            return p;
        }
        if (c == '\\') {
            if (end - p < 2) return NULL;
            switch (p[1]) {
            case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
                p += 2;
                break;
            case 'u':
                if (end - p < 6) return NULL;
                if (!is_hex(p[2]) || !is_hex(p[3]) || !is_hex(p[4]) || !is_hex(p[5])) return NULL;
                p += 6;
                break;
            default:
                return NULL;
            }
            continue;
        }
        if (c < 0x20) return NULL;
        if (c >= 0x80) high |= 0x80;
        p++;
    }
}

/// A string, number or literal; the byte after it or NULL.
CFS_INLINE const uint8_t *skip_scalar(const uint8_t *p, const uint8_t *end) {
    uint8_t c = *p;
    if ((uint8_t)(c - '0') < 10 || c == '-') return skip_number(p, end);
    switch (c) {
    case '"': {
        const uint8_t *close = scan_string(p + 1, end);
        return close ? close + 1 : NULL;
    }
    case 't':
        return end - p >= 4 && memcmp(p, "true", 4) == 0 ? p + 4 : NULL;
    case 'f':
        return end - p >= 5 && memcmp(p, "false", 5) == 0 ? p + 5 : NULL;
    case 'n':
        return end - p >= 4 && memcmp(p, "null", 4) == 0 ? p + 4 : NULL;
    default:
        return NULL;
    }
}

// MARK: The 64-byte window (number runs inside arrays)

/// One bit per byte of a 64-byte window, per byte class the number-run rules need.
typedef struct {
    uint64_t digit, zero, minus, dot, exp, comma, open, close;
} cfs_masks;

#if defined(__x86_64__)
__attribute__((target("avx2"))) static inline cfs_masks classify_avx2(const uint8_t *p) {
    __m256i halves[2] = {_mm256_loadu_si256((const __m256i *)p), _mm256_loadu_si256((const __m256i *)(p + 32))};
    uint32_t bits[8][2];
    for (int h = 0; h < 2; h++) {
        __m256i x = halves[h];
        __m256i s = _mm256_sub_epi8(x, _mm256_set1_epi8('0'));
        __m256i digit = _mm256_cmpeq_epi8(_mm256_min_epu8(s, _mm256_set1_epi8(9)), s);
        bits[0][h] = (uint32_t)_mm256_movemask_epi8(digit);
        bits[1][h] = (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(x, _mm256_set1_epi8('0')));
        bits[2][h] = (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(x, _mm256_set1_epi8('-')));
        bits[3][h] = (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(x, _mm256_set1_epi8('.')));
        bits[4][h] = (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(x, _mm256_set1_epi8('e')));
        bits[5][h] = (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(x, _mm256_set1_epi8(',')));
        bits[6][h] = (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(x, _mm256_set1_epi8('[')));
        bits[7][h] = (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(x, _mm256_set1_epi8(']')));
    }
#define CFS_JOIN(i) ((uint64_t)bits[i][0] | ((uint64_t)bits[i][1] << 32))
    cfs_masks m = {CFS_JOIN(0), CFS_JOIN(1), CFS_JOIN(2), CFS_JOIN(3), CFS_JOIN(4), CFS_JOIN(5), CFS_JOIN(6), CFS_JOIN(7)};
#undef CFS_JOIN
    return m;
}

__attribute__((target("avx512f,avx512bw"))) static inline cfs_masks classify_avx512(const uint8_t *p) {
    __m512i x = _mm512_loadu_si512((const void *)p);
    __m512i s = _mm512_sub_epi8(x, _mm512_set1_epi8('0'));
    cfs_masks m = {
        _mm512_cmplt_epu8_mask(s, _mm512_set1_epi8(10)),
        _mm512_cmpeq_epi8_mask(x, _mm512_set1_epi8('0')),
        _mm512_cmpeq_epi8_mask(x, _mm512_set1_epi8('-')),
        _mm512_cmpeq_epi8_mask(x, _mm512_set1_epi8('.')),
        _mm512_cmpeq_epi8_mask(x, _mm512_set1_epi8('e')),
        _mm512_cmpeq_epi8_mask(x, _mm512_set1_epi8(',')),
        _mm512_cmpeq_epi8_mask(x, _mm512_set1_epi8('[')),
        _mm512_cmpeq_epi8_mask(x, _mm512_set1_epi8(']')),
    };
    return m;
}
/// Byte classes for the neighbour rules: 0 other, 1 digit, 2 '-', 3 '.', 4 'e', 5 ',', 6 '[', 7 ']',
/// indexed by byte - 0x2C (',').
static const uint8_t pair_classes[64] = {
    5, 2, 3, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 6, 0, 7, 0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0,
};

/// 1 where a byte of class `cur` may not follow one of class `prev` (index prev * 8 + cur): a
/// digit follows anything but ']'; '-' follows 'e', ',' or '['; '.' and 'e' follow a digit; ','
/// follows a digit or ']'; '[' follows ',' or '['; ']' follows a digit, '[' or ']'; and after
/// '-' or '.' comes a digit, after 'e' a digit or '-'. Class 0 never passes.
static const uint8_t pair_bad[64] = {
    1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 0, 0, 0, 1, 0, 1, 0, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1, 1,
    1, 0, 0, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1, 0, 1, 1, 0, 0, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1, 0, 1, 0,
};

/// Every byte of a block checked against the one before it in one table look-up (AVX-512 VBMI):
/// the bit mask of bytes that break a neighbour rule. `prev_class` carries the class of the byte
/// before the block in and of the block's last byte out.
__attribute__((target("avx512f,avx512bw,avx512vbmi"))) static inline uint64_t pair_breaks_avx512(const uint8_t *p, uint8_t *prev_class) {
    static const uint8_t shift_one[64] = {
        0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30,
        31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62,
    };
    const __m512i x = _mm512_loadu_si512((const void *)p);
    const __m512i index = _mm512_sub_epi8(x, _mm512_set1_epi8(0x2C));
    const __m512i cls = _mm512_maskz_permutexvar_epi8(_mm512_cmplt_epu8_mask(index, _mm512_set1_epi8(64)), index,
                                                      _mm512_loadu_si512((const void *)pair_classes));
    const __m512i before = _mm512_mask_permutexvar_epi8(_mm512_set1_epi8((char)*prev_class), ~1ULL,
                                                        _mm512_loadu_si512((const void *)shift_one), cls);
    const __m512i pair = _mm512_or_si512(_mm512_slli_epi16(before, 3), cls);
    const __m512i breaks = _mm512_permutexvar_epi8(pair, _mm512_loadu_si512((const void *)pair_bad));
    *prev_class = (uint8_t)_mm_extract_epi8(_mm512_extracti32x4_epi32(cls, 3), 15);
    return _mm512_test_epi8_mask(breaks, breaks);
}
#endif

/// Portable classification (tests and non-x86_64 builds only run it through the mode switch).
static inline cfs_masks classify_scalar(const uint8_t *p) {
    cfs_masks m = {0, 0, 0, 0, 0, 0, 0, 0};
    for (int i = 0; i < 64; i++) {
        uint64_t bit = 1ULL << i;
        uint8_t c = p[i];
        if ((uint8_t)(c - '0') < 10) m.digit |= bit;
        if (c == '0') m.zero |= bit;
        if (c == '-') m.minus |= bit;
        if (c == '.') m.dot |= bit;
        if (c == 'e') m.exp |= bit;
        if (c == ',') m.comma |= bit;
        if (c == '[') m.open |= bit;
        if (c == ']') m.close |= bit;
    }
    return m;
}

enum { RUN_NONE, RUN_INVALID, RUN_DONE, RUN_ELEMENT, RUN_AFTER_VALUE };

CFS_INLINE cfs_masks classify(const uint8_t *p, int mode) {
#if defined(__x86_64__)
    if (mode == CFS_MODE_AVX512) return classify_avx512(p);
    if (mode == CFS_MODE_AVX2) return classify_avx2(p);
#endif
    (void)mode;
    return classify_scalar(p);
}

/// Replays the brackets of `brackets` (bit positions of a block at `base`) in order: the depth
/// bound, the closer's kind, the end of the composite (RUN_DONE) and a return to an object level
/// (RUN_AFTER_VALUE: a ',' there needs a key, which only the walk checks). -1 when all replayed.
CFS_INLINE int replay(uint64_t brackets, uint64_t open, int64_t base, uint8_t *kinds, int *depth_io, int limit, int64_t *consumed) {
    int depth = *depth_io;
    while (brackets) {
        const int j = __builtin_ctzll(brackets);
        brackets &= brackets - 1;
        if ((open >> j) & 1) {
            if (depth >= limit) return RUN_INVALID;
            kinds[depth++] = 1;
        } else {
            if (!kinds[depth - 1]) return RUN_INVALID;
            depth--;
            if (depth == 0 || !kinds[depth - 1]) {
                *consumed = base + j + 1;
                *depth_io = depth;
                return depth == 0 ? RUN_DONE : RUN_AFTER_VALUE;
            }
        }
    }
    *depth_io = depth;
    return -1;
}

/// Moves the depth over a block's brackets `o` and `k` (the caller has cut them to the part of the
/// block it commits): by their counts when no ']' can leave the arrays above `array_floor` and no
/// '[' can pass the bound — however they interleave, every level pushed is then an array (`kinds`
/// has 64 bytes of slack past the bound for this store) — else bracket by bracket (`replay`).
/// Returns `replay`'s status when the brackets ended the run, -1 to go on.
CFS_INLINE int move_depth(uint64_t o, uint64_t k, int64_t base, uint8_t *kinds, int *depth_io, int array_floor, int limit, int64_t *consumed) {
    const int opens = __builtin_popcountll(o);
    const int closes = __builtin_popcountll(k);
    if (*depth_io - closes > array_floor && *depth_io + opens <= limit) {
        if (opens) memset(kinds + *depth_io, 1, 64);
        *depth_io += opens - closes;
        return -1;
    }
    return replay(o | k, o, base, kinds, depth_io, limit, consumed);
}

/// Validates a run of numbers, ',', '[' and ']' that starts at a number beginning an array
/// element, 64 bytes a block (at least one block must be readable at `p`). Every byte before the
/// first rule break (or first byte of another class) obeys the grammar, and the run commits up to
/// the last ',' or ']' before it, so the walk resumes at an element start (after ',') or after a
/// value (after ']'). Each rule looks only at a byte's neighbours, carried across blocks as bits,
/// and every byte of a committed prefix has both inside it, except the commit byte's successor,
/// which the walk checks. Blocks do not depend on each other's outcome, so they overlap in the CPU.
/// Brackets are replayed in order for the depth bound and the closer's kind.
CFS_INLINE int number_run(const uint8_t *p, const uint8_t *end, int mode, uint8_t *kinds, int *depth_io, int limit, int64_t *consumed) {
    int depth = *depth_io;
    // The levels from `array_floor` up are arrays (the innermost is): a ']' may bring the depth
    // down to array_floor + 1 and still be in an array.
    int array_floor = depth - 1;
    while (array_floor > 0 && kinds[array_floor - 1]) array_floor--;
    int64_t commit = -1;  // offset past the last ',' or ']' replayed
    int commit_is_comma = 0;
    int opens_since_commit = 0;
    // Bit 63 of the previous block's masks (the byte before the run is the ',' or '[' that
    // opened this element), and the carries of the two digit-run sums.
    uint64_t prev_num = 0, prev_sep = 1, prev_num_close_open = 0, prev_num_close = 0;
    uint64_t prev_exp = 0, prev_digit = 0, prev_dot = 0, prev_lead_minus = 0;
    unsigned long long carry_int = 0, carry_exp = 0;
#if defined(__x86_64__)
    uint64_t prev_int_zero = 0;
    uint8_t prev_class = 5;  // ','
#endif
    int64_t base = 0;
    for (;;) {
        const cfs_masks cur = classify(p + base, mode);
        // The byte after the block, for the rules that look ahead.
        const uint8_t *after = p + base + 64;
        const int has_next = end - after >= 64;
        const uint8_t next_byte = after < end ? *after : 0;
        const uint64_t next_digit = (uint8_t)(next_byte - '0') < 10;
        const uint64_t next_digit_minus = next_digit | (next_byte == '-');
        const uint64_t d = cur.digit, m = cur.minus, t = cur.dot, e = cur.exp, c = cur.comma, o = cur.open, k = cur.close;
        const uint64_t num = d | m | t | e;
        uint64_t bad;
        uint64_t lead_minus;
#if defined(__x86_64__)
        uint64_t int_zero = 0;
#endif
        unsigned long long out_int = 0, out_exp = 0;
#if defined(__x86_64__)
        if (mode == CFS_MODE_AVX512) {
            // Neighbour rules by table; a rule about the next byte marks that byte instead (the
            // commit stops before it all the same).
            bad = pair_breaks_avx512(p + base, &prev_class);
            const uint64_t sep_before = ((c | o) << 1) | prev_sep;
            const uint64_t run_start = d & ~((d << 1) | prev_digit);
            lead_minus = m & sep_before;
            const uint64_t int_start = run_start & (sep_before | (lead_minus << 1) | prev_lead_minus);
            int_zero = int_start & cur.zero;
            bad |= d & ((int_zero << 1) | prev_int_zero);                  // no leading zeros
            const uint64_t not_int = run_start & ~int_start;
            bad |= t & __builtin_addcll(d, not_int, carry_int, &out_int) & ~d;
            bad |= e & __builtin_addcll(d, not_int & ~((t << 1) | prev_dot), carry_exp, &out_exp) & ~d;
            // A block without separators may hold a number longer than JSON allows: the walk
            // checks its length.
            if (!(c | o | k)) bad |= 1;
        } else
#endif
        {
            const uint64_t token_start = num & ~((num << 1) | prev_num);
            const uint64_t d_before = (d << 1) | prev_digit;
            const uint64_t d_after = (d >> 1) | (next_digit << 63);
            const uint64_t dm_after = ((d | m) >> 1) | (next_digit_minus << 63);
            bad = ~(num | c | o | k);
            bad |= (token_start | o) & ~(((c | o) << 1) | prev_sep);      // values and '[' follow ',' or '['
            bad |= k & ~(((num | k | o) << 1) | prev_num_close_open);      // ']' follows a value, ']' or '['
            bad |= c & ~(((num | k) << 1) | prev_num_close);               // ',' follows a value or ']'
            bad |= m & ~(token_start | (e << 1) | prev_exp);               // '-' leads a number or an exponent
            bad |= m & ~d_after;                                           // ... and a digit follows it
            bad |= t & ~(d_before & d_after);                              // '.' between digits
            bad |= e & ~(d_before & dm_after);                             // 'e' after a digit, before a digit or '-'
            const uint64_t run_start = d & ~d_before;
            lead_minus = m & token_start;
            const uint64_t int_start = run_start & (token_start | (lead_minus << 1) | prev_lead_minus);
            bad |= int_start & cur.zero & d_after;                         // no leading zeros
            // A run's start carried past its end marks the byte after the run: a '.' may only follow
            // the integer digits, an 'e' only integer or fraction digits (so at most one of each, in
            // order).
            const uint64_t not_int = run_start & ~int_start;
            const uint64_t after_not_int = __builtin_addcll(d, not_int, carry_int, &out_int) & ~d;
            const uint64_t after_exp = __builtin_addcll(d, not_int & ~((t << 1) | prev_dot), carry_exp, &out_exp) & ~d;
            bad |= t & after_not_int;
            bad |= e & after_exp;
            // A number filling a block may be longer than JSON allows: the walk checks its length.
            if (num == ~0ULL) bad |= 1;
        }

        const uint64_t before_bad = bad ? (bad & (0 - bad)) - 1 : ~0ULL;
        const uint64_t ends = (c | k) & before_bad;
        const int last = ends ? 63 - __builtin_clzll(ends) : -1;
        const uint64_t through_last = last < 0 ? 0 : last == 63 ? ~0ULL : (2ULL << last) - 1;
        // What this block commits to the depth: all of it when good, else up to its last end.
        const uint64_t scope = bad ? through_last : ~0ULL;
        const int opens = __builtin_popcountll(o & scope);
        const int status = move_depth(o & scope, k & scope, base, kinds, &depth, array_floor, limit, consumed);
        if (status >= 0) {
            *depth_io = depth;
            return status;
        }
        if (ends) {
            commit = base + last + 1;
            commit_is_comma = (int)((c >> last) & 1);
            opens_since_commit = __builtin_popcountll(o & scope & ~through_last);
        } else {
            opens_since_commit += opens;
        }
        if (bad || !has_next) break;
        prev_num = num >> 63;
        prev_sep = (c | o) >> 63;
        prev_num_close_open = (num | k | o) >> 63;
        prev_num_close = (num | k) >> 63;
        prev_exp = e >> 63;
        prev_digit = d >> 63;
        prev_dot = t >> 63;
        prev_lead_minus = lead_minus >> 63;
#if defined(__x86_64__)
        prev_int_zero = int_zero >> 63;
#endif
        carry_int = out_int;
        carry_exp = out_exp;
        base += 64;
    }
    if (commit < 0) return RUN_NONE;
    *depth_io = depth - opens_since_commit;
    *consumed = commit;
    return commit_is_comma ? RUN_ELEMENT : RUN_AFTER_VALUE;
}

#if defined(__x86_64__)
/// `number_run` for AVX-512 (VBMI), the same rules and outcome with a leaner block loop: the
/// neighbour rules come from one table look-up per byte pair (the byte before the block from the
/// previous block's classes, kept in a vector), the digit-run carries go in with the run starts,
/// and a block without a rule break only moves the depth and remembers where it is; the commit
/// point (the last ',' or ']' of the last block that had one) is worked out once, when the run
/// ends. Fewer values live across blocks, so the loop keeps them in registers.
__attribute__((target("avx512f,avx512bw,avx512vbmi"))) static int number_run_avx512(const uint8_t *p, const uint8_t *end, uint8_t *kinds, int *depth_io, int limit, int64_t *consumed) {
    int depth = *depth_io;
    int array_floor = depth - 1;  // see number_run
    while (array_floor > 0 && kinds[array_floor - 1]) array_floor--;
    // Byte i of `before` is byte i - 1 of the block's classes, byte 0 the previous block's last.
    static const uint8_t shift_in[64] = {
        63, 64, 65, 66, 67, 68, 69, 70, 71, 72, 73, 74, 75, 76, 77, 78, 79, 80, 81, 82, 83, 84, 85, 86, 87, 88, 89, 90, 91, 92, 93, 94,
        95, 96, 97, 98, 99, 100, 101, 102, 103, 104, 105, 106, 107, 108, 109, 110, 111, 112, 113, 114, 115, 116, 117, 118, 119, 120, 121, 122, 123, 124, 125, 126,
    };
    const __m512i class_table = _mm512_loadu_si512((const void *)pair_classes);
    const __m512i bad_table = _mm512_loadu_si512((const void *)pair_bad);
    const __m512i shift_index = _mm512_loadu_si512((const void *)shift_in);
    __m512i prev_cls = _mm512_set1_epi8(5);  // the ',' or '[' before the run
    // Bit 63 of the previous block's masks, and the carries out of the two digit-run sums.
    uint64_t prev_sep = 1, prev_digit = 0, prev_dot = 0, prev_lead_minus = 0, prev_int_zero = 0;
    uint64_t carry_int = 0, carry_exp = 0;
    // The last rule-abiding block that held a ',' or ']', and the depth after it.
    int64_t end_base = -1;
    int end_depth = depth;
    const int64_t last_base = (end - p) - 128;  // a block at a larger base has no full block after it
    int64_t base = 0;
    for (;;) {
        const uint8_t *block = p + base;
        const __m512i x = _mm512_loadu_si512((const void *)block);
        const __m512i index = _mm512_sub_epi8(x, _mm512_set1_epi8(0x2C));
        const __m512i cls = _mm512_maskz_permutexvar_epi8(_mm512_cmplt_epu8_mask(index, _mm512_set1_epi8(64)), index, class_table);
        const __m512i before = _mm512_permutex2var_epi8(prev_cls, shift_index, cls);
        const __m512i breaks = _mm512_permutexvar_epi8(_mm512_or_si512(_mm512_slli_epi16(before, 3), cls), bad_table);
        uint64_t bad = _mm512_test_epi8_mask(breaks, breaks);
        prev_cls = cls;
        const uint64_t d = _mm512_cmplt_epu8_mask(_mm512_sub_epi8(x, _mm512_set1_epi8('0')), _mm512_set1_epi8(10));
        const uint64_t zero = _mm512_cmpeq_epi8_mask(x, _mm512_set1_epi8('0'));
        const uint64_t m = _mm512_cmpeq_epi8_mask(x, _mm512_set1_epi8('-'));
        const uint64_t t = _mm512_cmpeq_epi8_mask(x, _mm512_set1_epi8('.'));
        const uint64_t e = _mm512_cmpeq_epi8_mask(x, _mm512_set1_epi8('e'));
        const uint64_t c = _mm512_cmpeq_epi8_mask(x, _mm512_set1_epi8(','));
        const uint64_t o = _mm512_cmpeq_epi8_mask(x, _mm512_set1_epi8('['));
        const uint64_t k = _mm512_cmpeq_epi8_mask(x, _mm512_set1_epi8(']'));
        const uint64_t sep_before = ((c | o) << 1) | prev_sep;
        const uint64_t run_start = d & ~((d << 1) | prev_digit);
        const uint64_t lead_minus = m & sep_before;
        const uint64_t int_start = run_start & (sep_before | (lead_minus << 1) | prev_lead_minus);
        const uint64_t int_zero = int_start & zero;
        bad |= d & ((int_zero << 1) | prev_int_zero);  // no leading zeros
        // As in number_run; a carry in lands on bit 0, which no run starts at when one comes in
        // (bit 63 before it was a digit), so or-ing it into the starts adds it.
        const uint64_t not_int = run_start & ~int_start;
        const uint64_t int_addend = not_int | carry_int;
        const uint64_t exp_addend = (not_int & ~((t << 1) | prev_dot)) | carry_exp;
        const uint64_t int_sum = d + int_addend;
        const uint64_t exp_sum = d + exp_addend;
        bad |= t & int_sum & ~d;
        bad |= e & exp_sum & ~d;
        const uint64_t ends = c | k;
        if (!(ends | o)) bad |= 1;  // a number may be longer than JSON allows: the walk checks it
        if (bad) {
            // Commit up to the last ',' or ']' before the first break (never bit 63).
            const uint64_t good_ends = ends & ((bad & (0 - bad)) - 1);
            if (!good_ends) break;
            const int last = 63 - __builtin_clzll(good_ends);
            const uint64_t scope = (2ULL << last) - 1;
            const int status = move_depth(o & scope, k & scope, base, kinds, &depth, array_floor, limit, consumed);
            if (status >= 0) {
                *depth_io = depth;
                return status;
            }
            *depth_io = depth;
            *consumed = base + last + 1;
            return (c >> last) & 1 ? RUN_ELEMENT : RUN_AFTER_VALUE;
        }
        const int status = move_depth(o, k, base, kinds, &depth, array_floor, limit, consumed);
        if (status >= 0) {
            *depth_io = depth;
            return status;
        }
        if (ends) {
            end_base = base;
            end_depth = depth;
        }
        if (base > last_base) break;
        prev_sep = (c | o) >> 63;
        prev_digit = d >> 63;
        prev_dot = t >> 63;
        prev_lead_minus = lead_minus >> 63;
        prev_int_zero = int_zero >> 63;
        carry_int = int_sum < d;
        carry_exp = exp_sum < d;
        base += 64;
    }
    if (end_base < 0) return RUN_NONE;
    // The commit block again: its last ',' or ']', less the '[' after it (no ']' comes after it).
    const __m512i x = _mm512_loadu_si512((const void *)(p + end_base));
    const uint64_t c = _mm512_cmpeq_epi8_mask(x, _mm512_set1_epi8(','));
    const uint64_t o = _mm512_cmpeq_epi8_mask(x, _mm512_set1_epi8('['));
    const uint64_t k = _mm512_cmpeq_epi8_mask(x, _mm512_set1_epi8(']'));
    const int last = 63 - __builtin_clzll(c | k);
    const uint64_t after_last = last == 63 ? 0 : ~((2ULL << last) - 1);
    *depth_io = end_depth - __builtin_popcountll(o & after_last);
    *consumed = end_base + last + 1;
    return (c >> last) & 1 ? RUN_ELEMENT : RUN_AFTER_VALUE;
}
#endif

// MARK: The walk

/// Skips one object or array at `start` (see `cfs_skip_json_value`); `mode` picks the window
/// classification (constant after inlining into each entry point).
CFS_INLINE const uint8_t *skip_composite(const uint8_t *start, const uint8_t *end, int limit, int mode) {
    uint8_t kinds[CFS_MAX_DEPTH + 64];  // per open level: 1 for an array (slack: see number_run)
    if (limit > CFS_MAX_DEPTH) limit = CFS_MAX_DEPTH;
    if (limit <= 0) return NULL;
    int is_array = *start == '[';
    kinds[0] = (uint8_t)is_array;
    int depth = 1;
    const uint8_t *p = skip_ws(start + 1, end);
    if (p >= end) return NULL;
    if (*p == (is_array ? ']' : '}')) return p + 1;
    for (;;) {
        // At the first byte of an element or member; p < end.
        if (!is_array) {
            if (*p != '"') return NULL;
            const uint8_t *close = scan_string(p + 1, end);
            if (!close) return NULL;
            p = skip_ws(close + 1, end);
            if (p >= end || *p != ':') return NULL;
            p = skip_ws(p + 1, end);
            if (p >= end) return NULL;
        }
        uint8_t c = *p;
        if (c == '{' || c == '[') {
            if (depth >= limit) return NULL;
            is_array = c == '[';
            kinds[depth++] = (uint8_t)is_array;
            p = skip_ws(p + 1, end);
            if (p >= end) return NULL;
            if (*p != (is_array ? ']' : '}')) continue;
            p++;
            depth--;
            is_array = kinds[depth - 1];
        } else if ((uint8_t)(c - '0') < 10 || c == '-') {
            int handled = 0;
            if (mode != CFS_MODE_SCALAR && is_array && end - p >= 64) {
                int64_t consumed = 0;
                int status;
#if defined(__x86_64__)
                if (mode == CFS_MODE_AVX512)
                    status = number_run_avx512(p, end, kinds, &depth, limit, &consumed);
                else
#endif
                    status = number_run(p, end, mode, kinds, &depth, limit, &consumed);
                switch (status) {
                case RUN_INVALID:
                    return NULL;
                case RUN_DONE:
                    return p + consumed;
                case RUN_ELEMENT:
                    p += consumed;
                    is_array = kinds[depth - 1];
                    p = skip_ws(p, end);
                    if (p >= end) return NULL;
                    continue;
                case RUN_AFTER_VALUE:
                    p += consumed;
                    is_array = kinds[depth - 1];
                    handled = 1;
                    break;
                default:
                    break;
                }
            }
            if (!handled) {
                // Numbers dominate large skipped arrays: while a bare ',' is followed by another
                // number, straight on to it.
                for (;;) {
                    p = skip_number(p, end);
                    if (!p) return NULL;
                    if (!is_array || end - p < 2 || *p != ',') break;
                    uint8_t next = p[1];
                    if (!((uint8_t)(next - '0') < 10 || next == '-')) break;
                    p++;
                }
            }
        } else {
            p = skip_scalar(p, end);
            if (!p) return NULL;
        }
        // After a value: a separator, closers, or (at depth 0) done.
        for (;;) {
            p = skip_ws(p, end);
            if (p >= end) return NULL;
            c = *p;
            if (c == ',') {
                p = skip_ws(p + 1, end);
                if (p >= end) return NULL;
                break;
            }
            if (c != (is_array ? ']' : '}')) return NULL;
            p++;
            depth--;
            if (depth == 0) return p;
            is_array = kinds[depth - 1];
        }
    }
}

CFS_INLINE int64_t skip_value(const uint8_t *bytes, int64_t count, int64_t start, int32_t depth_limit, int mode) {
    if (start < 0 || start >= count) return -1;
    const uint8_t *p = bytes + start;
    const uint8_t *end = bytes + count;
    const uint8_t *after = (*p == '{' || *p == '[') ? skip_composite(p, end, depth_limit, mode) : skip_scalar(p, end);
    return after ? after - bytes : -1;
}

static int64_t skip_value_scalar(const uint8_t *bytes, int64_t count, int64_t start, int32_t depth_limit) {
    return skip_value(bytes, count, start, depth_limit, CFS_MODE_SCALAR);
}

#if defined(__x86_64__)
__attribute__((target("avx2"))) static int64_t skip_value_avx2(const uint8_t *bytes, int64_t count, int64_t start, int32_t depth_limit) {
    return skip_value(bytes, count, start, depth_limit, CFS_MODE_AVX2);
}

__attribute__((target("avx512f,avx512bw,avx512vbmi"))) static int64_t skip_value_avx512(const uint8_t *bytes, int64_t count, int64_t start, int32_t depth_limit) {
    return skip_value(bytes, count, start, depth_limit, CFS_MODE_AVX512);
}
#endif

int32_t cfs_best_mode(void) {
#if defined(__x86_64__)
    if (__builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vbmi")) return CFS_MODE_AVX512;
    if (__builtin_cpu_supports("avx2")) return CFS_MODE_AVX2;
#endif
    return CFS_MODE_SCALAR;
}

int64_t cfs_skip_json_value_mode(const uint8_t *bytes, int64_t count, int64_t start, int32_t depth_limit, int32_t mode) {
    const int32_t best = cfs_best_mode();
    if (mode < 0 || mode > best) mode = best;
#if defined(__x86_64__)
    if (mode == CFS_MODE_AVX512) return skip_value_avx512(bytes, count, start, depth_limit);
    if (mode == CFS_MODE_AVX2) return skip_value_avx2(bytes, count, start, depth_limit);
#endif
    return skip_value_scalar(bytes, count, start, depth_limit);
}

int64_t cfs_skip_json_value(const uint8_t *bytes, int64_t count, int64_t start, int32_t depth_limit) {
#if defined(__x86_64__)
    if (__builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vbmi")) return skip_value_avx512(bytes, count, start, depth_limit);
    if (__builtin_cpu_supports("avx2")) return skip_value_avx2(bytes, count, start, depth_limit);
#endif
    return skip_value_scalar(bytes, count, start, depth_limit);
}
