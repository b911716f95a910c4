// SPDX-License-Identifier: MIT
// Pipe rates of a Hopper GPU for the instructions of the fused DAPE V2 kernel's inner loops
// (core/kernels/NOTES.md, v14): cycles per warp instruction per scheduler (SM sub-partition),
// alone and in pairs, with 2 and 4 warps per scheduler; one block per SM, each warp running 8
// independent chains, cycles from clock64. Not part of the build; on a GPU machine:
//   nvcc -gencode=arch=compute_90a,code=sm_90a -O3 -o /tmp/pipe_rates scripts/pipe_rates.cu
//   /tmp/pipe_rates
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cstdint>
#include <cstdio>

constexpr int kIters = 4096;

__device__ __forceinline__ void mma_bf16_f32(float (&c)[4], const uint32_t (&a)[4], uint32_t b0, uint32_t b1) {
  asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
               : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3]) : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}
__device__ __forceinline__ void mma_f16_f16(uint32_t (&c)[2], const uint32_t (&a)[4], uint32_t b0, uint32_t b1) {
  asm volatile("mma.sync.aligned.m16n8k16.row.col.f16.f16.f16.f16 {%0,%1}, {%2,%3,%4,%5}, {%6,%7}, {%0,%1};\n"
               : "+r"(c[0]), "+r"(c[1]) : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}
__device__ __forceinline__ uint32_t f2bf2(float x, float y) {
  uint32_t r; asm volatile("cvt.rn.bf16x2.f32 %0, %1, %2;\n" : "=r"(r) : "f"(y), "f"(x)); return r;
}
__device__ __forceinline__ float ex2(float x) { float r; asm volatile("ex2.approx.ftz.f32 %0, %1;\n" : "=f"(r) : "f"(x)); return r; }
__device__ __forceinline__ uint32_t leaky(uint32_t x) {
  uint32_t r, t; const uint32_t k = 0x3c233c23u;  // 0.01 in bf16 pairs
  asm volatile("mul.rn.bf16x2 %0, %1, %2;\n" : "=r"(t) : "r"(x), "r"(k));
  asm volatile("max.bf16x2 %0, %1, %2;\n" : "=r"(r) : "r"(x), "r"(t)); return r;
}

// mode bits: 1 hmma f32, 2 hmma f16, 4 f2fp, 8 ex2, 16 leaky (2 ops), 32 ffma
template <int MODE>
__global__ void k(unsigned long long* cyc, float* sink) {
  const int lane = threadIdx.x % 32;
  uint32_t a[4] = {0x3f803f80u ^ lane, 0x3f803f81u, 0x3f803f82u, 0x3f803f83u};
  float c[8][4] = {};
  uint32_t h[8][2] = {};
  float e[8], f[8];
  uint32_t p[8];
  for (int j = 0; j < 8; ++j) e[j] = -0.001f * (lane + j), f[j] = 1.f + j, p[j] = 0x3f80u + j;
  __syncwarp();
  const unsigned long long t0 = clock64();
  for (int it = 0; it < kIters; ++it) {
#pragma unroll
    for (int j = 0; j < 8; ++j) {
      if (MODE & 1) mma_bf16_f32(c[j], a, a[0] + j, a[1]);
      if (MODE & 2) mma_f16_f16(h[j], a, a[0] + j, a[1]);
      if (MODE & 4) p[j] = f2bf2(f[j], e[j]) ^ p[j] , f[j] += 1e-7f;
      if (MODE & 8) e[j] = ex2(e[j]) - 1.001f;
      if (MODE & 16) p[j] = leaky(p[j]);
      if (MODE & 32) f[j] = fmaf(f[j], 0.999f, 1e-3f);
    }
  }
  const unsigned long long t1 = clock64();
  float s = 0.f;
  for (int j = 0; j < 8; ++j) s += c[j][0] + c[j][3] + e[j] + f[j] + float(p[j] & 7) + float(h[j][0] & 7);
  sink[blockIdx.x * blockDim.x + threadIdx.x] = s;
  if (threadIdx.x == 0) cyc[blockIdx.x] = t1 - t0;
}


// wgmma (sm_90a), A from registers, B (K x N, K-major: N rows of 16 K elements) in shared memory
// without swizzle: core matrices of 8 rows x 16 bytes, K-adjacent 128 bytes apart (LBO), 8-row
// groups 256 bytes apart (SBO). Throughput only: the values do not matter.
__device__ __forceinline__ uint64_t desc(const void* p, uint32_t lbo, uint32_t sbo) {
  const uint32_t a = static_cast<uint32_t>(__cvta_generic_to_shared(p));
  return uint64_t((a >> 4) & 0x3fff) | (uint64_t((lbo >> 4) & 0x3fff) << 16) |
         (uint64_t((sbo >> 4) & 0x3fff) << 32);
}
__device__ __forceinline__ void wg_n32(float (&d)[16], const uint32_t (&a)[4], uint64_t b) {
  asm volatile("{\n.reg .pred p;\nsetp.ne.b32 p, 1, 0;\n"
    "wgmma.mma_async.sync.aligned.m64n32k16.f32.bf16.bf16 "
    "{%0,%1,%2,%3,%4,%5,%6,%7,%8,%9,%10,%11,%12,%13,%14,%15}, {%16,%17,%18,%19}, %20, p, 1, 1, 0;\n}\n"
    : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), "+f"(d[7]),
      "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]), "+f"(d[14]), "+f"(d[15])
    : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(b));
}
__device__ __forceinline__ void wg_n16(float (&d)[8], const uint32_t (&a)[4], uint64_t b) {
  asm volatile("{\n.reg .pred p;\nsetp.ne.b32 p, 1, 0;\n"
    "wgmma.mma_async.sync.aligned.m64n16k16.f32.bf16.bf16 "
    "{%0,%1,%2,%3,%4,%5,%6,%7}, {%8,%9,%10,%11}, %12, p, 1, 1, 0;\n}\n"
    : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), "+f"(d[7])
    : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(b));
}
__device__ __forceinline__ void wg_fence() { asm volatile("wgmma.fence.sync.aligned;\n" ::: "memory"); }
__device__ __forceinline__ void wg_commit() { asm volatile("wgmma.commit_group.sync.aligned;\n" ::: "memory"); }
template <int N> __device__ __forceinline__ void wg_wait() { asm volatile("wgmma.wait_group.sync.aligned %0;\n" :: "n"(N) : "memory"); }

// NB: 1 = four independent m64n32k16 a group, 2 = eight m64n16k16; each group waited for.
template <int NB>
__global__ void kw(unsigned long long* cyc, float* sink) {
  __shared__ __align__(128) uint16_t B[2 * 32 * 16];
  for (int i = threadIdx.x; i < 2 * 32 * 16; i += blockDim.x) B[i] = 0x3f80 ^ (i & 7);
  asm volatile("fence.proxy.async.shared::cta;\n" ::: "memory");
  __syncthreads();
  const int lane = threadIdx.x % 32;
  uint32_t a[4] = {0x3f803f80u ^ lane, 0x3f803f81u, 0x3f803f82u, 0x3f803f83u};
  const uint64_t b = desc(B, 128, 256);
  float d32[4][16] = {}; float d16[8][8] = {};
  const unsigned long long t0 = clock64();
  for (int it = 0; it < kIters / 4; ++it) {
    wg_fence();
    if (NB == 1) {
#pragma unroll
      for (int j = 0; j < 4; ++j) wg_n32(d32[j], a, b);
    } else {
#pragma unroll
      for (int j = 0; j < 8; ++j) wg_n16(d16[j], a, b);
    }
    wg_commit();
    wg_wait<0>();
  }
  const unsigned long long t1 = clock64();
  float s = 0;
  for (int j = 0; j < 4; ++j) for (int e = 0; e < 16; ++e) s += d32[j][e];
  for (int j = 0; j < 8; ++j) for (int e = 0; e < 8; ++e) s += d16[j][e];
  sink[blockIdx.x * blockDim.x + threadIdx.x] = s;
  if (threadIdx.x == 0) cyc[blockIdx.x] = t1 - t0;
}

/// Launches kernel(cyc, sink) on one block of 4 * warps_per_smsp warps per SM twice (the first
/// warms up) and returns warp 0's cycles of the second, or 0 after a CUDA error (printed).
template <typename Kernel>
unsigned long long cycles(Kernel kernel, int warps_per_smsp) {
  int sms = 0;
  cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, 0);
  unsigned long long* cyc = nullptr;
  float* sink = nullptr;
  cudaMalloc(&cyc, sms * 8);
  cudaMalloc(&sink, sms * 1024 * 4);
  for (int rep = 0; rep < 2; ++rep) kernel<<<sms, 32 * 4 * warps_per_smsp>>>(cyc, sink);
  unsigned long long h = 0;
  const cudaError_t e = cudaDeviceSynchronize();
  if (e == cudaSuccess) cudaMemcpy(&h, cyc, 8, cudaMemcpyDeviceToHost);
  else printf("CUDA error: %s\n", cudaGetErrorString(e));
  cudaFree(cyc);
  cudaFree(sink);
  return h;
}

template <int NB>
void runw(const char* name, int warps_per_smsp) {
  const unsigned long long h = cycles(kw<NB>, warps_per_smsp);
  // Each wgmma m64nNk16 is 4 warps x N / 8 m16n8k16; a scheduler holds one warp of each group.
  const double per_iter = NB == 1 ? 4 * 4 : 8 * 2;  // m16n8k16 per warp per iteration
  const double hmma = double(kIters / 4) * per_iter * warps_per_smsp;
  printf("%-28s %d warps/SMSP  %8.3f cycles per HMMA.16816-equivalent per SMSP (%llu cycles)\n",
         name, warps_per_smsp, double(h) / hmma, h);
}

template <int MODE>
void run(const char* name, int warps_per_smsp, int ops_per_j) {
  const unsigned long long h = cycles(k<MODE>, warps_per_smsp);
  const double instr = double(kIters) * 8 * ops_per_j * warps_per_smsp;  // per SMSP
  printf("%-28s %d warps/SMSP  %8.3f cycles per warp instruction per SMSP (%llu cycles)\n", name,
         warps_per_smsp, double(h) / instr, h);
}

int main() {
  for (int w : {2, 4}) {
    run<1>("HMMA bf16 f32acc", w, 1);
    run<2>("HMMA f16 f16acc", w, 1);
    run<4>("F2FP bf16x2 (+LOP3,FADD)", w, 1);
    run<8>("MUFU ex2 (+FADD)", w, 1);
    run<16>("HMUL2+HMNMX2 bf16", w, 2);
    run<32>("FFMA", w, 1);
    run<4 | 8>("F2FP + ex2 (per pair)", w, 1);
    run<1 | 8>("HMMA + ex2 (per pair)", w, 1);
    run<1 | 4>("HMMA + F2FP (per pair)", w, 1);
    run<1 | 16>("HMMA + leaky (per triple)", w, 1);
    runw<1>("wgmma m64n32k16 RS x4/group", w);
    runw<2>("wgmma m64n16k16 RS x8/group", w);
  }
  return 0;
}
