// gemm_int8.cu — the matrix product of quantized layers: C = A · B, int8 (or uint8) × int8 → int32, exact.
//
// Cᵢⱼ = Σₖ Aᵢₖ Bₖⱼ for A (M, K) and B (K, N), both row-major, C (M, N) row-major. Every product is
// at most 255 · 128 = 32 640 in size, so an int32 holds a sum of up to 65 793 of them exactly
// (numpy_ref.matmul_int8 is the definition; numba_int8.py the CPU kernel).
//
// The instruction: __dp4a(a, b, c) (compute capability 6.1 and later) reads two 32-bit
// registers as 4 signed bytes each and returns c + a₀b₀ + a₁b₁ + a₂b₂ + a₃b₃, exact in int32:
// four multiply-adds in one instruction, on operands a quarter the size of floats. So the kernel
// packs 4 consecutive k of a row of A into one int, and 4 consecutive k of a column of B into
// another, and every dp4a advances a dot product by 4 terms.
//
// uint8 A (quint8 activations, 0 … 255): dp4a has no unsigned × signed form, so we shift. With
// a' = a − 128, which is the same byte with its top bit flipped (a ^ 0x80) read as signed,
//
//     Σₖ aₖ bₖ = Σₖ a'ₖ bₖ + 128 · Σₖ bₖ,
//
// and the column sums Σₖ bₖ are dp4a's too, against the bytes (1, 1, 1, 1). It is the zero-point
// trick of quantization once more: the stored integers stand for values shifted by a constant.
//
// Tiling, as in sgemm.cu but smaller: a block of 256 threads computes a 64×64 tile of C, rows
// blockIdx.y·64 …, columns blockIdx.x·64 …. Per step it copies a 64×32 slice of A and a 32×64 slice
// of B into shared memory, packed as As[64][8] and Bs[8][64] ints; then each thread computes a
// 4×4 patch of the tile, rows ty, ty + 16, ty + 32, ty + 48 and columns tx, tx + 16, … (ty = thread
// / 16, tx = thread % 16): per packed int, 4 + 4 shared-memory reads feed 16 dp4a, 64 multiply-adds.
// The 16 threads of a half-warp read 16 neighbouring ints of Bs (no bank conflicts) and one int
// of As (a broadcast). Loads: consecutive threads take consecutive 4-byte groups of a row of A,
// and consecutive columns of B (coalesced). Bytes past the end of A or B load as 0, which adds
// nothing: for uint8 A a padded 0 becomes −128, but it meets a padded 0 of B (past K) or lands in
// a row of C that is not written (past M). Any M, N, K works.
//
// Compiled at run time by CuPy (NVRTC): no #includes.

#define TILE 64     // rows (= columns) of C per block
#define BK_WORDS 8  // packed ints per step along k: 32 bytes of k
#define THREADS 256

// 4 bytes → one int, byte 0 in the lowest 8 bits (the order dp4a pairs them in).
__device__ __forceinline__ int pack4(unsigned b0, unsigned b1, unsigned b2, unsigned b3)
{
    return (int)((b0 & 0xffu) | ((b1 & 0xffu) << 8) | ((b2 & 0xffu) << 16) | ((b3 & 0xffu) << 24));
}

template <bool UNSIGNED_A>
__device__ __forceinline__ void gemm_int8(const unsigned char* __restrict__ a, const unsigned char* __restrict__ b,
                                          int* __restrict__ c, int M, int N, int K)
{
    __shared__ int As[TILE][BK_WORDS];
    __shared__ int Bs[BK_WORDS][TILE];
    const int t = threadIdx.x, ty = t / 16, tx = t % 16;
    const int row0 = blockIdx.y * TILE, col0 = blockIdx.x * TILE;
    const unsigned flip = UNSIGNED_A ? 0x80u : 0u;  // a ^ 0x80 = a − 128 as a signed byte
    int acc[4][4] = {};
    int col_sum[4] = {};  // Σₖ bₖⱼ of this thread's columns (used for uint8 A only)

    for (int k0 = 0; k0 < K; k0 += 4 * BK_WORDS) {
        for (int w = t; w < TILE * BK_WORDS; w += THREADS) {  // A: 64 rows × 8 words, 2 per thread
            const int r = w / BK_WORDS, k = k0 + 4 * (w % BK_WORDS), row = row0 + r;
            unsigned v[4];
            for (int j = 0; j < 4; ++j)
                v[j] = (row < M && k + j < K ? a[(long long)row * K + k + j] : 0u) ^ flip;
            As[r][w % BK_WORDS] = pack4(v[0], v[1], v[2], v[3]);
        }
        for (int w = t; w < TILE * BK_WORDS; w += THREADS) {  // B: 8 words × 64 columns, 2 per thread
            const int word = w / TILE, col = col0 + w % TILE, k = k0 + 4 * word;
            unsigned v[4];
            for (int j = 0; j < 4; ++j)
                v[j] = col < N && k + j < K ? b[(long long)(k + j) * N + col] : 0u;
            Bs[word][w % TILE] = pack4(v[0], v[1], v[2], v[3]);
        }
        __syncthreads();
        for (int w = 0; w < BK_WORDS; ++w) {
            int aw[4], bw[4];
            for (int i = 0; i < 4; ++i) aw[i] = As[ty + 16 * i][w];
            for (int j = 0; j < 4; ++j) bw[j] = Bs[w][tx + 16 * j];
            for (int i = 0; i < 4; ++i)
                for (int j = 0; j < 4; ++j) acc[i][j] = __dp4a(aw[i], bw[j], acc[i][j]);
            if (UNSIGNED_A)
                for (int j = 0; j < 4; ++j) col_sum[j] = __dp4a(0x01010101, bw[j], col_sum[j]);
        }
        __syncthreads();  // before the next step overwrites the tiles
    }
    for (int i = 0; i < 4; ++i) {
        const int row = row0 + ty + 16 * i;
        for (int j = 0; j < 4; ++j) {
            const int col = col0 + tx + 16 * j;
            if (row < M && col < N) c[(long long)row * N + col] = acc[i][j] + (UNSIGNED_A ? 128 * col_sum[j] : 0);
        }
    }
}

// The entry points (extern "C": plain names Python can look up): int8 or uint8 A, int8 B.
extern "C" __global__ void __launch_bounds__(THREADS)
    gemm_s8s8(const signed char* __restrict__ a, const signed char* __restrict__ b, int* __restrict__ c, int M, int N,
              int K)
{
    gemm_int8<false>(reinterpret_cast<const unsigned char*>(a), reinterpret_cast<const unsigned char*>(b), c, M, N, K);
}

extern "C" __global__ void __launch_bounds__(THREADS)
    gemm_u8s8(const unsigned char* __restrict__ a, const signed char* __restrict__ b, int* __restrict__ c, int M,
              int N, int K)
{
    gemm_int8<true>(a, reinterpret_cast<const unsigned char*>(b), c, M, N, K);
}
