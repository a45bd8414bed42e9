// Softmax regression on synthetic data from JavaScript: 3 classes of 2-d points around three centres,
// W [2, 3] and b [3] trained by gradient descent with vibetensor's autograd. Prints the loss every 20
// steps; exits 1 unless the loss fell below half its first value. Run: node node/examples/softmax_regression.mjs
import { createRequire } from 'module';
const vt = createRequire(import.meta.url)('../index.js');

const device = process.argv.includes('--cuda') ? 'cuda' : 'cpu';
const n = 300;
const centres = [[2, 0], [-1, 1.7], [-1, -1.7]];
const xs = new Float32Array(n * 2);
const ys = new BigInt64Array(n);
let seed = 7;
const uniform = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
for (let i = 0; i < n; i++) {
  const c = i % 3;
  xs[2 * i] = centres[c][0] + (uniform() - 0.5) * 1.5;
  xs[2 * i + 1] = centres[c][1] + (uniform() - 0.5) * 1.5;
  ys[i] = BigInt(c);
}
const x = vt.fromTypedArray(xs, [n, 2]).to(device);
const y = vt.fromTypedArray(ys, [n]).to(device);
const W = vt.zeros([2, 3], { device, requiresGrad: true });
const b = vt.zeros([3], { device, requiresGrad: true });

export async function train(steps = 100, lr = 0.5) {
  const losses = [];
  for (let step = 0; step < steps; step++) {
    const loss = await x.matmul(W).add(b).crossEntropyAsync(y);
    await loss.backwardAsync();
    vt.noGrad(() => {
      W.sub_(W.grad, lr);
      b.sub_(b.grad, lr);
      W.grad.zero_();
      b.grad.zero_();
    });
    losses.push(loss.item());
    if (step % 20 === 0) console.log(`step ${step}: loss ${losses[step].toFixed(4)}`);
  }
  return losses;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const losses = await train();
  console.log(`final loss ${losses.at(-1).toFixed(4)} (first ${losses[0].toFixed(4)})`);
  if (!(losses.at(-1) < losses[0] / 2)) process.exit(1);
}
