// SPDX-License-Identifier: MIT
// Does compute-sanitizer racecheck follow named barriers (bar.arrive / bar.sync pairs)? Three
// correct programs, each result checked: mode 0 only __syncthreads; mode 1 adds a handoff
// between neighbouring warps through shared memory with bar.arrive (producer) and bar.sync
// (consumer), as the fused DAPE V2 kernel's halo slots do; mode 2 the same with bar.sync on both
// sides. On a GPU machine (core/kernels/NOTES.md, v22, has the H100's answer):
//   nvcc -arch=sm_90 -o /tmp/nb scripts/racecheck_named_barriers.cu
//   for m in 0 1 2; do /tmp/nb $m; compute-sanitizer --tool racecheck /tmp/nb $m; done
#include <cstdio>
#include <cstdlib>
__device__ __forceinline__ void bar_arrive(int id, int n) {
  asm volatile("bar.arrive %0, %1;" ::"r"(id), "r"(n) : "memory");
}
__device__ __forceinline__ void bar_sync(int id, int n) {
  asm volatile("bar.sync %0, %1;" ::"r"(id), "r"(n) : "memory");
}
__global__ void k(int mode, int iters, int* out) {
  __shared__ int s[256], slot[8][32];
  const int tid = threadIdx.x, warp = tid / 32, lane = tid % 32;
  int acc = 0;
  for (int it = 0; it < iters; ++it) {
    s[tid] = tid + it;  // phase 1: own element
    if (mode > 0) {
      if (warp > 0) {  // publish for warp - 1
        slot[warp][lane] = warp * 1000 + it;
        if (mode == 1)
          bar_arrive(warp, 64);
        else
          bar_sync(warp, 64);
      }
      if (warp < 7) {  // read the right neighbour's
        bar_sync(warp + 1, 64);
        acc += slot[warp + 1][lane] - ((warp + 1) * 1000 + it);
      }
    }
    __syncthreads();
    acc += s[(tid + 32) % 256] - ((tid + 32) % 256 + it);  // phase 2: a neighbour's element
    __syncthreads();
  }
  out[blockIdx.x * 256 + tid] = acc;
}
int main(int argc, char** argv) {
  const int mode = argc > 1 ? atoi(argv[1]) : 0;
  int* out;
  cudaMallocManaged(&out, 4 * 256 * sizeof(int));
  k<<<4, 256>>>(mode, 8, out);
  cudaDeviceSynchronize();
  long bad = 0;
  for (int i = 0; i < 4 * 256; ++i) bad += out[i] != 0;
  printf("mode %d: %ld wrong results, %s\n", mode, bad, cudaGetErrorString(cudaGetLastError()));
  return bad != 0;
}
