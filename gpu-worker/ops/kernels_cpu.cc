// The fused ops on the CPU: the reference arithmetic, loop by loop (float32 inside, fp16 in and
// out). The CUDA kernels compute the same; tests compare both with onnxruntime's own ops.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "kernels.h"

namespace {

float half_to_float(uint16_t h) {
  const uint32_t sign = (h & 0x8000u) << 16, exp = (h >> 10) & 0x1f, mant = h & 0x3ffu;
  uint32_t bits;
  if (exp == 0x1f) {
    bits = sign | 0x7f800000u | (mant << 13);  // inf, nan
  } else if (exp != 0) {
    bits = sign | ((exp + 112) << 23) | (mant << 13);
  } else if (mant == 0) {
    bits = sign;
  } else {  // subnormal: normalise
    int e = -1;
    uint32_t m = mant;
    do {
      e++;
      m <<= 1;
    } while ((m & 0x400u) == 0);
    bits = sign | ((112 - e) << 23) | ((m & 0x3ffu) << 13);
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

uint16_t float_to_half(float f) {  // round to nearest even, as CUDA's __float2half_rn
  uint32_t x;
  std::memcpy(&x, &f, 4);
  const uint32_t sign = (x >> 16) & 0x8000u;
  const uint32_t abs = x & 0x7fffffffu;
  if (abs >= 0x7f800000u) return static_cast<uint16_t>(sign | 0x7c00u | (abs > 0x7f800000u ? 0x200u : 0));
  if (abs >= 0x477ff000u) return static_cast<uint16_t>(sign | 0x7c00u);  // rounds past 65504
  if (abs < 0x38800000u) {                                             // subnormal or zero
    if (abs < 0x33000000u) return static_cast<uint16_t>(sign);
    const uint32_t e = abs >> 23, m = (abs & 0x7fffffu) | 0x800000u;
    const uint32_t shift = 126 - e;  // 14 + (112 - e) ... into the 10-bit field
    uint32_t h = m >> shift;
    const uint32_t rest = m & ((1u << shift) - 1), half = 1u << (shift - 1);
    if (rest > half || (rest == half && (h & 1))) h++;
    return static_cast<uint16_t>(sign | h);
  }
  uint32_t h = ((abs - 0x38000000u) >> 13);
  const uint32_t rest = abs & 0x1fffu;
  if (rest > 0x1000u || (rest == 0x1000u && (h & 1))) h++;
  return static_cast<uint16_t>(sign | h);
}

float at(const void* p, int64_t i) { return half_to_float(static_cast<const uint16_t*>(p)[i]); }
void put(void* p, int64_t i, float v) { static_cast<uint16_t*>(p)[i] = float_to_half(v); }

// E4M3 ("fn": no infinities, ±448 the largest finite): 4 exponent bits (bias 7), 3 mantissa bits.
float e4m3_value(uint8_t b) {
  const int e = (b >> 3) & 15, m = b & 7;
  if (e == 15 && m == 7) return NAN;
  const float v = e == 0 ? std::ldexp(static_cast<float>(m), -9) : std::ldexp(static_cast<float>(8 + m), e - 10);
  return b & 0x80 ? -v : v;
}

// The nearest E4M3 value (ties to even), saturated to ±448, as CUDA's __NV_SATFINITE conversion.
float e4m3_round(float v) {
  if (std::isnan(v)) return v;
  const float a = std::fabs(v);
  if (a >= 448.f) return std::copysign(448.f, v);
  int e = 0;
  std::frexp(a, &e);  // a in [2^(e-1), 2^e): steps of 2^(e-4); below 2^-6, subnormal steps of 2^-9
  const int step = std::max(e - 4, -9);
  return std::copysign(std::min(std::ldexp(std::nearbyint(std::ldexp(a, -step)), step), 448.f), v);
}

uint8_t e4m3_byte(float v) {  // v's nearest E4M3 byte (saturated)
  const float r = e4m3_round(v), a = std::fabs(r);
  const uint8_t sign = std::signbit(r) ? 0x80 : 0;
  if (std::isnan(r)) return 0x7f;
  if (a < 0x1p-6f) return static_cast<uint8_t>(sign | static_cast<int>(a * 512.f));  // subnormal: m * 2^-9
  int e = 0;
  const float f = std::frexp(a, &e);  // a = f * 2^e, f in [0.5, 1): exponent field e + 6
  return static_cast<uint8_t>(sign | ((e + 6) << 3) | static_cast<int>((f * 2.f - 1.f) * 8.f));
}

float gelu_tanh(float z) { return 0.5f * z * (1.f + std::tanh(0.7978845608f * (z + 0.044715f * z * z * z))); }

}  // namespace

const char* joint_qkv_norm(const JointQkvArgs& a, void*) {
  const int64_t hidden = a.heads * a.head_dim, total = a.tokens[0] + a.tokens[1];
  float row[1024];
  if (a.head_dim > 1024) return "head_dim above 1024";
  for (int64_t b = 0; b < a.batch; b++)
    for (int64_t t = 0; t < total; t++) {
      const int s = t < a.tokens[0] ? 0 : 1;
      const int64_t ts = s ? t - a.tokens[0] : t;
      const int64_t src = (b * a.tokens[s] + ts) * 3 * hidden, dst = (b * total + t) * hidden;
      for (int which = 0; which < 3; which++)
        for (int64_t h = 0; h < a.heads; h++) {
          const int64_t base = which * hidden + h * a.head_dim;
          double squares = 0;
          for (int64_t e = 0; e < a.head_dim; e++) {
            row[e] = at(a.qkv[s], src + base + e) + at(a.bias[s], base + e);
            squares += static_cast<double>(row[e]) * row[e];
          }
          void* out = which == 0 ? a.q : which == 1 ? a.k : a.v;
          const void* weight = which == 0 ? a.q_weight[s] : a.k_weight[s];
          const float r = which == 2 ? 1.0f : 1.0f / std::sqrt(static_cast<float>(squares / a.head_dim) + a.epsilon);
          for (int64_t e = 0; e < a.head_dim; e++)
            put(out, dst + h * a.head_dim + e, which == 2 ? row[e] : row[e] * r * at(weight, e));
        }
    }
  return nullptr;
}

const char* gate_residual(const GateArgs& a, void*) {
  for (int64_t b = 0; b < a.batch; b++)
    for (int64_t r = 0; r < a.rows; r++) {
      const int64_t off = (b * a.rows + r) * a.dim;
      double sum = 0;
      for (int64_t c = 0; c < a.dim; c++) {
        const float v = at(a.x, off + c) + at(a.gate, b * a.dim + c) * (at(a.y, off + c) + at(a.bias, c));
        put(a.out, off + c, v);
        sum += at(a.out, off + c);  // the norm reads the residual as stored (fp16), as the model does
      }
      if (!a.h) continue;
      const double mean = sum / a.dim;
      double var = 0;
      for (int64_t c = 0; c < a.dim; c++) {
        const double d = at(a.out, off + c) - mean;
        var += d * d;
      }
      const float inv = 1.0f / std::sqrt(static_cast<float>(var / a.dim) + a.epsilon);
      for (int64_t c = 0; c < a.dim; c++) {
        const float n = static_cast<float>(at(a.out, off + c) - mean) * inv;
        const float v = n * (1.0f + at(a.scale, b * a.dim + c)) + at(a.shift, b * a.dim + c);
        if (a.h_scale > 0) static_cast<uint8_t*>(a.h)[off + c] = e4m3_byte(v * (1.f / a.h_scale));
        else put(a.h, off + c, v);
      }
    }
  return nullptr;
}

const char* linear_gelu(const LinearArgs& a, void*, void*) {
  for (int64_t r = 0; r < a.rows; r++)
    for (int64_t o = 0; o < a.out; o++) {
      float acc = 0.f;
      for (int64_t i = 0; i < a.in; i++) acc += at(a.x, r * a.in + i) * at(a.weight, o * a.in + i);
      put(a.y, r * a.out + o, gelu_tanh(acc + at(a.bias, o)));
    }
  return nullptr;
}

const char* linear_fp8(const Fp8LinearArgs& a, void*, void*) {
  const float inv = 1.f / a.x_scale, alpha = a.x_scale * a.w_scale;
  const uint8_t* w = static_cast<const uint8_t*>(a.weight);
  std::vector<float> xq(a.in), wv(a.in * a.out);
  for (int64_t i = 0; i < a.in * a.out; i++) wv[i] = e4m3_value(w[i]);
  for (int64_t r = 0; r < a.rows; r++) {
    for (int64_t i = 0; i < a.in; i++)
      xq[i] = a.x_e4m3 ? e4m3_value(static_cast<const uint8_t*>(a.x)[r * a.in + i])
                       : e4m3_round(at(a.x, r * a.in + i) * inv);
    for (int64_t o = 0; o < a.out; o++) {
      float acc = 0.f;
      for (int64_t i = 0; i < a.in; i++) acc += xq[i] * wv[o * a.in + i];
      const float z = acc * alpha, v = a.gelu ? gelu_tanh(z + at(a.bias, o)) : z;
      if (a.y_scale > 0) static_cast<uint8_t*>(a.y)[r * a.out + o] = e4m3_byte(v * (1.f / a.y_scale));
      else put(a.y, r * a.out + o, v);
    }
  }
  return nullptr;
}

void* linear_state_create(const char**) { return nullptr; }
void linear_state_destroy(void*) {}
