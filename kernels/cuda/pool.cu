// pool.cu — max and average pooling, forward and backward.
//
// Every window is the one of kernels/numpy_ref.py: output pixel (oh, ow) of plane (n, c) looks
// at input rows h = oh·sh − ph + kh and columns w = ow·sw − pw + kw, kh < KH, kw < KW. Rows
// and columns outside the input are padding: −∞ for max (it never wins), 0 for the average.
//
// For a first-time CUDA reader
// ----------------------------
// Each kernel runs one thread per element of the array it writes (see im2col.cu for the
// "grid-stride loop" and why consecutive threads take consecutive elements). The forward
// kernels and avg_pool2d_backward *gather*: each thread reads what it needs and writes only its
// own element, so no two threads ever write to the same place. max_pool2d_backward *scatters*
// with atomicAdd, explained there.
//
// A plane of the input, (n, c), is H·W consecutive numbers starting at (n·C + c)·H·W; with NC
// = N·C planes, output element i belongs to plane i / (OH·OW).
// No #includes: CuPy compiles this file at run time with NVRTC.

// −∞ as a bit pattern (sign 1, exponent all ones, fraction 0): NVRTC has no INFINITY macro.
template <typename T> __device__ __forceinline__ T minus_infinity();
template <> __device__ __forceinline__ float minus_infinity<float>() { return __int_as_float((int)0xff800000u); }
template <> __device__ __forceinline__ double minus_infinity<double>()
{
    return __longlong_as_double((long long)0xfff0000000000000ull);
}

// y, indices (NC, OH, OW) <- x (NC, H, W). indices hold h·W + w of each window's winner.
// As in PyTorch: the scan goes row by row through the window, a later value wins only if it
// is strictly larger (so on a tie the first one wins) or if it is NaN (so NaN propagates); the
// index starts at the window's first in-bounds pixel.
template <typename T>
__device__ void max_pool2d_forward(const T* __restrict__ x, T* __restrict__ y, long long* __restrict__ indices,
                                   int NC, int H, int W, int KH, int KW, int sh, int sw, int ph, int pw, int OH, int OW)
{
    const long long total = (long long)NC * OH * OW;
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < total;
         i += (long long)gridDim.x * blockDim.x) {
        const int ow = (int)(i % OW);
        const int oh = (int)((i / OW) % OH);
        const T* plane = x + (i / ((long long)OH * OW)) * H * W;
        const int h0 = oh * sh - ph, w0 = ow * sw - pw;    // the window's corner (may be in the padding)
        const int h_begin = max(h0, 0), h_end = min(h0 + KH, H);
        const int w_begin = max(w0, 0), w_end = min(w0 + KW, W);
        T best = minus_infinity<T>();
        long long best_index = (long long)h_begin * W + w_begin;
        for (int h = h_begin; h < h_end; ++h) {
            for (int w = w_begin; w < w_end; ++w) {
                const T v = plane[h * W + w];
                if (v > best || v != v) {   // v != v is true only for NaN
                    best = v;
                    best_index = (long long)h * W + w;
                }
            }
        }
        y[i] = best;
        indices[i] = best_index;
    }
}

// dx (NC, H, W) += dy routed to the winners: dx[plane].flat[indices[i]] += dy[i].
// dx must be zero on entry. Launch: one thread per element of dy.
//
// Scatter with atomics: thread i adds its dy into the winner's slot. When windows overlap
// (stride < kernel) one pixel can win several windows, and two threads may add to the same
// slot at the same time; a plain `dx[j] += v` would then lose one of the updates (both read
// the old value, both write old + their own). atomicAdd does the read-add-write as one
// indivisible step. With the usual non-overlapping windows no two threads share a slot, so the
// atomics never wait. (The gather alternative, one thread per input pixel, would need the
// window geometry, which this table function does not receive, and would read every window
// that covers the pixel.) atomicAdd on double needs compute capability 6.0 or newer; the sum's
// order, and so its last bit, may vary from run to run when windows overlap.
template <typename T>
__device__ void max_pool2d_backward(const T* __restrict__ dy, const long long* __restrict__ indices,
                                    T* __restrict__ dx, int NC, int HW, int OHW)
{
    const long long total = (long long)NC * OHW;
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < total;
         i += (long long)gridDim.x * blockDim.x) {
        const long long plane = i / OHW;
        atomicAdd(&dx[plane * HW + indices[i]], dy[i]);
    }
}

// y (NC, OH, OW) <- the mean of each window of x (NC, H, W), padding counted as zeros: the
// divisor is always KH·KW (PyTorch's count_include_pad=True).
template <typename T>
__device__ void avg_pool2d_forward(const T* __restrict__ x, T* __restrict__ y, int NC, int H, int W, int KH, int KW,
                                   int sh, int sw, int ph, int pw, int OH, int OW)
{
    const long long total = (long long)NC * OH * OW;
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < total;
         i += (long long)gridDim.x * blockDim.x) {
        const int ow = (int)(i % OW);
        const int oh = (int)((i / OW) % OH);
        const T* plane = x + (i / ((long long)OH * OW)) * H * W;
        const int h0 = oh * sh - ph, w0 = ow * sw - pw;
        const int h_begin = max(h0, 0), h_end = min(h0 + KH, H);
        const int w_begin = max(w0, 0), w_end = min(w0 + KW, W);
        T sum = T(0);
        for (int h = h_begin; h < h_end; ++h)
            for (int w = w_begin; w < w_end; ++w) sum += plane[h * W + w];
        y[i] = sum / T(KH * KW);
    }
}

// dx (NC, H, W) <- each pixel's share dy / (KH·KW) of every window that covers it.
// A gather, like col2im: the thread owning input pixel (h, w) finds the windows that cover it,
// those with oh·sh − ph ≤ h < oh·sh − ph + KH, i.e. oh from ⌈(h + ph − KH + 1) / sh⌉ to
// ⌊(h + ph) / sh⌋ (clipped to the output), and the same for ow. No atomics needed.
template <typename T>
__device__ void avg_pool2d_backward(const T* __restrict__ dy, T* __restrict__ dx, int NC, int H, int W, int KH, int KW,
                                    int sh, int sw, int ph, int pw, int OH, int OW)
{
    const long long total = (long long)NC * H * W;
    const T count = T(KH * KW);
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < total;
         i += (long long)gridDim.x * blockDim.x) {
        const int w = (int)(i % W);
        const int h = (int)((i / W) % H);
        const T* d = dy + (i / ((long long)H * W)) * OH * OW;   // this plane's dy
        // smallest oh with oh·sh > h + ph − KH (written to avoid dividing a negative number)
        const int oh_begin = h + ph < KH ? 0 : (h + ph - KH) / sh + 1;
        const int oh_end = min((h + ph) / sh + 1, OH);          // one past the largest
        const int ow_begin = w + pw < KW ? 0 : (w + pw - KW) / sw + 1;
        const int ow_end = min((w + pw) / sw + 1, OW);
        T sum = T(0);
        for (int oh = oh_begin; oh < oh_end; ++oh)
            for (int ow = ow_begin; ow < ow_end; ++ow) sum += d[oh * OW + ow] / count;
        dx[i] = sum;
    }
}

// The entry points (extern "C": plain names Python can look up), for float and double.
#define POOL_KERNELS(SUFFIX, T)                                                                                      \
    extern "C" __global__ void max_pool2d_forward_##SUFFIX(const T* __restrict__ x, T* __restrict__ y,               \
                                                           long long* __restrict__ indices, int NC, int H, int W,   \
                                                           int KH, int KW, int sh, int sw, int ph, int pw, int OH,  \
                                                           int OW)                                                  \
    {                                                                                                                \
        max_pool2d_forward<T>(x, y, indices, NC, H, W, KH, KW, sh, sw, ph, pw, OH, OW);                              \
    }                                                                                                                \
    extern "C" __global__ void max_pool2d_backward_##SUFFIX(const T* __restrict__ dy,                               \
                                                            const long long* __restrict__ indices,                  \
                                                            T* __restrict__ dx, int NC, int HW, int OHW)            \
    {                                                                                                                \
        max_pool2d_backward<T>(dy, indices, dx, NC, HW, OHW);                                                        \
    }                                                                                                                \
    extern "C" __global__ void avg_pool2d_forward_##SUFFIX(const T* __restrict__ x, T* __restrict__ y, int NC, int H, \
                                                           int W, int KH, int KW, int sh, int sw, int ph, int pw,   \
                                                           int OH, int OW)                                          \
    {                                                                                                                \
        avg_pool2d_forward<T>(x, y, NC, H, W, KH, KW, sh, sw, ph, pw, OH, OW);                                       \
    }                                                                                                                \
    extern "C" __global__ void avg_pool2d_backward_##SUFFIX(const T* __restrict__ dy, T* __restrict__ dx, int NC,    \
                                                            int H, int W, int KH, int KW, int sh, int sw, int ph,   \
                                                            int pw, int OH, int OW)                                 \
    {                                                                                                                \
        avg_pool2d_backward<T>(dy, dx, NC, H, W, KH, KW, sh, sw, ph, pw, OH, OW);                                    \
    }

POOL_KERNELS(f32, float)
POOL_KERNELS(f64, double)
