import assert from "node:assert/strict";
import { tf } from "@lib/tf.ts";
import { initBackend } from "@lib/engine/mod.ts";
import { Adam, decayOnlyKernels, SGD, trainableVariables, type TrainOptimizer } from "@lib/train/optimizers.ts";
import { loadCheckpoint, saveCheckpoint } from "@lib/train/checkpoint.ts";
import { seedEverything } from "@lib/train/seed.ts";

await initBackend({ backend: "cpu", log: null });

/** Runs `opt` on p = [1, −2] with the given per-step gradients; returns p after each step. */
function trajectory(make: (v: tf.Variable[]) => TrainOptimizer, grads: number[][]): number[][] {
  const p = tf.variable(tf.tensor1d([1, -2]), true, `p${crypto.randomUUID()}`);
  const opt = make([p]);
  const out: number[][] = [];
  for (const g of grads) {
    const gt = tf.tensor1d(g);
    opt.applyGradients({ [p.name]: gt });
    gt.dispose();
    out.push(Array.from(p.dataSync()));
  }
  opt.dispose();
  p.dispose();
  return out;
}

function assertClose(actual: number[][], expected: number[][], tol = 2e-6): void {
  assert.equal(actual.length, expected.length);
  actual.forEach((row, t) =>
    row.forEach((v, i) =>
      assert.ok(Math.abs(v - expected[t]![i]!) <= tol, `step ${t + 1}[${i}]: ${v} vs ${expected[t]![i]}`)
    )
  );
}

const G = [0.5, 0.25];

Deno.test("SGD() with momentum and coupled weight decay follows torch.optim.SGD for 3 steps", () => {
  // η = 0.1, μ = 0.9, λ = 0.01, constant g = [0.5, 0.25], p₀ = [1, −2].
  // step 1: d = g + λp = [0.51, 0.23]; b = d (first step copies); p = p − η·b = [0.949, −2.023]
  // step 2: d = [0.5 + 0.00949, 0.25 − 0.02023] = [0.50949, 0.22977]; b = 0.9·[0.51, 0.23] + d = [0.96849, 0.43677];
  //         p = [0.949 − 0.096849, −2.023 − 0.043677] = [0.852151, −2.066677]
  // step 3: d = [0.50852151, 0.22933323]; b = 0.9·b + d = [1.38016251, 0.62242623]; p = [0.714134749, −2.128919623]
  const got = trajectory((v) => new SGD(v, { lr: 0.1, momentum: 0.9, weightDecay: 0.01 }), [G, G, G]);
  assertClose(got, [[0.949, -2.023], [0.852151, -2.066677], [0.714134749, -2.128919623]]);
});

Deno.test("SGD() with Nesterov momentum uses d + μ·b as the step (PyTorch form)", () => {
  // step 1: d = [0.51, 0.23], b = d, step = d + 0.9·b = 1.9·d = [0.969, 0.437] → p = [0.9031, −2.0437]
  // step 2: d = [0.509031, 0.229563]; b = 0.9·[0.51, 0.23] + d = [0.968031, 0.436563];
  //         step = d + 0.9·b = [1.3802589, 0.6224697] → p = [0.76507411, −2.10594697]
  // step 3: d = [0.5076507411, 0.228940530]; b = [1.3788786411, 0.621847230]; step = [1.7486415181, 0.788603037]
  //         → p = [0.590209958, −2.184807274]
  const got = trajectory((v) => new SGD(v, { lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 0.01 }), [G, G, G]);
  assertClose(got, [[0.9031, -2.0437], [0.76507411, -2.10594697], [0.590209958, -2.184807274]]);
});

Deno.test("SGD() applies dampening after the first step only, like PyTorch", () => {
  // τ = 0.5, λ = 0: b₁ = g = [0.5, 0.25]; b₂ = 0.9·b₁ + 0.5·g = [0.7, 0.35]; b₃ = 0.9·b₂ + 0.5·g = [0.88, 0.44]
  // p: [0.95, −2.025], [0.88, −2.06], [0.792, −2.104]
  const got = trajectory((v) => new SGD(v, { lr: 0.1, momentum: 0.9, dampening: 0.5 }), [G, G, G]);
  assertClose(got, [[0.95, -2.025], [0.88, -2.06], [0.792, -2.104]]);
});

Deno.test("SGD() with momentum and no decay matches tf.train.momentum", () => {
  const grads = [[0.3, -0.1], [0.2, 0.4], [-0.5, 0.1]];
  const ours = trajectory((v) => new SGD(v, { lr: 0.05, momentum: 0.9 }), grads);
  const p = tf.variable(tf.tensor1d([1, -2]));
  const tfOpt = tf.train.momentum(0.05, 0.9);
  const theirs = grads.map((g) => {
    const gt = tf.tensor1d(g);
    tfOpt.applyGradients([{ name: p.name, tensor: gt }]);
    gt.dispose();
    return Array.from(p.dataSync());
  });
  assertClose(ours, theirs, 1e-7);
  tfOpt.dispose();
  p.dispose();
});

Deno.test("Adam() follows torch.optim.Adam (bias-corrected, ε outside the square root) for 3 steps", () => {
  // η = 0.1, β = (0.9, 0.999), ε = 1e-8; g₁ = [0.5, −0.25], g₂ = [0.1, 0.4], g₃ = [−0.3, 0.2].
  // step 1: m = 0.1·g, v = 0.001·g², m/(1−β₁) = g, √v/√(1−β₂) = |g| → p = p − η·g/(|g| + ε) = [0.9, −1.9] (to 1e-8)
  // step 2: m = [0.055, 0.0175], v = [0.000259750, 0.000222438]; bc1 = 0.19, bc2 = 0.001999
  //         p₁ − (η/bc1)·m/(√v/√bc2 + ε) = [0.81969591, −1.92761130]
  // step 3: m = [0.0195, 0.03575], v = [0.000349490, 0.000262216]; bc1 = 0.271, bc2 = 0.002997001
  //         → [0.79862461, −1.97220992]
  const grads = [[0.5, -0.25], [0.1, 0.4], [-0.3, 0.2]];
  assertClose(trajectory((v) => new Adam(v, { lr: 0.1 }), grads), [
    [0.9, -1.9],
    [0.81969591, -1.9276113],
    [0.79862461, -1.97220992],
  ]);
});

Deno.test("Adam() weight decay is L2 on the gradient; decoupled: true is AdamW", () => {
  const grads = [[0.5, -0.25], [0.1, 0.4], [-0.3, 0.2]];
  // Adam, λ = 0.1: g₁ = [0.5 + 0.1, −0.25 − 0.2] = [0.6, −0.45] → step 1 still ±η: [0.9, −1.9];
  // then g₂ = [0.1 + 0.09, 0.4 − 0.19] = [0.19, 0.21] → [0.81364835, −1.87076728]; step 3 → [0.77158182, −1.84984137]
  assertClose(trajectory((v) => new Adam(v, { lr: 0.1, weightDecay: 0.1 }), grads), [
    [0.9, -1.9],
    [0.81364835, -1.87076728],
    [0.77158182, -1.84984137],
  ]);
  // AdamW: p ← p·(1 − ηλ) = 0.99·p first, then the plain Adam step: [0.99 − 0.1, −1.98 + 0.1] = [0.89, −1.88]
  assertClose(trajectory((v) => new Adam(v, { lr: 0.1, weightDecay: 0.1, decoupled: true }), grads), [
    [0.89, -1.88],
    [0.80079591, -1.8888113],
    [0.77171665, -1.9145218],
  ]);
});

Deno.test("weight decay applies to every parameter by default and decayOnlyKernels() spares biases and BN", () => {
  seedEverything(0);
  const inp = tf.input({ shape: [2] });
  const h = tf.layers.dense({ units: 2 }).apply(inp) as tf.SymbolicTensor;
  const out = tf.layers.batchNormalization().apply(h) as tf.SymbolicTensor;
  const model = tf.model({ inputs: inp, outputs: out });
  const vars = trainableVariables(model);
  assert.deepEqual(vars.map((v) => v.name.split("/").pop()), ["kernel", "bias", "gamma", "beta"]);
  assert.deepEqual(vars.map(decayOnlyKernels), [true, false, false, false]);
  // With zero gradients, one SGD step shrinks exactly the decayed variables: p ← p − η·λ·p.
  for (const [filter, expected] of [[undefined, 4], [decayOnlyKernels, 1]] as const) {
    const before = vars.map((v) => v.dataSync().slice());
    tf.tidy(() => vars.forEach((v) => v.assign(tf.add(v, 1)))); // no zeros anywhere
    const start = vars.map((v) => v.dataSync().slice());
    const opt = new SGD(vars, { lr: 0.5, weightDecay: 0.2, weightDecayFilter: filter });
    const zeros = Object.fromEntries(vars.map((v) => [v.name, tf.zerosLike(v)]));
    opt.applyGradients(zeros);
    tf.dispose(Object.values(zeros));
    const changed = vars.filter((v, i) => {
      const now = v.dataSync();
      const shrunk = now.every((x, j) => Math.abs(x - start[i]![j]! * 0.9) < 1e-6);
      return shrunk && now.some((x, j) => x !== start[i]![j]);
    }).length;
    assert.equal(changed, expected);
    opt.dispose();
    vars.forEach((v, i) => v.assign(tf.tensor(before[i]!, v.shape)));
  }
  model.dispose();
});

Deno.test("SGD and Adam slots round-trip through a checkpoint into fresh instances", async () => {
  const dir = await Deno.makeTempDir();
  try {
    for (
      const make of [(v: tf.Variable[]) => new SGD(v, { lr: 0.1, momentum: 0.9 }), (v: tf.Variable[]) => new Adam(v)]
    ) {
      seedEverything(3);
      const build = () => {
        const inp = tf.input({ shape: [3] });
        return tf.model({ inputs: inp, outputs: tf.layers.dense({ units: 2 }).apply(inp) as tf.SymbolicTensor });
      };
      const x = tf.tensor2d([[1, 2, 3], [-1, 0, 2]]);
      const step = (m: tf.LayersModel, o: TrainOptimizer) => {
        const { value, grads } = tf.variableGrads(
          () => tf.mean(tf.square(m.apply(x) as tf.Tensor)) as tf.Scalar,
          o.variables.slice(),
        );
        o.applyGradients(grads);
        tf.dispose([value, ...Object.values(grads)]);
      };
      const a = build(), optA = make(trainableVariables(a));
      step(a, optA);
      step(a, optA);
      const path = await saveCheckpoint(dir, {
        model: a,
        optimizer: optA,
        state: { epoch: 0, step: 2, mathRandom: null, streams: {}, config: null },
      });
      const b = build(), optB = make(trainableVariables(b));
      const loaded = await loadCheckpoint(path, { optimizer: optB });
      b.setWeights(loaded.model.getWeights());
      loaded.model.dispose();
      step(a, optA);
      step(b, optB);
      a.getWeights().forEach((w, i) => assert.deepEqual(b.getWeights()[i]!.dataSync(), w.dataSync()));
      assert.throws(() => optB.setWeights([{ name: "p9/momentum_buffer", tensor: x }]), /unexpected slot/);
      [optA, optB].forEach((o) => o.dispose());
      [a, b].forEach((m) => m.dispose());
      x.dispose();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("optimizers reject bad settings with a message", () => {
  const v = tf.variable(tf.scalar(1));
  assert.throws(() => new SGD([v], { lr: 0.1, nesterov: true }), /Nesterov momentum requires a momentum > 0/);
  assert.throws(() => new SGD([v], { lr: -1 }), /lr must be a finite number ≥ 0/);
  assert.throws(() => new Adam([v], { betas: [1, 0.9] }), /beta1 must be in \[0, 1\)/);
  assert.throws(() => new SGD([v, v], { lr: 1 }), /listed twice/);
  const opt = new SGD([v], { lr: 1 });
  const g = tf.scalar(1);
  assert.throws(() => opt.applyGradients({ other: g }), /not one of its variables/);
  tf.dispose([v, g]);
});
