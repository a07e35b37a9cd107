// The fused ops on CUDA: memory-bound kernels, one pass over their tensors each, launched on
// onnxruntime's compute stream (so they are captured with the rest of a CUDA graph). fp16 in
// and out as half2, float32 inside; the arithmetic is kernels_cpu.cc's.
#include <algorithm>

#ifndef DITSERVE_NO_CUBLASLT
#include <cublasLt.h>
#endif
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <map>

#include "kernels.h"

namespace {

__device__ __forceinline__ float warp_sum(float v) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}

// One warp per (batch, token, head): lane l holds half2 pairs l, l + 32, ... of the head's
// head_dim values (V = head_dim / 64 pairs each).
template <int V>
__global__ void joint_qkv_kernel(JointQkvArgs a) {
  const int64_t warp = (static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x) >> 5;
  const int lane = threadIdx.x & 31;
  const int64_t total = a.tokens[0] + a.tokens[1];
  if (warp >= a.batch * total * a.heads) return;
  const int64_t h = warp % a.heads, t = (warp / a.heads) % total, b = warp / (a.heads * total);
  const int s = t < a.tokens[0] ? 0 : 1;
  const int64_t ts = s ? t - a.tokens[0] : t;
  const int64_t hidden = a.heads * a.head_dim;
  const half2* src = reinterpret_cast<const half2*>(a.qkv[s]) + (b * a.tokens[s] + ts) * 3 * hidden / 2;
  const half2* bias = reinterpret_cast<const half2*>(a.bias[s]);
  const int64_t dst = ((b * total + t) * hidden + h * a.head_dim) / 2;
#pragma unroll
  for (int which = 0; which < 3; which++) {
    const int64_t base = (which * hidden + h * a.head_dim) / 2;
    float2 v[V];
    float squares = 0.f;
#pragma unroll
    for (int j = 0; j < V; j++) {
      const int64_t i = base + lane + 32 * j;
      const float2 x = __half22float2(src[i]), c = __half22float2(bias[i]);
      v[j] = make_float2(x.x + c.x, x.y + c.y);
      squares += v[j].x * v[j].x + v[j].y * v[j].y;
    }
    half2* out = reinterpret_cast<half2*>(which == 0 ? a.q : which == 1 ? a.k : a.v);
    if (which < 2) {
      const float r = rsqrtf(warp_sum(squares) / a.head_dim + a.epsilon);
      const half2* w = reinterpret_cast<const half2*>(which == 0 ? a.q_weight[s] : a.k_weight[s]);
#pragma unroll
      for (int j = 0; j < V; j++) {
        const float2 g = __half22float2(w[lane + 32 * j]);
        v[j] = make_float2(v[j].x * r * g.x, v[j].y * r * g.y);
      }
    }
#pragma unroll
    for (int j = 0; j < V; j++) out[dst + lane + 32 * j] = __float22half2_rn(v[j]);
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

// One warp per row; lane l holds pairs l, l + 32, ... (at most V of them: dim <= 64 V).
template <int V>
__global__ void gate_norm_kernel(GateArgs a) {
  const int64_t row = (static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x) >> 5;
  const int lane = threadIdx.x & 31;
  if (row >= a.batch * a.rows) return;
  const int64_t b = row / a.rows, dim2 = a.dim / 2, off = row * dim2;
  const int n = static_cast<int>(dim2 / 32);
  const half2* x = reinterpret_cast<const half2*>(a.x) + off;
  const half2* y = reinterpret_cast<const half2*>(a.y) + off;
  const half2* bias = reinterpret_cast<const half2*>(a.bias);
  const half2* gate = reinterpret_cast<const half2*>(a.gate) + b * dim2;
  const half2* shift = reinterpret_cast<const half2*>(a.shift) + b * dim2;
  const half2* scale = reinterpret_cast<const half2*>(a.scale) + b * dim2;
  half2* out = reinterpret_cast<half2*>(a.out) + off;
  half2* h = reinterpret_cast<half2*>(a.h) + off;
  float2 v[V];
  float sum = 0.f;
#pragma unroll
  for (int j = 0; j < V; j++) {
    if (j < n) {
      const int c = lane + 32 * j;
      const float2 xv = __half22float2(x[c]), yv = __half22float2(y[c]), bv = __half22float2(bias[c]),
                   g = __half22float2(gate[c]);
      const half2 r = __float22half2_rn(make_float2(xv.x + g.x * (yv.x + bv.x), xv.y + g.y * (yv.y + bv.y)));
      out[c] = r;
      v[j] = __half22float2(r);  // the norm reads the residual as stored (fp16), as the model does
      sum += v[j].x + v[j].y;
    }
  }
  const float mean = warp_sum(sum) / a.dim;
  float var = 0.f;
#pragma unroll
  for (int j = 0; j < V; j++)
    if (j < n) var += (v[j].x - mean) * (v[j].x - mean) + (v[j].y - mean) * (v[j].y - mean);
  const float inv = rsqrtf(warp_sum(var) / a.dim + a.epsilon);
#pragma unroll
  for (int j = 0; j < V; j++) {
    if (j < n) {
      const int c = lane + 32 * j;
      const float2 sc = __half22float2(scale[c]), sh = __half22float2(shift[c]);
      h[c] = __float22half2_rn(make_float2((v[j].x - mean) * inv * (1.f + sc.x) + sh.x,
                                           (v[j].y - mean) * inv * (1.f + sc.y) + sh.y));
    }
  }
}

constexpr int kThreads = 256;

const char* launched(const char* what) {
  const cudaError_t e = cudaGetLastError();
  return e == cudaSuccess ? nullptr : what;
}

}  // namespace

const char* joint_qkv_norm(const JointQkvArgs& a, void* stream) {
  const int64_t warps = a.batch * (a.tokens[0] + a.tokens[1]) * a.heads;
  const unsigned blocks = static_cast<unsigned>((warps * 32 + kThreads - 1) / kThreads);
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
  if (a.dim % 64 != 0 || a.dim > 4096) return "the CUDA kernel needs dim a multiple of 64, at most 4096";
  const int64_t rows = a.batch * a.rows;
  const unsigned blocks = static_cast<unsigned>((rows * 32 + kThreads - 1) / kThreads);
  const int64_t n = a.dim / 64;
  if (n <= 8) gate_norm_kernel<8><<<blocks, kThreads, 0, s>>>(a);
  else if (n <= 16) gate_norm_kernel<16><<<blocks, kThreads, 0, s>>>(a);
  else if (n <= 32) gate_norm_kernel<32><<<blocks, kThreads, 0, s>>>(a);
  else gate_norm_kernel<64><<<blocks, kThreads, 0, s>>>(a);
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
  cublasLtMatrixLayout_t a = nullptr, b = nullptr, d = nullptr;
  cublasLtMatmulAlgo_t algo{};
};

struct LinearState {
  cublasLtHandle_t handle = nullptr;
  void* workspace = nullptr;
  std::map<int64_t, Plan> plans;  // by rows x in x out: the descriptors and the chosen kernel
};

const char* plan_for(LinearState& s, const LinearArgs& a, Plan** out) {
  const int64_t key = (a.rows * 65536 + a.in) * 65536 + a.out;
  auto it = s.plans.find(key);
  if (it != s.plans.end()) {
    *out = &it->second;
    return nullptr;
  }
  Plan p;
  const cublasOperation_t t = CUBLAS_OP_T, n = CUBLAS_OP_N;
  const cublasLtEpilogue_t epilogue = CUBLASLT_EPILOGUE_GELU_BIAS;
  const cudaDataType_t bias_type = CUDA_R_16F;
  if (cublasLtMatmulDescCreate(&p.op, CUBLAS_COMPUTE_32F, CUDA_R_32F) != CUBLAS_STATUS_SUCCESS ||
      cublasLtMatmulDescSetAttribute(p.op, CUBLASLT_MATMUL_DESC_TRANSA, &t, sizeof t) != CUBLAS_STATUS_SUCCESS ||
      cublasLtMatmulDescSetAttribute(p.op, CUBLASLT_MATMUL_DESC_TRANSB, &n, sizeof n) != CUBLAS_STATUS_SUCCESS ||
      cublasLtMatmulDescSetAttribute(p.op, CUBLASLT_MATMUL_DESC_EPILOGUE, &epilogue, sizeof epilogue) !=
          CUBLAS_STATUS_SUCCESS ||
      cublasLtMatmulDescSetAttribute(p.op, CUBLASLT_MATMUL_DESC_BIAS_DATA_TYPE, &bias_type, sizeof bias_type) !=
          CUBLAS_STATUS_SUCCESS)
    return "cuBLASLt refused the GEMM description";
  if (cublasLtMatrixLayoutCreate(&p.a, CUDA_R_16F, a.in, a.out, a.in) != CUBLAS_STATUS_SUCCESS ||
      cublasLtMatrixLayoutCreate(&p.b, CUDA_R_16F, a.in, a.rows, a.in) != CUBLAS_STATUS_SUCCESS ||
      cublasLtMatrixLayoutCreate(&p.d, CUDA_R_16F, a.out, a.rows, a.out) != CUBLAS_STATUS_SUCCESS)
    return "cuBLASLt refused a matrix layout";
  cublasLtMatmulPreference_t pref = nullptr;
  cublasLtMatmulHeuristicResult_t result{};
  int found = 0;
  const size_t ws = kWorkspace;
  if (cublasLtMatmulPreferenceCreate(&pref) != CUBLAS_STATUS_SUCCESS ||
      cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &ws, sizeof ws) !=
          CUBLAS_STATUS_SUCCESS ||
      cublasLtMatmulAlgoGetHeuristic(s.handle, p.op, p.a, p.b, p.d, p.d, pref, 1, &result, &found) !=
          CUBLAS_STATUS_SUCCESS ||
      found == 0) {
    if (pref) cublasLtMatmulPreferenceDestroy(pref);
    return "cuBLASLt has no kernel for this GEMM with a GELU epilogue";
  }
  cublasLtMatmulPreferenceDestroy(pref);
  p.algo = result.algo;
  *out = &s.plans.emplace(key, p).first->second;
  return nullptr;
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
    cublasLtMatrixLayoutDestroy(p.d);
    cublasLtMatmulDescDestroy(p.op);
  }
  cudaFree(s->workspace);
  cublasLtDestroy(s->handle);
  delete s;
}

const char* linear_gelu(const LinearArgs& a, void* state, void* stream) {
  auto* s = static_cast<LinearState*>(state);
  if (!s) return "no GEMM state";
  if (a.rows >= 65536 * 256 || a.in >= 65536 || a.out >= 65536) return "a dimension is too large";
  Plan* p = nullptr;
  if (const char* e = plan_for(*s, a, &p)) return e;
  if (cublasLtMatmulDescSetAttribute(p->op, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &a.bias, sizeof a.bias) !=
      CUBLAS_STATUS_SUCCESS)
    return "cuBLASLt refused the bias";
  const float one = 1.f, zero = 0.f;
  if (cublasLtMatmul(s->handle, p->op, &one, a.weight, p->a, a.x, p->b, &zero, a.y, p->d, a.y, p->d, &p->algo,
                     s->workspace, kWorkspace, static_cast<cudaStream_t>(stream)) != CUBLAS_STATUS_SUCCESS)
    return "cuBLASLt's GEMM failed";
  return nullptr;
}
#else
void* linear_state_create(const char** error) {
  *error = "this build has no cuBLASLt (build.sh found none)";
  return nullptr;
}
void linear_state_destroy(void*) {}
const char* linear_gelu(const LinearArgs&, void*, void*) { return "this build has no cuBLASLt"; }
#endif
