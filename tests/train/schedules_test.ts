import assert from "node:assert/strict";
import {
  ciderLr,
  constantLr,
  cosineLr,
  hiddenNetworksCosineLr,
  linearWarmup,
  type LrSchedule,
  multiStepLr,
  type SchedulePoint,
  stepLr,
} from "@lib/train/schedules.ts";

const at = (epoch: number, stepInEpoch = 0, stepsPerEpoch = 100): SchedulePoint => ({
  epoch,
  stepInEpoch,
  stepsPerEpoch,
  step: epoch * stepsPerEpoch + stepInEpoch,
});

function near(actual: number, expected: number, tol = 1e-12): void {
  assert.ok(Math.abs(actual - expected) <= tol, `${actual} vs ${expected}`);
}

Deno.test("multiStepLr() is ELOC's ×0.1 at epochs 50 and 75 (PyTorch MultiStepLR: decays when epoch ≥ milestone)", () => {
  const s = multiStepLr({ lr: 0.1, milestones: [50, 75] });
  near(s(at(0)), 0.1);
  near(s(at(49, 99)), 0.1);
  near(s(at(50)), 0.01);
  near(s(at(74)), 0.01);
  near(s(at(75)), 0.001);
  near(s(at(99)), 0.001);
});

Deno.test("stepLr() is η₀·γ^⌊e/stepSize⌋ and constantLr() is constant", () => {
  const s = stepLr({ lr: 0.1, stepSize: 100 });
  near(s(at(99)), 0.1);
  near(s(at(100)), 0.01);
  near(s(at(250)), 0.001);
  near(stepLr({ lr: 1, stepSize: 2, gamma: 0.5 })(at(5)), 0.25);
  assert.equal(constantLr(1e-4)(at(7, 3)), 1e-4);
});

Deno.test("cosineLr() equals CosineAnnealingLR's closed form η_min + (η₀ − η_min)(1 + cos(πt/T))/2", () => {
  const s = cosineLr({ lr: 0.1, tMax: 100 });
  near(s(at(0)), 0.1);
  near(s(at(50, 42)), 0.05); // per epoch: the step inside the epoch does not matter
  near(s(at(100)), 0);
  // η_min = 0.001, t = 25: 0.001 + 0.099·(1 + cos(π/4))/2 = 0.001 + 0.099·0.853553390593 = 0.085501785669
  near(cosineLr({ lr: 0.1, tMax: 100, etaMin: 0.001 })(at(25)), 0.0855017856687341);
  // per step: t = global step
  const perStep = cosineLr({ lr: 0.1, tMax: 400, unit: "step" });
  near(perStep(at(2, 0)), 0.05); // step 200 of 400
});

Deno.test("linearWarmup() ramps by (f₀ + (1 − f₀)·min(t, L)/L) in front of another schedule", () => {
  const s = linearWarmup(constantLr(0.4), { length: 4, startFactor: 0.25 });
  const p = (step: number): SchedulePoint => ({ epoch: 0, stepInEpoch: step, stepsPerEpoch: 10, step });
  // factors 0.25, 0.4375, 0.625, 0.8125, 1, 1
  [0.1, 0.175, 0.25, 0.325, 0.4, 0.4].forEach((lr, t) => near(s(p(t)), lr));
  const byEpoch = linearWarmup(cosineLr({ lr: 1, tMax: 10 }), { length: 2, unit: "epoch" });
  near(byEpoch(at(0)), 0);
  near(byEpoch(at(1)), 0.5 * (1 + Math.cos(Math.PI / 10)) / 2);
});

Deno.test("hiddenNetworksCosineLr() is UM's cosine_lr: ½(1 + cos(π(e − W)/(E − W)))·η₀ after η₀(e + 1)/W", () => {
  const s = hiddenNetworksCosineLr({ lr: 0.1, epochs: 100 });
  near(s(at(0)), 0.1);
  near(s(at(50)), 0.05);
  const w = hiddenNetworksCosineLr({ lr: 0.1, epochs: 105, warmupLength: 5 });
  near(w(at(0)), 0.02);
  near(w(at(4)), 0.1);
  near(w(at(5)), 0.1);
  near(w(at(55)), 0.05);
});

Deno.test("ciderLr() faithful reproduces the repo's (epoch − 1) warm-up: negative rates in epoch 0", () => {
  // η₀ = 0.5, E = 500, W = 10, η_from = 0.001, T = 100 batches; η_min = 0.5·0.1³ = 0.0005,
  // η_to = 0.0005 + 0.4995·(1 + cos(π·10/500))/2 = 0.499507175425
  const s = ciderLr({ lr: 0.5, epochs: 500 });
  // epoch 0, batch 0: p = (0 − 100)/1000 = −0.1 → 0.001 − 0.1·(η_to − 0.001) = −0.0488507175
  near(s(at(0, 0)), -0.048850717542496085);
  near(s(at(0, 97)), -0.0004955215262748825); // p = −0.003: still negative
  near(s(at(0, 98)), 2.985649150078363e-6); // p = −0.002: first positive rate
  near(s(at(1, 0)), 0.001); // p = 0: the warm-up really starts in epoch 1
  near(s(at(10, 0)), 0.4496564578824647); // epoch 10 is still warm-up (epoch ≤ W): p = 0.9
  near(s(at(11, 50)), 0.499403723463716); // then cosine per epoch: 0.0005 + 0.4995·(1 + cos(π·11/500))/2
  near(s(at(250)), 0.25025);
  const negative = Array.from({ length: 100 }, (_, b) => s(at(0, b))).filter((lr) => lr < 0).length;
  assert.equal(negative, 98);
});

Deno.test("ciderLr() fixed ramps over epochs 0…W−1 from η_from to η_to and joins the cosine", () => {
  const s = ciderLr({ lr: 0.5, epochs: 500, variant: "fixed" });
  near(s(at(0, 0)), 0.001);
  near(s(at(9, 99)), 0.4990086682495359); // p = 999/1000
  near(s(at(10, 0)), 0.4995071754249608); // = η_to, the cosine value at epoch 10
  const steps = ciderLr({ lr: 0.5, epochs: 500, cosine: false, warm: false });
  near(steps(at(100)), 0.5); // step decay uses epoch > d, not ≥
  near(steps(at(101)), 0.05);
  near(steps(at(181)), 0.0005);
});

Deno.test("per-step schedules that need the epoch length say so", () => {
  const s: LrSchedule = ciderLr({ lr: 0.5, epochs: 500 });
  assert.throws(() => s({ epoch: 0, stepInEpoch: 0, step: 0 }), /needs the number of steps per epoch/);
  assert.throws(() => cosineLr({ lr: 1, tMax: 0 }), /tMax must be a finite number > 0/);
});
