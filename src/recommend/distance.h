// Distance kernels of the vector indexes (internal to src/recommend).
//
// Vectors reach these kernels "prepared" (prepare_vectors): L2-normalised for cosine, scaled to sum 1 for js.
// The kernels are compiled for three x86-64 levels (AVX-512, AVX2+FMA, baseline SSE2) and the best one the
// CPU runs is picked at run time, so one binary is fast on new machines and still runs on old ones.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "recommend/index.h"

namespace tunelens::recommend_detail {

// Rows of the database per panel: a panel stores 16 vectors transposed, dimension by dimension
// (panel[k * 16 + lane] is dimension k of row `lane`), so a kernel reads 16 rows with one vector load.
inline constexpr std::size_t kPanelRows = 16;
// panel_distances() takes queries in multiples of this many rows and panels in multiples of kPanelGroup.
inline constexpr std::size_t kQueryGroup = 8;
inline constexpr std::size_t kPanelGroup = 2;

// One pair of prepared vectors.
float sqeuclidean_distance(const float* a, const float* b, std::size_t dim);
float cosine_distance(const float* a, const float* b, std::size_t dim);  // 1 - a·b
float js_divergence(const float* p, const float* q, std::size_t dim);    // nats

// The same in hnswlib's calling convention (DISTFUNC<float>): `dim` points to the dimension as a std::size_t.
float sqeuclidean_space_distance(const void* a, const void* b, const void* dim);
float cosine_space_distance(const void* a, const void* b, const void* dim);
float js_space_distance(const void* a, const void* b, const void* dim);

// Distances of `nq` queries (row-major, nq a multiple of kQueryGroup) to the rows of `npanels` consecutive
// panels (a multiple of kPanelGroup), written to out[q * out_stride + row]. For sqeuclidean, qnorms[q] and
// xnorms[row] are the squared norms and the distance is |q|² + |x|² - 2 q·x (clamped at 0); for cosine 1 -
// q·x; for js the divergence computed element by element (norms unused).
void panel_distances(Metric metric, const float* queries, std::size_t nq, const float* qnorms,
                     const float* panels, std::size_t npanels, const float* xnorms, std::size_t dim,
                     float* out, std::size_t out_stride);

// Which kernel panel_distances() and the pairwise distances use on this CPU: "avx512", "avx2" or "sse2".
std::string_view kernel_level();

// Checks `values` (a multiple of dim) and writes them prepared for `metric` to `out`. Throws IndexError
// (Invalid) naming `what` ("vector" or "query") and its row for a NaN or infinity, and for js a negative
// entry or a row summing to zero. A zero vector under cosine stays zero (distance 1 to everything).
void prepare_vectors(Metric metric, std::size_t dim, std::span<const float> values, const char* what,
                     std::vector<float>& out);

float squared_norm(const float* a, std::size_t dim);

// Product quantisation (ivf-pq): M sub-quantizers of kPqCentroids centroids, each over dsub dimensions.
inline constexpr std::size_t kPqCentroids = 256;

// The distance table of one residual r (M·dsub values) for asymmetric distances: table[m·256 + c] =
// |centroid c of m|² − 2 r_m·centroid c of m, from the codebooks laid out by column, columns[(m·dsub + j)·256 +
// c] = dimension j of centroid c of m, and their squared norms norms[m·256 + c] (nullptr: the norms left out,
// table[m·256 + c] = −2 r_m·centroid c of m). |r − decoded code|² is then |r|² + Σ_m table[m·256 + code[m]].
void pq_distance_table(const float* residual, const float* columns, const float* norms, std::size_t M,
                       std::size_t dsub, float* table);

// out[i] = base + Σ_m table[m·256 + codes[i·M + m]] for n codes of M bytes.
void pq_code_distances(const float* table, const std::uint8_t* codes, std::size_t n, std::size_t M,
                       float base, float* out);

}  // namespace tunelens::recommend_detail
