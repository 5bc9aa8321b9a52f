// cuda_emu.h — just enough of CUDA C++ to run kernels/cuda/*.cu on the CPU, for tests.
//
// Every CUDA thread becomes one OS thread (started from Python, see cuda_emu.py); the blocks of
// a grid run one after another. Within a block the threads really run concurrently, so
// __syncthreads is a real barrier, and __shared__ variables become function-local statics:
// one copy, seen by all threads of the (single) running block, as shared memory is. What this
// cannot show: timing, the GPU's memory model, warp-level behaviour, and alignment faults
// (x86 forgives a misaligned float4; the Python side checks alignment instead).
#pragma once

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <thread>
#include <vector>

struct emu_uint3 { unsigned x, y, z; };
thread_local emu_uint3 threadIdx, blockIdx, blockDim, gridDim;

#define __global__
#define __device__
#define __forceinline__ inline
#define __launch_bounds__(...)
#define __shared__ static
#define __align__(n) __attribute__((aligned(n)))

struct alignas(16) float4 { float x, y, z, w; };
struct alignas(16) double2 { double x, y; };
inline float4 make_float4(float x, float y, float z, float w) { return {x, y, z, w}; }
inline double2 make_double2(double x, double y) { return {x, y}; }

inline float __int_as_float(int i) { float f; std::memcpy(&f, &i, sizeof f); return f; }
inline double __longlong_as_double(long long i) { double d; std::memcpy(&d, &i, sizeof d); return d; }
using std::max;
using std::min;

// __dp4a(a, b, c) = c + Σⱼ a.byte[j] · b.byte[j], the bytes read as signed (sm_61+); the sum wraps
// modulo 2³² as the hardware's does (unsigned arithmetic here, so no C++ overflow).
inline int __dp4a(int a, int b, int c)
{
    unsigned sum = (unsigned)c;
    for (int j = 0; j < 4; ++j)
        sum += (unsigned)((int)(signed char)(a >> (8 * j)) * (int)(signed char)(b >> (8 * j)));
    return (int)sum;
}

static std::mutex emu_atomic_mutex;
template <typename T> T atomicAdd(T* address, T value)
{
    std::lock_guard<std::mutex> guard(emu_atomic_mutex);
    const T old = *address;
    *address = old + value;
    return old;
}

// A reusable barrier for the threads of the running block. A thread that never arrives (a
// __syncthreads inside a branch some threads skip) is a bug in the kernel: report it and stop,
// rather than hang the test run.
static std::mutex emu_barrier_mutex;
static std::condition_variable emu_barrier_cv;
static int emu_barrier_count = 0, emu_barrier_waiting = 0;
static long emu_barrier_generation = 0;

inline void __syncthreads()
{
    std::unique_lock<std::mutex> lock(emu_barrier_mutex);
    const long generation = emu_barrier_generation;
    if (++emu_barrier_waiting == emu_barrier_count) {
        emu_barrier_waiting = 0;
        ++emu_barrier_generation;
        emu_barrier_cv.notify_all();
        return;
    }
    if (!emu_barrier_cv.wait_for(lock, std::chrono::seconds(60),
                                 [&] { return emu_barrier_generation != generation; })) {
        std::fprintf(stderr, "cuda_emu: __syncthreads timed out: not every thread of the block reached it\n");
        std::fflush(stderr);
        std::_Exit(86);
    }
}

// Launch: the blocks of the grid one after another. With CONCURRENT, each block runs as
// block.x·block.y·block.z OS threads at once (needed when the kernel calls __syncthreads);
// otherwise its threads run one after another in the calling thread, which is equivalent for
// kernels whose threads never wait for each other, and much faster.
template <bool CONCURRENT, typename F>
void emu_launch(emu_uint3 grid, emu_uint3 block, const F& kernel)
{
    const int threads = (int)(block.x * block.y * block.z);
    for (unsigned bz = 0; bz < grid.z; ++bz)
        for (unsigned by = 0; by < grid.y; ++by)
            for (unsigned bx = 0; bx < grid.x; ++bx) {
                auto run = [=, &kernel](unsigned tx, unsigned ty, unsigned tz) {
                    threadIdx = {tx, ty, tz};
                    blockIdx = {bx, by, bz};
                    blockDim = block;
                    gridDim = grid;
                    kernel();
                };
                if (!CONCURRENT) {
                    for (unsigned tz = 0; tz < block.z; ++tz)
                        for (unsigned ty = 0; ty < block.y; ++ty)
                            for (unsigned tx = 0; tx < block.x; ++tx) run(tx, ty, tz);
                    continue;
                }
                {
                    std::lock_guard<std::mutex> lock(emu_barrier_mutex);
                    emu_barrier_count = threads;
                    emu_barrier_waiting = 0;
                }
                std::vector<std::thread> workers;
                workers.reserve(threads);
                for (unsigned tz = 0; tz < block.z; ++tz)
                    for (unsigned ty = 0; ty < block.y; ++ty)
                        for (unsigned tx = 0; tx < block.x; ++tx) workers.emplace_back(run, tx, ty, tz);
                for (auto& w : workers) w.join();
            }
}
