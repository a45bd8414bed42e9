// CUDA kernels of the indexing ops: gather, index_select, masked_select, scatter_add, index_add.
// See Note [CUDA indexing].
#include <cub/device/device_scan.cuh>

#include "cuda/sync_ledger.h"
#include "ops/cuda/offset_loops.cuh"
#include "ops/elementwise_util.h"
#include "ops/indexing_plan.h"

namespace vt::cuda_kernels {
namespace {

// Note [CUDA indexing]
// Argument checks and geometry are the CPU kernels' (ops/indexing_plan.h); the kernels only move
// elements. Index values are validated by the kernel that uses them: an element whose index is
// out of range is skipped and raises a device flag. After the launch the host reads the flag
// back (one host sync per call, sync ledger "index_bounds_check"); when it is raised, the index
// is copied to the host to name its first bad value in the CPU kernels' words, as an IndexError.
// (PyTorch asserts on the device instead, which leaves the CUDA context unusable; a Python
// exception needs the answer on the host, hence the sync.)
// scatter_add / index_add accumulate with atomicAdd. With repeated indices the order of the
// additions varies between runs, so floating-point sums may differ in their last bits from run
// to run and from the CPU's serial order (PyTorch's CUDA scatter_add behaves the same way);
// integer sums are exact.
// masked_select: an inclusive scan (CUB) of the mask over the broadcast shape gives each
// selected element its output position; the last scan value, the output's length, is read back
// on the host (sync ledger "masked_select_count"), as in PyTorch.

// A CUDA op's tensors must all be on `dev` (no CPU 0-d index joins a CUDA gather).
void check_on_device(const char* op, Device dev, std::initializer_list<const Tensor*> ts) {
  for (const Tensor* t : ts)
    VT_CHECK(t->device() == dev, op, ": expected all tensors to be on the same device, but found at least two devices, ",
             dev, " and ", t->device());
}

// One int32 on the device, zeroed on the current stream, that kernels set to 1.
struct DeviceFlag {
  Tensor t;
  explicit DeviceFlag(Device dev) : t(empty_tensor({1}, DType::Int32, dev)) {
    cuda::DeviceGuard g(dev.index);
    VT_CUDA_CHECK(cudaMemsetAsync(t.data_ptr(), 0, sizeof(int), cuda::current_stream(dev.index).handle()));
  }
  int* ptr() const { return t.data<int>(); }
};

// Reads one value of device memory on the current stream (a host sync, counted under `site`).
template <class T> T read_back(const void* dev_ptr, Device dev, const char* site) {
  T v{};
  cuda::DeviceGuard g(dev.index);
  cudaStream_t s = cuda::current_stream(dev.index).handle();
  cuda::HostSync host_sync(site);
  VT_CUDA_CHECK(cudaMemcpyAsync(&v, dev_ptr, sizeof(T), cudaMemcpyDeviceToHost, s));
  VT_CUDA_CHECK(cudaStreamSynchronize(s));
  return v;
}

// After the kernels that raise `bad`: an IndexError naming the first bad value, if any.
void raise_if_bad(const char* op, const DeviceFlag& bad, const IndexLoop& L) {
  if (!read_back<int>(bad.ptr(), L.index.device(), "index_bounds_check")) return;
  check_index_values(op, ops::to_device(L.index, Device{}, false), L.dim, L.dim_size);
  VT_ERROR(op, ": an index value was out of range on the device but not on the host");  // unreachable
}

template <class I> __device__ __forceinline__ bool load_index(const char* p, int64_t size, int* bad, int64_t& v) {
  v = int64_t(*reinterpret_cast<const I*>(p));
  if (v < 0 || v >= size) {
    *bad = 1;
    return false;
  }
  return true;
}

// Validates an index alone (loops that have no element still check their index, as on the CPU).
template <class I> struct CheckIndexF {
  const char* index;
  int64_t size;
  int* bad;
  __device__ void operator()(int64_t, const int64_t (&o)[1]) const {
    int64_t v;
    load_index<I>(index + o[0], size, bad, v);
  }
};

// Operands: 0 = plain (the output), 1 = indexed (the restrided source), 2 = index view.
template <class U, class I> struct GatherF {
  char* out;
  const char* src;
  const char* index;
  int64_t step, size;  // step: bytes per index unit
  int* bad;
  __device__ void operator()(int64_t, const int64_t (&o)[3]) const {
    int64_t v;
    if (load_index<I>(index + o[2], size, bad, v))
      *reinterpret_cast<U*>(out + o[0]) = *reinterpret_cast<const U*>(src + o[1] + v * step);
  }
};

__device__ __forceinline__ void atomic_add(float* p, float v) { atomicAdd(p, v); }
__device__ __forceinline__ void atomic_add(double* p, double v) { atomicAdd(p, v); }
__device__ __forceinline__ void atomic_add(__half* p, __half v) { atomicAdd(p, v); }
__device__ __forceinline__ void atomic_add(__nv_bfloat16* p, __nv_bfloat16 v) { atomicAdd(p, v); }
__device__ __forceinline__ void atomic_add(int32_t* p, int32_t v) { atomicAdd(reinterpret_cast<int*>(p), int(v)); }
__device__ __forceinline__ void atomic_add(int64_t* p, int64_t v) {  // two's complement: unsigned adds wrap alike
  atomicAdd(reinterpret_cast<unsigned long long*>(p), static_cast<unsigned long long>(v));
}

// Operands: 0 = plain (the source), 1 = indexed (the restrided destination), 2 = index view.
template <class D, class I> struct ScatterAddF {
  const char* src;
  char* dst;
  const char* index;
  int64_t step, size;
  int* bad;
  __device__ void operator()(int64_t, const int64_t (&o)[3]) const {
    int64_t v;
    if (load_index<I>(index + o[2], size, bad, v))
      atomic_add(reinterpret_cast<D*>(dst + o[1] + v * step), *reinterpret_cast<const D*>(src + o[0]));
  }
};

template <class F> void dispatch_index(DType dt, F f) {
  if (dt == DType::Int64) return f.template operator()<int64_t>();
  return f.template operator()<int32_t>();  // plan_* checked int64 or int32
}

// Validates the index of a loop without elements (index_select of a self with another zero dim).
void check_index_alone(const DeviceFlag& bad, const IndexLoop& L) {
  dispatch_index(L.index.dtype(), [&]<class I>() {
    launch_with_offsets<1>(L.index, {}, CheckIndexF<I>{static_cast<const char*>(L.index.data_ptr()), L.dim_size, bad.ptr()});
  });
}

Tensor indexed_read(const char* op, const IndexLoop& L) {
  if (!L.index.defined()) return L.result;
  DeviceFlag bad(L.index.device());
  if (!L.has_work()) {
    check_index_alone(bad, L);
  } else {
    int64_t es = itemsize(L.plain.dtype());
    dispatch_index(L.index.dtype(), [&]<class I>() {
      dispatch_bytes(es, [&]<class U>() {
        GatherF<U, I> f{static_cast<char*>(L.plain.data_ptr()), static_cast<const char*>(L.indexed.data_ptr()),
                        static_cast<const char*>(L.index_view.data_ptr()), L.dim_stride * es, L.dim_size, bad.ptr()};
        launch_with_offsets<3>(L.plain, {&L.indexed, &L.index_view}, f);
      });
    });
  }
  raise_if_bad(op, bad, L);
  return L.result;
}

Tensor indexed_accumulate(const char* op, const IndexLoop& L) {
  if (!L.index.defined()) return L.result;
  DeviceFlag bad(L.index.device());
  if (!L.has_work()) {
    check_index_alone(bad, L);
  } else {
    int64_t es = itemsize(L.plain.dtype());
    dispatch_index(L.index.dtype(), [&]<class I>() {
      VT_DISPATCH_NUMERIC(L.plain.dtype(), op, [&]<class T>() {
        using D = dev_t<T>;
        ScatterAddF<D, I> f{static_cast<const char*>(L.plain.data_ptr()), static_cast<char*>(L.indexed.data_ptr()),
                            static_cast<const char*>(L.index_view.data_ptr()), L.dim_stride * es, L.dim_size, bad.ptr()};
        launch_with_offsets<3>(L.plain, {&L.indexed, &L.index_view}, f);
      });
    });
  }
  raise_if_bad(op, bad, L);
  return L.result;
}

Tensor gather_cuda(const Tensor& self, int64_t dim, const Tensor& index) {
  check_on_device("gather", self.device(), {&index});
  return indexed_read("gather", plan_gather(self, dim, index));
}

Tensor index_select_cuda(const Tensor& self, int64_t dim, const Tensor& index) {
  check_on_device("index_select", self.device(), {&index});
  return indexed_read("index_select", plan_index_select(self, dim, index));
}

Tensor scatter_add_cuda(const Tensor& self, int64_t dim, const Tensor& index, const Tensor& src) {
  check_on_device("scatter_add", self.device(), {&index, &src});
  return indexed_accumulate("scatter_add", plan_scatter_add(self, dim, index, src));
}

Tensor index_add_cuda(const Tensor& self, int64_t dim, const Tensor& index, const Tensor& source) {
  check_on_device("index_add", self.device(), {&index, &source});
  return indexed_accumulate("index_add", plan_index_add(self, dim, index, source));
}

// ---- masked_select ----------------------------------------------------------------------

// Operands: 0 = positions (int64, contiguous, the broadcast shape), 1 = mask.
struct MaskToIntF {
  char* pos;
  const char* mask;
  __device__ void operator()(int64_t, const int64_t (&o)[2]) const {
    *reinterpret_cast<int64_t*>(pos + o[0]) = *reinterpret_cast<const bool*>(mask + o[1]) ? 1 : 0;
  }
};

// Operands: 0 = inclusive scan of the mask, 1 = self, 2 = mask.
template <class U> struct CompactF {
  U* out;
  const char* scan;
  const char* self;
  const char* mask;
  __device__ void operator()(int64_t, const int64_t (&o)[3]) const {
    if (*reinterpret_cast<const bool*>(mask + o[2]))
      out[*reinterpret_cast<const int64_t*>(scan + o[0]) - 1] = *reinterpret_cast<const U*>(self + o[1]);
  }
};

Tensor masked_select_cuda(const Tensor& self, const Tensor& mask) {
  check_on_device("masked_select", self.device(), {&mask});
  VT_CHECK_TYPE(mask.dtype() == DType::Bool, "masked_select: expected mask to be a bool tensor, got ", mask.dtype());
  DimVector shape = broadcast_shapes(self.sizes(), mask.sizes(), "masked_select");
  Device dev = self.device();
  Tensor scan = empty_tensor(shape, DType::Int64, dev);
  int64_t n = scan.numel();
  if (n == 0) return empty_tensor({0}, self.dtype(), dev);
  VT_CHECK(n <= INT32_MAX, "masked_select: at most 2^31 - 1 elements on CUDA, got ", n);
  launch_with_offsets<2>(scan, {&mask}, MaskToIntF{static_cast<char*>(scan.data_ptr()), static_cast<const char*>(mask.data_ptr())});
  cuda::DeviceGuard g(dev.index);
  cudaStream_t stream = cuda::current_stream(dev.index).handle();
  int64_t* p = scan.data<int64_t>();
  size_t temp_bytes = 0;
  VT_CUDA_CHECK(cub::DeviceScan::InclusiveSum(nullptr, temp_bytes, p, p, int(n), stream));
  Tensor temp = empty_tensor({int64_t((temp_bytes + 7) / 8)}, DType::Int64, dev);
  VT_CUDA_CHECK(cub::DeviceScan::InclusiveSum(temp.data_ptr(), temp_bytes, p, p, int(n), stream));
  int64_t count = read_back<int64_t>(p + (n - 1), dev, "masked_select_count");
  Tensor out = empty_tensor({count}, self.dtype(), dev);
  if (count == 0) return out;
  dispatch_bytes(itemsize(self.dtype()), [&]<class U>() {
    CompactF<U> f{out.data<U>(), static_cast<const char*>(scan.data_ptr()), static_cast<const char*>(self.data_ptr()),
                  static_cast<const char*>(mask.data_ptr())};
    launch_with_offsets<3>(scan, {&self, &mask}, f);
  });
  return out;
}

}  // namespace

VT_REGISTER_KERNEL("vt::gather", CUDA, gather_cuda);
VT_REGISTER_KERNEL("vt::index_select", CUDA, index_select_cuda);
VT_REGISTER_KERNEL("vt::masked_select", CUDA, masked_select_cuda);
VT_REGISTER_KERNEL("vt::scatter_add", CUDA, scatter_add_cuda);
VT_REGISTER_KERNEL("vt::index_add", CUDA, index_add_cuda);

}  // namespace vt::cuda_kernels
