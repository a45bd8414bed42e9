#pragma once
// The per-element math of the fused LSTM and GRU cells, shared by the CPU and CUDA kernels so both
// devices compute the same bits. A is the opmath type. See Note [Fused RNN cells] in
// ops/rnn_cell_args.h.
#include <cmath>

#include "core/host_device.h"

namespace vt::rnn_cell {

template <class A> VT_HOST_DEVICE inline A sigmoid(A x) {
  using std::exp;
  return A(1) / (A(1) + exp(-x));
}

// gate: the pre-activations i, f, g, o on entry, the activated gates (the workspace) on exit.
template <class A> VT_HOST_DEVICE inline void lstm_forward(A (&gate)[4], A c, A& h_new, A& c_new) {
  using std::tanh;
  gate[0] = sigmoid(gate[0]);
  gate[1] = sigmoid(gate[1]);
  gate[2] = tanh(gate[2]);
  gate[3] = sigmoid(gate[3]);
  c_new = gate[1] * c + gate[0] * gate[2];
  h_new = gate[3] * tanh(c_new);
}

// d: the gradient of the pre-activations i, f, g, o; dc: that of the previous cell state.
template <class A>
VT_HOST_DEVICE inline void lstm_backward(A grad_h, A grad_c, A c, A c_new, const A (&gate)[4], A (&d)[4], A& dc) {
  using std::tanh;
  A tc = tanh(c_new);
  A gc = grad_c + grad_h * gate[3] * (A(1) - tc * tc);  // the whole gradient of c_new
  d[0] = gc * gate[2] * gate[0] * (A(1) - gate[0]);
  d[1] = gc * c * gate[1] * (A(1) - gate[1]);
  d[2] = gc * gate[0] * (A(1) - gate[2] * gate[2]);
  d[3] = grad_h * tc * gate[3] * (A(1) - gate[3]);
  dc = gc * gate[1];
}

// x, hw: the input and hidden pre-activations r, z, n (biases included); ws: r, z, n, hn, h.
template <class A> VT_HOST_DEVICE inline A gru_forward(const A (&x)[3], const A (&hw)[3], A h, A (&ws)[5]) {
  using std::tanh;
  A r = sigmoid(x[0] + hw[0]), z = sigmoid(x[1] + hw[1]);
  A n = tanh(x[2] + r * hw[2]);
  ws[0] = r, ws[1] = z, ws[2] = n, ws[3] = hw[2], ws[4] = h;
  return n + z * (h - n);
}

// dx, dhw: the gradients of the input and hidden pre-activations; returns that of h.
template <class A> VT_HOST_DEVICE inline A gru_backward(A grad_h, const A (&ws)[5], A (&dx)[3], A (&dhw)[3]) {
  A r = ws[0], z = ws[1], n = ws[2], hn = ws[3], h = ws[4];
  A dn = grad_h * (A(1) - z) * (A(1) - n * n);
  A dz = grad_h * (h - n) * z * (A(1) - z);
  A dr = dn * hn * r * (A(1) - r);
  dx[0] = dhw[0] = dr;
  dx[1] = dhw[1] = dz;
  dx[2] = dn;
  dhw[2] = dn * r;
  return grad_h * z;
}

// The contiguous operands of one call (biases nullptr when absent); element i = (row i / H, unit i % H)
// of the [N, H] state. IO converts between the stored type T and the opmath type A of the device
// (CPU: the types' own conversions; CUDA: to_opmath / from_opmath).
template <class T> struct LstmForwardArgs {
  const T *xw, *hw, *c, *b_ih, *b_hh;
  T *h_new, *c_new, *ws;
  int64_t hidden;
};
template <class T> struct LstmBackwardArgs {
  const T *grad_h, *grad_c, *c, *c_new, *ws;
  T *d_gates, *dc;
  int64_t hidden;
};
template <class T> struct GruForwardArgs {
  const T *xw, *hw, *h, *b_ih, *b_hh;
  T *h_new, *ws;
  int64_t hidden;
};
template <class T> struct GruBackwardArgs {
  const T *grad_h, *ws;
  T *d_xw, *d_hw, *dh;
  int64_t hidden;
};

// The element functors below run element i of a call: f.template operator()<A, IO>(args, i).

// Gate k of element i in an [N, G*H] tensor.
VT_HOST_DEVICE inline int64_t gate_index(int64_t i, int64_t hidden, int gates, int k) {
  return (i / hidden) * gates * hidden + k * hidden + i % hidden;
}

template <class A, class IO, class T> VT_HOST_DEVICE inline A pre_activation(const T* x, const T* bias, int64_t g,
                                                                              int64_t b) {
  A v = IO::load(x[g]);
  return bias ? v + A(IO::load(bias[b])) : v;
}

struct LstmForwardAt {
  template <class A, class IO, class T> VT_HOST_DEVICE void operator()(const LstmForwardArgs<T>& p, int64_t i) const {
    int64_t H = p.hidden, j = i % H;
    A gate[4];
    for (int k = 0; k < 4; ++k) {
      int64_t g = gate_index(i, H, 4, k);
      gate[k] = pre_activation<A, IO>(p.xw, p.b_ih, g, k * H + j) + pre_activation<A, IO>(p.hw, p.b_hh, g, k * H + j);
    }
    A h_new, c_new;
    lstm_forward(gate, A(IO::load(p.c[i])), h_new, c_new);
    for (int k = 0; k < 4; ++k) p.ws[gate_index(i, H, 4, k)] = IO::template store<T>(gate[k]);
    p.h_new[i] = IO::template store<T>(h_new);
    p.c_new[i] = IO::template store<T>(c_new);
  }
};

struct LstmBackwardAt {
  template <class A, class IO, class T> VT_HOST_DEVICE void operator()(const LstmBackwardArgs<T>& p, int64_t i) const {
    A gate[4], d[4], dc;
    for (int k = 0; k < 4; ++k) gate[k] = A(IO::load(p.ws[gate_index(i, p.hidden, 4, k)]));
    lstm_backward(A(IO::load(p.grad_h[i])), A(IO::load(p.grad_c[i])), A(IO::load(p.c[i])), A(IO::load(p.c_new[i])), gate,
                  d, dc);
    for (int k = 0; k < 4; ++k) p.d_gates[gate_index(i, p.hidden, 4, k)] = IO::template store<T>(d[k]);
    p.dc[i] = IO::template store<T>(dc);
  }
};

struct GruForwardAt {
  template <class A, class IO, class T> VT_HOST_DEVICE void operator()(const GruForwardArgs<T>& p, int64_t i) const {
    int64_t H = p.hidden, j = i % H;
    A x[3], hw[3], ws[5];
    for (int k = 0; k < 3; ++k) {
      int64_t g = gate_index(i, H, 3, k);
      x[k] = pre_activation<A, IO>(p.xw, p.b_ih, g, k * H + j);
      hw[k] = pre_activation<A, IO>(p.hw, p.b_hh, g, k * H + j);
    }
    p.h_new[i] = IO::template store<T>(gru_forward(x, hw, A(IO::load(p.h[i])), ws));
    for (int k = 0; k < 5; ++k) p.ws[gate_index(i, H, 5, k)] = IO::template store<T>(ws[k]);
  }
};

struct GruBackwardAt {
  template <class A, class IO, class T> VT_HOST_DEVICE void operator()(const GruBackwardArgs<T>& p, int64_t i) const {
    A ws[5], dx[3], dhw[3];
    for (int k = 0; k < 5; ++k) ws[k] = A(IO::load(p.ws[gate_index(i, p.hidden, 5, k)]));
    p.dh[i] = IO::template store<T>(gru_backward(A(IO::load(p.grad_h[i])), ws, dx, dhw));
    for (int k = 0; k < 3; ++k) {
      int64_t g = gate_index(i, p.hidden, 3, k);
      p.d_xw[g] = IO::template store<T>(dx[k]);
      p.d_hw[g] = IO::template store<T>(dhw[k]);
    }
  }
};

}  // namespace vt::rnn_cell
