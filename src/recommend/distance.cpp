#include "recommend/distance.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>

// The kernels use GCC/Clang vector extensions: a v16 is 16 floats, which the compiler maps to one AVX-512
// register, two AVX registers or four SSE registers, depending on the target the function is compiled for.
// Vector values never cross a function boundary (only pointers do), so the ABI of every function is the same
// whatever the target.
#if defined(__x86_64__) && defined(__GNUC__)
#define TUNELENS_X86_DISPATCH 1
#define TUNELENS_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#define TUNELENS_TARGET_V4 __attribute__((target("arch=x86-64-v4")))
#define TUNELENS_TARGET_V3 __attribute__((target("arch=x86-64-v3")))
#else
#define TUNELENS_CLONES
#endif

#define TUNELENS_ALWAYS_INLINE inline __attribute__((always_inline))

#ifdef TUNELENS_X86_DISPATCH
namespace {
// Whether this CPU runs the x86-64-v3 (AVX2, FMA) and x86-64-v4 (AVX-512) kernels. GCC asks by level; clang 14
// knows only the features, so it asks for those that define each level.
bool cpu_has_v3() {
#ifdef __clang__
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("bmi") &&
         __builtin_cpu_supports("bmi2");
#else
  return __builtin_cpu_supports("x86-64-v3");
#endif
}
bool cpu_has_v4() {
#ifdef __clang__
  return cpu_has_v3() && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512cd") && __builtin_cpu_supports("avx512dq") &&
         __builtin_cpu_supports("avx512vl");
#else
  return __builtin_cpu_supports("x86-64-v4");
#endif
}
}  // namespace
#endif

namespace tunelens::recommend_detail {
namespace {

typedef float v16 __attribute__((vector_size(64)));

typedef float v8 __attribute__((vector_size(32)));
typedef float v4 __attribute__((vector_size(16)));

// The sum of the 16 lanes as a tree (halves added), 4 additions deep rather than 16.
TUNELENS_ALWAYS_INLINE float lane_sum(const v16& v) {
  v8 lo, hi;
  std::memcpy(&lo, &v, sizeof lo);
  std::memcpy(&hi, reinterpret_cast<const char*>(&v) + sizeof lo, sizeof hi);
  const v8 eight = lo + hi;
  v4 a, b;
  std::memcpy(&a, &eight, sizeof a);
  std::memcpy(&b, reinterpret_cast<const char*>(&eight) + sizeof a, sizeof b);
  const v4 four = a + b;
  return (four[0] + four[2]) + (four[1] + four[3]);
}

// One term of the Jensen-Shannon divergence (times 2): p log(2p / (p+q)) + q log(2q / (p+q)), 0 log 0 = 0.
TUNELENS_ALWAYS_INLINE float js_term(float p, float q) {
  const float m = p + q;
  float t = 0.0f;
  if (p > 0.0f) t += p * std::log(2.0f * p / m);
  if (q > 0.0f) t += q * std::log(2.0f * q / m);
  return t;
}

// Distances of MR query rows to NP panels at a time, over `nq` queries and `npanels` panels: the MR × NP·16
// dot products stay in registers for the whole dimension, each panel vector loaded once per k and reused by
// MR queries, each query value broadcast once per k and reused by NP panels.
template <int MR, int NP>
TUNELENS_ALWAYS_INLINE void dot_panels(Metric metric, const float* queries, std::size_t nq,
                                       const float* qnorms, const float* panels, std::size_t npanels,
                                       const float* xnorms, std::size_t dim, float* out,
                                       std::size_t out_stride) {
  const std::size_t panel_floats = dim * kPanelRows;
  const v16 zero = {};
  for (std::size_t p0 = 0; p0 < npanels; p0 += NP) {
    const float* panel = panels + p0 * panel_floats;
    for (std::size_t q0 = 0; q0 < nq; q0 += MR) {
      v16 acc[MR][NP];
      for (int i = 0; i < MR; ++i)
        for (int p = 0; p < NP; ++p) acc[i][p] = zero;
      const float* q = queries + q0 * dim;
      for (std::size_t k = 0; k < dim; ++k) {
        v16 x[NP];
        for (int p = 0; p < NP; ++p)
          std::memcpy(&x[p], panel + p * panel_floats + k * kPanelRows, sizeof(v16));
        for (int i = 0; i < MR; ++i) {
          const float s = q[i * dim + k];
          for (int p = 0; p < NP; ++p) acc[i][p] += s * x[p];
        }
      }
      for (int i = 0; i < MR; ++i) {
        float* row = out + (q0 + i) * out_stride + p0 * kPanelRows;
        for (int p = 0; p < NP; ++p) {
          v16 d;
          if (metric == Metric::SqEuclidean) {
            v16 xn;
            std::memcpy(&xn, xnorms + (p0 + p) * kPanelRows, sizeof(v16));
            d = qnorms[q0 + i] + xn - 2.0f * acc[i][p];
            d = d < zero ? zero : d;
          } else {
            d = 1.0f - acc[i][p];
          }
          std::memcpy(row + p * kPanelRows, &d, sizeof(v16));
        }
      }
    }
  }
}

TUNELENS_ALWAYS_INLINE float sqeuclidean_impl(const float* a, const float* b, std::size_t dim) {
  v16 s0 = {}, s1 = {};
  std::size_t i = 0;
  for (; i + 32 <= dim; i += 32) {
    v16 x0, y0, x1, y1;
    std::memcpy(&x0, a + i, sizeof(v16));
    std::memcpy(&y0, b + i, sizeof(v16));
    std::memcpy(&x1, a + i + 16, sizeof(v16));
    std::memcpy(&y1, b + i + 16, sizeof(v16));
    const v16 d0 = x0 - y0, d1 = x1 - y1;
    s0 += d0 * d0;
    s1 += d1 * d1;
  }
  for (; i + 16 <= dim; i += 16) {
    v16 x0, y0;
    std::memcpy(&x0, a + i, sizeof(v16));
    std::memcpy(&y0, b + i, sizeof(v16));
    const v16 d0 = x0 - y0;
    s0 += d0 * d0;
  }
  float s = lane_sum(s0 + s1);
  for (; i < dim; ++i) {
    const float d = a[i] - b[i];
    s += d * d;
  }
  return s;
}

TUNELENS_ALWAYS_INLINE float dot_impl(const float* a, const float* b, std::size_t dim) {
  v16 s0 = {}, s1 = {};
  std::size_t i = 0;
  for (; i + 32 <= dim; i += 32) {
    v16 x0, y0, x1, y1;
    std::memcpy(&x0, a + i, sizeof(v16));
    std::memcpy(&y0, b + i, sizeof(v16));
    std::memcpy(&x1, a + i + 16, sizeof(v16));
    std::memcpy(&y1, b + i + 16, sizeof(v16));
    s0 += x0 * y0;
    s1 += x1 * y1;
  }
  for (; i + 16 <= dim; i += 16) {
    v16 x0, y0;
    std::memcpy(&x0, a + i, sizeof(v16));
    std::memcpy(&y0, b + i, sizeof(v16));
    s0 += x0 * y0;
  }
  float s = lane_sum(s0 + s1);
  for (; i < dim; ++i) s += a[i] * b[i];
  return s;
}

#ifdef TUNELENS_X86_DISPATCH
// 8 queries × 2 panels: 16 accumulators of the 32 AVX-512 registers.
TUNELENS_TARGET_V4 void dot_panels_avx512(Metric metric, const float* queries, std::size_t nq,
                                          const float* qnorms, const float* panels, std::size_t npanels,
                                          const float* xnorms, std::size_t dim, float* out,
                                          std::size_t out_stride) {
  dot_panels<8, 2>(metric, queries, nq, qnorms, panels, npanels, xnorms, dim, out, out_stride);
}
// 4 queries × 1 panel: 8 accumulators of the 16 AVX registers.
TUNELENS_TARGET_V3 void dot_panels_avx2(Metric metric, const float* queries, std::size_t nq,
                                        const float* qnorms, const float* panels, std::size_t npanels,
                                        const float* xnorms, std::size_t dim, float* out,
                                        std::size_t out_stride) {
  dot_panels<4, 1>(metric, queries, nq, qnorms, panels, npanels, xnorms, dim, out, out_stride);
}
#endif
// 2 queries × 1 panel: 8 accumulators of the 16 SSE registers.
void dot_panels_baseline(Metric metric, const float* queries, std::size_t nq, const float* qnorms,
                         const float* panels, std::size_t npanels, const float* xnorms, std::size_t dim,
                         float* out, std::size_t out_stride) {
  dot_panels<2, 1>(metric, queries, nq, qnorms, panels, npanels, xnorms, dim, out, out_stride);
}

void js_panels(const float* queries, std::size_t nq, const float* panels, std::size_t npanels,
               std::size_t dim, float* out, std::size_t out_stride) {
  const std::size_t panel_floats = dim * kPanelRows;
  for (std::size_t p = 0; p < npanels; ++p) {
    const float* panel = panels + p * panel_floats;
    for (std::size_t q = 0; q < nq; ++q) {
      const float* query = queries + q * dim;
      float acc[kPanelRows] = {};
      for (std::size_t k = 0; k < dim; ++k)
        for (std::size_t lane = 0; lane < kPanelRows; ++lane)
          acc[lane] += js_term(panel[k * kPanelRows + lane], query[k]);
      float* row = out + q * out_stride + p * kPanelRows;
      for (std::size_t lane = 0; lane < kPanelRows; ++lane) row[lane] = std::max(0.0f, 0.5f * acc[lane]);
    }
  }
}

}  // namespace

TUNELENS_CLONES float sqeuclidean_distance(const float* a, const float* b, std::size_t dim) {
  return sqeuclidean_impl(a, b, dim);
}

TUNELENS_CLONES float cosine_distance(const float* a, const float* b, std::size_t dim) {
  return 1.0f - dot_impl(a, b, dim);
}

float js_divergence(const float* p, const float* q, std::size_t dim) {
  float acc = 0.0f;
  for (std::size_t k = 0; k < dim; ++k) acc += js_term(p[k], q[k]);
  return std::max(0.0f, 0.5f * acc);
}

TUNELENS_CLONES float sqeuclidean_space_distance(const void* a, const void* b, const void* dim) {
  return sqeuclidean_impl(static_cast<const float*>(a), static_cast<const float*>(b),
                          *static_cast<const std::size_t*>(dim));
}

TUNELENS_CLONES float cosine_space_distance(const void* a, const void* b, const void* dim) {
  return 1.0f - dot_impl(static_cast<const float*>(a), static_cast<const float*>(b),
                         *static_cast<const std::size_t*>(dim));
}

float js_space_distance(const void* a, const void* b, const void* dim) {
  return js_divergence(static_cast<const float*>(a), static_cast<const float*>(b),
                       *static_cast<const std::size_t*>(dim));
}

float squared_norm(const float* a, std::size_t dim) {
  double s = 0.0;
  for (std::size_t i = 0; i < dim; ++i) s += static_cast<double>(a[i]) * a[i];
  return static_cast<float>(s);
}

TUNELENS_CLONES void pq_distance_table(const float* residual, const float* columns, const float* norms,
                                       std::size_t M, std::size_t dsub, float* table) {
  for (std::size_t m = 0; m < M; ++m) {
    float* row = table + m * kPqCentroids;
    if (norms)
      std::copy_n(norms + m * kPqCentroids, kPqCentroids, row);
    else
      std::fill_n(row, kPqCentroids, 0.0f);
    for (std::size_t j = 0; j < dsub; ++j) {
      const float r = -2.0f * residual[m * dsub + j];
      const float* column = columns + (m * dsub + j) * kPqCentroids;
      for (std::size_t c = 0; c < kPqCentroids; ++c) row[c] += r * column[c];
    }
  }
}

// Two codes at a time, each summed in four partial sums: eight independent chains of table loads and
// additions rather than one chain of M dependent additions per code.
TUNELENS_CLONES void pq_code_distances(const float* table, const std::uint8_t* codes, std::size_t n,
                                       std::size_t M, float base, float* out) {
  std::size_t i = 0;
  const std::size_t m4 = M - M % 4;
  for (; i + 2 <= n; i += 2) {
    const std::uint8_t* a = codes + i * M;
    const std::uint8_t* b = a + M;
    float a0 = 0, a1 = 0, a2 = 0, a3 = 0, b0 = 0, b1 = 0, b2 = 0, b3 = 0;
    std::size_t m = 0;
    for (; m < m4; m += 4) {
      const float* t = table + m * kPqCentroids;
      a0 += t[a[m]];
      b0 += t[b[m]];
      a1 += t[kPqCentroids + a[m + 1]];
      b1 += t[kPqCentroids + b[m + 1]];
      a2 += t[2 * kPqCentroids + a[m + 2]];
      b2 += t[2 * kPqCentroids + b[m + 2]];
      a3 += t[3 * kPqCentroids + a[m + 3]];
      b3 += t[3 * kPqCentroids + b[m + 3]];
    }
    for (; m < M; ++m) {
      a0 += table[m * kPqCentroids + a[m]];
      b0 += table[m * kPqCentroids + b[m]];
    }
    out[i] = base + ((a0 + a1) + (a2 + a3));
    out[i + 1] = base + ((b0 + b1) + (b2 + b3));
  }
  for (; i < n; ++i) {
    float s = base;
    for (std::size_t m = 0; m < M; ++m) s += table[m * kPqCentroids + codes[i * M + m]];
    out[i] = s;
  }
}

void panel_distances(Metric metric, const float* queries, std::size_t nq, const float* qnorms,
                     const float* panels, std::size_t npanels, const float* xnorms, std::size_t dim,
                     float* out, std::size_t out_stride) {
  if (metric == Metric::JensenShannon) {
    js_panels(queries, nq, panels, npanels, dim, out, out_stride);
    return;
  }
#ifdef TUNELENS_X86_DISPATCH
  if (cpu_has_v4()) {
    dot_panels_avx512(metric, queries, nq, qnorms, panels, npanels, xnorms, dim, out, out_stride);
    return;
  }
  if (cpu_has_v3()) {
    dot_panels_avx2(metric, queries, nq, qnorms, panels, npanels, xnorms, dim, out, out_stride);
    return;
  }
#endif
  dot_panels_baseline(metric, queries, nq, qnorms, panels, npanels, xnorms, dim, out, out_stride);
}

std::string_view kernel_level() {
#ifdef TUNELENS_X86_DISPATCH
  if (cpu_has_v4()) return "avx512";
  if (cpu_has_v3()) return "avx2";
  return "sse2";
#else
  return "portable";
#endif
}

void prepare_vectors(Metric metric, std::size_t dim, std::span<const float> values, const char* what,
                     std::vector<float>& out) {
  out.resize(values.size());
  const std::size_t rows = dim ? values.size() / dim : 0;
  for (std::size_t r = 0; r < rows; ++r) {
    const float* in = values.data() + r * dim;
    float* o = out.data() + r * dim;
    double sum = 0.0, squares = 0.0;
    for (std::size_t i = 0; i < dim; ++i) {
      if (!std::isfinite(in[i]))
        throw IndexError(IndexErrorKind::Invalid, std::string(what) + " " + std::to_string(r) +
                                                      " has a non-finite value at dimension " +
                                                      std::to_string(i));
      if (metric == Metric::JensenShannon && in[i] < 0.0f)
        throw IndexError(IndexErrorKind::Invalid, std::string(what) + " " + std::to_string(r) +
                                                      " has a negative entry at dimension " +
                                                      std::to_string(i) + " (js needs probability vectors)");
      sum += in[i];
      squares += static_cast<double>(in[i]) * in[i];
    }
    double scale = 1.0;
    if (metric == Metric::Cosine && squares > 0.0) scale = 1.0 / std::sqrt(squares);
    if (metric == Metric::JensenShannon) {
      if (!(sum > 0.0))
        throw IndexError(IndexErrorKind::Invalid, std::string(what) + " " + std::to_string(r) +
                                                      " sums to zero (js needs probability vectors)");
      scale = 1.0 / sum;
    }
    for (std::size_t i = 0; i < dim; ++i)
      o[i] = metric == Metric::SqEuclidean ? in[i] : static_cast<float>(in[i] * scale);
  }
}

}  // namespace tunelens::recommend_detail
