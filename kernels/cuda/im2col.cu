// im2col.cu — convolution's data movement: unroll every receptive field into a column (im2col),
// and the way back, adding each column entry onto the pixel it came from (col2im).
//
// Convolution as a matrix product (kernels/numpy_ref.py explains it in NumPy):
//     cols[n, r, p] = x_pad[n, c, oh·sh + kh, ow·sw + kw]     r = (c·KH + kh)·KW + kw,  p = oh·OW + ow
//     y[n] = W · cols[n]        with W = w.reshape(F, C·KH·KW)   (the GEMM of sgemm.cu)
// x_pad is x with ph zero rows above and below and pw zero columns left and right; we never
// build it: a position that falls into the padding simply reads as 0.
//
// For a first-time CUDA reader
// ----------------------------
// Both kernels are "one thread per output element": thread number i (counting over the whole
// grid: blockIdx.x · blockDim.x + threadIdx.x) computes element i of the flat output array,
// decoding i into coordinates with / and %. No thread ever writes where another one writes, so
// there are no races and no need for atomics or __syncthreads.
//
// The grid may be smaller than the array (a grid has at most 2³¹−1 blocks, and Python caps it
// lower): each thread then handles i, i + (total number of threads), i + 2·(...), ... — a
// "grid-stride loop", correct for any grid size.
//
// Coalescing: thread i writes element i, so a warp (32 consecutive threads) writes 32
// consecutive numbers: one wide memory transaction. Its reads are neighbours too whenever the
// stride is 1 (consecutive output pixels ow read consecutive input pixels w).
//
// Indices are long long (64-bit) where a product of sizes could pass 2³¹.
// No #includes: CuPy compiles this file at run time with NVRTC.

// cols (N, C·KH·KW, OH·OW) <- x (N, C, H, W). Launch: any 1-D grid of 1-D blocks.
template <typename T>
__device__ void im2col(const T* __restrict__ x, T* __restrict__ cols, int N, int C, int H, int W, int KH, int KW,
                       int sh, int sw, int ph, int pw, int OH, int OW)
{
    const long long P = (long long)OH * OW;      // output pixels per image: the columns
    const long long R = (long long)C * KH * KW;  // numbers per receptive field: the rows
    const long long total = N * R * P;
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < total;
         i += (long long)gridDim.x * blockDim.x) {
        // i = (n·R + r)·P + p: decode from the fastest-moving index outwards
        const int p = (int)(i % P);
        const long long nr = i / P;
        const int r = (int)(nr % R);
        const int n = (int)(nr / R);
        const int ow = p % OW, oh = p / OW;
        const int kw = r % KW, kh = (r / KW) % KH, c = r / (KW * KH);
        const int h = oh * sh - ph + kh;   // the pixel of x (not x_pad) this entry copies
        const int w = ow * sw - pw + kw;
        const bool inside = 0 <= h && h < H && 0 <= w && w < W;
        cols[i] = inside ? x[(((long long)n * C + c) * H + h) * W + w] : T(0);
    }
}

// dx (N, C, H, W) <- dcols (N, C·KH·KW, OH·OW): the adjoint of im2col. Launch: any 1-D grid.
//
// im2col copied pixel (h, w) into every column whose window covers it, so its gradient is the
// sum of those entries. Rather than have each column entry *add* itself onto its pixel (two
// threads could add to one pixel at once: a race, fixable only with slow atomics), each thread
// owns one pixel and *gathers* its terms: for every kernel offset (kh, kw), the output pixel
// whose window put (h, w) at that offset is oh = (h + ph − kh) / sh, ow = (w + pw − kw) / sw —
// if those divisions are exact and land inside the output. At most KH·KW terms per pixel.
template <typename T>
__device__ void col2im(const T* __restrict__ dcols, T* __restrict__ dx, int N, int C, int H, int W, int KH, int KW,
                       int sh, int sw, int ph, int pw, int OH, int OW)
{
    const long long P = (long long)OH * OW;
    const long long R = (long long)C * KH * KW;
    const long long total = (long long)N * C * H * W;
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < total;
         i += (long long)gridDim.x * blockDim.x) {
        const int w = (int)(i % W);
        const int h = (int)((i / W) % H);
        const long long nc = i / ((long long)H * W);
        const int c = (int)(nc % C);
        const long long n = nc / C;
        const T* d = dcols + n * R * P;   // this image's columns
        T sum = T(0);
        for (int kh = 0; kh < KH; ++kh) {
            const int th = h + ph - kh;          // = oh·sh if some output row oh used this offset here
            if (th < 0 || th % sh != 0) continue;
            const int oh = th / sh;
            if (oh >= OH) continue;
            for (int kw = 0; kw < KW; ++kw) {
                const int tw = w + pw - kw;
                if (tw < 0 || tw % sw != 0) continue;
                const int ow = tw / sw;
                if (ow >= OW) continue;
                const int r = (c * KH + kh) * KW + kw;
                sum += d[r * P + oh * OW + ow];
            }
        }
        dx[i] = sum;
    }
}

// The entry points (extern "C": plain names Python can look up), for float and double.
#define IM2COL_KERNELS(SUFFIX, T)                                                                                    \
    extern "C" __global__ void im2col_##SUFFIX(const T* __restrict__ x, T* __restrict__ cols, int N, int C, int H,  \
                                               int W, int KH, int KW, int sh, int sw, int ph, int pw, int OH, int OW) \
    {                                                                                                                \
        im2col<T>(x, cols, N, C, H, W, KH, KW, sh, sw, ph, pw, OH, OW);                                              \
    }                                                                                                                \
    extern "C" __global__ void col2im_##SUFFIX(const T* __restrict__ dcols, T* __restrict__ dx, int N, int C, int H, \
                                               int W, int KH, int KW, int sh, int sw, int ph, int pw, int OH, int OW) \
    {                                                                                                                \
        col2im<T>(dcols, dx, N, C, H, W, KH, KW, sh, sw, ph, pw, OH, OW);                                            \
    }

IM2COL_KERNELS(f32, float)
IM2COL_KERNELS(f64, double)
