// The op catalogue: one line per op, X(return, name, (params), (args), "schema").
// Expanded by ops.h (C++ declarations) and definitions.cpp (schemas + typed dispatch calls).
// Kernels register against these names in ops/cpu/*.cpp, autograd/formulas/*.cpp, ops/composite/*.cpp.
// clang-format off
#define VT_T const Tensor&
#define VT_OT const std::optional<Tensor>&
#define VT_S const Scalar&
#define VT_IL const IntList&
#define VT_OIL const std::optional<IntList>&
#define VT_TL const TensorList&
#define VT_STR const std::string&
#define VT_PAIR std::tuple<Tensor, Tensor>
#define VT_TRIPLE std::tuple<Tensor, Tensor, Tensor>
#define VT_FOR_EACH_OP(X) \
  /* elementwise binary */ \
  X(Tensor, add, (VT_T self, VT_T other, VT_S alpha), (self, other, alpha), "vt::add(Tensor self, Tensor other, Scalar alpha=1) -> Tensor") \
  X(Tensor, sub, (VT_T self, VT_T other, VT_S alpha), (self, other, alpha), "vt::sub(Tensor self, Tensor other, Scalar alpha=1) -> Tensor") \
  X(Tensor, mul, (VT_T self, VT_T other), (self, other), "vt::mul(Tensor self, Tensor other) -> Tensor") \
  X(Tensor, div, (VT_T self, VT_T other), (self, other), "vt::div(Tensor self, Tensor other) -> Tensor") \
  X(Tensor, pow, (VT_T self, VT_T exponent), (self, exponent), "vt::pow(Tensor self, Tensor exponent) -> Tensor") \
  X(Tensor, div_rounded, (VT_T self, VT_T other, VT_STR rounding_mode), (self, other, rounding_mode), "vt::div_rounded(Tensor self, Tensor other, str rounding_mode) -> Tensor") \
  X(Tensor, remainder, (VT_T self, VT_T other), (self, other), "vt::remainder(Tensor self, Tensor other) -> Tensor") \
  X(Tensor, maximum, (VT_T self, VT_T other), (self, other), "vt::maximum(Tensor self, Tensor other) -> Tensor") \
  X(Tensor, minimum, (VT_T self, VT_T other), (self, other), "vt::minimum(Tensor self, Tensor other) -> Tensor") \
  X(Tensor, eq, (VT_T self, VT_T other), (self, other), "vt::eq(Tensor self, Tensor other) -> Tensor") \
  X(Tensor, ne, (VT_T self, VT_T other), (self, other), "vt::ne(Tensor self, Tensor other) -> Tensor") \
  X(Tensor, lt, (VT_T self, VT_T other), (self, other), "vt::lt(Tensor self, Tensor other) -> Tensor") \
  X(Tensor, le, (VT_T self, VT_T other), (self, other), "vt::le(Tensor self, Tensor other) -> Tensor") \
  X(Tensor, gt, (VT_T self, VT_T other), (self, other), "vt::gt(Tensor self, Tensor other) -> Tensor") \
  X(Tensor, ge, (VT_T self, VT_T other), (self, other), "vt::ge(Tensor self, Tensor other) -> Tensor") \
  X(Tensor, logical_and, (VT_T self, VT_T other), (self, other), "vt::logical_and(Tensor self, Tensor other) -> Tensor") \
  X(Tensor, logical_or, (VT_T self, VT_T other), (self, other), "vt::logical_or(Tensor self, Tensor other) -> Tensor") \
  X(Tensor, where, (VT_T condition, VT_T self, VT_T other), (condition, self, other), "vt::where(Tensor condition, Tensor self, Tensor other) -> Tensor") \
  X(Tensor, masked_fill, (VT_T self, VT_T mask, VT_S value), (self, mask, value), "vt::masked_fill(Tensor self, Tensor mask, Scalar value) -> Tensor") \
  /* elementwise unary */ \
  X(Tensor, neg, (VT_T self), (self), "vt::neg(Tensor self) -> Tensor") \
  X(Tensor, abs, (VT_T self), (self), "vt::abs(Tensor self) -> Tensor") \
  X(Tensor, exp, (VT_T self), (self), "vt::exp(Tensor self) -> Tensor") \
  X(Tensor, log, (VT_T self), (self), "vt::log(Tensor self) -> Tensor") \
  X(Tensor, sqrt, (VT_T self), (self), "vt::sqrt(Tensor self) -> Tensor") \
  X(Tensor, rsqrt, (VT_T self), (self), "vt::rsqrt(Tensor self) -> Tensor") \
  X(Tensor, sin, (VT_T self), (self), "vt::sin(Tensor self) -> Tensor") \
  X(Tensor, cos, (VT_T self), (self), "vt::cos(Tensor self) -> Tensor") \
  X(Tensor, tanh, (VT_T self), (self), "vt::tanh(Tensor self) -> Tensor") \
  X(Tensor, sigmoid, (VT_T self), (self), "vt::sigmoid(Tensor self) -> Tensor") \
  X(Tensor, relu, (VT_T self), (self), "vt::relu(Tensor self) -> Tensor") \
  X(Tensor, logical_not, (VT_T self), (self), "vt::logical_not(Tensor self) -> Tensor") \
  X(Tensor, gelu, (VT_T self, VT_STR approximate), (self, approximate), "vt::gelu(Tensor self, str approximate=\"none\") -> Tensor") \
  X(Tensor, clamp, (VT_T self, std::optional<double> min, std::optional<double> max), (self, min, max), "vt::clamp(Tensor self, float? min=None, float? max=None) -> Tensor") \
  /* backward helpers (no autograd of their own) */ \
  X(Tensor, gelu_backward, (VT_T grad, VT_T self, VT_STR approximate), (grad, self, approximate), "vt::gelu_backward(Tensor grad, Tensor self, str approximate=\"none\") -> Tensor") \
  X(Tensor, threshold_backward, (VT_T grad, VT_T self, double threshold), (grad, self, threshold), "vt::threshold_backward(Tensor grad, Tensor self, float threshold) -> Tensor") \
  /* reductions */ \
  X(Tensor, sum, (VT_T self, VT_OIL dim, bool keepdim, std::optional<DType> dtype), (self, dim, keepdim, dtype), "vt::sum(Tensor self, int[]? dim=None, bool keepdim=False, ScalarType? dtype=None) -> Tensor") \
  X(Tensor, mean, (VT_T self, VT_OIL dim, bool keepdim, std::optional<DType> dtype), (self, dim, keepdim, dtype), "vt::mean(Tensor self, int[]? dim=None, bool keepdim=False, ScalarType? dtype=None) -> Tensor") \
  X(Tensor, var, (VT_T self, VT_OIL dim, int64_t correction, bool keepdim), (self, dim, correction, keepdim), "vt::var(Tensor self, int[]? dim=None, int correction=1, bool keepdim=False) -> Tensor") \
  X(Tensor, amax, (VT_T self, VT_OIL dim, bool keepdim), (self, dim, keepdim), "vt::amax(Tensor self, int[]? dim=None, bool keepdim=False) -> Tensor") \
  X(Tensor, amin, (VT_T self, VT_OIL dim, bool keepdim), (self, dim, keepdim), "vt::amin(Tensor self, int[]? dim=None, bool keepdim=False) -> Tensor") \
  X(VT_PAIR, max_dim, (VT_T self, int64_t dim, bool keepdim), (self, dim, keepdim), "vt::max_dim(Tensor self, int dim, bool keepdim=False) -> (Tensor, Tensor)") \
  X(VT_PAIR, min_dim, (VT_T self, int64_t dim, bool keepdim), (self, dim, keepdim), "vt::min_dim(Tensor self, int dim, bool keepdim=False) -> (Tensor, Tensor)") \
  X(Tensor, argmax, (VT_T self, std::optional<int64_t> dim, bool keepdim), (self, dim, keepdim), "vt::argmax(Tensor self, int? dim=None, bool keepdim=False) -> Tensor") \
  X(Tensor, argmin, (VT_T self, std::optional<int64_t> dim, bool keepdim), (self, dim, keepdim), "vt::argmin(Tensor self, int? dim=None, bool keepdim=False) -> Tensor") \
  /* scans and sorting */ \
  X(Tensor, cumsum, (VT_T self, int64_t dim, std::optional<DType> dtype), (self, dim, dtype), "vt::cumsum(Tensor self, int dim, ScalarType? dtype=None) -> Tensor") \
  X(VT_PAIR, sort, (VT_T self, int64_t dim, bool descending, bool stable), (self, dim, descending, stable), "vt::sort(Tensor self, int dim=-1, bool descending=False, bool stable=False) -> (Tensor, Tensor)") \
  /* softmax family, normalization, losses */ \
  X(Tensor, softmax, (VT_T self, int64_t dim), (self, dim), "vt::softmax(Tensor self, int dim) -> Tensor") \
  X(Tensor, log_softmax, (VT_T self, int64_t dim), (self, dim), "vt::log_softmax(Tensor self, int dim) -> Tensor") \
  X(Tensor, softmax_backward, (VT_T grad, VT_T output, int64_t dim), (grad, output, dim), "vt::softmax_backward(Tensor grad, Tensor output, int dim) -> Tensor") \
  X(Tensor, log_softmax_backward, (VT_T grad, VT_T output, int64_t dim), (grad, output, dim), "vt::log_softmax_backward(Tensor grad, Tensor output, int dim) -> Tensor") \
  X(Tensor, layer_norm, (VT_T input, VT_IL normalized_shape, VT_OT weight, VT_OT bias, double eps), (input, normalized_shape, weight, bias, eps), "vt::layer_norm(Tensor input, int[] normalized_shape, Tensor? weight=None, Tensor? bias=None, float eps=1e-05) -> Tensor") \
  X(Tensor, rms_norm, (VT_T input, VT_IL normalized_shape, VT_OT weight, std::optional<double> eps), (input, normalized_shape, weight, eps), "vt::rms_norm(Tensor input, int[] normalized_shape, Tensor? weight=None, float? eps=None) -> Tensor") \
  X(Tensor, nll_loss, (VT_T self, VT_T target, int64_t ignore_index, VT_STR reduction), (self, target, ignore_index, reduction), "vt::nll_loss(Tensor self, Tensor target, int ignore_index=-100, str reduction=\"mean\") -> Tensor") \
  X(Tensor, cross_entropy, (VT_T self, VT_T target, int64_t ignore_index, VT_STR reduction), (self, target, ignore_index, reduction), "vt::cross_entropy(Tensor self, Tensor target, int ignore_index=-100, str reduction=\"mean\") -> Tensor") \
  X(Tensor, embedding, (VT_T weight, VT_T indices), (weight, indices), "vt::embedding(Tensor weight, Tensor indices) -> Tensor") \
  X(Tensor, dropout, (VT_T input, double p, bool train), (input, p, train), "vt::dropout(Tensor input, float p=0.5, bool train=True) -> Tensor") \
  X(Tensor, scaled_dot_product_attention, (VT_T query, VT_T key, VT_T value, VT_OT attn_mask, double dropout_p, bool is_causal, std::optional<double> scale), (query, key, value, attn_mask, dropout_p, is_causal, scale), "vt::scaled_dot_product_attention(Tensor query, Tensor key, Tensor value, Tensor? attn_mask=None, float dropout_p=0.0, bool is_causal=False, float? scale=None) -> Tensor") \
  /* native helpers of normalization, losses, dropout and embedding (torch's native_* ops): forwards that */ \
  /* also return what the backward needs, and the backwards. No autograd of their own; the autograd */ \
  /* kernels of layer_norm, rms_norm, nll_loss, dropout and embedding call them on every device. */ \
  X(VT_TRIPLE, native_layer_norm, (VT_T input, VT_IL normalized_shape, VT_OT weight, VT_OT bias, double eps), (input, normalized_shape, weight, bias, eps), "vt::native_layer_norm(Tensor input, int[] normalized_shape, Tensor? weight, Tensor? bias, float eps) -> (Tensor, Tensor, Tensor)") \
  X(VT_PAIR, native_rms_norm, (VT_T input, VT_IL normalized_shape, VT_OT weight, std::optional<double> eps), (input, normalized_shape, weight, eps), "vt::native_rms_norm(Tensor input, int[] normalized_shape, Tensor? weight=None, float? eps=None) -> (Tensor, Tensor)") \
  X(VT_TRIPLE, native_norm_backward, (VT_T grad_out, VT_T input, VT_OT mean, VT_T rstd, VT_OT weight, VT_IL normalized_shape, bool input_grad, bool weight_grad, bool bias_grad), (grad_out, input, mean, rstd, weight, normalized_shape, input_grad, weight_grad, bias_grad), "vt::native_norm_backward(Tensor grad_out, Tensor input, Tensor? mean, Tensor rstd, Tensor? weight, int[] normalized_shape, bool input_grad=True, bool weight_grad=True, bool bias_grad=True) -> (Tensor, Tensor, Tensor)") \
  X(Tensor, nll_loss_backward, (VT_T grad, VT_T self, VT_T target, int64_t ignore_index, VT_STR reduction), (grad, self, target, ignore_index, reduction), "vt::nll_loss_backward(Tensor grad, Tensor self, Tensor target, int ignore_index=-100, str reduction=\"mean\") -> Tensor") \
  X(VT_PAIR, native_dropout, (VT_T input, double p), (input, p), "vt::native_dropout(Tensor input, float p) -> (Tensor, Tensor)") \
  X(Tensor, dropout_backward, (VT_T grad, VT_T mask, double scale), (grad, mask, scale), "vt::dropout_backward(Tensor grad, Tensor mask, float scale) -> Tensor") \
  X(Tensor, embedding_backward, (VT_T grad, VT_T indices, int64_t num_weights), (grad, indices, num_weights), "vt::embedding_backward(Tensor grad, Tensor indices, int num_weights) -> Tensor") \
  /* fused attention (the kernel suite's "attention" family; CUDA only): out and the per-row fp32 log-sum-exp, and its backward. See Note [Fused attention] in kernels/triton/attention.py */ \
  X(VT_PAIR, _fused_attention, (VT_T query, VT_T key, VT_T value, bool is_causal, double scale), (query, key, value, is_causal, scale), "vt::_fused_attention(Tensor query, Tensor key, Tensor value, bool is_causal, float scale) -> (Tensor, Tensor)") \
  X(VT_TRIPLE, _fused_attention_backward, (VT_T grad_out, VT_T query, VT_T key, VT_T value, VT_T out, VT_T logsumexp, bool is_causal, double scale), (grad_out, query, key, value, out, logsumexp, is_causal, scale), "vt::_fused_attention_backward(Tensor grad_out, Tensor query, Tensor key, Tensor value, Tensor out, Tensor logsumexp, bool is_causal, float scale) -> (Tensor, Tensor, Tensor)") \
  /* fused cross-entropy of [N, C] logits and int64 [N] class targets (the kernel suite's "cross_entropy" family on CUDA, the same math on ops elsewhere): the reduced loss, the per-row log-sum-exp (float32; float64 for float64 logits) and, for mean, the int64 count of rows that are not ignore_index (an empty tensor otherwise); and its backward. See Note [Fused cross-entropy] in ops/cross_entropy_fused.h */ \
  X(VT_TRIPLE, _fused_cross_entropy, (VT_T self, VT_T target, int64_t ignore_index, VT_STR reduction), (self, target, ignore_index, reduction), "vt::_fused_cross_entropy(Tensor self, Tensor target, int ignore_index=-100, str reduction=\"mean\") -> (Tensor, Tensor, Tensor)") \
  X(Tensor, _fused_cross_entropy_backward, (VT_T grad, VT_T self, VT_T target, VT_T logsumexp, VT_T count, int64_t ignore_index, VT_STR reduction), (grad, self, target, logsumexp, count, ignore_index, reduction), "vt::_fused_cross_entropy_backward(Tensor grad, Tensor self, Tensor target, Tensor logsumexp, Tensor count, int ignore_index=-100, str reduction=\"mean\") -> Tensor") \
  /* fused recurrent cells (torch's _thnn_fused_lstm_cell / _thnn_fused_gru_cell): one pointwise kernel from the input and hidden projections [N, G*H] of a step (biases optional, [G*H]) to the new state and a workspace the backward reads; gate orders as torch's (LSTM i, f, g, o; GRU r, z, n). See Note [Fused RNN cells] in ops/rnn_cell_args.h */ \
  X(VT_TRIPLE, _fused_lstm_cell, (VT_T xw, VT_T hw, VT_T c, VT_OT b_ih, VT_OT b_hh), (xw, hw, c, b_ih, b_hh), "vt::_fused_lstm_cell(Tensor xw, Tensor hw, Tensor c, Tensor? b_ih=None, Tensor? b_hh=None) -> (Tensor, Tensor, Tensor)") \
  X(VT_PAIR, _fused_lstm_cell_backward, (VT_T grad_h, VT_T grad_c, VT_T c, VT_T c_new, VT_T workspace), (grad_h, grad_c, c, c_new, workspace), "vt::_fused_lstm_cell_backward(Tensor grad_h, Tensor grad_c, Tensor c, Tensor c_new, Tensor workspace) -> (Tensor, Tensor)") \
  X(VT_PAIR, _fused_gru_cell, (VT_T xw, VT_T hw, VT_T h, VT_OT b_ih, VT_OT b_hh), (xw, hw, h, b_ih, b_hh), "vt::_fused_gru_cell(Tensor xw, Tensor hw, Tensor h, Tensor? b_ih=None, Tensor? b_hh=None) -> (Tensor, Tensor)") \
  X(VT_TRIPLE, _fused_gru_cell_backward, (VT_T grad_h, VT_T workspace), (grad_h, workspace), "vt::_fused_gru_cell_backward(Tensor grad_h, Tensor workspace) -> (Tensor, Tensor, Tensor)") \
  /* rotary position embedding, half-split (a GPT's RoPE) of (..., T, D) by cos, sin of shape (T, D / 2); inverse rotates back (the backward). The suite's "rotary" family on CUDA, the same math on ops elsewhere. See Note [Rotary embedding] in ops/rotary.h */ \
  X(Tensor, rotary_embedding, (VT_T self, VT_T cos, VT_T sin, bool inverse), (self, cos, sin, inverse), "vt::rotary_embedding(Tensor self, Tensor cos, Tensor sin, bool inverse=False) -> Tensor") \
  /* gelu(self + bias), bias 1-d of size self.size(-1) broadcast over the leading dims (a Linear's bias fused with the GELU after it), and its backward (dx, dbias). The suite's "gelu" family on CUDA, the same math on ops elsewhere. See Note [Bias GELU] in ops/bias_gelu.h */ \
  X(Tensor, bias_gelu, (VT_T self, VT_T bias, VT_STR approximate), (self, bias, approximate), "vt::bias_gelu(Tensor self, Tensor bias, str approximate=\"none\") -> Tensor") \
  X(VT_PAIR, bias_gelu_backward, (VT_T grad, VT_T self, VT_T bias, VT_STR approximate), (grad, self, bias, approximate), "vt::bias_gelu_backward(Tensor grad, Tensor self, Tensor bias, str approximate=\"none\") -> (Tensor, Tensor)") \
  /* linear algebra */ \
  X(Tensor, matmul, (VT_T self, VT_T other), (self, other), "vt::matmul(Tensor self, Tensor other) -> Tensor") \
  X(Tensor, bmm, (VT_T self, VT_T other), (self, other), "vt::bmm(Tensor self, Tensor other) -> Tensor") \
  X(Tensor, linear, (VT_T input, VT_T weight, VT_OT bias), (input, weight, bias), "vt::linear(Tensor input, Tensor weight, Tensor? bias=None) -> Tensor") \
  /* convolution on CUDA by the kernel suite's "conv" family (implicit GEMMs, Note [Implicit GEMM convolution] in kernels/triton/conv.py): contiguous NCHW, groups 1, symmetric padding; None where the family is not selected or lacks the operands (recorded as a fallback: vibetensor/nn/_conv.py then composes it), and a None part of the backward where that launch was deferred */ \
  X(Tensor, _conv2d_suite, (VT_T input, VT_T weight, VT_OT bias, VT_IL stride, VT_IL padding, VT_IL dilation), (input, weight, bias, stride, padding, dilation), "vt::_conv2d_suite(Tensor input, Tensor weight, Tensor? bias, int[] stride, int[] padding, int[] dilation) -> Tensor") \
  X(VT_PAIR, _conv2d_suite_backward, (VT_T grad, VT_T input, VT_T weight, VT_IL stride, VT_IL padding, VT_IL dilation, bool input_grad, bool weight_grad), (grad, input, weight, stride, padding, dilation, input_grad, weight_grad), "vt::_conv2d_suite_backward(Tensor grad, Tensor input, Tensor weight, int[] stride, int[] padding, int[] dilation, bool input_grad, bool weight_grad) -> (Tensor, Tensor)") \
  /* convolution (CPU; Note [CPU convolution]) */ \
  X(Tensor, _conv2d_cpu, (VT_T input, VT_T weight, VT_IL stride, VT_IL padding, VT_IL dilation), (input, weight, stride, padding, dilation), "vt::_conv2d_cpu(Tensor input, Tensor weight, int[] stride, int[] padding, int[] dilation) -> Tensor") \
  X(VT_PAIR, _conv2d_cpu_backward, (VT_T grad, VT_T input, VT_T weight, VT_IL stride, VT_IL padding, VT_IL dilation, bool input_grad, bool weight_grad), (grad, input, weight, stride, padding, dilation, input_grad, weight_grad), "vt::_conv2d_cpu_backward(Tensor grad, Tensor input, Tensor weight, int[] stride, int[] padding, int[] dilation, bool input_grad, bool weight_grad) -> (Tensor, Tensor)") \
  /* max pooling (CPU and CUDA; Note [Max pooling]) */ \
  X(VT_PAIR, _max_pool2d, (VT_T input, VT_IL kernel_size, VT_IL stride, VT_IL padding, VT_IL dilation, bool ceil_mode), (input, kernel_size, stride, padding, dilation, ceil_mode), "vt::_max_pool2d(Tensor input, int[] kernel_size, int[] stride, int[] padding, int[] dilation, bool ceil_mode) -> (Tensor, Tensor)") \
  X(Tensor, _max_pool2d_backward, (VT_T grad, VT_T indices, int64_t height, int64_t width, VT_IL kernel_size, VT_IL stride, VT_IL padding, VT_IL dilation), (grad, indices, height, width, kernel_size, stride, padding, dilation), "vt::_max_pool2d_backward(Tensor grad, Tensor indices, int height, int width, int[] kernel_size, int[] stride, int[] padding, int[] dilation) -> Tensor") \
  /* copies, casts, views */ \
  X(Tensor, clone, (VT_T self), (self), "vt::clone(Tensor self) -> Tensor") \
  X(Tensor, contiguous, (VT_T self), (self), "vt::contiguous(Tensor self) -> Tensor") \
  X(Tensor, to_dtype, (VT_T self, DType dtype), (self, dtype), "vt::to_dtype(Tensor self, ScalarType dtype) -> Tensor") \
  X(Tensor, to_device, (VT_T self, std::optional<Device> device, bool non_blocking), (self, device, non_blocking), "vt::to_device(Tensor self, Device? device, bool non_blocking=False) -> Tensor") \
  X(Tensor, view, (VT_T self, VT_IL size), (self, size), "vt::view(Tensor self, int[] size) -> Tensor") \
  X(Tensor, reshape, (VT_T self, VT_IL shape), (self, shape), "vt::reshape(Tensor self, int[] shape) -> Tensor") \
  X(Tensor, permute, (VT_T self, VT_IL dims), (self, dims), "vt::permute(Tensor self, int[] dims) -> Tensor") \
  X(Tensor, transpose, (VT_T self, int64_t dim0, int64_t dim1), (self, dim0, dim1), "vt::transpose(Tensor self, int dim0, int dim1) -> Tensor") \
  X(Tensor, slice, (VT_T self, int64_t dim, std::optional<int64_t> start, std::optional<int64_t> end, int64_t step), (self, dim, start, end, step), "vt::slice(Tensor self, int dim=0, int? start=None, int? end=None, int step=1) -> Tensor") \
  X(Tensor, select, (VT_T self, int64_t dim, int64_t index), (self, dim, index), "vt::select(Tensor self, int dim, int index) -> Tensor") \
  X(Tensor, narrow, (VT_T self, int64_t dim, int64_t start, int64_t length), (self, dim, start, length), "vt::narrow(Tensor self, int dim, int start, int length) -> Tensor") \
  X(Tensor, expand, (VT_T self, VT_IL size), (self, size), "vt::expand(Tensor self, int[] size) -> Tensor") \
  X(Tensor, squeeze, (VT_T self, VT_OIL dim), (self, dim), "vt::squeeze(Tensor self, int[]? dim=None) -> Tensor") \
  X(Tensor, unsqueeze, (VT_T self, int64_t dim), (self, dim), "vt::unsqueeze(Tensor self, int dim) -> Tensor") \
  X(Tensor, as_strided, (VT_T self, VT_IL size, VT_IL stride, std::optional<int64_t> storage_offset), (self, size, stride, storage_offset), "vt::as_strided(Tensor self, int[] size, int[] stride, int? storage_offset=None) -> Tensor") \
  X(Tensor, flatten, (VT_T self, int64_t start_dim, int64_t end_dim), (self, start_dim, end_dim), "vt::flatten(Tensor self, int start_dim=0, int end_dim=-1) -> Tensor") \
  X(Tensor, unflatten, (VT_T self, int64_t dim, VT_IL sizes), (self, dim, sizes), "vt::unflatten(Tensor self, int dim, int[] sizes) -> Tensor") \
  X(Tensor, sum_to_size, (VT_T self, VT_IL size), (self, size), "vt::sum_to_size(Tensor self, int[] size) -> Tensor") \
  /* joining, indexing */ \
  X(Tensor, cat, (VT_TL tensors, int64_t dim), (tensors, dim), "vt::cat(Tensor[] tensors, int dim=0) -> Tensor") \
  X(Tensor, stack, (VT_TL tensors, int64_t dim), (tensors, dim), "vt::stack(Tensor[] tensors, int dim=0) -> Tensor") \
  X(Tensor, gather, (VT_T self, int64_t dim, VT_T index), (self, dim, index), "vt::gather(Tensor self, int dim, Tensor index) -> Tensor") \
  X(Tensor, index_select, (VT_T self, int64_t dim, VT_T index), (self, dim, index), "vt::index_select(Tensor self, int dim, Tensor index) -> Tensor") \
  X(Tensor, masked_select, (VT_T self, VT_T mask), (self, mask), "vt::masked_select(Tensor self, Tensor mask) -> Tensor") \
  X(Tensor, scatter_add, (VT_T self, int64_t dim, VT_T index, VT_T src), (self, dim, index, src), "vt::scatter_add(Tensor self, int dim, Tensor index, Tensor src) -> Tensor") \
  X(Tensor, index_add, (VT_T self, int64_t dim, VT_T index, VT_T source), (self, dim, index, source), "vt::index_add(Tensor self, int dim, Tensor index, Tensor source) -> Tensor") \
  X(Tensor, triu, (VT_T self, int64_t diagonal), (self, diagonal), "vt::triu(Tensor self, int diagonal=0) -> Tensor") \
  X(Tensor, tril, (VT_T self, int64_t diagonal), (self, diagonal), "vt::tril(Tensor self, int diagonal=0) -> Tensor") \
  /* in-place (optimizers, init, indexing assignment); return self */ \
  X(Tensor, add_, (VT_T self, VT_T other, VT_S alpha), (self, other, alpha), "vt::add_(Tensor self, Tensor other, Scalar alpha=1) -> Tensor") \
  X(Tensor, sub_, (VT_T self, VT_T other, VT_S alpha), (self, other, alpha), "vt::sub_(Tensor self, Tensor other, Scalar alpha=1) -> Tensor") \
  X(Tensor, mul_, (VT_T self, VT_T other), (self, other), "vt::mul_(Tensor self, Tensor other) -> Tensor") \
  X(Tensor, div_, (VT_T self, VT_T other), (self, other), "vt::div_(Tensor self, Tensor other) -> Tensor") \
  X(Tensor, addcmul_, (VT_T self, VT_T tensor1, VT_T tensor2, VT_S value), (self, tensor1, tensor2, value), "vt::addcmul_(Tensor self, Tensor tensor1, Tensor tensor2, Scalar value=1) -> Tensor") \
  X(Tensor, addcdiv_, (VT_T self, VT_T tensor1, VT_T tensor2, VT_S value), (self, tensor1, tensor2, value), "vt::addcdiv_(Tensor self, Tensor tensor1, Tensor tensor2, Scalar value=1) -> Tensor") \
  X(Tensor, clamp_, (VT_T self, std::optional<double> min, std::optional<double> max), (self, min, max), "vt::clamp_(Tensor self, float? min=None, float? max=None) -> Tensor") \
  X(Tensor, fill_, (VT_T self, VT_S value), (self, value), "vt::fill_(Tensor self, Scalar value) -> Tensor") \
  X(Tensor, zero_, (VT_T self), (self), "vt::zero_(Tensor self) -> Tensor") \
  X(Tensor, copy_, (VT_T self, VT_T src, bool non_blocking), (self, src, non_blocking), "vt::copy_(Tensor self, Tensor src, bool non_blocking=False) -> Tensor") \
  X(Tensor, masked_fill_, (VT_T self, VT_T mask, VT_S value), (self, mask, value), "vt::masked_fill_(Tensor self, Tensor mask, Scalar value) -> Tensor") \
  /* optimizers: one multi-tensor step per bucket of parameters; an empty state list switches its option off (Note [Multi-tensor optimizer step]) */ \
  X(void, _fused_adamw_, (VT_TL params, VT_TL grads, VT_TL exp_avgs, VT_TL exp_avg_sqs, VT_TL max_exp_avg_sqs, double lr, double beta1, double beta2, double weight_decay, double eps, double step, bool decoupled_weight_decay, bool maximize), (params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, lr, beta1, beta2, weight_decay, eps, step, decoupled_weight_decay, maximize), "vt::_fused_adamw_(Tensor[] params, Tensor[] grads, Tensor[] exp_avgs, Tensor[] exp_avg_sqs, Tensor[] max_exp_avg_sqs, float lr, float beta1, float beta2, float weight_decay, float eps, float step, bool decoupled_weight_decay, bool maximize) -> ()") \
  X(void, _fused_adamw_capturable_, (VT_TL params, VT_TL grads, VT_TL exp_avgs, VT_TL exp_avg_sqs, VT_TL max_exp_avg_sqs, VT_TL steps, double lr, double beta1, double beta2, double weight_decay, double eps, bool decoupled_weight_decay, bool maximize), (params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, steps, lr, beta1, beta2, weight_decay, eps, decoupled_weight_decay, maximize), "vt::_fused_adamw_capturable_(Tensor[] params, Tensor[] grads, Tensor[] exp_avgs, Tensor[] exp_avg_sqs, Tensor[] max_exp_avg_sqs, Tensor[] steps, float lr, float beta1, float beta2, float weight_decay, float eps, bool decoupled_weight_decay, bool maximize) -> ()") \
  X(void, _fused_sgd_, (VT_TL params, VT_TL grads, VT_TL momentum_buffers, double lr, double momentum, double dampening, double weight_decay, bool nesterov, bool maximize, bool is_first_step), (params, grads, momentum_buffers, lr, momentum, dampening, weight_decay, nesterov, maximize, is_first_step), "vt::_fused_sgd_(Tensor[] params, Tensor[] grads, Tensor[] momentum_buffers, float lr, float momentum, float dampening, float weight_decay, bool nesterov, bool maximize, bool is_first_step) -> ()") \
  X(Tensor, _fused_clip_grad_norm_, (VT_TL grads, double max_norm), (grads, max_norm), "vt::_fused_clip_grad_norm_(Tensor[] grads, float max_norm) -> Tensor") \
  /* factories */ \
  X(Tensor, empty, (VT_IL size, std::optional<DType> dtype, std::optional<Device> device), (size, dtype, device), "vt::empty(int[] size, ScalarType? dtype=None, Device? device=None) -> Tensor") \
  X(Tensor, full, (VT_IL size, VT_S fill_value, std::optional<DType> dtype, std::optional<Device> device), (size, fill_value, dtype, device), "vt::full(int[] size, Scalar fill_value, ScalarType? dtype=None, Device? device=None) -> Tensor") \
  X(Tensor, arange, (VT_S start, VT_S end, VT_S step, std::optional<DType> dtype, std::optional<Device> device), (start, end, step, dtype, device), "vt::arange(Scalar start, Scalar end, Scalar step=1, ScalarType? dtype=None, Device? device=None) -> Tensor") \
  X(Tensor, rand, (VT_IL size, std::optional<DType> dtype, std::optional<Device> device), (size, dtype, device), "vt::rand(int[] size, ScalarType? dtype=None, Device? device=None) -> Tensor") \
  X(Tensor, randn, (VT_IL size, std::optional<DType> dtype, std::optional<Device> device), (size, dtype, device), "vt::randn(int[] size, ScalarType? dtype=None, Device? device=None) -> Tensor") \
  X(Tensor, randint, (int64_t low, int64_t high, VT_IL size, std::optional<DType> dtype, std::optional<Device> device), (low, high, size, dtype, device), "vt::randint(int low, int high, int[] size, ScalarType? dtype=None, Device? device=None) -> Tensor")
// clang-format on
