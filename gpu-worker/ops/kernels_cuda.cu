// The fused ops on CUDA: memory-bound kernels, one pass over their tensors each, launched on
// onnxruntime's compute stream (so they are captured with the rest of a CUDA graph). fp16 in
// and out as half2, float32 inside; the arithmetic is kernels_cpu.cc's.
#include <algorithm>

#ifndef DITSERVE_NO_CUBLASLT
#include <cublasLt.h>
#endif
#include <cuda_fp16.h>
#include <cuda_fp8.h>
#include <cuda_runtime.h>

#include <map>
#include <tuple>

#include "kernels.h"

namespace {

__device__ __forceinline__ float warp_sum(float v) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}

// Loads of 16 bytes (8 fp16 values) and their float arithmetic. The kernels below issue every
// load of a row before their first store (all pointers __restrict__): an earlier version loaded
// and stored in turn, and the compiler, unable to rule out aliasing, kept each load waiting on the
// store before it, so a warp had one 128-byte load in flight at a time (the SD3 profile's norms ran
// at a quarter of the memory bandwidth).
struct F8 {
  float v[8];
};

__device__ __forceinline__ F8 unpack8(const uint4& u) {
  const half2* h = reinterpret_cast<const half2*>(&u);
  F8 f;
#pragma unroll
  for (int j = 0; j < 4; j++) {
    const float2 t = __half22float2(h[j]);
    f.v[2 * j] = t.x;
    f.v[2 * j + 1] = t.y;
  }
  return f;
}

__device__ __forceinline__ F8 load8(const uint4* __restrict__ p, int64_t i) { return unpack8(__ldg(p + i)); }

__device__ __forceinline__ uint4 pack8(const F8& f) {
  uint4 u;
  half2* h = reinterpret_cast<half2*>(&u);
#pragma unroll
  for (int j = 0; j < 4; j++) h[j] = __float22half2_rn(make_float2(f.v[2 * j], f.v[2 * j + 1]));
  return u;
}

__device__ __forceinline__ uint2 pack8_e4m3(const F8& f, float inv) {
  __nv_fp8x2_storage_t q[4];
#pragma unroll
  for (int j = 0; j < 4; j++)
    q[j] = __nv_cvt_float2_to_fp8x2(make_float2(f.v[2 * j] * inv, f.v[2 * j + 1] * inv), __NV_SATFINITE, __NV_E4M3);
  return make_uint2(q[0] | (static_cast<uint32_t>(q[1]) << 16), q[2] | (static_cast<uint32_t>(q[3]) << 16));
}

// Eight lanes per (batch, token, head), four heads a warp: lane g of a group holds the 8-value
// chunks g, g + 8, ... (W = head_dim / 64 of them) of each of q, k and v.
template <int W>
__global__ void joint_qkv_kernel(const JointQkvArgs a) {
  const int64_t item = (static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x) >> 3;
  const int g = threadIdx.x & 7;
  const int64_t total = a.tokens[0] + a.tokens[1];
  // Lanes past the end still take part in the group's shuffles; they load and store nothing.
  const bool valid = item < a.batch * total * a.heads;
  const int64_t it = valid ? item : 0;
  const int64_t h = it % a.heads, t = (it / a.heads) % total, b = it / (a.heads * total);
  const int s = t < a.tokens[0] ? 0 : 1;
  const int64_t ts = s ? t - a.tokens[0] : t;
  const int64_t hidden = a.heads * a.head_dim;
  const uint4* __restrict__ src = reinterpret_cast<const uint4*>(a.qkv[s]) + (b * a.tokens[s] + ts) * 3 * hidden / 8;
  const uint4* __restrict__ bias = reinterpret_cast<const uint4*>(a.bias[s]);
  F8 v[3][W];
#pragma unroll
  for (int which = 0; which < 3; which++)
#pragma unroll
    for (int w = 0; w < W; w++) {
      const int64_t i = (which * hidden + h * a.head_dim) / 8 + g + 8 * w;
      const F8 x = valid ? load8(src, i) : F8{}, c = valid ? load8(bias, i) : F8{};
#pragma unroll
      for (int j = 0; j < 8; j++) v[which][w].v[j] = x.v[j] + c.v[j];
    }
  const int64_t dst = ((b * total + t) * hidden + h * a.head_dim) / 8;
#pragma unroll
  for (int which = 0; which < 3; which++) {
    float squares = 0.f;
#pragma unroll
    for (int w = 0; w < W; w++)
#pragma unroll
      for (int j = 0; j < 8; j++) {
        squares += v[which][w].v[j] * v[which][w].v[j];
      }
    if (which < 2) {
#pragma unroll
      for (int o = 4; o > 0; o >>= 1) squares += __shfl_xor_sync(0xffffffffu, squares, o);
      const float r = rsqrtf(squares / a.head_dim + a.epsilon);
      const uint4* __restrict__ weight = reinterpret_cast<const uint4*>(which == 0 ? a.q_weight[s] : a.k_weight[s]);
#pragma unroll
      for (int w = 0; w < W; w++) {
        const F8 gw = valid ? load8(weight, g + 8 * w) : F8{};
#pragma unroll
        for (int j = 0; j < 8; j++) v[which][w].v[j] = v[which][w].v[j] * r * gw.v[j];
      }
    }
    uint4* __restrict__ out = reinterpret_cast<uint4*>(which == 0 ? a.q : which == 1 ? a.k : a.v);
    if (valid)
#pragma unroll
      for (int w = 0; w < W; w++) out[dst + g + 8 * w] = pack8(v[which][w]);
  }
}

__global__ void gate_kernel(GateArgs a) {
  const int64_t pairs = a.batch * a.rows * a.dim / 2, dim2 = a.dim / 2, per_batch = a.rows * dim2;
  const half2* x = reinterpret_cast<const half2*>(a.x);
  const half2* y = reinterpret_cast<const half2*>(a.y);
  const half2* bias = reinterpret_cast<const half2*>(a.bias);
  const half2* gate = reinterpret_cast<const half2*>(a.gate);
  half2* out = reinterpret_cast<half2*>(a.out);
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < pairs;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t c = i % dim2, b = i / per_batch;
    const float2 xv = __half22float2(x[i]), yv = __half22float2(y[i]), bv = __half22float2(bias[c]),
                 g = __half22float2(gate[b * dim2 + c]);
    out[i] = __float22half2_rn(make_float2(xv.x + g.x * (yv.x + bv.x), xv.y + g.y * (yv.y + bv.y)));
  }
}

// One warp per row; lane l holds the 8-value chunks l, l + 32, ... (V of them at most: dim <= 256 V).
// E4M3: h as E4M3 bytes, h / h_scale (GateResidualNormFp8).
template <int V, bool E4M3>
__global__ void gate_norm_kernel(const GateArgs a) {
  const int64_t row = (static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x) >> 5;
  const int lane = threadIdx.x & 31;
  if (row >= a.batch * a.rows) return;
  const int64_t b = row / a.rows, dim8 = a.dim / 8, off = row * dim8;
  const int n = static_cast<int>(dim8);
  const uint4* __restrict__ x = reinterpret_cast<const uint4*>(a.x) + off;
  const uint4* __restrict__ y = reinterpret_cast<const uint4*>(a.y) + off;
  const uint4* __restrict__ bias = reinterpret_cast<const uint4*>(a.bias);
  const uint4* __restrict__ gate = reinterpret_cast<const uint4*>(a.gate) + b * dim8;
  const uint4* __restrict__ shift = reinterpret_cast<const uint4*>(a.shift) + b * dim8;
  const uint4* __restrict__ scale = reinterpret_cast<const uint4*>(a.scale) + b * dim8;
  F8 v[V];
#pragma unroll
  for (int j = 0; j < V; j++) {
    const int c = lane + 32 * j;
    if (c < n) {
      const F8 xv = load8(x, c), yv = load8(y, c), bv = load8(bias, c), g = load8(gate, c);
#pragma unroll
      for (int k = 0; k < 8; k++) v[j].v[k] = xv.v[k] + g.v[k] * (yv.v[k] + bv.v[k]);
    }
  }
  uint4* __restrict__ out = reinterpret_cast<uint4*>(a.out) + off;
  float sum = 0.f;
#pragma unroll
  for (int j = 0; j < V; j++) {
    const int c = lane + 32 * j;
    if (c < n) {
      const uint4 r = pack8(v[j]);
      out[c] = r;
      v[j] = unpack8(r);  // the norm reads the residual as stored (fp16), as the model does
#pragma unroll
      for (int k = 0; k < 8; k++) sum += v[j].v[k];
    }
  }
  const float mean = warp_sum(sum) / a.dim;
  float var = 0.f;
#pragma unroll
  for (int j = 0; j < V; j++)
    if (lane + 32 * j < n)
#pragma unroll
      for (int k = 0; k < 8; k++) var += (v[j].v[k] - mean) * (v[j].v[k] - mean);
  const float inv = rsqrtf(warp_sum(var) / a.dim + a.epsilon);
  const float h_inv = E4M3 ? 1.f / a.h_scale : 0.f;
#pragma unroll
  for (int j = 0; j < V; j++) {
    const int c = lane + 32 * j;
    if (c < n) {
      const F8 sc = load8(scale, c), sh = load8(shift, c);
      F8 o;
#pragma unroll
      for (int k = 0; k < 8; k++) o.v[k] = (v[j].v[k] - mean) * inv * (1.f + sc.v[k]) + sh.v[k];
      if constexpr (E4M3)
        reinterpret_cast<uint2*>(a.h)[off + c] = pack8_e4m3(o, h_inv);
      else
        reinterpret_cast<uint4*>(a.h)[off + c] = pack8(o);
    }
  }
}

constexpr int kThreads = 256;

template <bool E4M3>
void launch_gate_norm(const GateArgs& a, int64_t n, unsigned blocks, cudaStream_t s) {
  if (n <= 1) gate_norm_kernel<1, E4M3><<<blocks, kThreads, 0, s>>>(a);
  else if (n <= 2) gate_norm_kernel<2, E4M3><<<blocks, kThreads, 0, s>>>(a);
  else if (n <= 4) gate_norm_kernel<4, E4M3><<<blocks, kThreads, 0, s>>>(a);
  else if (n <= 6) gate_norm_kernel<6, E4M3><<<blocks, kThreads, 0, s>>>(a);
  else if (n <= 8) gate_norm_kernel<8, E4M3><<<blocks, kThreads, 0, s>>>(a);
  else gate_norm_kernel<16, E4M3><<<blocks, kThreads, 0, s>>>(a);
}

const char* launched(const char* what) {
  const cudaError_t e = cudaGetLastError();
  return e == cudaSuccess ? nullptr : what;
}

}  // namespace

const char* joint_qkv_norm(const JointQkvArgs& a, void* stream) {
  const int64_t groups = a.batch * (a.tokens[0] + a.tokens[1]) * a.heads;  // 8 lanes each
  const unsigned blocks = static_cast<unsigned>((groups * 8 + kThreads - 1) / kThreads);
  cudaStream_t s = static_cast<cudaStream_t>(stream);
  switch (a.head_dim) {
    case 64: joint_qkv_kernel<1><<<blocks, kThreads, 0, s>>>(a); break;
    case 128: joint_qkv_kernel<2><<<blocks, kThreads, 0, s>>>(a); break;
    case 192: joint_qkv_kernel<3><<<blocks, kThreads, 0, s>>>(a); break;
    case 256: joint_qkv_kernel<4><<<blocks, kThreads, 0, s>>>(a); break;
    default: return "the CUDA kernel needs head_dim 64, 128, 192 or 256";
  }
  return launched("the JointQkvNorm kernel did not launch");
}

const char* gate_residual(const GateArgs& a, void* stream) {
  cudaStream_t s = static_cast<cudaStream_t>(stream);
  if (!a.h) {
    if (a.dim % 2 != 0) return "the CUDA kernel needs an even dim";
    const int64_t pairs = a.batch * a.rows * a.dim / 2;
    const unsigned blocks = static_cast<unsigned>(std::min<int64_t>((pairs + kThreads - 1) / kThreads, 65535 * 8));
    gate_kernel<<<blocks, kThreads, 0, s>>>(a);
    return launched("the GateResidual kernel did not launch");
  }
  if (a.dim % 8 != 0 || a.dim > 4096) return "the CUDA kernel needs dim a multiple of 8, at most 4096";
  const int64_t rows = a.batch * a.rows;
  const unsigned blocks = static_cast<unsigned>((rows * 32 + kThreads - 1) / kThreads);
  const int64_t n = (a.dim / 8 + 31) / 32;  // 8-value chunks a lane
  if (a.h_scale > 0) launch_gate_norm<true>(a, n, blocks, s);
  else launch_gate_norm<false>(a, n, blocks, s);
  return launched("the GateResidualNorm kernel did not launch");
}

#ifndef DITSERVE_NO_CUBLASLT
// LinearGelu: one cuBLASLt GEMM with the bias and tanh-GELU in its epilogue, so the activation
// never makes a pass of its own. Row-major y = x · wᵀ is, column-major, yᵀ = w(ᵀ) · xᵀ: A = the
// weight transposed ("T"), B = x ("N"), the TN layout cuBLASLt has every kernel for.
namespace {

constexpr size_t kWorkspace = 8u << 20;

struct Plan {
  cublasLtMatmulDesc_t op = nullptr;
  cublasLtMatrixLayout_t a = nullptr, b = nullptr, c = nullptr, d = nullptr;  // c: null when C is D
  cublasLtMatmulAlgo_t algo{};
};

struct LinearState {
  cublasLtHandle_t handle = nullptr;
  void* workspace = nullptr;
  void* xq = nullptr;  // the FP8 ops' quantized input, grown on a run that is not being captured
  size_t xq_bytes = 0;
  float* d_scale = nullptr;  // LinearGeluFp8Out's 1 / y_scale, on the device (cuBLASLt reads it there)
  std::map<std::tuple<int, int64_t, int64_t, int64_t>, Plan> plans;  // by kind, rows, in, out
};

enum Kind { kGeluFp16, kFp8, kGeluFp8, kGeluFp8Out };

const char* plan_for(LinearState& s, Kind kind, int64_t rows, int64_t in, int64_t out, Plan** result) {
  const auto key = std::make_tuple(static_cast<int>(kind), rows, in, out);
  auto it = s.plans.find(key);
  if (it != s.plans.end()) {
    *result = &it->second;
    return nullptr;
  }
  Plan p;
  const cublasOperation_t t = CUBLAS_OP_T, n = CUBLAS_OP_N;
  const cublasLtEpilogue_t epilogue = kind == kFp8 ? CUBLASLT_EPILOGUE_DEFAULT : CUBLASLT_EPILOGUE_GELU_BIAS;
  const cudaDataType_t bias_type = CUDA_R_16F, operand = kind == kGeluFp16 ? CUDA_R_16F : CUDA_R_8F_E4M3;
  const int8_t fast_accumulate = 1;  // no periodic promotion of FP8 partial sums: K is at most a few thousand
  if (cublasLtMatmulDescCreate(&p.op, CUBLAS_COMPUTE_32F, CUDA_R_32F) != CUBLAS_STATUS_SUCCESS ||
      cublasLtMatmulDescSetAttribute(p.op, CUBLASLT_MATMUL_DESC_TRANSA, &t, sizeof t) != CUBLAS_STATUS_SUCCESS ||
      cublasLtMatmulDescSetAttribute(p.op, CUBLASLT_MATMUL_DESC_TRANSB, &n, sizeof n) != CUBLAS_STATUS_SUCCESS ||
      cublasLtMatmulDescSetAttribute(p.op, CUBLASLT_MATMUL_DESC_EPILOGUE, &epilogue, sizeof epilogue) !=
          CUBLAS_STATUS_SUCCESS ||
      cublasLtMatmulDescSetAttribute(p.op, CUBLASLT_MATMUL_DESC_BIAS_DATA_TYPE, &bias_type, sizeof bias_type) !=
          CUBLAS_STATUS_SUCCESS ||
      (kind != kGeluFp16 &&
       cublasLtMatmulDescSetAttribute(p.op, CUBLASLT_MATMUL_DESC_FAST_ACCUM, &fast_accumulate,
                                      sizeof fast_accumulate) != CUBLAS_STATUS_SUCCESS) ||
      (kind == kGeluFp8Out &&
       cublasLtMatmulDescSetAttribute(p.op, CUBLASLT_MATMUL_DESC_D_SCALE_POINTER, &s.d_scale, sizeof s.d_scale) !=
           CUBLAS_STATUS_SUCCESS))
    return "cuBLASLt refused the GEMM description";
  // E4M3 output: C (unread, beta = 0) keeps fp16, the type cuBLASLt pairs with an FP8 D.
  if (cublasLtMatrixLayoutCreate(&p.a, operand, in, out, in) != CUBLAS_STATUS_SUCCESS ||
      cublasLtMatrixLayoutCreate(&p.b, operand, in, rows, in) != CUBLAS_STATUS_SUCCESS ||
      cublasLtMatrixLayoutCreate(&p.d, kind == kGeluFp8Out ? CUDA_R_8F_E4M3 : CUDA_R_16F, out, rows, out) !=
          CUBLAS_STATUS_SUCCESS ||
      (kind == kGeluFp8Out && cublasLtMatrixLayoutCreate(&p.c, CUDA_R_16F, out, rows, out) != CUBLAS_STATUS_SUCCESS))
    return "cuBLASLt refused a matrix layout";
  cublasLtMatmulPreference_t pref = nullptr;
  cublasLtMatmulHeuristicResult_t found_algo{};
  int found = 0;
  const size_t ws = kWorkspace;
  if (cublasLtMatmulPreferenceCreate(&pref) != CUBLAS_STATUS_SUCCESS ||
      cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &ws, sizeof ws) !=
          CUBLAS_STATUS_SUCCESS ||
      cublasLtMatmulAlgoGetHeuristic(s.handle, p.op, p.a, p.b, p.c ? p.c : p.d, p.d, pref, 1, &found_algo, &found) !=
          CUBLAS_STATUS_SUCCESS ||
      found == 0) {
    if (pref) cublasLtMatmulPreferenceDestroy(pref);
    return kind == kGeluFp16 ? "cuBLASLt has no kernel for this GEMM with a GELU epilogue"
                             : "cuBLASLt has no FP8 kernel for this GEMM (it needs compute capability 8.9 or 9.0+)";
  }
  cublasLtMatmulPreferenceDestroy(pref);
  p.algo = found_algo.algo;
  *result = &s.plans.emplace(key, p).first->second;
  return nullptr;
}

const char* gemm(LinearState& s, Plan& p, float alpha, const void* a, const void* b, const void* bias, void* d,
                 cudaStream_t stream) {
  if (bias && cublasLtMatmulDescSetAttribute(p.op, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &bias, sizeof bias) !=
                  CUBLAS_STATUS_SUCCESS)
    return "cuBLASLt refused the bias";
  const float zero = 0.f;
  // C is not read (beta = 0); with an E4M3 D it has a layout of its own, and no buffer.
  if (cublasLtMatmul(s.handle, p.op, &alpha, a, p.a, b, p.b, &zero, p.c ? nullptr : d, p.c ? p.c : p.d, d, p.d,
                     &p.algo, s.workspace, kWorkspace, stream) != CUBLAS_STATUS_SUCCESS)
    return "cuBLASLt's GEMM failed";
  return nullptr;
}

// x / x_scale to E4M3 (saturating, ties to even): 8 values a thread, 16 bytes in and 8 out.
__global__ void quantize_e4m3_kernel(const uint4* x, uint2* out, int64_t groups, float inv) {
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < groups;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    out[i] = pack8_e4m3(unpack8(x[i]), inv);
  }
}

}  // namespace

void* linear_state_create(const char** error) {
  auto* s = new LinearState();
  if (cublasLtCreate(&s->handle) != CUBLAS_STATUS_SUCCESS) {
    delete s;
    *error = "cuBLASLt could not start";
    return nullptr;
  }
  // Allocated once, with the session: a CUDA graph cannot capture an allocation.
  if (cudaMalloc(&s->workspace, kWorkspace) != cudaSuccess) {
    cublasLtDestroy(s->handle);
    delete s;
    *error = "no device memory for the GEMM workspace";
    return nullptr;
  }
  return s;
}

void linear_state_destroy(void* state) {
  auto* s = static_cast<LinearState*>(state);
  if (!s) return;
  for (auto& [key, p] : s->plans) {
    cublasLtMatrixLayoutDestroy(p.a);
    cublasLtMatrixLayoutDestroy(p.b);
    if (p.c) cublasLtMatrixLayoutDestroy(p.c);
    cublasLtMatrixLayoutDestroy(p.d);
    cublasLtMatmulDescDestroy(p.op);
  }
  cudaFree(s->workspace);
  cudaFree(s->xq);
  cudaFree(s->d_scale);
  cublasLtDestroy(s->handle);
  delete s;
}

const char* linear_gelu(const LinearArgs& a, void* state, void* stream) {
  auto* s = static_cast<LinearState*>(state);
  if (!s) return "no GEMM state";
  Plan* p = nullptr;
  if (const char* e = plan_for(*s, kGeluFp16, a.rows, a.in, a.out, &p)) return e;
  return gemm(*s, *p, 1.f, a.weight, a.x, a.bias, a.y, static_cast<cudaStream_t>(stream));
}

const char* linear_fp8(const Fp8LinearArgs& a, void* state, void* stream) {
  auto* s = static_cast<LinearState*>(state);
  if (!s) return "no GEMM state";
  cudaStream_t st = static_cast<cudaStream_t>(stream);
  const size_t bytes = a.x_e4m3 ? 0 : static_cast<size_t>(a.rows * a.in);
  if (bytes > s->xq_bytes || (a.y_scale > 0 && !s->d_scale)) {
    // Only on a run that is not being captured (onnxruntime runs a graph once before it captures).
    cudaStreamCaptureStatus capturing = cudaStreamCaptureStatusNone;
    if (cudaStreamIsCapturing(st, &capturing) != cudaSuccess || capturing != cudaStreamCaptureStatusNone)
      return "the FP8 buffers would have to grow while a CUDA graph is captured";
    if (cudaStreamSynchronize(st) != cudaSuccess) return "the stream failed";
  }
  if (bytes > s->xq_bytes) {
    cudaFree(s->xq);
    s->xq = nullptr;
    s->xq_bytes = 0;
    if (cudaMalloc(&s->xq, bytes) != cudaSuccess) return "no device memory for the quantized input";
    s->xq_bytes = bytes;
  }
  if (a.y_scale > 0 && !s->d_scale) {
    const float inv = 1.f / a.y_scale;
    if (cudaMalloc(&s->d_scale, sizeof inv) != cudaSuccess ||
        cudaMemcpy(s->d_scale, &inv, sizeof inv, cudaMemcpyHostToDevice) != cudaSuccess)
      return "no device memory for the output scale";
  }
  Plan* p = nullptr;
  const Kind kind = !a.gelu ? kFp8 : a.y_scale > 0 ? kGeluFp8Out : kGeluFp8;
  if (const char* e = plan_for(*s, kind, a.rows, a.in, a.out, &p)) return e;
  if (a.x_e4m3) return gemm(*s, *p, a.x_scale * a.w_scale, a.weight, a.x, a.gelu ? a.bias : nullptr, a.y, st);
  const int64_t groups = a.rows * a.in / 8;  // in is a multiple of 16 (ops.cc)
  const unsigned blocks = static_cast<unsigned>(std::min<int64_t>((groups + kThreads - 1) / kThreads, 65535 * 8));
  quantize_e4m3_kernel<<<blocks, kThreads, 0, st>>>(static_cast<const uint4*>(a.x), static_cast<uint2*>(s->xq), groups,
                                                     1.f / a.x_scale);
  if (const char* e = launched("the E4M3 quantization kernel did not launch")) return e;
  return gemm(*s, *p, a.x_scale * a.w_scale, a.weight, s->xq, a.gelu ? a.bias : nullptr, a.y, st);
}
#else
void* linear_state_create(const char** error) {
  *error = "this build has no cuBLASLt (build.sh found none)";
  return nullptr;
}
void linear_state_destroy(void*) {}
const char* linear_gelu(const LinearArgs&, void*, void*) { return "this build has no cuBLASLt"; }
const char* linear_fp8(const Fp8LinearArgs&, void*, void*) { return "this build has no cuBLASLt"; }
#endif
