// ditserve's fused transformer ops as an onnxruntime custom-op library (domain "ditserve"),
// registered by a session through RegisterCustomOpsLibrary_V2. Built twice (build.sh): for the
// CPU provider with g++, and with -DDITSERVE_CUDA for the CUDA provider with nvcc. The ops
// replace chains of elementwise kernels around the joint attention of an MMDiT block, which the
// SD3-medium profile shows cost more GPU time than the attention itself (docs/custom-ops.md):
//
//   JointQkvNorm      both streams' QKV bias, split, q/k RMSNorm and the text|image concat
//   GateResidual      x + gate * (y + bias)                  (a projection's bias, gate, residual)
//   GateResidualNorm  the same, and LayerNorm(out) * (1 + scale) + shift for the next layer
//   LinearGelu        gelu_tanh(x · wᵀ + bias): on CUDA one cuBLASLt GEMM with the bias and the
//                     activation in its epilogue
//   LinearFp8         x · wᵀ with x quantized to E4M3 by a fixed scale and w stored as E4M3 bytes:
//                     on CUDA one quantizing pass and one cuBLASLt FP8 GEMM
//   LinearGeluFp8     the same with LinearGelu's bias and tanh-GELU epilogue
//   LinearGeluFp8Out  LinearGeluFp8 whose output is E4M3 bytes (y / y_scale) for the next layer:
//                     on CUDA the GEMM writes them, so the MLP's widest tensor is never fp16
//   LinearFp8In       LinearFp8 whose x is E4M3 bytes already (no quantizing pass)
//   LinearGeluFp8InOut  E4M3 bytes in and out (the MLP's first layer after GateResidualNormFp8)
//   GateResidualNormFp8 GateResidualNorm whose normalised output is E4M3 bytes (h / h_scale) for
//                     the FP8 layer after it
#include <climits>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "kernels.h"
#include "ort_abi.h"

#ifdef DITSERVE_CUDA
#define PROVIDER "CUDAExecutionProvider"
#else
#define PROVIDER "CPUExecutionProvider"
#endif

namespace {

// The OrtApi of the version these ops are written against; onnxruntime 1.29 serves it.
constexpr uint32_t kOpVersion = 16;  // the first with CreateKernelV2 / KernelComputeV2
const void* const* g_api = nullptr;

template <typename F>
F api(OrtApiIndex index) {
  return reinterpret_cast<F>(const_cast<void*>(g_api[index]));
}

OrtStatus* fail(int code, const std::string& message) {
  return api<OrtStatus* (*)(int, const char*)>(kCreateStatus)(code, message.c_str());
}

#define TRY(expr)                 \
  do {                            \
    OrtStatus* status_ = (expr);  \
    if (status_) return status_;  \
  } while (0)

struct Tensor {
  const void* data = nullptr;
  std::vector<int64_t> dims;
  int64_t count() const {
    int64_t n = 1;
    for (int64_t d : dims) n *= d;
    return n;
  }
};

OrtStatus* input(OrtKernelContext* ctx, size_t index, Tensor* t) {
  const OrtValue* value = nullptr;
  TRY(api<OrtStatus* (*)(const OrtKernelContext*, size_t, const OrtValue**)>(kKernelContext_GetInput)(
      ctx, index, &value));
  if (!value) return fail(ORT_CODE_INVALID_ARGUMENT, "input " + std::to_string(index) + " is missing");
  OrtTensorTypeAndShapeInfo* info = nullptr;
  TRY(api<OrtStatus* (*)(const OrtValue*, OrtTensorTypeAndShapeInfo**)>(kGetTensorTypeAndShape)(value, &info));
  size_t rank = 0;
  OrtStatus* s = api<OrtStatus* (*)(const OrtTensorTypeAndShapeInfo*, size_t*)>(kGetDimensionsCount)(info, &rank);
  if (!s) {
    t->dims.assign(rank, 0);
    s = api<OrtStatus* (*)(const OrtTensorTypeAndShapeInfo*, int64_t*, size_t)>(kGetDimensions)(
        info, t->dims.data(), rank);
  }
  api<void (*)(OrtTensorTypeAndShapeInfo*)>(kReleaseTensorTypeAndShapeInfo)(info);
  TRY(s);
  void* data = nullptr;
  TRY(api<OrtStatus* (*)(OrtValue*, void**)>(kGetTensorMutableData)(const_cast<OrtValue*>(value), &data));
  t->data = data;
  return nullptr;
}

OrtStatus* output(OrtKernelContext* ctx, size_t index, const std::vector<int64_t>& dims, void** data) {
  OrtValue* value = nullptr;
  TRY(api<OrtStatus* (*)(OrtKernelContext*, size_t, const int64_t*, size_t, OrtValue**)>(kKernelContext_GetOutput)(
      ctx, index, dims.data(), dims.size(), &value));
  return api<OrtStatus* (*)(OrtValue*, void**)>(kGetTensorMutableData)(value, data);
}

OrtStatus* stream_of(OrtKernelContext* ctx, void** stream) {
  *stream = nullptr;
#ifdef DITSERVE_CUDA
  TRY(api<OrtStatus* (*)(const OrtKernelContext*, void**)>(kKernelContext_GetGPUComputeStream)(ctx, stream));
#else
  (void)ctx;
#endif
  return nullptr;
}

std::string shape(const Tensor& t) {
  std::string s = "[";
  for (size_t i = 0; i < t.dims.size(); i++) s += (i ? ", " : "") + std::to_string(t.dims[i]);
  return s + "]";
}

OrtStatus* expect(bool ok, const char* op, const std::string& what) {
  return ok ? nullptr : fail(ORT_CODE_INVALID_ARGUMENT, std::string(op) + ": " + what);
}

OrtStatus* run_status(const char* op, const char* message) {
  return message ? fail(ORT_CODE_FAIL, std::string(op) + ": " + message) : nullptr;
}

struct Kernel {
  int64_t heads = 0;
  float epsilon = 1e-6f;
  float x_scale = 0, w_scale = 0, y_scale = 0, h_scale = 0;  // the FP8 ops' (required attributes)
  void* state = nullptr;           // the GEMM ops' (linear_state_create)
  ~Kernel() { linear_state_destroy(state); }
};

OrtStatus* compute_joint_qkv(const Kernel& k, OrtKernelContext* ctx) {
  static const char* op = "JointQkvNorm";
  Tensor t[8];
  for (size_t i = 0; i < 8; i++) TRY(input(ctx, i, &t[i]));
  JointQkvArgs a{};
  const Tensor& qkv0 = t[0];
  TRY(expect(qkv0.dims.size() == 3 && qkv0.dims[2] % 3 == 0, op, "qkv must be [batch, tokens, 3 * hidden], got " + shape(qkv0)));
  const int64_t hidden = qkv0.dims[2] / 3;
  TRY(expect(k.heads > 0 && hidden % k.heads == 0, op, "num_heads must divide the hidden size " + std::to_string(hidden)));
  a.batch = qkv0.dims[0];
  a.heads = k.heads;
  a.head_dim = hidden / k.heads;
  a.epsilon = k.epsilon;
  for (int s = 0; s < 2; s++) {
    const Tensor& qkv = t[4 * s];
    TRY(expect(qkv.dims.size() == 3 && qkv.dims[0] == a.batch && qkv.dims[2] == 3 * hidden, op,
               "both streams' qkv must be [batch, tokens, " + std::to_string(3 * hidden) + "], got " + shape(qkv)));
    TRY(expect(t[4 * s + 1].count() == 3 * hidden, op, "bias must hold 3 * hidden values, got " + shape(t[4 * s + 1])));
    TRY(expect(t[4 * s + 2].count() == a.head_dim && t[4 * s + 3].count() == a.head_dim, op,
               "the q and k norm weights must hold head_dim = " + std::to_string(a.head_dim) + " values"));
    a.qkv[s] = qkv.data;
    a.bias[s] = t[4 * s + 1].data;
    a.q_weight[s] = t[4 * s + 2].data;
    a.k_weight[s] = t[4 * s + 3].data;
    a.tokens[s] = qkv.dims[1];
  }
  const std::vector<int64_t> dims = {a.batch, a.tokens[0] + a.tokens[1], hidden};
  TRY(output(ctx, 0, dims, &a.q));
  TRY(output(ctx, 1, dims, &a.k));
  TRY(output(ctx, 2, dims, &a.v));
  void* stream = nullptr;
  TRY(stream_of(ctx, &stream));
  return run_status(op, joint_qkv_norm(a, stream));
}

OrtStatus* compute_gate(const Kernel& k, OrtKernelContext* ctx, bool norm, bool h_e4m3 = false) {
  const char* op = h_e4m3 ? "GateResidualNormFp8" : norm ? "GateResidualNorm" : "GateResidual";
  const size_t n = norm ? 6 : 4;
  Tensor t[6];
  for (size_t i = 0; i < n; i++) TRY(input(ctx, i, &t[i]));
  const Tensor& x = t[0];
  TRY(expect(x.dims.size() == 3, op, "x must be [batch, rows, dim], got " + shape(x)));
  TRY(expect(t[1].dims == x.dims, op, "y must have x's shape " + shape(x) + ", got " + shape(t[1])));
  GateArgs a{};
  a.batch = x.dims[0];
  a.rows = x.dims[1];
  a.dim = x.dims[2];
  a.epsilon = k.epsilon;
  TRY(expect(t[2].count() == a.dim, op, "bias must hold dim = " + std::to_string(a.dim) + " values"));
  for (size_t i = 3; i < n; i++)
    TRY(expect(t[i].count() == a.batch * a.dim, op,
               "gate, shift and scale must hold batch x dim values ([batch, dim] or [batch, 1, dim]), got " +
                   shape(t[i])));
  a.x = x.data;
  a.y = t[1].data;
  a.bias = t[2].data;
  a.gate = t[3].data;
  if (norm) {
    a.shift = t[4].data;
    a.scale = t[5].data;
    a.h_scale = h_e4m3 ? k.h_scale : 0.f;
  }
  TRY(output(ctx, 0, x.dims, &a.out));
  if (norm) TRY(output(ctx, 1, x.dims, &a.h));
  void* stream = nullptr;
  TRY(stream_of(ctx, &stream));
  return run_status(op, gate_residual(a, stream));
}

// A linear op's tensors: x [..., in], weight [out, in], bias [out] (when it has one), and its
// output y [..., out], allocated once the inputs are checked. `fp8`: in and out multiples of 16.
struct LinearIo {
  Tensor x, weight, bias;
  int64_t rows = 0, in = 0, out = 0;
  void* y = nullptr;
};

OrtStatus* linear_io(const char* op, OrtKernelContext* ctx, bool has_bias, bool fp8, LinearIo* io) {
  TRY(input(ctx, 0, &io->x));
  TRY(input(ctx, 1, &io->weight));
  if (has_bias) TRY(input(ctx, 2, &io->bias));
  const Tensor &x = io->x, &w = io->weight;
  TRY(expect(x.dims.size() >= 2, op, "x must be [..., in], got " + shape(x)));
  TRY(expect(w.dims.size() == 2 && w.dims[1] == x.dims.back(), op,
             "weight must be [out, in] with in = " + std::to_string(x.dims.back()) + ", got " + shape(w)));
  // cuBLASLt's FP8 kernels read 16-byte aligned rows.
  if (fp8)
    TRY(expect(w.dims[0] % 16 == 0 && w.dims[1] % 16 == 0, op,
               "in and out must be multiples of 16, got weight " + shape(w)));
  if (has_bias)
    TRY(expect(io->bias.count() == w.dims[0], op, "bias must hold out = " + std::to_string(w.dims[0]) + " values"));
  io->in = w.dims[1];
  io->out = w.dims[0];
  io->rows = x.count() / io->in;
  std::vector<int64_t> dims = x.dims;
  dims.back() = io->out;
  return output(ctx, 0, dims, &io->y);
}

OrtStatus* compute_linear_gelu(const Kernel& k, OrtKernelContext* ctx) {
  static const char* op = "LinearGelu";
  LinearIo io;
  TRY(linear_io(op, ctx, true, false, &io));
  const LinearArgs a{io.x.data, io.weight.data, io.bias.data, io.rows, io.in, io.out, io.y};
  void* stream = nullptr;
  TRY(stream_of(ctx, &stream));
  return run_status(op, linear_gelu(a, k.state, stream));
}

OrtStatus* compute_linear_fp8(const Kernel& k, OrtKernelContext* ctx, bool gelu, bool x_e4m3, bool y_e4m3) {
  const char* op = !gelu ? (x_e4m3 ? "LinearFp8In" : "LinearFp8")
                   : x_e4m3 ? "LinearGeluFp8InOut"
                   : y_e4m3 ? "LinearGeluFp8Out"
                            : "LinearGeluFp8";
  LinearIo io;
  TRY(linear_io(op, ctx, gelu, true, &io));
  Fp8LinearArgs a{};
  a.x = io.x.data;
  a.weight = io.weight.data;
  a.bias = gelu ? io.bias.data : nullptr;
  a.gelu = gelu;
  a.x_e4m3 = x_e4m3;
  a.x_scale = k.x_scale;
  a.w_scale = k.w_scale;
  a.y_scale = y_e4m3 ? k.y_scale : 0.f;
  a.rows = io.rows;
  a.in = io.in;
  a.out = io.out;
  a.y = io.y;
  void* stream = nullptr;
  TRY(stream_of(ctx, &stream));
  return run_status(op, linear_fp8(a, k.state, stream));
}

struct Op : OrtCustomOp {
  const char* name;
  size_t inputs, outputs;
  bool needs_heads;
  bool needs_state;
  uint32_t byte_inputs, byte_outputs;  // bit i: tensor i is E4M3 bytes (uint8), not fp16
  const char* scales[3];                // required float attributes (> 0), null-terminated
};

const Op& op_of(const OrtCustomOp* op) { return *static_cast<const Op*>(op); }

OrtStatus* create_kernel(const OrtCustomOp* op, const OrtApi* ort, const OrtKernelInfo* info, void** out) {
  g_api = reinterpret_cast<const void* const*>(ort);
  auto* kernel = new Kernel();
  float eps = 0;
  OrtStatus* s = api<OrtStatus* (*)(const OrtKernelInfo*, const char*, float*)>(kKernelInfoGetAttribute_float)(
      info, "epsilon", &eps);
  if (s) api<void (*)(OrtStatus*)>(kReleaseStatus)(s);  // absent: the default
  else kernel->epsilon = eps;
  if (op_of(op).needs_state) {
    const char* error = nullptr;
    kernel->state = linear_state_create(&error);
    if (error) {
      delete kernel;
      return fail(ORT_CODE_FAIL, std::string(op_of(op).name) + ": " + error);
    }
  }
  for (const char* name : op_of(op).scales) {
    if (!name) break;
    float* value = name[0] == 'x' ? &kernel->x_scale : name[0] == 'w' ? &kernel->w_scale
                   : name[0] == 'y' ? &kernel->y_scale : &kernel->h_scale;
    s = api<OrtStatus* (*)(const OrtKernelInfo*, const char*, float*)>(kKernelInfoGetAttribute_float)(info, name, value);
    if (s) api<void (*)(OrtStatus*)>(kReleaseStatus)(s);
    if (s || !(*value > 0)) {
      delete kernel;
      return fail(ORT_CODE_INVALID_ARGUMENT,
                  std::string(op_of(op).name) + ": the " + name + " attribute is required and must be above 0");
    }
  }
  if (op_of(op).needs_heads) {
    s = api<OrtStatus* (*)(const OrtKernelInfo*, const char*, int64_t*)>(kKernelInfoGetAttribute_int64)(
        info, "num_heads", &kernel->heads);
    if (s) {
      api<void (*)(OrtStatus*)>(kReleaseStatus)(s);
      delete kernel;
      return fail(ORT_CODE_INVALID_ARGUMENT, std::string(op_of(op).name) + ": the num_heads attribute is required");
    }
  }
  *out = kernel;
  return nullptr;
}

struct Fp8Io {
  uint32_t byte_inputs = 0, byte_outputs = 0;
  const char* scales[3] = {nullptr, nullptr, nullptr};
};

Op make(const char* name, size_t inputs, size_t outputs, bool needs_heads, bool needs_state,
        OrtStatus* (*compute)(void* kernel, OrtKernelContext* context), const Fp8Io& io = {}) {
  Op o;
  std::memset(static_cast<OrtCustomOp*>(&o), 0, sizeof(OrtCustomOp));
  o.name = name;
  o.inputs = inputs;
  o.outputs = outputs;
  o.needs_heads = needs_heads;
  o.needs_state = needs_state;
  o.byte_inputs = io.byte_inputs;
  o.byte_outputs = io.byte_outputs;
  std::memcpy(o.scales, io.scales, sizeof o.scales);
  o.version = kOpVersion;
  o.GetName = [](const OrtCustomOp* op) { return op_of(op).name; };
  o.GetExecutionProviderType = [](const OrtCustomOp*) { return PROVIDER; };
  o.GetInputType = [](const OrtCustomOp* op, size_t i) {
    return static_cast<int>(op_of(op).byte_inputs >> i & 1 ? ORT_TYPE_UINT8 : ORT_TYPE_FLOAT16);
  };
  o.GetInputTypeCount = [](const OrtCustomOp* op) { return op_of(op).inputs; };
  o.GetOutputType = [](const OrtCustomOp* op, size_t i) {
    return static_cast<int>(op_of(op).byte_outputs >> i & 1 ? ORT_TYPE_UINT8 : ORT_TYPE_FLOAT16);
  };
  o.GetOutputTypeCount = [](const OrtCustomOp* op) { return op_of(op).outputs; };
  o.KernelDestroy = [](void* kernel) { delete static_cast<Kernel*>(kernel); };
  o.GetInputCharacteristic = [](const OrtCustomOp*, size_t) { return 0; };   // required
  o.GetOutputCharacteristic = [](const OrtCustomOp*, size_t) { return 0; };  // required
  o.GetInputMemoryType = [](const OrtCustomOp*, size_t) { return 0; };       // the provider's memory
  o.GetVariadicInputMinArity = [](const OrtCustomOp*) { return 0; };
  o.GetVariadicInputHomogeneity = [](const OrtCustomOp*) { return 0; };
  o.GetVariadicOutputMinArity = [](const OrtCustomOp*) { return 0; };
  o.GetVariadicOutputHomogeneity = [](const OrtCustomOp*) { return 0; };
  o.CreateKernelV2 = create_kernel;
  o.KernelComputeV2 = compute;
  o.GetStartVersion = [](const OrtCustomOp*) { return 1; };
  o.GetEndVersion = [](const OrtCustomOp*) { return INT_MAX; };
  o.GetMayInplace = [](int**, int**) { return static_cast<size_t>(0); };
  o.ReleaseMayInplace = [](int*, int*) {};
  o.GetAliasMap = [](int**, int**) { return static_cast<size_t>(0); };
  o.ReleaseAliasMap = [](int*, int*) {};
  return o;
}

// KernelComputeV2 receives only the kernel: each op has an entry point of its own.
OrtStatus* joint_qkv_entry(void* k, OrtKernelContext* c) { return compute_joint_qkv(*static_cast<Kernel*>(k), c); }
OrtStatus* gate_entry(void* k, OrtKernelContext* c) { return compute_gate(*static_cast<Kernel*>(k), c, false); }
OrtStatus* gate_norm_entry(void* k, OrtKernelContext* c) { return compute_gate(*static_cast<Kernel*>(k), c, true); }
OrtStatus* linear_gelu_entry(void* k, OrtKernelContext* c) { return compute_linear_gelu(*static_cast<Kernel*>(k), c); }
OrtStatus* linear_fp8_entry(void* k, OrtKernelContext* c) {
  return compute_linear_fp8(*static_cast<Kernel*>(k), c, false, false, false);
}
OrtStatus* linear_gelu_fp8_entry(void* k, OrtKernelContext* c) {
  return compute_linear_fp8(*static_cast<Kernel*>(k), c, true, false, false);
}
OrtStatus* linear_gelu_fp8_out_entry(void* k, OrtKernelContext* c) {
  return compute_linear_fp8(*static_cast<Kernel*>(k), c, true, false, true);
}
OrtStatus* linear_fp8_in_entry(void* k, OrtKernelContext* c) {
  return compute_linear_fp8(*static_cast<Kernel*>(k), c, false, true, false);
}
OrtStatus* linear_gelu_fp8_in_out_entry(void* k, OrtKernelContext* c) {
  return compute_linear_fp8(*static_cast<Kernel*>(k), c, true, true, true);
}
OrtStatus* gate_norm_fp8_entry(void* k, OrtKernelContext* c) {
  return compute_gate(*static_cast<Kernel*>(k), c, true, true);
}

// Which tensors are E4M3 bytes (bit i of inputs / outputs) and which scales each FP8 op requires.
const Fp8Io kFp8{0b10, 0, {"x_scale", "w_scale"}};
const Fp8Io kFp8In{0b11, 0, {"x_scale", "w_scale"}};
const Fp8Io kFp8Out{0b10, 0b1, {"x_scale", "w_scale", "y_scale"}};
const Fp8Io kFp8InOut{0b11, 0b1, {"x_scale", "w_scale", "y_scale"}};
const Fp8Io kNormFp8{0, 0b10, {"h_scale"}};

constexpr int kOps = 10;
Op* ops() {
  static Op all[kOps] = {
      make("JointQkvNorm", 8, 3, true, false, joint_qkv_entry),
      make("GateResidual", 4, 1, false, false, gate_entry),
      make("GateResidualNorm", 6, 2, false, false, gate_norm_entry),
      make("LinearGelu", 3, 1, false, true, linear_gelu_entry),
      make("LinearFp8", 2, 1, false, true, linear_fp8_entry, kFp8),
      make("LinearGeluFp8", 3, 1, false, true, linear_gelu_fp8_entry, kFp8),
      make("LinearGeluFp8Out", 3, 1, false, true, linear_gelu_fp8_out_entry, kFp8Out),
      make("LinearFp8In", 2, 1, false, true, linear_fp8_in_entry, kFp8In),
      make("LinearGeluFp8InOut", 3, 1, false, true, linear_gelu_fp8_in_out_entry, kFp8InOut),
      make("GateResidualNormFp8", 6, 2, false, false, gate_norm_fp8_entry, kNormFp8),
  };
  return all;
}

}  // namespace

extern "C" __attribute__((visibility("default"))) OrtStatus* RegisterCustomOps(OrtSessionOptions* options,
                                                                               const OrtApiBase* base) {
  const OrtApi* ort = base->GetApi(kOpVersion);
  if (!ort) return nullptr;  // cannot even report: an onnxruntime older than 1.16
  g_api = reinterpret_cast<const void* const*>(ort);
  // The domain must outlive every session that uses it: it is never released (one per session
  // options that register the library, a few bytes).
  OrtCustomOpDomain* domain = nullptr;
  TRY(api<OrtStatus* (*)(const char*, OrtCustomOpDomain**)>(kCreateCustomOpDomain)("ditserve", &domain));
  Op* all = ops();
  for (int i = 0; i < kOps; i++)
    TRY(api<OrtStatus* (*)(OrtCustomOpDomain*, const OrtCustomOp*)>(kCustomOpDomain_Add)(domain, &all[i]));
  return api<OrtStatus* (*)(OrtSessionOptions*, OrtCustomOpDomain*)>(kAddCustomOpDomain)(options, domain);
}
