// The fused ops' arithmetic, one implementation per provider (kernels_cpu.cc,
// kernels_cuda.cu); ops.cc checks shapes and calls these. Tensors are fp16, row-major; the
// arithmetic is float32. Each returns null or a message saying what it cannot do.
#pragma once
#include <stdint.h>

struct JointQkvArgs {
  // Two streams (0: text, 1: image), each qkv [batch, tokens, 3 * hidden] before its bias, laid
  // out as (q | k | v) x heads x head_dim; bias [3 * hidden]; q and k RMSNorm weights [head_dim].
  const void* qkv[2];
  const void* bias[2];
  const void* q_weight[2];
  const void* k_weight[2];
  int64_t tokens[2];
  int64_t batch, heads, head_dim;
  float epsilon;
  // q, k, v [batch, tokens[0] + tokens[1], hidden]: both streams' tokens, text first.
  void* q;
  void* k;
  void* v;
};

struct GateArgs {
  // out = x + gate * (y + bias); x, y [batch, rows, dim], bias [dim], gate [batch, dim].
  const void* x;
  const void* y;
  const void* bias;
  const void* gate;
  // GateResidualNorm only (else null): h = LayerNorm(out) * (1 + scale) + shift, [batch, dim] each.
  const void* shift;
  const void* scale;
  int64_t batch, rows, dim;
  float epsilon;
  float h_scale;  // > 0 (GateResidualNormFp8): h is E4M3 bytes, e4m3(h / h_scale)
  void* out;
  void* h;
};

struct LinearArgs {
  // y [rows, out] = gelu_tanh(x [rows, in] · weightᵀ + bias), weight [out, in] (PyTorch's layout).
  const void* x;
  const void* weight;
  const void* bias;
  int64_t rows, in, out;
  void* y;
};

struct Fp8LinearArgs {
  // y [rows, out] = act(x_scale * w_scale * (e4m3(x / x_scale) · weightᵀ) + bias): x fp16
  // [rows, in], quantized saturating to ±448 with round-to-nearest-even; weight [out, in] E4M3
  // bytes; float32 products and sums; bias (fp16 [out]) and tanh-GELU only when `gelu`.
  // x_e4m3: x is E4M3 bytes already (x / x_scale, made by the op before); y_scale > 0: y is
  // E4M3 bytes, e4m3(y / y_scale), for the next FP8 op.
  const void* x;
  const void* weight;
  const void* bias;
  float x_scale, w_scale, y_scale;
  bool gelu, x_e4m3;
  int64_t rows, in, out;
  void* y;
};

const char* joint_qkv_norm(const JointQkvArgs& a, void* stream);
const char* gate_residual(const GateArgs& a, void* stream);
// `state` is what linear_state_create made for this op instance (a GEMM handle and workspace on CUDA).
const char* linear_gelu(const LinearArgs& a, void* state, void* stream);
const char* linear_fp8(const Fp8LinearArgs& a, void* state, void* stream);
void* linear_state_create(const char** error);
void linear_state_destroy(void* state);
