// sgemm.cu — matrix multiplication C = A · B on the GPU, tiled in shared memory and in registers.
//
// Read this first if you have never written CUDA
// ----------------------------------------------
// A *kernel* (a function marked __global__) runs once per *thread*, thousands of threads at the
// same time. Threads come in *blocks* (here 256 threads each); the blocks form a *grid*. Every
// thread knows where it is: threadIdx.x is its number inside its block, blockIdx.{x,y,z} the
// number of its block in the grid. The Python side (kernels/cupy_cuda.py) chooses the grid so
// that block (x, y, z) computes one 128×128 tile of C: rows blockIdx.y·128 ..., columns
// blockIdx.x·128 ..., of matrix number blockIdx.z in a batch.
//
// Why tiles? Cᵢⱼ = Σₖ Aᵢₖ Bₖⱼ reads a row of A and a column of B for every single Cᵢⱼ. Read
// straight from global memory (the GPU's big, slow DRAM) that is 2 loads per multiply-add, but
// an H100 does about 40 fp32 multiply-adds in the time its DRAM delivers one float (33.5 T
// FMA/s against 3.35 TB/s). So we reuse every number we load, twice over:
//
//   1. Shared memory (__shared__): a small (~228 KB per SM on an H100), fast memory that all
//      threads of one block see. The block copies a 128×8 slice of A and an 8×128 slice of B
//      into it, then all 256 threads read those numbers from there: each number fetched from
//      DRAM takes part in 128 multiply-adds (16 threads' patches share its row or column).
//   2. Registers: each thread computes not one Cᵢⱼ but an 8×8 patch of them. Per step k it
//      reads 8 numbers of A's column and 8 of B's row from shared memory into registers and
//      does all 8·8 = 64 multiply-adds between them: 16 shared-memory reads for 64 FMAs.
//
// __syncthreads() is a barrier: no thread of the block passes it until all 256 have arrived.
// We need it between "the block wrote the tile into shared memory" and "threads read it", and
// between "threads finished reading a tile" and "the block overwrites it".
//
// Coalescing: a *warp* is 32 consecutive threads that execute each instruction together. When
// the 32 threads of a warp load 32 neighbouring addresses, the hardware merges them into a few
// wide memory transactions ("coalesced"); scattered addresses cost one transaction each. So the
// loaders below give consecutive threads consecutive addresses along whichever direction the
// matrix is contiguous in memory.
//
// The choices, for fp32 on an H100 (peak ~67 TFLOP/s fp32 without tensor cores):
//   * block tile 128×128, BK = 8: per 8-deep step the block loads (128 + 128)·8 numbers and
//     does 128·128·8 multiply-adds, 64 FMAs per load; BK = 8 keeps a tile pair at 8 KB, so the
//     two buffers (see "double buffering") of two blocks take only 32 KB of an SM.
//   * 8×8 per thread, 256 threads: 64 accumulators + 16 operands + 8 prefetched numbers, plus
//     addresses, fit in the 128 registers that __launch_bounds__(256, 2) allows (ptxas reports
//     121–128 for the float4 kernels on sm_90, no spills), so two blocks (16 warps) share an SM
//     and one block's loads overlap the other's arithmetic.
//   * float4 loads: when every row starts on a 16-byte boundary (leading dimensions divisible
//     by 4 and aligned pointers; the Python side checks), one instruction moves 4 floats.
//   * double buffering: while computing on tile t, each thread already fetches tile t+1 from
//     global memory into registers, and writes it into the *other* shared buffer afterwards;
//     the slow global loads hide behind 512 FMAs, and one __syncthreads per step is enough.
//   * each thread's 8 rows are two groups of 4 (rows 4·ty..4·ty+3 and 64 + 4·ty..), and the
//     same for columns: neighbouring threads then read neighbouring 16-byte pieces of shared
//     memory (no bank conflicts) and write neighbouring 16-byte pieces of C (coalesced).
//   * fp64 uses 64×64 tiles with 4×4 per thread (a double takes two registers) and no float4
//     path: it is there for gradient checks, not for speed.
//
// Any M, N, K works: tiles hanging over an edge are loaded with zeros where the matrix ends
// and only the cells inside C are written back. Transposed operands (A stored as K×M, or B
// as N×K, e.g. the Wᵀ of a backward pass) need no copy: only the loaders change.
//
// This file is compiled at run time by CuPy (NVRTC), which has no C++ standard library, so
// there are no #includes; float4/double2 and make_float4/make_double2 are CUDA built-ins.

// ---------------------------------------------------------------------------------------------
// Moving 4 consecutive numbers with one instruction (16 bytes for float, 2×16 for double).
// The address must be a multiple of 16 bytes; callers guarantee it.
// ---------------------------------------------------------------------------------------------

__device__ __forceinline__ void load4(const float* p, float* v)
{
    const float4 q = *reinterpret_cast<const float4*>(p);
    v[0] = q.x;
    v[1] = q.y;
    v[2] = q.z;
    v[3] = q.w;
}

__device__ __forceinline__ void load4(const double* p, double* v)
{
    const double2 q0 = reinterpret_cast<const double2*>(p)[0];
    const double2 q1 = reinterpret_cast<const double2*>(p)[1];
    v[0] = q0.x;
    v[1] = q0.y;
    v[2] = q1.x;
    v[3] = q1.y;
}

__device__ __forceinline__ void store4(float* p, const float* v)
{
    *reinterpret_cast<float4*>(p) = make_float4(v[0], v[1], v[2], v[3]);
}

__device__ __forceinline__ void store4(double* p, const double* v)
{
    reinterpret_cast<double2*>(p)[0] = make_double2(v[0], v[1]);
    reinterpret_cast<double2*>(p)[1] = make_double2(v[2], v[3]);
}

// ---------------------------------------------------------------------------------------------
// Copying one tile of an operand from global memory into shared memory, in two halves
// (global -> registers, registers -> shared) so that the main loop can run them apart.
//
// The shared tile is S[BK][BX]: BK steps of k by BX rows of A (x = m) or columns of B (x = n).
// Element (x, k) of the operand sits in global memory at
//     K_CONTIG:  src[x·ld + k]   (A as stored M×K, or B stored transposed as N×K)
//     otherwise: src[k·ld + x]   (B as stored K×N, or A stored transposed as K×M)
// Each thread moves LOADS groups of V numbers (V = 4 with float4 loads, else 1) that run along
// the contiguous direction, so consecutive threads read consecutive addresses.
// ---------------------------------------------------------------------------------------------

template <typename T, int BX, int BK, int THREADS, bool K_CONTIG, bool VEC>
struct TileLoader
{
    static constexpr int V = VEC ? 4 : 1;
    static constexpr int LOADS = BX * BK / (V * THREADS);
    static_assert(LOADS * V * THREADS == BX * BK, "the threads must cover the tile exactly");
    static_assert(BK % V == 0 && BX % V == 0, "groups of V must tile the tile");

    // Group g covers V numbers starting at tile position (x, k).
    __device__ static void group_position(int g, int& x, int& k)
    {
        if (K_CONTIG) {   // BK / V groups per x: walk along k first
            x = g / (BK / V);
            k = (g % (BK / V)) * V;
        } else {          // BX / V groups per k: walk along x first
            k = g / (BX / V);
            x = (g % (BX / V)) * V;
        }
    }

    // Registers r <- the tile whose corner is (x0, k0); X and K are the operand's true sizes,
    // and every position outside them reads as 0 (so overhanging tiles add nothing to C).
    __device__ static void load(T* r, const T* __restrict__ src, int ld, int x0, int k0, int X, int K)
    {
#pragma unroll
        for (int l = 0; l < LOADS; ++l) {
            int x, k;
            group_position(threadIdx.x + l * THREADS, x, k);
            const int gx = x0 + x, gk = k0 + k;
            T* v = r + l * V;
            if (K_CONTIG) {   // the group is (gx, gk .. gk+V-1)
                const T* p = src + (long long)gx * ld + gk;
                if (VEC && gx < X && gk + V - 1 < K) {
                    load4(p, v);
                } else {
#pragma unroll
                    for (int i = 0; i < V; ++i) v[i] = (gx < X && gk + i < K) ? p[i] : T(0);
                }
            } else {          // the group is (gx .. gx+V-1, gk)
                const T* p = src + (long long)gk * ld + gx;
                if (VEC && gk < K && gx + V - 1 < X) {
                    load4(p, v);
                } else {
#pragma unroll
                    for (int i = 0; i < V; ++i) v[i] = (gk < K && gx + i < X) ? p[i] : T(0);
                }
            }
        }
    }

    // Shared tile S <- registers r (the same groups as in load).
    __device__ static void store(T (*S)[BX], const T* r)
    {
#pragma unroll
        for (int l = 0; l < LOADS; ++l) {
            int x, k;
            group_position(threadIdx.x + l * THREADS, x, k);
            if (K_CONTIG) {
#pragma unroll
                for (int i = 0; i < V; ++i) S[k + i][x] = r[l * V + i];   // a column of S
            } else if (VEC) {
                store4(&S[k][x], r + l * V);                               // 4 along a row of S
            } else {
                S[k][x] = r[l * V];
            }
        }
    }
};

// ---------------------------------------------------------------------------------------------
// One block computes the BM×BN tile of C whose corner is (blockIdx.y·BM, blockIdx.x·BN), for
// matrix blockIdx.z of the batch. Each of its (BM/TM)·(BN/TN) threads owns a TM×TN patch.
// ---------------------------------------------------------------------------------------------

template <typename T, int BM, int BN, int BK, int TM, int TN, bool TRANS_A, bool TRANS_B, bool VEC>
__device__ __forceinline__ void gemm_block(const T* __restrict__ A, const T* __restrict__ B, T* __restrict__ C,
                                           int M, int N, int K, int lda, int ldb, int ldc,
                                           long long stride_a, long long stride_b, long long stride_c)
{
    constexpr int TY = BM / TM;         // threads along the rows of the tile
    constexpr int TX = BN / TN;         // threads along its columns
    constexpr int THREADS = TY * TX;
    static_assert(TM % 4 == 0 && TN % 4 == 0, "a thread's patch is made of 4×4 pieces");

    using LoadA = TileLoader<T, BM, BK, THREADS, !TRANS_A, VEC>;   // x = m: A is contiguous along k unless transposed
    using LoadB = TileLoader<T, BN, BK, THREADS, TRANS_B, VEC>;    // x = n: B is contiguous along n unless transposed

    // Two buffers per operand: the loop computes on one while the next tile is written into the other.
    __shared__ __align__(16) T As[2][BK][BM];   // As[.][k][m] = A[m][k]: a column of A is a row here
    __shared__ __align__(16) T Bs[2][BK][BN];   // Bs[.][k][n] = B[k][n]

    const int ty = threadIdx.x / TX, tx = threadIdx.x % TX;
    const int row0 = blockIdx.y * BM, col0 = blockIdx.x * BN;   // this block's corner of C
    A += blockIdx.z * stride_a;                                  // this block's matrices in the batch
    B += blockIdx.z * stride_b;
    C += blockIdx.z * stride_c;

    // The thread's rows of the tile are, for piece s = 0 .. TM/4−1 and i = 0..3,
    //     s·(4·TY) + 4·ty + i        (for the fp32 tile: 4ty..4ty+3 and 64+4ty..64+4ty+3)
    // and its columns likewise with TX and tx. acc[s·4 + i][t·4 + j] is C at those coordinates.
    T acc[TM][TN];
#pragma unroll
    for (int i = 0; i < TM; ++i)
#pragma unroll
        for (int j = 0; j < TN; ++j) acc[i][j] = T(0);

    T ra[LoadA::LOADS * LoadA::V], rb[LoadB::LOADS * LoadB::V];   // the tile in flight
    T a[TM], b[TN];                                               // one column of A, one row of B

    const int tiles = (K + BK - 1) / BK;
    LoadA::load(ra, A, lda, row0, 0, M, K);
    LoadB::load(rb, B, ldb, col0, 0, N, K);
    LoadA::store(As[0], ra);
    LoadB::store(Bs[0], rb);
    __syncthreads();

    for (int t = 0; t < tiles; ++t) {
        const int cur = t & 1;
        const bool more = t + 1 < tiles;   // the same for every thread, so no thread skips a barrier
        if (more) {                        // start fetching tile t+1; it arrives while we compute
            LoadA::load(ra, A, lda, row0, (t + 1) * BK, M, K);
            LoadB::load(rb, B, ldb, col0, (t + 1) * BK, N, K);
        }
#pragma unroll
        for (int k = 0; k < BK; ++k) {
#pragma unroll
            for (int s = 0; s < TM / 4; ++s) load4(&As[cur][k][s * 4 * TY + 4 * ty], a + 4 * s);
#pragma unroll
            for (int s = 0; s < TN / 4; ++s) load4(&Bs[cur][k][s * 4 * TX + 4 * tx], b + 4 * s);
#pragma unroll
            for (int i = 0; i < TM; ++i)
#pragma unroll
                for (int j = 0; j < TN; ++j) acc[i][j] += a[i] * b[j];   // one fused multiply-add each
        }
        if (more) {   // nobody reads the other buffer now: everyone left it before the last barrier
            LoadA::store(As[cur ^ 1], ra);
            LoadB::store(Bs[cur ^ 1], rb);
        }
        __syncthreads();
    }

    // Write the patch into C, skipping cells outside it (the last row and column tiles overhang).
#pragma unroll
    for (int i = 0; i < TM; ++i) {
        const int m = row0 + (i / 4) * 4 * TY + 4 * ty + i % 4;
        if (m >= M) continue;
#pragma unroll
        for (int s = 0; s < TN / 4; ++s) {
            const int n = col0 + s * 4 * TX + 4 * tx;
            T* p = C + (long long)m * ldc + n;
            if (VEC && n + 3 < N) {
                store4(p, &acc[i][4 * s]);
            } else {
#pragma unroll
                for (int j = 0; j < 4; ++j)
                    if (n + j < N) p[j] = acc[i][4 * s + j];
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The entry points Python launches, one per (dtype, transposes, float4 or not):
//     gemm_<f32|f64>_<n|t><n|t>[_vec]
// The first n/t says whether A is stored transposed (K×M), the second whether B is (N×K).
// Arguments, for C[z] = A[z] · B[z], z = blockIdx.z:
//     A, B, C          the first matrix of each batch (C is row-major M×N)
//     M, N, K          C is M×N, the sum runs over K
//     lda, ldb, ldc    leading dimensions: the distance between two stored rows, in elements
//     stride_a/b/c     the distance between two matrices of the batch (0: one matrix for all)
// Launch: block (256), grid (ceil(N / BN), ceil(M / BM), batch), BM = BN = 128 for f32, 64 for f64.
// ---------------------------------------------------------------------------------------------

#define GEMM_KERNEL(NAME, T, BM, BN, TM, TN, TRANS_A, TRANS_B, VEC)                                                 \
    extern "C" __global__ void __launch_bounds__(256, 2)                                                            \
        NAME(const T* __restrict__ A, const T* __restrict__ B, T* __restrict__ C, int M, int N, int K, int lda,      \
             int ldb, int ldc, long long stride_a, long long stride_b, long long stride_c)                          \
    {                                                                                                               \
        gemm_block<T, BM, BN, 8, TM, TN, TRANS_A, TRANS_B, VEC>(A, B, C, M, N, K, lda, ldb, ldc, stride_a, stride_b, \
                                                                stride_c);                                          \
    }

GEMM_KERNEL(gemm_f32_nn, float, 128, 128, 8, 8, false, false, false)
GEMM_KERNEL(gemm_f32_nt, float, 128, 128, 8, 8, false, true, false)
GEMM_KERNEL(gemm_f32_tn, float, 128, 128, 8, 8, true, false, false)
GEMM_KERNEL(gemm_f32_tt, float, 128, 128, 8, 8, true, true, false)
GEMM_KERNEL(gemm_f32_nn_vec, float, 128, 128, 8, 8, false, false, true)
GEMM_KERNEL(gemm_f32_nt_vec, float, 128, 128, 8, 8, false, true, true)
GEMM_KERNEL(gemm_f32_tn_vec, float, 128, 128, 8, 8, true, false, true)
GEMM_KERNEL(gemm_f32_tt_vec, float, 128, 128, 8, 8, true, true, true)
GEMM_KERNEL(gemm_f64_nn, double, 64, 64, 4, 4, false, false, false)
GEMM_KERNEL(gemm_f64_nt, double, 64, 64, 4, 4, false, true, false)
GEMM_KERNEL(gemm_f64_tn, double, 64, 64, 4, 4, true, false, false)
GEMM_KERNEL(gemm_f64_tt, double, 64, 64, 4, 4, true, true, false)
