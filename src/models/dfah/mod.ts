/**
 * DFAH — Discrete Fusion Adversarial Hashing, as designed by this project.
 *
 * Only the paper's abstract is available and no public code exists, so everything below is OUR
 * design (methods.md, section DFAH), closest to the published discrete-adversarial family
 * (DADH, ICMR 2020). Each claim of the abstract maps to named components of this file:
 *
 * | abstract claim | component (this file) |
 * |---|---|
 * | 1. "Modality-Specific Feature Extractor ... image and text features with pair-wise supervision" | `Ev`, `Et` MLPs d -> 1024 -> 512 (Linear+BN+ReLU); hash heads h = tanh(W f); {@link pairwiseTerm} (DCMH likelihood, cross-modal), optional intra-modal {@link intraModalTerm} |
 * | 2. "Fusion Learner ... learns the unified hash code ... embedding strategy" | `G`: u = tanh(G([f^v ; f^t])), MLP 1024 -> 512 -> K; {@link fusionPairTerm} (pair likelihood of the fused codes) and {@link labelEmbeddingTerm} ||l P_l - u||^2 with a learned c x K projection P_l; the stored fused outputs U feed the B-step |
 * | 3. "Modality Discriminator ... adversarial way" | `D`: 512 -> 256 -> 1 on f^v vs f^t; {@link discriminatorLoss} (D's own step, plus the optional gradient penalty) and {@link adversarialTerm} (the extractors make D answer 1/2 on both modalities: a merge, never a swap; src/models/terms.ts) |
 * | 4. "Efficient discrete optimisation ... avoid the relaxing quantization errors" | B in {-1,+1}^{n x K} always; after each epoch {@link discreteStep}: rounds of closed-form {@link updateP} then {@link updateB}; networks regress onto B with {@link quantizationTerm} |
 *
 * Network objective per batch (every term a MEAN, as in src/nn/losses.ts):
 *   L = pair + [intraImage] + [intraText] + eta * fusionPair + delta * labelEmbed
 *       + beta * quant + gamma * adv + balance * bitBalance
 * where quant = mean(B - h^v)^2 + mean(B - h^t)^2 + mean(B - u)^2 (B = the batch rows of B).
 *
 * Discrete step (endEpoch). With U, H^v, H^t the stored n x K outputs (U := (H^v + H^t)/2
 * under `noFusion`), L the n x c label matrix and P a c x K projection, the B- and P-steps are
 * exact block-coordinate minimisers of
 *
 *   J(B, P) = ||B - U||^2 + lambda (||B - H^v||^2 + ||B - H^t||^2)
 *             + mu ||B - L P||^2 + mu rho ||P||^2,        B in {-1,+1}^{n x K}.
 *
 * Derivation. P-step: J is a convex quadratic in P; dJ/dP = 2 mu (L^T (L P - B) + rho P) = 0
 * gives P = (L^T L + rho I)^-1 L^T B (unique for rho > 0, mu > 0). B-step: expanding the
 * squares, J = (1 + 2 lambda + mu) ||B||^2 - 2 tr(B^T M) + const, with
 * M = U + lambda (H^v + H^t) + mu L P and const free of B. For binary B, ||B||^2 = nK is
 * constant, so minimising J maximises tr(B^T M) = sum_ij B_ij M_ij, which separates over
 * entries: B_ij = sign(M_ij) (ties M_ij = 0 are optimal either way; sign(0) = +1).
 * Each half-step therefore cannot increase J (tests/models/dfah_discrete.test.ts checks it, and
 * that no single bit flip can lower J after a B-step). Rounds start with a P-step, so the result
 * does not depend on the previous P.
 *
 * Other choices of ours (documented in docs/dfah-design.md):
 * - pairMode "stored" (default): the cross-modal term compares the batch's image outputs with
 *   the stored text outputs of all n training items and vice versa (DCMH style; the stored
 *   rows are those of the previous visit, refreshed after each step); "batch": image batch vs
 *   text batch. The fusion pair term follows the same mode (u vs stored U, or u vs u).
 * - Initialisation: the stored U, H^v, H^t start at 0 (nothing seen yet), P as N(0, 1) draws
 *   and B as the B-step on them, B = sign(mu L P): label-consistent codes (items with equal
 *   label sets share a code; with mu = 0 every bit starts at +1). The first discrete step
 *   refits P and B to the learned outputs.
 * - D's step comes first in each batch, on the batch's features computed in training mode
 *   (batch statistics) without disturbing BatchNorm running statistics.
 * - Ablations (read in {@link activeParts} only): `noFusion` (no G, no P_l, no fusion terms,
 *   U := (H^v + H^t)/2 in the B-step), `noAdversary` (no D, no adversarial term), `relaxed`
 *   (the B-step without its sign: B is the minimiser of the same J over the sphere of binary
 *   codes, ‖B‖² = nK, i.e. sqrt(nK) M / ‖M‖, real-valued at RMS 1; the P-step, the label term
 *   and the regression onto B stay; binarised only at test).
 * - Test-time codes: sign of the modality's hash head (sign(0) = +1); G is training-only.
 *
 * Per-epoch diagnostics (D's accuracy, the fused outputs' contribution to B, the quantisation
 * gap of the heads and of B) are recorded in the training history: src/models/dfah/diagnostics.ts.
 *
 * @module
 */

export * from "./config.ts";
export * from "./terms.ts";
export * from "./discrete.ts";
export * from "./model.ts";
export * from "./diagnostics.ts";
