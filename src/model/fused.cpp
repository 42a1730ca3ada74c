// The fused conv → ReLU → BatchNorm → max-pool 2 block on one-channel input (see fused.h).
//
// Notation: z = conv(x) + bias, r = relu(z), y = gamma * (r - mean) * invstd + beta = a * r + b, p = maxpool2(y).
// Since r ↦ a * r + b is monotone, the pooled value comes from the window's largest z when a >= 0 and its smallest
// when a < 0 (relu is monotone too), so pooling needs only z.
//
// Forward (training): pass 1 computes z row by row and sums r and r² per channel (the batch statistics); pass 2
// recomputes z and writes p. Evaluation needs pass 2 only, with the running statistics.
// Backward: with g the gradient at y (the pooled gradient at each window's chosen position, 0 elsewhere), M the
// number of positions, dbeta = Σ g and dgamma = Σ g * xhat,
//   dz = [z > 0] * gamma * invstd * (g - dbeta / M - xhat * dgamma / M),   xhat = (z - mean) * invstd where z > 0,
// and dW[c][k] = Σ dz * x_k. The sums that need dgamma are split so that one pass recomputing z gathers everything:
//   A[c][k] = Σ [z > 0] (g - dbeta / M) x_k,   B[c][k] = Σ [z > 0] (z - mean) x_k
//   dW = gamma * invstd * (A - invstd * dgamma / M * B)   (and the same with x_k = 1 for the bias).
//
// Work is split into items of (sample, block of output rows) with partial sums per item, added in item order
// afterwards: the result does not depend on the number of threads or their timing.
#include "model/fused.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <vector>

namespace tunelens::model {
namespace {

constexpr std::int64_t kLanes = 16;     // outputs computed together (two AVX registers)
constexpr std::int64_t kBlockRows = 8;  // output rows per work item (even: pooling pairs stay in one item)

struct Geometry {
  std::int64_t n = 0, h = 0, w = 0;      // input
  std::int64_t channels = 0;
  std::int64_t kh = 0, kw = 0, sh = 0, sw = 0;
  std::int64_t ho = 0, wo = 0;           // convolution output
  std::int64_t hp = 0, wp = 0;           // pooled output
  std::int64_t wpad = 0;                 // wo rounded up to kLanes
  std::int64_t phase_length = 0;         // of one deinterleaved input row
  std::int64_t blocks = 0, items = 0;    // row blocks per sample, work items
  std::vector<std::int64_t> offsets;     // of tap (u, v) = u * kw + v within the deinterleaved rows

  Geometry(const torch::Tensor& x, const torch::Tensor& weight, std::int64_t stride_h, std::int64_t stride_w)
      : n(x.size(0)), h(x.size(2)), w(x.size(3)), channels(weight.size(0)), kh(weight.size(2)), kw(weight.size(3)),
        sh(stride_h), sw(stride_w) {
    ho = (h - kh) / sh + 1;
    wo = (w - kw) / sw + 1;
    hp = ho / 2;
    wp = wo / 2;
    wpad = (wo + kLanes - 1) / kLanes * kLanes;
    phase_length = wpad + (kw - 1) / sw + 1;
    blocks = (ho + kBlockRows - 1) / kBlockRows;
    items = n * blocks;
    for (std::int64_t u = 0; u < kh; ++u)
      for (std::int64_t v = 0; v < kw; ++v) offsets.push_back((u * sw + v % sw) * phase_length + v / sw);
  }
  std::int64_t taps() const { return kh * kw; }
};

template <bool kFma>
[[gnu::always_inline]] inline float madd(float a, float b, float c) {
  if constexpr (kFma) return __builtin_fmaf(a, b, c);
  else return a * b + c;
}

// Input rows i*sh .. i*sh + kh - 1 of one sample, each split into its sw column phases (phase p holds columns
// p, p + sw, ...), zero-padded: tap (u, v) of output column j is then phases[(u*sw + v%sw)][v/sw + j], a contiguous
// run over j starting at phases + offsets[u * kw + v].
void deinterleave(const Geometry& g, const float* sample, std::int64_t row, float* phases) {
  for (std::int64_t u = 0; u < g.kh; ++u) {
    const float* in = sample + (row * g.sh + u) * g.w;
    for (std::int64_t p = 0; p < g.sw; ++p) {
      float* out = phases + (u * g.sw + p) * g.phase_length;
      std::int64_t j = 0;
      for (std::int64_t col = p; col < g.w && j < g.phase_length; col += g.sw) out[j++] = in[col];
      std::fill(out + j, out + g.phase_length, 0.0f);
    }
  }
}


// One output row of one channel: out[j] = bias + Σ_taps w * x, for j < wpad (past wo: padding, ignored).
template <bool kFma>
[[gnu::always_inline]] inline void conv_row(const Geometry& g, const float* phases, const float* weights, float bias,
                                            float* __restrict out) {
  const std::int64_t taps = g.taps();
  const std::int64_t* offsets = g.offsets.data();
  for (std::int64_t j0 = 0; j0 < g.wpad; j0 += kLanes) {
    float acc[kLanes];
    for (std::int64_t t = 0; t < kLanes; ++t) acc[t] = bias;
    for (std::int64_t k = 0; k < taps; ++k) {
      const float wk = weights[k];
      const float* __restrict in = phases + offsets[k] + j0;
      for (std::int64_t t = 0; t < kLanes; ++t) acc[t] = madd<kFma>(wk, in[t], acc[t]);
    }
    for (std::int64_t t = 0; t < kLanes; ++t) out[j0 + t] = acc[t];
  }
}

// Σ a[j] * x[j] and Σ b[j] * x[j] over j < length (a multiple of kLanes), in lanes so that it vectorises and
// rounds the same always.
template <bool kFma>
[[gnu::always_inline]] inline void dots(const float* __restrict a, const float* __restrict b,
                                        const float* __restrict x, std::int64_t length, double& sum_a, double& sum_b) {
  float acc_a[kLanes] = {}, acc_b[kLanes] = {};
  for (std::int64_t j0 = 0; j0 < length; j0 += kLanes)
    for (std::int64_t t = 0; t < kLanes; ++t) {
      acc_a[t] = madd<kFma>(a[j0 + t], x[j0 + t], acc_a[t]);
      acc_b[t] = madd<kFma>(b[j0 + t], x[j0 + t], acc_b[t]);
    }
  float total_a = 0.0f, total_b = 0.0f;
  for (std::int64_t t = 0; t < kLanes; ++t) {
    total_a += acc_a[t];
    total_b += acc_b[t];
  }
  sum_a += total_a;
  sum_b += total_b;
}

// Where z > 0 (inside the row): q1 = base, q2 = z - mean; elsewhere 0.
[[gnu::always_inline]] inline void active_terms(std::int64_t length, const float* __restrict z,
                                                const float* __restrict valid, float base, float mean,
                                                float* __restrict q1, float* __restrict q2) {
  for (std::int64_t j = 0; j < length; ++j) {
    const float on = z[j] > 0.0f ? valid[j] : 0.0f;
    q1[j] = on * base;
    q2[j] = on * (z[j] - mean);
  }
}

// The pooled gradient gp of one pair of rows back to the position each window chose in the forward pass: the first
// (in max_pool2d's scan order) largest relu(z) when the BatchNorm scale is >= 0, the first smallest otherwise. Where
// the chosen relu(z) is 0 (z <= 0) the ReLU stops the gradient, so only windows whose chosen z is positive add gp to
// q1; every window adds gp * xhat(chosen) to dgamma, returned. Branch-free, in contiguous scratch arrays
// (`scratch`: 5 * windows floats), so that it vectorises.
template <bool kFma>
[[gnu::always_inline]] inline double route_pooled_gradient(std::int64_t windows, const float* __restrict z0,
                                                           const float* __restrict z1, const float* __restrict gp,
                                                           bool up, float mean, float invstd, float* __restrict q1a,
                                                           float* __restrict q1b, float* __restrict scratch) {
  float* __restrict ga = scratch;
  float* __restrict gb = scratch + windows;
  float* __restrict gc = scratch + 2 * windows;
  float* __restrict gd = scratch + 3 * windows;
  float* __restrict dg = scratch + 4 * windows;
  const float sign = up ? 1.0f : -1.0f;  // the smallest z is the largest -z
  for (std::int64_t q = 0; q < windows; ++q) {
    const float a = sign * z0[2 * q], b = sign * z0[2 * q + 1], c = sign * z1[2 * q], d = sign * z1[2 * q + 1];
    const float m = std::max(std::max(a, b), std::max(c, d));
    const float r = std::max(sign * m, 0.0f);
    const float grad = gp[q];
    dg[q] = grad * ((r - mean) * invstd);
    const float g = r > 0.0f ? grad : 0.0f;
    // Bitwise, not short-circuit: no branches in the loop.
    const int at_a = a == m;
    const int at_b = (b == m) & !at_a;
    const int at_c = (c == m) & !(at_a | at_b);
    const int at_d = !(at_a | at_b | at_c);
    ga[q] = at_a ? g : 0.0f;
    gb[q] = at_b ? g : 0.0f;
    gc[q] = at_c ? g : 0.0f;
    gd[q] = at_d ? g : 0.0f;
  }
  for (std::int64_t q = 0; q < windows; ++q) {
    q1a[2 * q] += ga[q];
    q1a[2 * q + 1] += gb[q];
    q1b[2 * q] += gc[q];
    q1b[2 * q + 1] += gd[q];
  }
  float lanes[kLanes] = {};
  std::int64_t q = 0;
  for (; q + kLanes <= windows; q += kLanes)
    for (std::int64_t t = 0; t < kLanes; ++t) lanes[t] += dg[q + t];
  for (std::int64_t t = 0; q + t < windows; ++t) lanes[t] += dg[q + t];
  float sum = 0.0f;
  for (std::int64_t t = 0; t < kLanes; ++t) sum += lanes[t];
  return sum;
}

struct Inputs {
  const float* x;
  const float* weight;  // [channels, kh * kw]
  const float* bias;
};

// Pass 1: per item and channel, Σ relu(z) and Σ relu(z)² over the item's positions.
template <bool kFma>
[[gnu::always_inline]] inline void statistics_body(const Geometry& g, const Inputs& in, double* sums /*[items][2C]*/,
                                                   std::int64_t begin, std::int64_t end) {
  std::vector<float> valid(static_cast<std::size_t>(g.wpad), 0.0f);
  std::fill(valid.begin(), valid.begin() + g.wo, 1.0f);
  {
    std::vector<float> phases(static_cast<std::size_t>(g.kh * g.sw * g.phase_length));
    std::vector<float> z(static_cast<std::size_t>(g.wpad));
    for (std::int64_t item = begin; item < end; ++item) {
      const std::int64_t s = item / g.blocks, block = item % g.blocks;
      double* out = sums + item * 2 * g.channels;
      std::fill(out, out + 2 * g.channels, 0.0);
      for (std::int64_t row = block * kBlockRows; row < std::min(g.ho, (block + 1) * kBlockRows); ++row) {
        deinterleave(g, in.x + s * g.h * g.w, row, phases.data());
        for (std::int64_t c = 0; c < g.channels; ++c) {
          conv_row<kFma>(g, phases.data(), in.weight + c * g.taps(), in.bias[c], z.data());
          float sum[kLanes] = {}, squares[kLanes] = {};
          for (std::int64_t j0 = 0; j0 < g.wpad; j0 += kLanes)
            for (std::int64_t t = 0; t < kLanes; ++t) {
              const float r = std::max(z[static_cast<std::size_t>(j0 + t)], 0.0f) * valid[static_cast<std::size_t>(j0 + t)];
              sum[t] += r;
              squares[t] = madd<kFma>(r, r, squares[t]);
            }
          float row_sum = 0.0f, row_squares = 0.0f;
          for (std::int64_t t = 0; t < kLanes; ++t) {
            row_sum += sum[t];
            row_squares += squares[t];
          }
          out[c] += row_sum;
          out[g.channels + c] += row_squares;
        }
      }
    }
  }
}

// Pass 2: p = a * relu(z at the window's max (a >= 0) or min (a < 0)) + b, for every pooled position.
template <bool kFma>
[[gnu::always_inline]] inline void pool_body(const Geometry& g, const Inputs& in, const float* scale,
                                             const float* shift, float* output, std::int64_t begin, std::int64_t end) {
  {
    std::vector<float> phases0(static_cast<std::size_t>(g.kh * g.sw * g.phase_length)), phases1(phases0.size());
    std::vector<float> z0(static_cast<std::size_t>(g.wpad)), z1(z0.size());
    for (std::int64_t item = begin; item < end; ++item) {
      const std::int64_t s = item / g.blocks, block = item % g.blocks;
      const float* sample = in.x + s * g.h * g.w;
      for (std::int64_t pr = block * kBlockRows / 2; pr < std::min(g.hp, (block + 1) * kBlockRows / 2); ++pr) {
        deinterleave(g, sample, 2 * pr, phases0.data());
        deinterleave(g, sample, 2 * pr + 1, phases1.data());
        for (std::int64_t c = 0; c < g.channels; ++c) {
          conv_row<kFma>(g, phases0.data(), in.weight + c * g.taps(), in.bias[c], z0.data());
          conv_row<kFma>(g, phases1.data(), in.weight + c * g.taps(), in.bias[c], z1.data());
          const float a = scale[c], b = shift[c];
          float* out = output + ((s * g.channels + c) * g.hp + pr) * g.wp;
          const float* __restrict r0 = z0.data();
          const float* __restrict r1 = z1.data();
          if (a >= 0.0f) {
            for (std::int64_t q = 0; q < g.wp; ++q) {
              const float m = std::max(std::max(r0[2 * q], r0[2 * q + 1]), std::max(r1[2 * q], r1[2 * q + 1]));
              out[q] = madd<kFma>(a, std::max(m, 0.0f), b);
            }
          } else {
            for (std::int64_t q = 0; q < g.wp; ++q) {
              const float m = std::min(std::min(r0[2 * q], r0[2 * q + 1]), std::min(r1[2 * q], r1[2 * q + 1]));
              out[q] = madd<kFma>(a, std::max(m, 0.0f), b);
            }
          }
        }
      }
    }
  }
}

// The inference block of the music-tagging networks (conv_pool_relu): the convolution of the zero-padded
// input (so a valid one, as above, with stride 1), rows computed by conv_row, then a max-pool whose stride is
// its size, then ReLU. Work items are (sample, pooled row); the output is written channels-last, as the next
// convolution takes it.
struct Pooling {
  std::int64_t ph = 0, pw = 0;  // size (and stride)
  std::int64_t hp = 0, wp = 0;  // pooled output
};

template <bool kFma>
[[gnu::always_inline]] inline void conv_pool_relu_body(const Geometry& g, const Pooling& pool,
                                                       const float* padded, const float* weight,
                                                       const float* bias, float* output, std::int64_t begin,
                                                       std::int64_t end) {
  std::vector<float> phases(static_cast<std::size_t>(pool.ph * g.kh * g.phase_length));
  std::vector<float> z(static_cast<std::size_t>(g.wpad)), row_max(z.size());
  const std::int64_t columns = pool.wp * pool.pw;  // the convolution columns the pooling uses
  for (std::int64_t item = begin; item < end; ++item) {
    const std::int64_t sample = item / pool.hp, pooled_row = item % pool.hp;
    for (std::int64_t u = 0; u < pool.ph; ++u)
      deinterleave(g, padded + sample * g.h * g.w, pooled_row * pool.ph + u,
                   phases.data() + u * g.kh * g.phase_length);
    float* out = output + (sample * pool.hp + pooled_row) * pool.wp * g.channels;
    for (std::int64_t c = 0; c < g.channels; ++c) {
      for (std::int64_t u = 0; u < pool.ph; ++u) {
        conv_row<kFma>(g, phases.data() + u * g.kh * g.phase_length, weight + c * g.taps(), bias[c],
                       z.data());
        if (u == 0)
          std::copy_n(z.begin(), columns, row_max.begin());
        else
          for (std::int64_t j = 0; j < columns; ++j) row_max[j] = std::max(row_max[j], z[j]);
      }
      for (std::int64_t j = 0; j < pool.wp; ++j) {
        float best = 0.0f;  // ReLU: the maximum with 0
        for (std::int64_t v = 0; v < pool.pw; ++v) best = std::max(best, row_max[j * pool.pw + v]);
        out[j * g.channels + c] = best;
      }
    }
  }
}

// Backward: per item, for each channel: A[k], B[k] (k over taps, then the bias as tap kh*kw), and Σ g * xhat.
// partial layout per item: [channels][2 * (taps + 1) + 1].
template <bool kFma>
[[gnu::always_inline]] inline void backward_body(const Geometry& g, const Inputs& in, const float* grad /*[n,c,hp,wp]*/,
                                                 const float* scale, const float* mean, const float* invstd,
                                                 const float* dbeta, double* partial, std::int64_t begin,
                                                 std::int64_t end) {
  const std::int64_t taps = g.taps();
  const std::int64_t stride = 2 * (taps + 1) + 1;
  const double positions = static_cast<double>(g.n * g.ho * g.wo);
  std::vector<float> valid(static_cast<std::size_t>(g.wpad), 0.0f);
  std::fill(valid.begin(), valid.begin() + g.wo, 1.0f);
  {
    std::vector<float> phases0(static_cast<std::size_t>(g.kh * g.sw * g.phase_length)), phases1(phases0.size());
    std::vector<float> z0(static_cast<std::size_t>(g.wpad)), z1(z0.size());
    std::vector<float> q1a(z0.size()), q1b(z0.size()), q2a(z0.size()), q2b(z0.size());
    std::vector<float> ones(z0.size(), 1.0f);
    std::vector<float> route(static_cast<std::size_t>(5 * g.wp));
    for (std::int64_t item = begin; item < end; ++item) {
      const std::int64_t s = item / g.blocks, block = item % g.blocks;
      const float* sample = in.x + s * g.h * g.w;
      double* out = partial + item * g.channels * stride;
      std::fill(out, out + g.channels * stride, 0.0);
      const std::int64_t first = block * kBlockRows, last = std::min(g.ho, (block + 1) * kBlockRows);
      for (std::int64_t row = first; row < last; row += 2) {
        const bool pair = row + 1 < last && row / 2 < g.hp;  // rows 2pr, 2pr + 1 pool together
        deinterleave(g, sample, row, phases0.data());
        if (pair) deinterleave(g, sample, row + 1, phases1.data());
        for (std::int64_t c = 0; c < g.channels; ++c) {
          const float* weights = in.weight + c * g.taps();
          conv_row<kFma>(g, phases0.data(), weights, in.bias[c], z0.data());
          if (pair) conv_row<kFma>(g, phases1.data(), weights, in.bias[c], z1.data());
          const auto base = static_cast<float>(-static_cast<double>(dbeta[c]) / positions);
          const float mu = mean[c], is = invstd[c];
          active_terms(g.wpad, z0.data(), valid.data(), base, mu, q1a.data(), q2a.data());
          double dgamma = 0.0;
          if (pair) {
            active_terms(g.wpad, z1.data(), valid.data(), base, mu, q1b.data(), q2b.data());
            const float* gp = grad + ((s * g.channels + c) * g.hp + row / 2) * g.wp;
            dgamma = route_pooled_gradient<kFma>(g.wp, z0.data(), z1.data(), gp, scale[c] >= 0.0f, mu, is, q1a.data(),
                                                 q1b.data(), route.data());
          }
          double* o = out + c * stride;
          for (int half = 0; half < (pair ? 2 : 1); ++half) {
            const float* phases = half == 0 ? phases0.data() : phases1.data();
            const float* q1 = half == 0 ? q1a.data() : q1b.data();
            const float* q2 = half == 0 ? q2a.data() : q2b.data();
            for (std::int64_t k = 0; k < taps; ++k)
              dots<kFma>(q1, q2, phases + g.offsets[static_cast<std::size_t>(k)], g.wpad, o[k], o[taps + 1 + k]);
            dots<kFma>(q1, q2, ones.data(), g.wpad, o[taps], o[2 * taps + 1]);
          }
          o[2 * (taps + 1)] += dgamma;
        }
      }
    }
  }
}

// Each pass compiled twice: for AVX2 with FMA, and for the baseline x86-64 the build targets; chosen at run time.
// The work of a range of items is one function (no lambda inside), so that all of it gets the target's code.
#if defined(__x86_64__) && defined(__GNUC__)
#define TUNELENS_FUSED_AVX2 1
__attribute__((target("avx2,fma"))) void statistics_avx2(const Geometry& g, const Inputs& in, double* sums,
                                                         std::int64_t begin, std::int64_t end) {
  statistics_body<true>(g, in, sums, begin, end);
}
__attribute__((target("avx2,fma"))) void pool_avx2(const Geometry& g, const Inputs& in, const float* scale,
                                                   const float* shift, float* output, std::int64_t begin,
                                                   std::int64_t end) {
  pool_body<true>(g, in, scale, shift, output, begin, end);
}
__attribute__((target("avx2,fma"))) void backward_avx2(const Geometry& g, const Inputs& in, const float* grad,
                                                       const float* scale, const float* mean, const float* invstd,
                                                       const float* dbeta, double* partial, std::int64_t begin,
                                                       std::int64_t end) {
  backward_body<true>(g, in, grad, scale, mean, invstd, dbeta, partial, begin, end);
}
__attribute__((target("avx2,fma"))) void conv_pool_relu_avx2(const Geometry& g, const Pooling& pool,
                                                             const float* padded, const float* weight,
                                                             const float* bias, float* output,
                                                             std::int64_t begin, std::int64_t end) {
  conv_pool_relu_body<true>(g, pool, padded, weight, bias, output, begin, end);
}
bool use_avx2() {
  static const bool yes = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return yes;
}
#else
bool use_avx2() { return false; }
#endif

// Runs body(begin, end) over the items on libtorch's threads, handing out items one at a time: a thread the system
// holds back (other work on the machine) does not hold up the rest with a fixed share. The partial sums are per
// item, so the result is the same however the items fall on the threads.
template <typename Body>
void for_each_item(std::int64_t items, const Body& body) {
  std::atomic<std::int64_t> next{0};
  at::parallel_for(0, std::min<std::int64_t>(at::get_num_threads(), items), 1, [&](std::int64_t, std::int64_t) {
    for (std::int64_t item = next++; item < items; item = next++) body(item, item + 1);
  });
}

void statistics(const Geometry& g, const Inputs& in, double* sums) {
  for_each_item(g.items, [&](std::int64_t begin, std::int64_t end) {
#ifdef TUNELENS_FUSED_AVX2
    if (use_avx2()) return statistics_avx2(g, in, sums, begin, end);
#endif
    statistics_body<false>(g, in, sums, begin, end);
  });
}

void pool(const Geometry& g, const Inputs& in, const float* scale, const float* shift, float* output) {
  for_each_item(g.items, [&](std::int64_t begin, std::int64_t end) {
#ifdef TUNELENS_FUSED_AVX2
    if (use_avx2()) return pool_avx2(g, in, scale, shift, output, begin, end);
#endif
    pool_body<false>(g, in, scale, shift, output, begin, end);
  });
}

void backward_pass(const Geometry& g, const Inputs& in, const float* grad, const float* scale, const float* mean,
                   const float* invstd, const float* dbeta, double* partial) {
  for_each_item(g.items, [&](std::int64_t begin, std::int64_t end) {
#ifdef TUNELENS_FUSED_AVX2
    if (use_avx2()) return backward_avx2(g, in, grad, scale, mean, invstd, dbeta, partial, begin, end);
#endif
    backward_body<false>(g, in, grad, scale, mean, invstd, dbeta, partial, begin, end);
  });
}

void conv_pool_relu_items(const Geometry& g, const Pooling& pool, const float* padded, const float* weight,
                          const float* bias, float* output) {
  for_each_item(g.n * pool.hp, [&](std::int64_t begin, std::int64_t end) {
#ifdef TUNELENS_FUSED_AVX2
    if (use_avx2()) return conv_pool_relu_avx2(g, pool, padded, weight, bias, output, begin, end);
#endif
    conv_pool_relu_body<false>(g, pool, padded, weight, bias, output, begin, end);
  });
}

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// Autograd for the training-mode block. Inputs: x, weight, bias, gamma, beta; the batch statistics come back in
// `batch_mean` and `batch_var` (unbiased) for the caller to update the running averages.
class FusedBlock : public torch::autograd::Function<FusedBlock> {
 public:
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& x, const torch::Tensor& weight,
                               const torch::Tensor& bias, const torch::Tensor& gamma, const torch::Tensor& beta,
                               double eps, std::int64_t stride_h, std::int64_t stride_w, torch::Tensor batch_mean,
                               torch::Tensor batch_var) {
    const torch::Tensor xc = x.contiguous();
    const torch::Tensor wc = weight.contiguous();
    const torch::Tensor bc = bias.contiguous();
    const Geometry g(xc, wc, stride_h, stride_w);
    const Inputs in{xc.data_ptr<float>(), wc.data_ptr<float>(), bc.data_ptr<float>()};
    std::vector<double> sums(static_cast<std::size_t>(g.items * 2 * g.channels));
    statistics(g, in, sums.data());
    const double positions = static_cast<double>(g.n * g.ho * g.wo);
    torch::Tensor mean = torch::empty({g.channels}), invstd = torch::empty({g.channels});
    torch::Tensor scale = torch::empty({g.channels}), shift = torch::empty({g.channels});
    const torch::Tensor gm = gamma.detach().contiguous(), bt = beta.detach().contiguous();
    for (std::int64_t c = 0; c < g.channels; ++c) {
      double sum = 0.0, squares = 0.0;
      for (std::int64_t item = 0; item < g.items; ++item) {
        sum += sums[static_cast<std::size_t>(item * 2 * g.channels + c)];
        squares += sums[static_cast<std::size_t>(item * 2 * g.channels + g.channels + c)];
      }
      const double mu = sum / positions;
      const double var = std::max(0.0, squares / positions - mu * mu);
      const double is = 1.0 / std::sqrt(var + eps);
      mean[c] = static_cast<float>(mu);
      invstd[c] = static_cast<float>(is);
      const double a = gm[c].item<double>() * is;
      scale[c] = static_cast<float>(a);
      shift[c] = static_cast<float>(bt[c].item<double>() - mu * a);
      batch_mean[c] = static_cast<float>(mu);
      batch_var[c] = static_cast<float>(positions > 1 ? var * positions / (positions - 1) : var);
    }
    torch::Tensor output = torch::empty({g.n, g.channels, g.hp, g.wp});
    pool(g, in, scale.data_ptr<float>(), shift.data_ptr<float>(), output.data_ptr<float>());
    ctx->save_for_backward({xc, wc, bc, gm, mean, invstd, scale});
    ctx->saved_data["stride_h"] = stride_h;
    ctx->saved_data["stride_w"] = stride_w;
    return output;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grad_outputs) {
    const auto saved = ctx->get_saved_variables();
    const torch::Tensor &x = saved[0], &weight = saved[1], &bias = saved[2], &gamma = saved[3];
    const torch::Tensor &mean = saved[4], &invstd = saved[5], &scale = saved[6];
    const Geometry g(x, weight, ctx->saved_data["stride_h"].toInt(), ctx->saved_data["stride_w"].toInt());
    const torch::Tensor grad = grad_outputs[0].contiguous();
    const torch::Tensor dbeta = grad.sum({0, 2, 3}).contiguous();
    const std::int64_t taps = g.taps(), stride = 2 * (taps + 1) + 1;
    std::vector<double> partial(static_cast<std::size_t>(g.items * g.channels * stride));
    const Inputs in{x.data_ptr<float>(), weight.data_ptr<float>(), bias.data_ptr<float>()};
    backward_pass(g, in, grad.data_ptr<float>(), scale.data_ptr<float>(), mean.data_ptr<float>(),
                  invstd.data_ptr<float>(), dbeta.data_ptr<float>(), partial.data());
    std::vector<double> total(static_cast<std::size_t>(g.channels * stride), 0.0);
    for (std::int64_t item = 0; item < g.items; ++item)
      for (std::int64_t k = 0; k < g.channels * stride; ++k)
        total[static_cast<std::size_t>(k)] += partial[static_cast<std::size_t>(item * g.channels * stride + k)];
    const double positions = static_cast<double>(g.n * g.ho * g.wo);
    torch::Tensor dweight = torch::empty(weight.sizes()), dbias = torch::empty(bias.sizes());
    torch::Tensor dgamma = torch::empty({g.channels});
    float* dw = dweight.data_ptr<float>();
    for (std::int64_t c = 0; c < g.channels; ++c) {
      const double* t = total.data() + c * stride;
      const double is = invstd[c].item<double>();
      const double k1 = gamma[c].item<double>() * is;
      const double dg = t[2 * (taps + 1)];
      const double k2 = is * dg / positions;
      for (std::int64_t k = 0; k < taps; ++k) dw[c * taps + k] = static_cast<float>(k1 * (t[k] - k2 * t[taps + 1 + k]));
      dbias[c] = static_cast<float>(k1 * (t[taps] - k2 * t[2 * taps + 1]));
      dgamma[c] = static_cast<float>(dg);
    }
    return {torch::Tensor(), dweight, dbias, dgamma, dbeta, torch::Tensor(), torch::Tensor(), torch::Tensor(),
            torch::Tensor(), torch::Tensor()};
  }
};

std::pair<std::int64_t, std::int64_t> strides(const torch::nn::Conv2d& conv) {
  const auto& s = conv->options.stride();
  return {s->at(0), s->at(1)};
}

}  // namespace

bool fused_block_applies(const torch::Tensor& input, const torch::nn::Conv2d& conv) {
  const auto& o = conv->options;
  const auto* padding = c10::get_if<torch::ExpandingArray<2>>(&o.padding());
  if (!input.device().is_cpu() || input.scalar_type() != torch::kFloat32 || input.dim() != 4 || input.size(1) != 1 ||
      o.in_channels() != 1 || o.groups() != 1 || !o.bias() || !padding || (*padding)->at(0) != 0 ||
      (*padding)->at(1) != 0 || o.dilation()->at(0) != 1 || o.dilation()->at(1) != 1 ||
      conv->weight.scalar_type() != torch::kFloat32 || !conv->weight.device().is_cpu())
    return false;
  const std::int64_t ho = (input.size(2) - o.kernel_size()->at(0)) / o.stride()->at(0) + 1;
  const std::int64_t wo = (input.size(3) - o.kernel_size()->at(1)) / o.stride()->at(1) + 1;
  return input.size(2) >= o.kernel_size()->at(0) && input.size(3) >= o.kernel_size()->at(1) && ho >= 2 && wo >= 2 &&
         input.size(0) > 0;
}

torch::Tensor conv_relu_norm_pool(const torch::Tensor& input, torch::nn::Conv2d& conv, torch::nn::BatchNorm2d& bn,
                                  bool training) {
  const auto [sh, sw] = strides(conv);
  const auto& options = bn->options;
  if (training) {
    torch::Tensor batch_mean = torch::empty({conv->options.out_channels()});
    torch::Tensor batch_var = torch::empty({conv->options.out_channels()});
    torch::Tensor output = FusedBlock::apply(input, conv->weight, conv->bias, bn->weight, bn->bias, options.eps(), sh,
                                             sw, batch_mean, batch_var);
    if (options.track_running_stats()) {
      torch::NoGradGuard no_grad;
      bn->num_batches_tracked += 1;
      const double momentum =
          options.momentum() ? *options.momentum() : 1.0 / static_cast<double>(bn->num_batches_tracked.item<std::int64_t>());
      bn->running_mean.mul_(1.0 - momentum).add_(batch_mean, momentum);
      bn->running_var.mul_(1.0 - momentum).add_(batch_var, momentum);
    }
    return output;
  }
  // Evaluation: the running statistics, no autograd (the parameters of a network in evaluation mode are not
  // learning; a caller that needs gradients here gets the plain layers).
  if (torch::GradMode::is_enabled() && (conv->weight.requires_grad() || bn->weight.requires_grad()))
    return torch::max_pool2d(bn->forward(torch::relu(conv->forward(input))), 2);
  torch::NoGradGuard no_grad;
  const torch::Tensor x = input.contiguous(), weight = conv->weight.contiguous(), bias = conv->bias.contiguous();
  const Geometry g(x, weight, sh, sw);
  const torch::Tensor scale = (bn->weight / torch::sqrt(bn->running_var + options.eps())).contiguous();
  const torch::Tensor shift = (bn->bias - bn->running_mean * scale).contiguous();
  torch::Tensor output = torch::empty({g.n, g.channels, g.hp, g.wp});
  const Inputs in{x.data_ptr<float>(), weight.data_ptr<float>(), bias.data_ptr<float>()};
  pool(g, in, scale.data_ptr<float>(), shift.data_ptr<float>(), output.data_ptr<float>());
  return output;
}

bool conv_pool_relu_applies(const torch::Tensor& input, const torch::Tensor& weight,
                            std::array<std::int64_t, 2> pooling) {
  return input.device().is_cpu() && input.scalar_type() == torch::kFloat32 && input.dim() == 4 &&
         input.size(1) == 1 && weight.dim() == 4 && weight.size(1) == 1 && weight.size(2) % 2 == 1 &&
         weight.size(3) % 2 == 1 && weight.scalar_type() == torch::kFloat32 && input.size(0) > 0 &&
         input.size(2) >= pooling[0] && input.size(3) >= pooling[1];
}

torch::Tensor conv_pool_relu(const torch::Tensor& input, const torch::Tensor& weight,
                             const torch::Tensor& bias, std::array<std::int64_t, 2> pooling) {
  const std::int64_t pad_h = weight.size(2) / 2, pad_w = weight.size(3) / 2;
  const torch::Tensor padded = torch::constant_pad_nd(input, {pad_w, pad_w, pad_h, pad_h}).contiguous();
  const torch::Tensor w = weight.contiguous(), b = bias.contiguous();
  const Geometry g(padded, w, 1, 1);
  const Pooling pool{pooling[0], pooling[1], g.ho / pooling[0], g.wo / pooling[1]};
  torch::Tensor output = torch::empty({g.n, g.channels, pool.hp, pool.wp},
                                      input.options().memory_format(torch::MemoryFormat::ChannelsLast));
  conv_pool_relu_items(g, pool, padded.data_ptr<float>(), w.data_ptr<float>(), b.data_ptr<float>(),
                       output.data_ptr<float>());
  return output;
}

}  // namespace tunelens::model
