// Types of vibetensor's JavaScript frontend (index.js; Note [Node frontend] in csrc/node/addon.cpp).
export type DType = 'float32' | 'float64' | 'float16' | 'bfloat16' | 'int64' | 'int32' | 'bool';
export type Device = 'cpu' | 'cuda' | `cuda:${number}`;
export type Arg = Tensor | Tensor[] | number | bigint | boolean | string | number[] | null | undefined | Record<string, unknown>;

export declare class Tensor {
  private constructor();
  readonly shape: number[];
  readonly dtype: DType;
  readonly device: string;
  requiresGrad: boolean;
  readonly grad: Tensor | null;
  readonly gradFn: string | null;
  /** Row-major elements: a copy, or with copy=false a view of a contiguous CPU tensor's memory. */
  toTypedArray(copy?: boolean): Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array;
  toArray(): number[];
  item(): number;
  detach(): Tensor;
  isContiguous(): boolean;
  to(target: Device | DType): Tensor;
  t(): Tensor;
  backward(grad?: Tensor | null, opts?: { retainGraph?: boolean; createGraph?: boolean }): void;
  backwardAsync(grad?: Tensor | null, opts?: { retainGraph?: boolean; createGraph?: boolean }): Promise<void>;
  add(other: Tensor | number, alpha?: number): Tensor;
  sub(other: Tensor | number, alpha?: number): Tensor;
  mul(other: Tensor | number): Tensor;
  div(other: Tensor | number): Tensor;
  pow(exponent: Tensor | number): Tensor;
  matmul(other: Tensor): Tensor;
  sum(opts?: { dim?: number | number[]; keepdim?: boolean; dtype?: DType }): Tensor;
  mean(opts?: { dim?: number | number[]; keepdim?: boolean; dtype?: DType }): Tensor;
  softmax(dim: number): Tensor;
  logSoftmax(dim: number): Tensor;
  crossEntropy(target: Tensor, opts?: { ignore_index?: number; reduction?: string }): Tensor;
  [method: string]: unknown;
}

export declare function op(name: string, ...args: Arg[]): any;
export declare function opAsync(name: string, ...args: Arg[]): Promise<any>;
export declare function tensor(data: number | unknown[] | ArrayBufferView,
  opts?: { dtype?: DType; device?: Device; requiresGrad?: boolean }): Tensor;
export declare function fromTypedArray(array: Float32Array | Float64Array | Int32Array | BigInt64Array,
  shape?: number[], opts?: { copy?: boolean }): Tensor;
type FactoryOpts = { dtype?: DType | null; device?: Device | null; requiresGrad?: boolean };
export declare function zeros(shape: number[], opts?: FactoryOpts): Tensor;
export declare function ones(shape: number[], opts?: FactoryOpts): Tensor;
export declare function full(shape: number[], value: number, opts?: FactoryOpts): Tensor;
export declare function empty(shape: number[], opts?: FactoryOpts): Tensor;
export declare function randn(shape: number[], opts?: FactoryOpts): Tensor;
export declare function rand(shape: number[], opts?: FactoryOpts): Tensor;
export declare function arange(start: number, end: number, step?: number, opts?: FactoryOpts): Tensor;
export declare function backward(tensors: Tensor | Tensor[], grads?: Tensor | Tensor[] | null,
  opts?: { retainGraph?: boolean; createGraph?: boolean }): void;
export declare function backwardAsync(tensors: Tensor | Tensor[], grads?: Tensor | Tensor[] | null,
  opts?: { retainGraph?: boolean; createGraph?: boolean }): Promise<void>;
export declare function grad(outputs: Tensor | Tensor[], inputs: Tensor | Tensor[],
  opts?: { gradOutputs?: Tensor | Tensor[] | null; retainGraph?: boolean; createGraph?: boolean; allowUnused?: boolean }): (Tensor | null)[];
export declare function noGrad<T>(fn: () => T): T;
export declare function isGradEnabled(): boolean;
export declare const policy: { get(name: string): string; set(name: string, value: string): void; apply(spec: string): void;
  current(): Record<string, string> };
export declare const probes: { counters(): Record<string, number>; resetCounters(): void };
export declare const cuda: { isAvailable(): boolean; deviceCount(): number; synchronize(): void };
export declare function loadLibrary(path: string): string[];
export declare function setMaxInFlight(n: number): void;
export declare function maxInFlight(): number;
export declare function inFlight(): number;
export declare function schema(name: string): string;
export declare function opNames(): string[];
