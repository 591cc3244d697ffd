/**
 * CPAH — Multi-Task Consistency-Preserving Adversarial Hashing
 * (Xie, Deng, Li, Liu, Tao; IEEE TIP 29, 2020, 3626-3637).
 *
 * The paper's full text is not available to this project. This file implements the reading of
 * the paper that its one public re-implementation encodes (docs: methods.md, section CPAH),
 * with that code's defects fixed. Equation numbers in brackets are the ones the public
 * re-implementation's comments cite; they are not checked against the paper.
 *
 * Paper module / equation                         -> code
 * ----------------------------------------------------------------------------------------
 * feature extractors E_v, E_t (d -> 512 -> 512)   -> `Branch.E` (Mlp, Linear+BN+ReLU twice)
 * consistency-refined (CR) mask m = sigmoid(W f+b) -> `Branch.mask`, {@link branchForward}
 *   modality-common  c = f * m, private p = f * (1 - m)
 * hash layers h = tanh(W_h c + b_h), K outputs     -> `Branch.hash`
 * modality discriminator D (512 -> 64 -> 1)        -> `CpahModel.D`
 *   D's loss: image-common = 1, text-common = 0 [5] -> {@link discriminatorLoss}
 *   WGAN-GP penalty on interpolates, weight 10      -> {@link gradientPenaltyTerm}
 *   extractors make D answer 1/2 (confusion) [6]    -> {@link adversarialTerm}
 * consistency classifier C (512 -> 64 -> 3) [7]     -> `CpahModel.C`, {@link consistencyTerm}
 *   on the parts normalised to RMS 1                -> {@link consistencyInput}
 *   classes: 0 = common (either modality), 1 = image-private, 2 = text-private
 * label classifiers sigmoid(W c) per modality [8]   -> `Branch.cls`, {@link labelTerm}
 * pairwise likelihood L_pair [10]                   -> {@link pairwiseTerm}
 * quantisation L_q = |B - h^v|^2 + |B - h^t|^2 [11] -> {@link quantizationTerm}
 * network objective L = L_pair + beta L_q + alpha (L_cons + L_label) + gamma L_adv
 *                                                   -> {@link networkObjective}
 * discrete step B = sign(H^v + H^t), per epoch      -> {@link CpahModel.endEpoch}
 * Adam lr 1e-4, wd 5e-4, lr x0.2 every 30 epochs    -> {@link learningRateFactor}
 *
 * Defects of the public implementation that this one does NOT have:
 * 1. The consistency classifier is really applied: L_cons is the cross-entropy of C's logits
 *    on [c^v; c^t; p^v; p^t] (the public code applied the cross-entropy to the raw 512-d
 *    features and never called C).
 * 2. Test-time codes come from the modality-common part: sign(tanh(W_h (f * m) + b_h)) (the
 *    public code hashed the unmasked features f at test time).
 * 3. The learning-rate decay does not fire at epoch 0: the factor is 0.2^floor(epoch / 30)
 *    (the public code's `epoch % k == 0` test decayed before the first epoch).
 * 4. The networks' adversarial target is 1/2 for both modalities (src/models/terms.ts),
 *    whose optimum is D at chance: training towards D's flipped labels (image-common -> 0,
 *    text-common -> 1) has its optimum at a swap of the modalities, not a merge.
 * 5. C sees the parts with their scale removed (each row normalised to RMS 1): on the raw
 *    parts, a mask that passes every unit in the same proportion (c = 0.75 f, p = 0.25 f) lets
 *    C separate common from private by magnitude alone, and the mask never has to split.
 *
 * Choices this project made where the description leaves room (all in {@link CpahConfig}):
 * - Loss normalisation, `normalization` (derivations at {@link termScales}): "reference" —
 *   the relative weights alpha = 0.1, beta = 1 and gamma = 1 have in the public code they come
 *   from (L_pair summed over the batch's m x m pairs, L_adv a batch mean); "perItem" — each
 *   term summed over one training pair's contributions, L_pair over all n stored partners
 *   (2n/m times the reference's weight); "mean" — plain means. The default is the one with the
 *   better validation-slice MAP in a committed selection run (docs/results.md).
 * - The weights alpha and gamma under "perItem" carry the public code's current weights over
 *   ({@link termScales} has the derivation): alpha = 0.1 · 2n/m and gamma = 100 · n/m², about
 *   6.1 and 48 at Wikipedia's size; the defaults are selected on the validation slice around
 *   them, among settings whose modules pass their manipulation checks
 *   (src/models/manipulation.ts; the selection runs are in docs/results/selection/).
 * - `pairMode`: "stored" (default, DCMH style) pairs each modality's batch outputs with the
 *   stored outputs of the other modality over the whole training set (the batch's own rows
 *   refreshed with this step's outputs, treated as constants); "batch" pairs the batch's
 *   image outputs with the same batch's text outputs. Both modes sum the two directions
 *   (the mean of image rows vs text columns and text rows vs image columns), so their scales
 *   match.
 *   Stored outputs start at 0: rows not yet visited add a constant log 2 and no gradient.
 * - `bInit`: "outputs" (default) — B is first made by the discrete step at the end of epoch
 *   0 from the first epoch's outputs, and L_q is inactive during epoch 0; "random" — B is the
 *   sign of seeded normal noise (what the public code does), L_q active from the first step.
 * - Step order per batch (as in the public code): one forward pass of the networks; the
 *   discriminator step on this batch's common parts, detached; then the network step, whose
 *   adversarial term uses the just-updated D. The D step runs inside the network step's
 *   gradient closure, after the forward pass, so the networks are run (and their BatchNorm
 *   statistics updated) once per batch; the D step runs off that closure's tape
 *   (`withoutTape`, src/nn/layers.ts), so c^v and c^t are constants for it and no gradient of the D
 *   step reaches the networks.
 * - The gradient penalty needs D's input gradient, differentiated once more w.r.t. D's weights.
 *   D = Linear-ReLU-Linear, so the input gradient is written as first-order ops
 *   (`Mlp.inputGradient`, src/nn/layers.ts: ReLU masks held constant), which gives the same values
 *   and weight gradients as tf.grad inside tf.variableGrads with far fewer kernels (both
 *   checked in tests/losses.test.ts and tests/nn_optim_checkpoint.test.ts).
 * - The consistency classifier and the label classifiers are trained with the networks (group
 *   "net"): they cooperate with the extractors; only D is adversarial (group "disc").
 *   D's weight decay 1e-4 is the public code's value (the description gives none).
 * - gamma (weight of L_adv) is not known from the paper: default 1.
 *
 * Ablations (one flag each, read in ONE place: {@link activeParts}):
 * - noCR: c = f, no mask, no private part, no consistency classifier.
 * - noAdversary: no D, gamma = 0.
 * - noMultiTask: no consistency and no label heads, alpha = 0.
 * - relaxed: no B and no discrete step, L_q dropped; codes binarised only at test time.
 *
 * Per-epoch diagnostics (mask magnitudes, D's and C's accuracies, the quantisation gap) are
 * recorded in the training history: src/models/cpah/diagnostics.ts.
 *
 * @module
 */

export * from "./config.ts";
export * from "./terms.ts";
export * from "./model.ts";
export * from "./diagnostics.ts";
